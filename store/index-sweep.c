/* index-sweep.c - gc's sweep of index.db (spec/store.md "gc"): the roots into temp tables, then set-based deletes
 * of every row they do not reach, in one transaction the caller commits or (a dry run) rolls back.
 */
#include "index-int.h"

#include <sqlite3.h>

int index_sweep_begin(struct index *ix, struct error *err)
{
        /* A sweep rewrites much of the index in one transaction: a page cache that holds it (a limit, up to 256 MiB,
         * not an allocation) keeps SQLite from reading pages again and spilling them to the WAL mid-transaction. */
        int r = db_exec(ix->db, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; BEGIN IMMEDIATE", err);

        if (r == 0)
                r = db_exec(ix->db,
                            "CREATE TEMP TABLE IF NOT EXISTS gc_versions(id INTEGER PRIMARY KEY);"
                            "CREATE TEMP TABLE IF NOT EXISTS gc_trees(digest TEXT PRIMARY KEY) WITHOUT ROWID;"
                            "DELETE FROM temp.gc_versions; DELETE FROM temp.gc_trees",
                            err);
        if (r < 0)
                db_rollback(ix->db);
        return r;
}

int index_sweep_keep_version(struct index *ix, int64_t id, struct error *err)
{
        return db_write(ix->db, "INSERT OR IGNORE INTO temp.gc_versions(id) VALUES(?)", "write", NULL, err, "i", id);
}

int index_sweep_keep_tree(struct index *ix, const struct digest *tree, struct error *err)
{
        return db_write(ix->db, "INSERT OR IGNORE INTO temp.gc_trees(digest) VALUES(?)", "write", NULL, err, "d", tree);
}

/* One set-based statement; *ret (may be NULL) gets the rows it changed. */
static int sweep_exec(struct index *ix, const char *sql, uint64_t *ret, struct error *err)
{
        int r = db_exec(ix->db, sql, err);

        if (r == 0 && ret)
                *ret = (uint64_t)db_changes(ix->db);
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
                r = sweep_exec(ix, "DELETE FROM version_images WHERE version_id NOT IN (SELECT id FROM versions)", NULL,
                               err);
        if (r == 0)
                r = sweep_exec(ix, "DELETE FROM stacks WHERE slug NOT IN (SELECT slug FROM versions)", &c.stacks, err);
        if (r == 0)
                r = sweep_exec(ix,
                               "DELETE FROM trees WHERE digest NOT IN (SELECT tree FROM versions)"
                               " AND digest NOT IN (SELECT digest FROM temp.gc_trees)"
                               " AND digest NOT IN (SELECT tree FROM version_images WHERE tree IS NOT NULL)",
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
        r = db_prepare(ix->db, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE " SWEEP_UNUSED, &st,
                       "prepare", err);
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
                return db_end(ix->db, 0, err);
        db_rollback(ix->db);
        return 0;
}
