/* index-query.c - reading index.db: versions (resolved by label or semver, listed, by id or bundle), trees rebuilt
 * from their rows, and the rows verify and gc walk and count.
 */
#include "index-int.h"
#include "base/semver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define VERSION_COLUMNS                                                                                     \
        "v.id, v.slug, v.version, v.tree, v.bundle, v.bundle_size, v.signer, v.insecure, v.source, v.name," \
        " v.description, v.flavor, v.compose, v.fetched_at, t.n_files, t.size,"                             \
        " (SELECT COALESCE(SUM(vi.size), 0) FROM version_images vi WHERE vi.version_id = v.id AND vi.tree IS NOT NULL)"

static const struct db_column version_cols[] = {
        DB_INT64_COL(struct version_info, id),
        DB_TEXT_REQ_COL(struct version_info, slug),
        DB_TEXT_REQ_COL(struct version_info, version),
        DB_DIGEST_COL(struct version_info, tree),
        DB_SKIP_COL /* bundle */,
        DB_INT64_COL(struct version_info, bundle_size),
        DB_TEXT_COL(struct version_info, signer),
        DB_SKIP_COL /* insecure */,
        DB_TEXT_COL(struct version_info, source),
        DB_TEXT_COL(struct version_info, name),
        DB_TEXT_COL(struct version_info, description),
        DB_TEXT_COL(struct version_info, flavor),
        DB_TEXT_COL(struct version_info, compose),
        DB_INT64_COL(struct version_info, fetched_at),
        DB_INT64_COL(struct version_info, n_files),
        DB_INT64_COL(struct version_info, size),
        DB_INT64_COL(struct version_info, image_bytes),
};

static int version_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        struct version_info *v = ret;

        memset(v, 0, sizeof *v);
        v->has_bundle = db_column_digest(st, 4, &v->bundle) == 0;
        v->insecure = sqlite3_column_int(st, 7) != 0;
        return db_read_columns(st, version_cols, sizeof version_cols / sizeof *version_cols, v);
}

static const struct db_rows version_rows = {
        .size = sizeof(struct version_info),
        .read = version_from_row,
        .cols = version_cols,
        .n_cols = sizeof version_cols / sizeof *version_cols,
        .job = "read versions",
};

void version_info_release(struct version_info *v)
{
        db_release_row(&version_rows, v);
}

void version_list_free(struct version_info *v, size_t n)
{
        db_free_rows(&version_rows, v, n);
}

/* Rows of one stack (or all), newest fetch first. */
static int list_rows(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n, struct error *err)
{
        return db_query_rows(ix->db,
                             slug ? "SELECT " VERSION_COLUMNS " FROM versions v LEFT JOIN trees t ON t.digest = v.tree"
                                    " WHERE v.slug = ? ORDER BY v.fetch_seq DESC"
                                  : "SELECT " VERSION_COLUMNS " FROM versions v LEFT JOIN trees t ON t.digest = v.tree"
                                    " ORDER BY v.slug, v.fetch_seq DESC",
                             slug, &version_rows, ret, ret_n, err);
}

int index_list_versions(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n, struct error *err)
{
        return list_rows(ix, slug, ret, ret_n, err);
}

static int get_one(struct index *ix, const char *sql, const char *text, int64_t id, struct version_info *ret,
                   struct error *err)
{
        sqlite3_stmt *st;
        int r;

