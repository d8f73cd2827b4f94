/* index-publish.c - writing versions and trees into index.db, each in one transaction, and the pins that keep a
 * version through gc.
 */
#include "index-int.h"

#include <string.h>
#include <time.h>

#include <sqlite3.h>

/* An entry assembled from a recipe: the recipe and its parts are objects, the recipe row maps the entry's
 * object to it. */
static int publish_recipe(struct index *ix, sqlite3_stmt *obj, const struct tree_entry *e, struct error *err)
{
        const struct tree_recipe *rc = e->recipe;
        sqlite3_stmt *rec = NULL, *part = NULL;
        int r;

        db_bind_digest(obj, 1, &rc->digest);
        sqlite3_bind_int64(obj, 2, (sqlite3_int64)rc->size);
        r = db_step_done(ix->db, obj, "write", err);
        if (r == 0)
                r = db_prepare(ix->db, "INSERT OR IGNORE INTO recipes(object, recipe) VALUES(?, ?)", &rec, "prepare",
                               err);
        if (r == 0)
                r = db_prepare(ix->db, "INSERT OR IGNORE INTO recipe_parts(recipe, part) VALUES(?, ?)", &part,
                               "prepare", err);
        if (r == 0) {
                db_bind_digest(rec, 1, &e->digest);
                db_bind_digest(rec, 2, &rc->digest);
                r = db_step_done(ix->db, rec, "write", err);
        }
        for (size_t i = 0; r == 0 && i < rc->n_parts; i++) {
                db_bind_digest(obj, 1, &rc->parts[i].digest);
                sqlite3_bind_int64(obj, 2, (sqlite3_int64)rc->parts[i].size);
                r = db_step_done(ix->db, obj, "write", err);
                if (r == 0) {
                        db_bind_digest(part, 1, &rc->digest);
                        db_bind_digest(part, 2, &rc->parts[i].digest);
                        r = db_step_done(ix->db, part, "write", err);
                }
        }
        sqlite3_finalize(rec);
        sqlite3_finalize(part);
        return r;
}

static int publish_tree(struct index *ix, const struct tree *t, const char *tree_hex, struct error *err)
{
        sqlite3_stmt *obj = NULL, *ent = NULL, *tr = NULL;
        uint64_t n_files = 0, size = 0;
        int r;

        r = db_prepare(ix->db, "INSERT OR IGNORE INTO objects(digest, size) VALUES(?, ?)", &obj, "prepare", err);
        if (r == 0)
                r = db_prepare(ix->db,
                               "INSERT OR IGNORE INTO entries(tree, path, type, mode, size, object, target)"
                               " VALUES(?,?,?,?,?,?,?)",
                               &ent, "prepare", err);
        if (r == 0)
                r = db_prepare(ix->db, "INSERT OR IGNORE INTO trees(digest, n_entries, n_files, size) VALUES(?,?,?,?)",
                               &tr, "prepare", err);
        for (size_t i = 0; r == 0 && i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char type[2] = {e->type, 0};

                if (e->type == ENTRY_FILE) {
                        n_files++;
                        size += e->size;
                        db_bind_digest(obj, 1, &e->digest);
                        sqlite3_bind_int64(obj, 2, (sqlite3_int64)e->size);
                        r = db_step_done(ix->db, obj, "write", err);
                        if (r < 0)
                                break;
                        db_bind_digest(ent, 6, &e->digest);
                        if (e->recipe)
                                r = publish_recipe(ix, obj, e, err);
                        if (r < 0)
                                break;
                }
                sqlite3_bind_text(ent, 1, tree_hex, -1, SQLITE_STATIC);
                sqlite3_bind_text(ent, 2, e->path, -1, SQLITE_STATIC);
                sqlite3_bind_text(ent, 3, type, 1, SQLITE_TRANSIENT);
                sqlite3_bind_int(ent, 4, (int)e->mode);
                sqlite3_bind_int64(ent, 5, (sqlite3_int64)e->size);
                if (e->target)
                        sqlite3_bind_text(ent, 7, e->target, -1, SQLITE_STATIC);
                r = db_step_done(ix->db, ent, "write", err);
        }
        if (r == 0) {
                sqlite3_bind_text(tr, 1, tree_hex, -1, SQLITE_STATIC);
                sqlite3_bind_int64(tr, 2, (sqlite3_int64)t->n);
                sqlite3_bind_int64(tr, 3, (sqlite3_int64)n_files);
                sqlite3_bind_int64(tr, 4, (sqlite3_int64)size);
                r = db_step_done(ix->db, tr, "write", err);
        }
        sqlite3_finalize(obj);
        sqlite3_finalize(ent);
        sqlite3_finalize(tr);
        return r;
}

/* A new version's row. */
static int insert_version(struct index *ix, const struct manifest *m, const char *compose_path,
                          const struct publish_info *pi, const char *tree_hex, const char *bundle_hex, int64_t now,
                          int64_t seq, struct error *err)
{
        int64_t bundle_size = (int64_t)pi->bundle_size;

        return db_write(ix->db,
                        "INSERT INTO versions(slug, version, tree, bundle, bundle_size, signer, insecure, source,"
                        " name, description, flavor, compose, fetched_at, fetch_seq)"
                        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        "write", NULL, err, "ttttItntttttii", m->slug, m->version, tree_hex,
                        pi->bundle ? bundle_hex : NULL, pi->bundle ? &bundle_size : NULL, pi->signer, (int)pi->insecure,
                        pi->source, m->name, m->description, manifest_flavor_name(m->flavor), compose_path, now, seq);
}

