/* runs.c - the runs and allows tables: the run module's own rows in index.db, with their own migrations.
 * The only file that speaks SQL about runs; versions are read through the index's interface.
 */
#include "runs.h"

#include "store/db.h"
#include "store/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

/* Migration i takes the module's tables from version i to i + 1. Never edit one that has shipped: add another.
 * Version 1 is the schema index.c created as its migration 2 before modules kept their own (stores made then
 * are recorded at version 1 by the index's migration 3). */
DB_SCHEMA(runs_schema, "run", RUNS_SCHEMA_VERSION,
          "CREATE TABLE runs(id TEXT PRIMARY KEY, slug TEXT NOT NULL, version_id INTEGER NOT NULL, tree TEXT NOT NULL,"
          "  state TEXT NOT NULL CHECK(state IN ('pending','starting','running','stopping','stopped','failed')),"
          "  project TEXT NOT NULL, run_dir TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,"
          "  updated_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER);"
          "CREATE INDEX runs_by_slug ON runs(slug, created_at);"
          "CREATE TABLE allows(slug TEXT PRIMARY KEY, perms INTEGER NOT NULL);",
          /* 2: the watcher's states (orch/watch.h); SQLite cannot widen a CHECK in place: the table is copied */
          "CREATE TABLE runs_v2(id TEXT PRIMARY KEY, slug TEXT NOT NULL, version_id INTEGER NOT NULL,"
          "  tree TEXT NOT NULL, state TEXT NOT NULL CHECK(state IN ('pending','starting','running','stopping',"
          "  'stopped','failed','unhealthy','restarting')), project TEXT NOT NULL, run_dir TEXT NOT NULL, reason TEXT,"
          "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER);"
          "INSERT INTO runs_v2 SELECT id, slug, version_id, tree, state, project, run_dir, reason, created_at,"
          "  updated_at, started_at, stopped_at FROM runs;"
          "DROP TABLE runs;"
          "ALTER TABLE runs_v2 RENAME TO runs;"
          "CREATE INDEX runs_by_slug ON runs(slug, created_at);");

#define RUN_COLUMNS \
        "id, slug, state, project, run_dir, reason, version_id, tree, created_at, updated_at, started_at, stopped_at"

static const char *const run_state_names[] = {
        [RUN_PENDING] = "pending",       [RUN_STARTING] = "starting", [RUN_RUNNING] = "running",
        [RUN_STOPPING] = "stopping",     [RUN_STOPPED] = "stopped",   [RUN_FAILED] = "failed",
        [RUN_UNKNOWN] = "unknown",       [RUN_REMOVED] = "removed",   [RUN_UNHEALTHY] = "unhealthy",
        [RUN_RESTARTING] = "restarting",
};

_Static_assert(sizeof run_state_names / sizeof *run_state_names == RUN_RESTARTING + 1, "one name per run state");
_Static_assert(sizeof(enum run_state) == sizeof(int), "read as an int (DB_ENUM_COL)");

#define N_STATES (sizeof run_state_names / sizeof *run_state_names)

const char *run_state_name(enum run_state state)
{
        return db_enum_name(run_state_names, N_STATES, (int)state);
}

int run_state_parse(const char *name)
{
        return db_enum_parse(run_state_names, N_STATES, name);
}

static const struct db_column run_cols[] = {
        DB_CHARS_COL(struct run_row, id),
        DB_TEXT_REQ_COL(struct run_row, slug),
        DB_ENUM_COL(struct run_row, state, run_state_names),
        DB_TEXT_REQ_COL(struct run_row, project),
        DB_TEXT_REQ_COL(struct run_row, run_dir),
        DB_TEXT_COL(struct run_row, reason),
        DB_INT64_COL(struct run_row, version_id),
        DB_DIGEST_COL(struct run_row, tree),
        DB_INT64_COL(struct run_row, created_at),
        DB_INT64_COL(struct run_row, updated_at),
        DB_INT64_COL(struct run_row, started_at),
        DB_INT64_COL(struct run_row, stopped_at),
};

static void run_release(void *r);
static int run_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err);

/* Rows read by run_from_row() (ctx: the store, set per query). */
static const struct db_rows run_rows = {
        .size = sizeof(struct run_row), .read = run_from_row, .release = run_release, .job = "read runs"};

