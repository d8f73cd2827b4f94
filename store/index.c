/* index.c - index.db: schema and migrations, publishing a version in one transaction, resolving and
 * listing versions, rebuilding trees from rows. The only file that speaks SQL about stacks and versions; modules
 * that keep their own tables in index.db migrate them through index_migrate_module().
 */
#include "index.h"
#include "base/semver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

struct index {
        sqlite3 *db;
};

/* Migration i takes the schema from user_version i to i + 1. Never edit one that has shipped: add another. */
static const char *const migrations[] = {
        "CREATE TABLE stacks(slug TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);"
        "CREATE TABLE objects(digest TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE trees(digest TEXT PRIMARY KEY, n_entries INTEGER NOT NULL, n_files INTEGER NOT NULL,"
        "  size INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE entries(tree TEXT NOT NULL, path TEXT NOT NULL,"
        "  type TEXT NOT NULL CHECK(type IN ('f','d','l')), mode INTEGER NOT NULL, size INTEGER NOT NULL,"
        "  object TEXT, target TEXT, PRIMARY KEY(tree, path)) WITHOUT ROWID;"
        "CREATE INDEX entries_by_object ON entries(object) WHERE object IS NOT NULL;"
        "CREATE TABLE versions(id INTEGER PRIMARY KEY, slug TEXT NOT NULL, version TEXT NOT NULL,"
        "  tree TEXT NOT NULL UNIQUE, bundle TEXT, bundle_size INTEGER, signer TEXT,"
        "  insecure INTEGER NOT NULL DEFAULT 0, source TEXT, name TEXT, description TEXT, flavor TEXT,"
        "  compose TEXT, fetched_at INTEGER NOT NULL, fetch_seq INTEGER NOT NULL);"
        "CREATE INDEX versions_by_slug ON versions(slug, fetch_seq);"
        "CREATE TABLE bundles(digest TEXT PRIMARY KEY, size INTEGER NOT NULL, version_id INTEGER NOT NULL,"
        "  fetched_at INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE pins(version_id INTEGER PRIMARY KEY);",
        /* 2: was the run module's runs and allows tables, created here before each module kept its own schema
         * (run/runs.c now creates them). Stores that ran it keep those tables; 3 records them as the run
         * module's version 1. */
        "",
        /* 3: each module that keeps tables in index.db records its own schema version here */
        "CREATE TABLE module_schemas(module TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO module_schemas(module, version)"
        "  SELECT 'run', 1 WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs');",
        /* 4: versions `verify --repair` dropped because their content was damaged: refetchable, listed by ls */
        ("CREATE TABLE lost(slug TEXT NOT NULL, version TEXT NOT NULL, tree TEXT NOT NULL, source TEXT,"
         "  lost_at INTEGER NOT NULL, PRIMARY KEY(slug, version)) WITHOUT ROWID;"),
        /* 5: files stored as their parts (image archives): the entry's object is assembled from a recipe object,
         * which names its parts; both are objects rows too, kept while an entry needs the assembled object */
        ("CREATE TABLE recipes(object TEXT PRIMARY KEY, recipe TEXT NOT NULL) WITHOUT ROWID;"
         "CREATE TABLE recipe_parts(recipe TEXT NOT NULL, part TEXT NOT NULL, PRIMARY KEY(recipe, part))"
         "  WITHOUT ROWID;"
         "CREATE INDEX recipe_parts_by_part ON recipe_parts(part);"),
};

_Static_assert(sizeof migrations / sizeof *migrations == INDEX_SCHEMA_VERSION, "one migration per schema version");

static int db_error(struct index *ix, struct error *err, const char *what)
{
        return error_set(err, STACK_ESTORE, "index.db: %s: %s", what, sqlite3_errmsg(ix->db));
}

static int exec(struct index *ix, const char *sql, struct error *err)
{
        char *msg = NULL;

        if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                error_set(err, STACK_ESTORE, "index.db: %s", msg ? msg : "error");
                sqlite3_free(msg);
                return -STACK_ESTORE;
        }
        return 0;
}

static int prepare(struct index *ix, const char *sql, sqlite3_stmt **ret, struct error *err)
{
        if (sqlite3_prepare_v2(ix->db, sql, -1, ret, NULL) != SQLITE_OK)
                return db_error(ix, err, "prepare");
        return 0;
}

