/* index-repair.c - verify --repair's side of index.db (spec/store.md "Verify"): dropping the rows of damaged
 * objects and trees, and the versions they take with them into the lost table, which `stack ls` lists.
 */
#include "index-int.h"

#include <stdlib.h>

#include <sqlite3.h>

static const struct db_column lost_cols[] = {DB_TEXT_REQ_COL(struct lost_version, slug),
                                             DB_TEXT_REQ_COL(struct lost_version, version)};
static const struct db_rows lost_rows = DB_ROWS(struct lost_version, lost_cols, "read lost");

/* The digests into a temp table (one statement for all). */
static int insert_digests(struct index *ix, const char *sql, const struct digest *d, size_t n, struct error *err)
{
        sqlite3_stmt *st;
        int r;

        if (!n)
                return 0;
        r = db_prepare(ix->db, sql, &st, "prepare", err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                db_bind_digest(st, 1, &d[i]);
                r = db_step_done(ix->db, st, "write", err);
        }
        sqlite3_finalize(st);
        return r;
}

int index_drop_damaged(struct index *ix, const struct digest *objects, size_t n_objects, const struct digest *trees,
                       size_t n_trees, struct lost_version **ret, size_t *ret_n, struct error *err)
{
        struct lost_version *v = NULL;
        size_t n = 0;
        int r;

        r = db_begin(ix->db, err);
        if (r < 0)
                return r;
        r = db_exec(ix->db,
                    "CREATE TEMP TABLE IF NOT EXISTS bad_objects(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                    "CREATE TEMP TABLE IF NOT EXISTS bad_trees(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                    "DELETE FROM temp.bad_objects; DELETE FROM temp.bad_trees",
                    err);
        if (r == 0)
                r = insert_digests(ix, "INSERT OR IGNORE INTO temp.bad_objects VALUES(?)", objects, n_objects, err);
        if (r == 0)
                r = insert_digests(ix, "INSERT OR IGNORE INTO temp.bad_trees VALUES(?)", trees, n_trees, err);
        /* A tree is damaged when one of its objects is, or when a row it needs is gone; a version whose tree is
         * damaged or gone is lost. */
        if (r == 0)
                r = db_exec(ix->db,
                            "DELETE FROM objects WHERE digest IN (SELECT digest FROM temp.bad_objects);"
                            "INSERT OR IGNORE INTO temp.bad_trees SELECT DISTINCT tree FROM entries"
                            "  WHERE object IS NOT NULL AND object NOT IN (SELECT digest FROM objects);"
                            "DELETE FROM entries WHERE tree IN (SELECT digest FROM temp.bad_trees)"
                            "  OR tree NOT IN (SELECT digest FROM trees);"
                            "DELETE FROM trees WHERE digest IN (SELECT digest FROM temp.bad_trees);"
                            "UPDATE version_images SET tree = NULL WHERE tree NOT IN (SELECT digest FROM trees);",
                            err);
        if (r == 0)
                r = db_query_rows(ix->db,
                                  "SELECT slug, version, tree, source FROM versions"
                                  " WHERE tree NOT IN (SELECT digest FROM trees) ORDER BY slug, fetch_seq",
                                  NULL, &lost_rows, &v, &n, err);
        if (r == 0)
                r = db_exec(ix->db,
                            "INSERT OR REPLACE INTO lost(slug, version, tree, source, lost_at)"
                            "  SELECT slug, version, tree, source, strftime('%s', 'now') FROM versions"
                            "  WHERE tree NOT IN (SELECT digest FROM trees);"
                            "DELETE FROM bundles WHERE version_id IN (SELECT id FROM versions"
                            "  WHERE tree NOT IN (SELECT digest FROM trees));"
                            "DELETE FROM pins WHERE version_id IN (SELECT id FROM versions"
                            "  WHERE tree NOT IN (SELECT digest FROM trees));"
                            "DELETE FROM versions WHERE tree NOT IN (SELECT digest FROM trees);",
                            err);
        r = db_end(ix->db, r, err);
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
        return db_query_rows(ix->db, "SELECT slug, version FROM lost ORDER BY slug, version", NULL, &lost_rows, ret,
                             ret_n, err);
}

void lost_versions_free(struct lost_version *v, size_t n)
{
        db_free_rows(&lost_rows, v, n);
}