void run_row_release(struct run_row *r)
{
        if (r)
                free(r->version); /* not a column: the index's label */
        db_release_columns(run_cols, sizeof run_cols / sizeof *run_cols, r, sizeof *r);
}

static void run_release(void *r)
{
        run_row_release(r);
}

void run_rows_free(struct run_row *v, size_t n)
{
        db_free_rows(&run_rows, v, n);
}

/* A row, with its version's label from the index ("?" when the version is gone). */
static int run_from_row(void *ctx, sqlite3_stmt *st, void *ret, struct error *err)
{
        struct store *s = ctx;
        struct run_row *r = ret;
        struct version_info v = {0};
        int k = db_read_columns(st, run_cols, sizeof run_cols / sizeof *run_cols, r);

        if (k < 0)
                return k;
        if (index_get_version(store_index(s), r->version_id, &v, NULL) == 0) {
                r->version = v.version;
                v.version = NULL;
                version_info_release(&v);
        } else {
                r->version = strdup("?");
        }
        return r->version ? 0 : -ENOMEM;
}

int runs_insert(struct store *s, const struct run_row *r, struct error *err)
{
        int64_t now = (int64_t)time(NULL);

        return index_module_write(
                store_index(s), &runs_schema,
                "INSERT INTO runs(id, slug, version_id, tree, state, project, run_dir, reason, created_at, updated_at)"
                " VALUES(?,?,?,?,?,?,?,?,?,?)",
                "write runs", NULL, err, "ttidttttii", r->id, r->slug, r->version_id, &r->tree,
                run_state_name(r->state), r->project, r->run_dir, r->reason, now, now);
}

int runs_set_state(struct store *s, const char *id, enum run_state state, const char *reason, struct error *err)
{
        return index_module_write(
                store_index(s), &runs_schema,
                "UPDATE runs SET state = ?1, reason = ?2, updated_at = ?3,"
                " started_at = CASE WHEN ?1 = 'running' THEN ?3 ELSE started_at END,"
                " stopped_at = CASE WHEN ?1 IN ('stopped', 'failed') THEN ?3 ELSE stopped_at END WHERE id = ?4",
                "write runs", NULL, err, "ttit", run_state_name(state), reason, (int64_t)time(NULL), id);
}

/* The rows of a query with one text parameter (NULL: none). */
static int query_runs(struct store *s, const char *sql, const char *param, struct run_row **ret, size_t *ret_n,
                      struct error *err)
{
        struct db_rows how = run_rows;

        how.ctx = s;
        return index_module_rows(store_index(s), &runs_schema, sql, param, &how, ret, ret_n, err);
}

int runs_get(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err)
{
        static const char *const sql[2] = {
                "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?",
                "SELECT " RUN_COLUMNS " FROM runs WHERE slug = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        };

        for (int i = 0; i < 2; i++) {
                struct run_row *v = NULL;
                size_t n = 0;
                int rc = query_runs(s, sql[i], id_or_slug, &v, &n, err);
                if (rc < 0)
                        return rc;
                if (n) {
                        *ret = v[0];
                        free(v);
                        return 0;
                }
                free(v);
        }
        return error_set(err, STACK_ENOTFOUND, "no run '%s' (stack ps lists them)", id_or_slug);
}

int runs_list(struct store *s, struct run_row **ret, size_t *ret_n, struct error *err)
{
        return query_runs(s, "SELECT " RUN_COLUMNS " FROM runs ORDER BY created_at DESC, rowid DESC", NULL, ret, ret_n,
                          err);
}

int runs_delete(struct store *s, const char *id, struct error *err)
{
        return index_module_exec(store_index(s), &runs_schema, "DELETE FROM runs WHERE id = ?", id, NULL, "write runs",
                                 NULL, err);
}

int allows_get(struct store *s, const char *slug, unsigned *ret, struct error *err)
{
        int64_t perms;
        int r = index_module_int64(store_index(s), &runs_schema, "SELECT perms FROM allows WHERE slug = ?", slug, 0,
                                   &perms, "read allows", err);

        if (r == 0)
                *ret = (unsigned)perms;
        return r;
}

int allows_set(struct store *s, const char *slug, unsigned perms, struct error *err)
{
        return index_module_write(
                store_index(s), &runs_schema,
                "INSERT INTO allows(slug, perms) VALUES(?1, ?2) ON CONFLICT(slug) DO UPDATE SET perms = ?2",
                "write allows", NULL, err, "ti", slug, (int64_t)perms);
}