/* The end of a transaction begun with BEGIN IMMEDIATE: COMMIT after r == 0, else (or when COMMIT fails) ROLLBACK. */
static int end_transaction(struct index *ix, int r, struct error *err)
{
        if (r == 0)
                r = exec(ix, "COMMIT", err);
        if (r < 0)
                sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

static int migrate(struct index *ix, struct error *err)
{
        sqlite3_stmt *st;
        int have, want = (int)(sizeof migrations / sizeof *migrations), r;

        r = exec(ix, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = prepare(ix, "PRAGMA user_version", &st, err);
        if (r < 0)
                goto fail;
        sqlite3_step(st);
        have = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (have > want) {
                r = error_set(err, STACK_ESTORE,
                              "index.db has schema version %d, newer than this stack (%d): upgrade stack", have, want);
                goto fail;
        }
        for (int i = have; i < want; i++) {
                char sql[64];
                r = exec(ix, migrations[i], err);
                if (r < 0)
                        goto fail;
                snprintf(sql, sizeof sql, "PRAGMA user_version = %d", i + 1);
                r = exec(ix, sql, err);
                if (r < 0)
                        goto fail;
        }
fail:
        return end_transaction(ix, r, err);
}

int index_open(const char *path, struct index **ret, struct error *err)
{
        struct index *ix = calloc(1, sizeof *ix);
        int r;

        if (!ix)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (sqlite3_open_v2(path, &ix->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK) {
                r = error_set(err, STACK_ESTORE, "cannot open %s: %s", path,
                              ix->db ? sqlite3_errmsg(ix->db) : "out of memory");
                goto fail;
        }
        /* Writers wait for each other (two imports at once both succeed); WAL keeps readers from blocking. */
        sqlite3_busy_timeout(ix->db, 60000);
        r = exec(ix, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF", err);
        if (r < 0)
                goto fail;
        r = migrate(ix, err);
        if (r < 0)
                goto fail;
        *ret = ix;
        return 0;
fail:
        index_free(ix);
        return r;
}

void index_free(struct index *ix)
{
        if (!ix)
                return;
        sqlite3_close(ix->db);
        free(ix);
}

static void bind_digest(sqlite3_stmt *st, int col, const struct digest *d)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(d, hex);
        sqlite3_bind_text(st, col, hex, DIGEST_HEX_LEN, SQLITE_TRANSIENT);
}

static int column_digest(sqlite3_stmt *st, int col, struct digest *ret)
{
        const char *hex = (const char *)sqlite3_column_text(st, col);

        return hex ? digest_from_hex(hex, ret) : -ENOENT;
}

static char *column_strdup(sqlite3_stmt *st, int col)
{
        const char *s = (const char *)sqlite3_column_text(st, col);

        return s ? strdup(s) : NULL;
}

static int step_done(struct index *ix, sqlite3_stmt *st, struct error *err)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return db_error(ix, err, "write");
        return 0;
}

/* An entry assembled from a recipe: the recipe and its parts are objects, the recipe row maps the entry's
 * object to it. */
static int publish_recipe(struct index *ix, sqlite3_stmt *obj, const struct tree_entry *e, struct error *err)
{
        const struct tree_recipe *rc = e->recipe;
        sqlite3_stmt *rec = NULL, *part = NULL;
        int r;

        bind_digest(obj, 1, &rc->digest);
        sqlite3_bind_int64(obj, 2, (sqlite3_int64)rc->size);
        r = step_done(ix, obj, err);
        if (r == 0)
                r = prepare(ix, "INSERT OR IGNORE INTO recipes(object, recipe) VALUES(?, ?)", &rec, err);
        if (r == 0)
                r = prepare(ix, "INSERT OR IGNORE INTO recipe_parts(recipe, part) VALUES(?, ?)", &part, err);
        if (r == 0) {
                bind_digest(rec, 1, &e->digest);
                bind_digest(rec, 2, &rc->digest);
                r = step_done(ix, rec, err);
        }
        for (size_t i = 0; r == 0 && i < rc->n_parts; i++) {
                bind_digest(obj, 1, &rc->parts[i].digest);
                sqlite3_bind_int64(obj, 2, (sqlite3_int64)rc->parts[i].size);
                r = step_done(ix, obj, err);
                if (r == 0) {
                        bind_digest(part, 1, &rc->digest);
                        bind_digest(part, 2, &rc->parts[i].digest);
                        r = step_done(ix, part, err);
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

        r = prepare(ix, "INSERT OR IGNORE INTO objects(digest, size) VALUES(?, ?)", &obj, err);
        if (r == 0)
                r = prepare(ix,
                            "INSERT OR IGNORE INTO entries(tree, path, type, mode, size, object, target)"
                            " VALUES(?,?,?,?,?,?,?)",
                            &ent, err);
        if (r == 0)
                r = prepare(ix, "INSERT OR IGNORE INTO trees(digest, n_entries, n_files, size) VALUES(?,?,?,?)", &tr,
                            err);
        for (size_t i = 0; r == 0 && i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char type[2] = {e->type, 0};

                if (e->type == ENTRY_FILE) {
                        n_files++;
                        size += e->size;
                        bind_digest(obj, 1, &e->digest);
                        sqlite3_bind_int64(obj, 2, (sqlite3_int64)e->size);
                        r = step_done(ix, obj, err);
                        if (r < 0)
                                break;
                        bind_digest(ent, 6, &e->digest);
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
                r = step_done(ix, ent, err);
        }
        if (r == 0) {
                sqlite3_bind_text(tr, 1, tree_hex, -1, SQLITE_STATIC);
                sqlite3_bind_int64(tr, 2, (sqlite3_int64)t->n);
                sqlite3_bind_int64(tr, 3, (sqlite3_int64)n_files);
                sqlite3_bind_int64(tr, 4, (sqlite3_int64)size);
                r = step_done(ix, tr, err);
        }
        sqlite3_finalize(obj);
        sqlite3_finalize(ent);
        sqlite3_finalize(tr);
        return r;
}

static int64_t query_int64(struct index *ix, const char *sql, const char *arg, int64_t dflt)
{
        sqlite3_stmt *st;
        int64_t v = dflt;

        if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK)
                return dflt;
        if (arg)
                sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

int index_publish(struct index *ix, const struct tree *t, const struct digest *tree_digest, const struct manifest *m,
                  const char *compose_path, const struct publish_info *pi, int64_t *ret_id, bool *ret_new,
                  struct error *err)
{
        char tree_hex[DIGEST_HEX_LEN + 1], bundle_hex[DIGEST_HEX_LEN + 1];
        sqlite3_stmt *st = NULL;
        int64_t id, seq, now = (int64_t)time(NULL);
        bool is_new;
        int r;

        if (!ix || !t || !t->finalized || !tree_digest || !m || !pi)
                return error_set(err, STACK_EFAIL, "index_publish: invalid arguments");
        digest_to_hex(tree_digest, tree_hex);
        if (pi->bundle)
                digest_to_hex(pi->bundle, bundle_hex);
        r = exec(ix, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        seq = query_int64(ix, "SELECT MAX(fetch_seq) FROM versions", NULL, 0) + 1;
        id = query_int64(ix, "SELECT id FROM versions WHERE tree = ?", tree_hex, -1);
        is_new = id < 0;
        r = prepare(ix, "INSERT OR IGNORE INTO stacks(slug, name, created_at) VALUES(?, ?, ?)", &st, err);
        if (r < 0)
                goto fail;
        sqlite3_bind_text(st, 1, m->slug, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
        st = NULL;
        if (r < 0)
                goto fail;
        if (is_new) {
                r = publish_tree(ix, t, tree_hex, err);
                if (r < 0)
                        goto fail;
                r = prepare(
                        ix,
                        "INSERT INTO versions(slug, version, tree, bundle, bundle_size, signer, insecure, source, name,"
                        " description, flavor, compose, fetched_at, fetch_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        &st, err);
                if (r < 0)
                        goto fail;
                sqlite3_bind_text(st, 1, m->slug, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, m->version, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, tree_hex, -1, SQLITE_STATIC);
                if (pi->bundle) {
                        sqlite3_bind_text(st, 4, bundle_hex, -1, SQLITE_STATIC);
                        sqlite3_bind_int64(st, 5, (sqlite3_int64)pi->bundle_size);
                }
                if (pi->signer)
                        sqlite3_bind_text(st, 6, pi->signer, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 7, pi->insecure);
                if (pi->source)
                        sqlite3_bind_text(st, 8, pi->source, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 9, m->name, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 10, m->description, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 11, manifest_flavor_name(m->flavor), -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 12, compose_path, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 13, now);
                sqlite3_bind_int64(st, 14, seq);
                r = step_done(ix, st, err);
                if (r < 0)
                        goto fail;
                id = sqlite3_last_insert_rowid(ix->db);
        } else {
                /* Same content again: it becomes the newest fetch of its label. A signature now known upgrades an
                 * unsigned record; an unsigned re-import never downgrades a signed one. */
                r = prepare(
                        ix,
                        "UPDATE versions SET fetched_at = ?, fetch_seq = ?,"
                        " signer = COALESCE(?, signer), insecure = CASE WHEN ? IS NOT NULL THEN ? ELSE insecure END,"
                        " bundle = COALESCE(bundle, ?), bundle_size = COALESCE(bundle_size, ?) WHERE id = ?",
                        &st, err);
                if (r < 0)
                        goto fail;
                sqlite3_bind_int64(st, 1, now);
                sqlite3_bind_int64(st, 2, seq);
                if (pi->signer) {
                        sqlite3_bind_text(st, 3, pi->signer, -1, SQLITE_STATIC);
                        sqlite3_bind_text(st, 4, pi->signer, -1, SQLITE_STATIC);
                }
                sqlite3_bind_int(st, 5, pi->insecure);
                if (pi->bundle) {
                        sqlite3_bind_text(st, 6, bundle_hex, -1, SQLITE_STATIC);
                        sqlite3_bind_int64(st, 7, (sqlite3_int64)pi->bundle_size);
                }
                sqlite3_bind_int64(st, 8, id);
                r = step_done(ix, st, err);
                if (r < 0)
                        goto fail;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (pi->bundle) {
                r = prepare(ix, "INSERT OR IGNORE INTO bundles(digest, size, version_id, fetched_at) VALUES(?,?,?,?)",
                            &st, err);
                if (r < 0)
                        goto fail;
                sqlite3_bind_text(st, 1, bundle_hex, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)pi->bundle_size);
                sqlite3_bind_int64(st, 3, id);
                sqlite3_bind_int64(st, 4, now);
                r = step_done(ix, st, err);
                sqlite3_finalize(st);
                st = NULL;
                if (r < 0)
                        goto fail;
        }
        r = prepare(ix, "DELETE FROM lost WHERE slug = ? AND version = ?", &st, err); /* refetched */
        if (r < 0)
                goto fail;
        sqlite3_bind_text(st, 1, m->slug, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->version, -1, SQLITE_STATIC);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
        st = NULL;
        if (r < 0)
                goto fail;
        r = exec(ix, "COMMIT", err);
        if (r < 0)
                goto fail;
        if (ret_id)
                *ret_id = id;
        if (ret_new)
                *ret_new = is_new;
        return 0;
fail:
        sqlite3_finalize(st);
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

#define VERSION_COLUMNS                                                                                     \
        "v.id, v.slug, v.version, v.tree, v.bundle, v.bundle_size, v.signer, v.insecure, v.source, v.name," \
        " v.description, v.flavor, v.compose, v.fetched_at, t.n_files, t.size"

static int version_from_row(sqlite3_stmt *st, struct version_info *v)
{
        memset(v, 0, sizeof *v);
        v->id = sqlite3_column_int64(st, 0);
        v->slug = column_strdup(st, 1);
        v->version = column_strdup(st, 2);
        if (column_digest(st, 3, &v->tree) < 0)
                memset(&v->tree, 0, sizeof v->tree);
        v->has_bundle = column_digest(st, 4, &v->bundle) == 0;
        v->bundle_size = (uint64_t)sqlite3_column_int64(st, 5);
        v->signer = column_strdup(st, 6);
        v->insecure = sqlite3_column_int(st, 7) != 0;
        v->source = column_strdup(st, 8);
        v->name = column_strdup(st, 9);
        v->description = column_strdup(st, 10);
        v->flavor = column_strdup(st, 11);
        v->compose = column_strdup(st, 12);
        v->fetched_at = sqlite3_column_int64(st, 13);
        v->n_files = (uint64_t)sqlite3_column_int64(st, 14);
        v->size = (uint64_t)sqlite3_column_int64(st, 15);
        if (!v->slug || !v->version) {
                version_info_release(v);
                return -ENOMEM;
        }
        return 0;
}

void version_info_release(struct version_info *v)
{
        if (!v)
                return;
        free(v->slug);
        free(v->version);
        free(v->signer);
        free(v->source);
        free(v->name);
        free(v->description);
        free(v->flavor);
        free(v->compose);
        memset(v, 0, sizeof *v);
}

void version_list_free(struct version_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                version_info_release(&v[i]);
        free(v);
}

/* Rows of one stack, newest fetch first. */
static int list_rows(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st;
        struct version_info *v = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = prepare(ix,
                    slug ? "SELECT " VERSION_COLUMNS " FROM versions v LEFT JOIN trees t ON t.digest = v.tree"
                           " WHERE v.slug = ? ORDER BY v.fetch_seq DESC"
                         : "SELECT " VERSION_COLUMNS " FROM versions v LEFT JOIN trees t ON t.digest = v.tree"
                           " ORDER BY v.slug, v.fetch_seq DESC",
                    &st, err);
        if (r < 0)
                return r;
        if (slug)
                sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        struct version_info *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                goto fail;
                        }
                        v = nv;
                        cap = ncap;
                }
                if (version_from_row(st, &v[n]) < 0) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
                n++;
        }
        if (rc != SQLITE_DONE) {
                r = db_error(ix, err, "read versions");
                goto fail;
        }
        sqlite3_finalize(st);
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        sqlite3_finalize(st);
        version_list_free(v, n);
        return r;
}

int index_list_versions(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n, struct error *err)
{
        return list_rows(ix, slug, ret, ret_n, err);
}

static int get_one(struct index *ix, const char *sql, const char *text, int64_t id, struct version_info *ret,
                   struct error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(ix, sql, &st, err);
        if (r < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
                sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = version_from_row(st, ret) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
        else if (rc == SQLITE_DONE)
                r = -STACK_ENOTFOUND; /* no message: the caller decides what that means */
        else
                r = db_error(ix, err, "read version");
        sqlite3_finalize(st);
        return r;
}

int index_find_bundle(struct index *ix, const struct digest *bundle, struct version_info *ret, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(bundle, hex);
        return get_one(ix,
                       "SELECT " VERSION_COLUMNS " FROM bundles b JOIN versions v ON v.id = b.version_id"
                       " LEFT JOIN trees t ON t.digest = v.tree WHERE b.digest = ?",
                       hex, 0, ret, err);
}

int index_get_version(struct index *ix, int64_t id, struct version_info *ret, struct error *err)
{
        int r = get_one(
                ix, "SELECT " VERSION_COLUMNS " FROM versions v LEFT JOIN trees t ON t.digest = v.tree WHERE v.id = ?",
                NULL, id, ret, err);
        if (r == -STACK_ENOTFOUND && !(err && err->code))
                return error_set(err, STACK_ENOTFOUND, "no version with id %lld", (long long)id);
        return r;
}

int index_resolve(struct index *ix, const char *slug, const char *version, struct version_info *ret, struct error *err)
{
        struct version_info *v = NULL;
        size_t n = 0, best = 0;
        int r;

        r = list_rows(ix, slug, &v, &n, err);
        if (r < 0)
                return r;
        if (n == 0) {
                r = error_set(err, STACK_ENOTFOUND, "stack '%s' is not in the store", slug);
                goto done;
        }
        if (version) {
                /* Rows are newest fetch first: a republished label resolves to the content fetched last. */
                for (best = 0; best < n && strcmp(v[best].version, version); best++)
                        ;
                if (best == n) {
                        char have[512] = "";
                        size_t len = 0;
                        for (size_t i = 0; i < n && len < sizeof have - 80; i++)
                                len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "",
                                                        v[i].version);
                        r = error_set(err, STACK_ENOTFOUND, "stack '%s' has no version '%s' in the store (it has: %s)",
                                      slug, version, have);
                        goto done;
                }
        } else {
                for (size_t i = 1; i < n; i++) {
                        int c;
                        /* Newer by semver when both labels parse; otherwise the earlier-fetched one never wins. */
                        if (semver_compare(v[i].version, v[best].version, &c) == 0 && c > 0)
                                best = i;
                }
        }
        *ret = v[best];
        memset(&v[best], 0, sizeof v[best]);
        r = 0;
done:
        version_list_free(v, n);
        return r;
}

int index_split_ref(const char *ref, char *slug, size_t size, const char **ret_version, struct error *err)
{
        const char *at = strchr(ref, '@');
        size_t len = at ? (size_t)(at - ref) : strlen(ref);

        if (len == 0 || len >= size)
                return error_set(err, STACK_EUSAGE, "'%s' is not SLUG or SLUG@VERSION", ref);
        memcpy(slug, ref, len);
        slug[len] = 0;
        if (!manifest_slug_valid(slug))
                return error_set(err, STACK_EUSAGE, "'%s' is not a valid stack slug", slug);
        if (at && !at[1])
                return error_set(err, STACK_EUSAGE, "'%s' names no version after '@'", ref);
        *ret_version = at ? at + 1 : NULL;
        return 0;
}

int index_resolve_ref(struct index *ix, const char *ref, struct version_info *ret, struct error *err)
{
        char slug[128];
        const char *version = NULL;
        int r = index_split_ref(ref, slug, sizeof slug, &version, err);

        return r < 0 ? r : index_resolve(ix, slug, version, ret, err);
}

int index_load_tree(struct index *ix, const struct digest *tree, struct tree *ret, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        sqlite3_stmt *st;
        struct tree t;
        int r, rc;

        digest_to_hex(tree, hex);
        r = prepare(ix,
                    "SELECT e.path, e.type, e.mode, e.size, e.object, e.target, r.recipe FROM entries e"
                    " LEFT JOIN recipes r ON r.object = e.object WHERE e.tree = ?",
                    &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        tree_init(&t);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *type = (const char *)sqlite3_column_text(st, 1);
                struct digest d = {{0}};
                if (type && type[0] == ENTRY_FILE && column_digest(st, 4, &d) < 0) {
                        r = error_set(err, STACK_ESTORE,
                                      "index.db: entry '%s' of tree %.12s has no valid object digest",
                                      sqlite3_column_text(st, 0), hex);
                        goto fail;
                }
                r = tree_add(&t, (const char *)sqlite3_column_text(st, 0), type ? type[0] : 0,
                             (uint32_t)sqlite3_column_int(st, 2), (uint64_t)sqlite3_column_int64(st, 3), &d,
                             (const char *)sqlite3_column_text(st, 5), err);
                if (r < 0) {
                        r = -STACK_ESTORE;
                        goto fail;
                }
                if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
                        struct tree_recipe *rcp = calloc(1, sizeof *rcp);
                        if (rcp && column_digest(st, 6, &rcp->digest) < 0) {
                                free(rcp);
                                rcp = NULL;
                        }
                        if (!rcp || tree_set_last_recipe(&t, rcp) < 0) {
                                r = error_set(err, STACK_ESTORE, "index.db: entry '%s' of tree %.12s has a bad recipe",
                                              sqlite3_column_text(st, 0), hex);
                                goto fail;
                        }
                }
        }
        if (rc != SQLITE_DONE) {
                r = db_error(ix, err, "read entries");
                goto fail;
        }
        if (t.n == 0) {
                r = error_set(err, STACK_ESTORE, "index.db: tree %.12s has no entries", hex);
                goto fail;
        }
        r = tree_finalize(&t, err);
        if (r < 0) {
                r = -STACK_ESTORE;
                goto fail;
        }
        sqlite3_finalize(st);
        *ret = t;
        return 0;
fail:
        sqlite3_finalize(st);
        tree_release(&t);
        return r;
}

int index_foreach_tree(struct index *ix, int (*fn)(void *ctx, const struct digest *tree), void *ctx, struct error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(ix, "SELECT digest FROM trees ORDER BY digest", &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct digest d;
                if (column_digest(st, 0, &d) < 0) {
                        r = error_set(err, STACK_ESTORE, "index.db: a tree row has an invalid digest");
                        break;
                }
                r = fn(ctx, &d);
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = db_error(ix, err, "read trees");
        sqlite3_finalize(st);
        return r;
}

int index_foreach_object(struct index *ix, int (*fn)(void *ctx, const struct digest *d, uint64_t size), void *ctx,
                         struct error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = prepare(ix, "SELECT digest, size FROM objects ORDER BY digest", &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct digest d;
                if (column_digest(st, 0, &d) < 0) {
                        r = error_set(err, STACK_ESTORE, "index.db: an object row has an invalid digest");
                        break;
                }
                r = fn(ctx, &d, (uint64_t)sqlite3_column_int64(st, 1));
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = db_error(ix, err, "read objects");
        sqlite3_finalize(st);
        return r;
}

int index_count_dangling(struct index *ix, uint64_t *ret_versions, uint64_t *ret_entries, struct error *err)
{
        int64_t v =
                query_int64(ix, "SELECT COUNT(*) FROM versions WHERE tree NOT IN (SELECT digest FROM trees)", NULL, -1);
        int64_t e = query_int64(ix,
                                "SELECT COUNT(*) FROM entries WHERE (object IS NOT NULL AND object NOT IN"
                                " (SELECT digest FROM objects)) OR tree NOT IN (SELECT digest FROM trees)",
                                NULL, -1);

        if (v < 0 || e < 0)
                return db_error(ix, err, "count dangling rows");
        *ret_versions = (uint64_t)v;
        *ret_entries = (uint64_t)e;
        return 0;
}

int index_counts(struct index *ix, struct index_counts *ret, struct error *err)
{
        struct index_counts c;
        int64_t v[6];
        static const char *const sql[6] = {
                "SELECT COUNT(*) FROM stacks",  "SELECT COUNT(*) FROM versions",
                "SELECT COUNT(*) FROM trees",   "SELECT COUNT(*) FROM entries",
                "SELECT COUNT(*) FROM objects", "SELECT COALESCE(SUM(size),0) FROM objects",
        };

        for (int i = 0; i < 6; i++) {
                v[i] = query_int64(ix, sql[i], NULL, -1);
                if (v[i] < 0)
                        return db_error(ix, err, "count rows");
        }
        c.stacks = (uint64_t)v[0];
        c.versions = (uint64_t)v[1];
        c.trees = (uint64_t)v[2];
        c.entries = (uint64_t)v[3];
        c.objects = (uint64_t)v[4];
        c.object_bytes = (uint64_t)v[5];
        *ret = c;
        return 0;
}

struct sqlite3 *index_db(struct index *ix)
{
        return ix ? ix->db : NULL;
}

static int module_version(struct index *ix, const char *module, int *ret, struct error *err)
{
        sqlite3_stmt *st;
        int r = prepare(ix, "SELECT version FROM module_schemas WHERE module = ?", &st, err);

        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        if (r == SQLITE_ROW || r == SQLITE_DONE) {
                *ret = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
                r = 0;
        } else {
                r = db_error(ix, err, "read module_schemas");
        }
        sqlite3_finalize(st);
        return r;
}

int index_migrate_module(struct index *ix, const char *module, const char *const *steps, int n, struct error *err)
{
        sqlite3_stmt *st = NULL;
        int have, r;

        if (!ix || !module || (n > 0 && !steps) || n < 0)
                return error_set(err, STACK_EFAIL, "index_migrate_module: invalid arguments");
        r = module_version(ix, module, &have, err); /* the common case: current, and no write lock taken */
        if (r < 0 || have == n)
                return r;
        r = exec(ix, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = module_version(ix, module, &have, err); /* another process may have migrated meanwhile */
        if (r < 0)
                goto fail;
        if (have > n) {
                r = error_set(err, STACK_ESTORE,
                              "index.db: the %s tables have schema version %d, newer than this stack (%d):"
                              " upgrade stack",
                              module, have, n);
                goto fail;
        }
        for (int i = have; i < n; i++) {
                r = exec(ix, steps[i], err);
                if (r < 0)
                        goto fail;
        }
        r = prepare(ix,
                    "INSERT INTO module_schemas(module, version) VALUES(?1, ?2)"
                    " ON CONFLICT(module) DO UPDATE SET version = ?2",
                    &st, err);
        if (r < 0)
                goto fail;
        sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, n);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
fail:
        return end_transaction(ix, r, err);
}

int index_set_pin(struct index *ix, int64_t version_id, bool pin, bool *ret_changed, struct error *err)
{
        sqlite3_stmt *st;
        int r;

        r = prepare(ix,
                    pin ? "INSERT OR IGNORE INTO pins(version_id) VALUES(?)" : "DELETE FROM pins WHERE version_id = ?",
                    &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, version_id);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
        if (r == 0 && ret_changed)
                *ret_changed = sqlite3_changes(ix->db) > 0;
        return r;
}

int index_list_pins(struct index *ix, int64_t **ret, size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st;
        int64_t *v = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = prepare(ix, "SELECT version_id FROM pins WHERE version_id IN (SELECT id FROM versions) ORDER BY 1", &st,
                    err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        int64_t *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                goto fail;
                        }
                        v = nv;
                        cap = ncap;
                }
                v[n++] = sqlite3_column_int64(st, 0);
        }
        if (rc != SQLITE_DONE) {
                r = db_error(ix, err, "read pins");
                goto fail;
        }
        sqlite3_finalize(st);
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        sqlite3_finalize(st);
        free(v);
        return r;
}

int index_sweep_begin(struct index *ix, struct error *err)
{
        /* A sweep rewrites much of the index in one transaction: a page cache that holds it (a limit, up to 256 MiB,
         * not an allocation) keeps SQLite from reading pages again and spilling them to the WAL mid-transaction. */
        int r = exec(ix, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; BEGIN IMMEDIATE", err);

        if (r == 0)
                r = exec(ix,
                         "CREATE TEMP TABLE IF NOT EXISTS gc_versions(id INTEGER PRIMARY KEY);"
                         "CREATE TEMP TABLE IF NOT EXISTS gc_trees(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                         "DELETE FROM temp.gc_versions; DELETE FROM temp.gc_trees",
                         err);
        if (r < 0)
                sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return r;
}

int index_sweep_keep_version(struct index *ix, int64_t id, struct error *err)
{
        sqlite3_stmt *st;
        int r = prepare(ix, "INSERT OR IGNORE INTO temp.gc_versions(id) VALUES(?)", &st, err);

        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
        return r;
}

int index_sweep_keep_tree(struct index *ix, const struct digest *tree, struct error *err)
{
        sqlite3_stmt *st;
        int r = prepare(ix, "INSERT OR IGNORE INTO temp.gc_trees(digest) VALUES(?)", &st, err);

        if (r < 0)
                return r;
        bind_digest(st, 1, tree);
        r = step_done(ix, st, err);
        sqlite3_finalize(st);
        return r;
}

/* One set-based statement; *ret (may be NULL) gets the rows it changed. */
static int sweep_exec(struct index *ix, const char *sql, uint64_t *ret, struct error *err)
{
        int r = exec(ix, sql, err);

        if (r == 0 && ret)
                *ret = (uint64_t)sqlite3_changes(ix->db);
        return r;
}

#define SWEEP_UNUSED                                                          \
        "digest NOT IN (SELECT object FROM entries WHERE object IS NOT NULL)" \
        " AND digest NOT IN (SELECT recipe FROM recipes) AND digest NOT IN (SELECT part FROM recipe_parts)"

int index_sweep_run(struct index *ix, struct index_sweep *ret, struct error *err)
{
        struct index_sweep c = {0};
        sqlite3_stmt *st;
        int r;

        r = sweep_exec(ix, "DELETE FROM versions WHERE id NOT IN (SELECT id FROM temp.gc_versions)", &c.versions, err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM bundles WHERE version_id NOT IN (SELECT id FROM versions)", NULL, err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM pins WHERE version_id NOT IN (SELECT id FROM versions)", NULL, err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM stacks WHERE slug NOT IN (SELECT slug FROM versions)", &c.stacks, err);
        if (r == 0)
                r = sweep_exec(ix,
                               "DELETE FROM trees WHERE digest NOT IN (SELECT tree FROM versions)"
                               " AND digest NOT IN (SELECT digest FROM temp.gc_trees)",
                               &c.trees, err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM entries WHERE tree NOT IN (SELECT digest FROM trees)", &c.entries, err);
        /* An object an entry needs keeps its recipe and the recipe's parts (a part shared by two recipes stays
         * while either is needed). */
        if (r == 0)
                r = sweep_exec(
                        ix,
                        "DELETE FROM recipes WHERE object NOT IN (SELECT object FROM entries WHERE object IS NOT NULL)",
                        NULL, err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM recipe_parts WHERE recipe NOT IN (SELECT recipe FROM recipes)", NULL,
                               err);
        if (r < 0)
                return r;
        r = prepare(ix, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE " SWEEP_UNUSED, &st, err);
        if (r < 0)
                return r;
        if (sqlite3_step(st) == SQLITE_ROW)
                c.object_bytes = (uint64_t)sqlite3_column_int64(st, 1);
        sqlite3_finalize(st);
        r = sweep_exec(ix, "DELETE FROM objects WHERE " SWEEP_UNUSED, &c.objects, err);
        if (r == 0 && ret)
                *ret = c;
        return r;
}

int index_sweep_end(struct index *ix, bool commit, struct error *err)
{
        if (commit)
                return end_transaction(ix, 0, err);
        sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
        return 0;
}

int index_drop_damaged(struct index *ix, const struct digest *objects, size_t n_objects, const struct digest *trees,
                       size_t n_trees, struct lost_version **ret, size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st = NULL;
        struct lost_version *v = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = exec(ix, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = exec(ix,
                 "CREATE TEMP TABLE IF NOT EXISTS bad_objects(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                 "CREATE TEMP TABLE IF NOT EXISTS bad_trees(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                 "DELETE FROM temp.bad_objects; DELETE FROM temp.bad_trees",
                 err);
        for (size_t i = 0; r == 0 && i < n_objects + n_trees; i++) {
                bool obj = i < n_objects;
                if (!st)
                        r = prepare(ix,
                                    obj ? "INSERT OR IGNORE INTO temp.bad_objects VALUES(?)"
                                        : "INSERT OR IGNORE INTO temp.bad_trees VALUES(?)",
                                    &st, err);
                if (r < 0)
                        break;
                bind_digest(st, 1, obj ? &objects[i] : &trees[i - n_objects]);
                r = step_done(ix, st, err);
                if (i + 1 == n_objects) {
                        sqlite3_finalize(st);
                        st = NULL;
                }
        }
        sqlite3_finalize(st);
        st = NULL;
        /* A tree is damaged when one of its objects is, or when a row it needs is gone; a version whose tree is
         * damaged or gone is lost. */
        if (r == 0)
                r = exec(ix,
                         "DELETE FROM objects WHERE digest IN (SELECT digest FROM temp.bad_objects);"
                         "INSERT OR IGNORE INTO temp.bad_trees SELECT DISTINCT tree FROM entries"
                         "  WHERE object IS NOT NULL AND object NOT IN (SELECT digest FROM objects);"
                         "DELETE FROM entries WHERE tree IN (SELECT digest FROM temp.bad_trees)"
                         "  OR tree NOT IN (SELECT digest FROM trees);"
                         "DELETE FROM trees WHERE digest IN (SELECT digest FROM temp.bad_trees);",
                         err);
        if (r == 0)
                r = prepare(ix,
                            "SELECT slug, version, tree, source FROM versions"
                            " WHERE tree NOT IN (SELECT digest FROM trees) ORDER BY slug, fetch_seq",
                            &st, err);
        while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        struct lost_version *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                break;
                        }
                        v = nv;
                        cap = ncap;
                }
                v[n].slug = column_strdup(st, 0);
                v[n].version = column_strdup(st, 1);
                n++;
                if (!v[n - 1].slug || !v[n - 1].version)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        sqlite3_finalize(st);
        if (r == 0)
                r = exec(ix,
                         "INSERT OR REPLACE INTO lost(slug, version, tree, source, lost_at)"
                         "  SELECT slug, version, tree, source, strftime('%s', 'now') FROM versions"
                         "  WHERE tree NOT IN (SELECT digest FROM trees);"
                         "DELETE FROM bundles WHERE version_id IN (SELECT id FROM versions"
                         "  WHERE tree NOT IN (SELECT digest FROM trees));"
                         "DELETE FROM pins WHERE version_id IN (SELECT id FROM versions"
                         "  WHERE tree NOT IN (SELECT digest FROM trees));"
                         "DELETE FROM versions WHERE tree NOT IN (SELECT digest FROM trees);",
                         err);
        r = end_transaction(ix, r, err);
        if (r < 0) {
                lost_versions_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int index_list_lost(struct index *ix, struct lost_version **ret, size_t *ret_n, struct error *err)
{
        sqlite3_stmt *st;
        struct lost_version *v = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = prepare(ix, "SELECT slug, version FROM lost ORDER BY slug, version", &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 8;
                        struct lost_version *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                goto fail;
                        }
                        v = nv;
                        cap = ncap;
                }
                v[n].slug = column_strdup(st, 0);
                v[n].version = column_strdup(st, 1);
                n++;
                if (!v[n - 1].slug || !v[n - 1].version) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
        }
        if (rc != SQLITE_DONE) {
                r = db_error(ix, err, "read lost");
                goto fail;
        }
        sqlite3_finalize(st);
        *ret = v;
        *ret_n = n;
        return 0;
fail:
        sqlite3_finalize(st);
        lost_versions_free(v, n);
        return r;
}

void lost_versions_free(struct lost_version *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].slug);
                free(v[i].version);
        }
        free(v);
}

int index_object_recipe(struct index *ix, const struct digest *object, struct digest *ret, struct error *err)
{
        sqlite3_stmt *st;
        int r = prepare(ix, "SELECT recipe FROM recipes WHERE object = ?", &st, err), rc;

        if (r < 0)
                return r;
        bind_digest(st, 1, object);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = column_digest(st, 0, ret) < 0 ? error_set(err, STACK_ESTORE, "index.db: a recipe row is invalid")
                                                  : 1;
        else if (rc != SQLITE_DONE)
                r = db_error(ix, err, "read recipes");
        sqlite3_finalize(st);
        return r;
}

int index_put_tree(struct index *ix, const struct tree *t, const struct digest *tree_digest, struct error *err)
{
        char tree_hex[DIGEST_HEX_LEN + 1];
        int r;

        if (!ix || !t || !t->finalized || !tree_digest)
                return error_set(err, STACK_EFAIL, "index_put_tree: invalid arguments");
        digest_to_hex(tree_digest, tree_hex);
        r = exec(ix, "BEGIN IMMEDIATE", err);
        if (r < 0)
                return r;
        r = publish_tree(ix, t, tree_hex, err);
        if (r == 0)
                r = exec(ix, "COMMIT", err);
        if (r < 0)
                exec(ix, "ROLLBACK", NULL);
        return r;
}