/* Same content again: it becomes the newest fetch of its label. A signature now known upgrades an unsigned
 * record; an unsigned re-import never downgrades a signed one. */
static int refresh_version(struct index *ix, int64_t id, const struct publish_info *pi, const char *bundle_hex,
                           int64_t now, int64_t seq, struct error *err)
{
        int64_t bundle_size = (int64_t)pi->bundle_size;

        return db_write(ix->db,
                        "UPDATE versions SET fetched_at = ?, fetch_seq = ?,"
                        " signer = COALESCE(?, signer), insecure = CASE WHEN ? IS NOT NULL THEN ? ELSE insecure END,"
                        " bundle = COALESCE(bundle, ?), bundle_size = COALESCE(bundle_size, ?) WHERE id = ?",
                        "write", NULL, err, "iittntIi", now, seq, pi->signer, pi->signer, (int)pi->insecure,
                        pi->bundle ? bundle_hex : NULL, pi->bundle ? &bundle_size : NULL, id);
}

int index_publish(struct index *ix, const struct tree *t, const struct digest *tree_digest, const struct manifest *m,
                  const char *compose_path, const struct publish_info *pi, int64_t *ret_id, bool *ret_new,
                  struct error *err)
{
        char tree_hex[DIGEST_HEX_LEN + 1], bundle_hex[DIGEST_HEX_LEN + 1];
        int64_t id, seq, now = (int64_t)time(NULL);
        bool is_new;
        int r;

        if (!ix || !t || !t->finalized || !tree_digest || !m || !pi)
                return error_set(err, STACK_EFAIL, "index_publish: invalid arguments");
        digest_to_hex(tree_digest, tree_hex);
        if (pi->bundle)
                digest_to_hex(pi->bundle, bundle_hex);
        r = db_begin(ix->db, err);
        if (r < 0)
                return r;
        seq = db_query_int64(ix->db, "SELECT MAX(fetch_seq) FROM versions", NULL, 0) + 1;
        id = db_query_int64(ix->db, "SELECT id FROM versions WHERE tree = ?", tree_hex, -1);
        is_new = id < 0;
        r = db_write(ix->db, "INSERT OR IGNORE INTO stacks(slug, name, created_at) VALUES(?, ?, ?)", "write", NULL, err,
                     "tti", m->slug, m->name, now);
        if (r == 0 && is_new) {
                r = publish_tree(ix, t, tree_hex, err);
                if (r == 0)
                        r = insert_version(ix, m, compose_path, pi, tree_hex, bundle_hex, now, seq, err);
                if (r == 0)
                        id = db_last_id(ix->db);
        } else if (r == 0) {
                r = refresh_version(ix, id, pi, bundle_hex, now, seq, err);
        }
        if (r == 0 && pi->bundle) {
                r = db_write(ix->db,
                             "INSERT OR IGNORE INTO bundles(digest, size, version_id, fetched_at) VALUES(?,?,?,?)",
                             "write", NULL, err, "tiii", bundle_hex, (int64_t)pi->bundle_size, id, now);
        }
        if (r == 0) /* refetched */
                r = db_write(ix->db, "DELETE FROM lost WHERE slug = ? AND version = ?", "write", NULL, err, "tt",
                             m->slug, m->version);
        r = db_end(ix->db, r, err);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = id;
        if (ret_new)
                *ret_new = is_new;
        return 0;
}

int index_put_tree(struct index *ix, const struct tree *t, const struct digest *tree_digest, struct error *err)
{
        char tree_hex[DIGEST_HEX_LEN + 1];
        int r;

        if (!ix || !t || !t->finalized || !tree_digest)
                return error_set(err, STACK_EFAIL, "index_put_tree: invalid arguments");
        digest_to_hex(tree_digest, tree_hex);
        r = db_begin(ix->db, err);
        if (r < 0)
                return r;
        r = publish_tree(ix, t, tree_hex, err);
        return db_end(ix->db, r, err);
}

int index_set_pin(struct index *ix, int64_t version_id, bool pin, bool *ret_changed, struct error *err)
{
        int r = db_write(ix->db,
                         pin ? "INSERT OR IGNORE INTO pins(version_id) VALUES(?)"
                             : "DELETE FROM pins WHERE version_id = ?",
                         "write", NULL, err, "i", version_id);

        if (r == 0 && ret_changed)
                *ret_changed = db_changes(ix->db) > 0;
        return r;
}

static int read_pin(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        *(int64_t *)ret = sqlite3_column_int64(st, 0);
        return 0;
}

int index_list_pins(struct index *ix, int64_t **ret, size_t *ret_n, struct error *err)
{
        static const struct db_rows how = {.size = sizeof(int64_t), .read = read_pin, .job = "read pins"};

        return db_query_rows(ix->db,
                             "SELECT version_id FROM pins WHERE version_id IN (SELECT id FROM versions) ORDER BY 1",
                             NULL, &how, ret, ret_n, err);
}