        r = db_prepare(ix->db, sql, &st, "prepare", err);
        if (r < 0)
                return r;
        if (text)
                sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
        else
                sqlite3_bind_int64(st, 1, id);
        r = db_step_row(ix->db, st, "read version", err);
        if (r == 0)
                r = -STACK_ENOTFOUND; /* no message: the caller decides what that means */
        else if (r > 0 && version_from_row(NULL, st, ret, err) < 0) {
                version_info_release(ret);
                r = error_set(err, STACK_EFAIL, "out of memory");
        } else if (r > 0)
                r = 0;
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
        r = db_prepare(ix->db,
                       "SELECT e.path, e.type, e.mode, e.size, e.object, e.target, r.recipe FROM entries e"
                       " LEFT JOIN recipes r ON r.object = e.object WHERE e.tree = ?",
                       &st, "prepare", err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
        tree_init(&t);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *type = (const char *)sqlite3_column_text(st, 1);
                struct digest d = {{0}};
                if (type && type[0] == ENTRY_FILE && db_column_digest(st, 4, &d) < 0) {
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
                        if (rcp && db_column_digest(st, 6, &rcp->digest) < 0) {
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
                r = db_error(ix->db, err, "read entries");
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

/* Each row's first column a digest (and the second a size) for fn; stops at fn's first error. */
static int foreach_digest(struct index *ix, const char *sql, const char *job, const char *bad,
                          int (*fn)(void *ctx, const struct digest *d, uint64_t size), void *ctx, struct error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = db_prepare(ix->db, sql, &st, "prepare", err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct digest d;
                if (db_column_digest(st, 0, &d) < 0) {
                        r = error_set(err, STACK_ESTORE, "index.db: %s", bad);
                        break;
                }
                r = fn(ctx, &d, (uint64_t)sqlite3_column_int64(st, 1));
                if (r < 0)
                        break;
        }
        if (r == 0 && rc != SQLITE_DONE)
                r = db_error(ix->db, err, job);
        sqlite3_finalize(st);
        return r;
}

struct tree_fn {
        int (*fn)(void *ctx, const struct digest *tree);
        void *ctx;
};

static int call_tree_fn(void *ctx, const struct digest *d, uint64_t size)
{
        struct tree_fn *t = ctx;

        return t->fn(t->ctx, d);
}

int index_foreach_tree(struct index *ix, int (*fn)(void *ctx, const struct digest *tree), void *ctx, struct error *err)
{
        struct tree_fn t = {fn, ctx};

        return foreach_digest(ix, "SELECT digest, 0 FROM trees ORDER BY digest", "read trees",
                              "a tree row has an invalid digest", call_tree_fn, &t, err);
}

int index_foreach_object(struct index *ix, int (*fn)(void *ctx, const struct digest *d, uint64_t size), void *ctx,
                         struct error *err)
{
        return foreach_digest(ix, "SELECT digest, size FROM objects ORDER BY digest", "read objects",
                              "an object row has an invalid digest", fn, ctx, err);
}

int index_object_recipe(struct index *ix, const struct digest *object, struct digest *ret, struct error *err)
{
        sqlite3_stmt *st;
        int r = db_prepare(ix->db, "SELECT recipe FROM recipes WHERE object = ?", &st, "prepare", err);

        if (r < 0)
                return r;
        db_bind_digest(st, 1, object);
        r = db_step_row(ix->db, st, "read recipes", err);
        if (r > 0 && db_column_digest(st, 0, ret) < 0)
                r = error_set(err, STACK_ESTORE, "index.db: a recipe row is invalid");
        sqlite3_finalize(st);
        return r;
}

int index_count_dangling(struct index *ix, uint64_t *ret_versions, uint64_t *ret_entries, struct error *err)
{
        int64_t v = db_query_int64(ix->db, "SELECT COUNT(*) FROM versions WHERE tree NOT IN (SELECT digest FROM trees)",
                                   NULL, -1);
        int64_t e = db_query_int64(ix->db,
                                   "SELECT COUNT(*) FROM entries WHERE (object IS NOT NULL AND object NOT IN"
                                   " (SELECT digest FROM objects)) OR tree NOT IN (SELECT digest FROM trees)",
                                   NULL, -1);

        if (v < 0 || e < 0)
                return db_error(ix->db, err, "count dangling rows");
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
                v[i] = db_query_int64(ix->db, sql[i], NULL, -1);
                if (v[i] < 0)
                        return db_error(ix->db, err, "count rows");
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
