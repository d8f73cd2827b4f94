/* runs.c - the runs and allows tables: the run module's own rows in index.db, with their own migrations.
 * The only file that speaks SQL about runs; versions are read through the index's interface.
 */
#include "runs.h"

#include "store/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define MODULE "run"

/* Migration i takes the module's tables from version i to i + 1. Never edit one that has shipped: add another.
 * Version 1 is the schema index.c created as its migration 2 before modules kept their own (stores made then
 * are recorded at version 1 by the index's migration 3). */
static const char *const migrations[] = {
        "CREATE TABLE runs(id TEXT PRIMARY KEY, slug TEXT NOT NULL, version_id INTEGER NOT NULL, tree TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK(state IN ('pending','starting','running','stopping','stopped','failed')),"
        "  project TEXT NOT NULL, run_dir TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER);"
        "CREATE INDEX runs_by_slug ON runs(slug, created_at);"
        "CREATE TABLE allows(slug TEXT PRIMARY KEY, perms INTEGER NOT NULL);",
};

_Static_assert(sizeof migrations / sizeof *migrations == RUNS_SCHEMA_VERSION, "one migration per schema version");

#define RUN_COLUMNS \
        "id, slug, state, project, run_dir, reason, version_id, tree, created_at, updated_at, started_at, stopped_at"

/* The connection, with the module's tables current. */
static int open_db(struct store *s, sqlite3 **ret, struct error *err)
{
        struct index *ix = store_index(s);
        int r = index_migrate_module(ix, MODULE, migrations, RUNS_SCHEMA_VERSION, err);

        if (r < 0)
                return r;
        *ret = index_db(ix);
        return 0;
}

static int db_error(sqlite3 *db, struct error *err, const char *what)
{
        return error_set(err, STACK_ESTORE, "index.db: %s: %s", what, sqlite3_errmsg(db));
}

static int prepare(struct store *s, const char *sql, sqlite3 **ret_db, sqlite3_stmt **ret, struct error *err)
{
        int r = open_db(s, ret_db, err);

        if (r < 0)
                return r;
        if (sqlite3_prepare_v2(*ret_db, sql, -1, ret, NULL) != SQLITE_OK)
                return db_error(*ret_db, err, "prepare");
        return 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct error *err)
{
        int rc = sqlite3_step(st);

        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                rc = db_error(db, err, "write runs");
        else
                rc = 0;
        sqlite3_finalize(st);
        return rc;
}

static char *column_strdup(sqlite3_stmt *st, int col)
{
        const char *s = (const char *)sqlite3_column_text(st, col);

        return s ? strdup(s) : NULL;
}

void run_row_release(struct run_row *r)
{
        if (!r)
                return;
        free(r->slug);
        free(r->version);
        free(r->state);
        free(r->project);
        free(r->run_dir);
        free(r->reason);
        memset(r, 0, sizeof *r);
}

void run_rows_free(struct run_row *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                run_row_release(&v[i]);
        free(v);
}

/* A row, with its version's label from the index ("?" when the version is gone). */
static int run_from_row(struct store *s, sqlite3_stmt *st, struct run_row *r)
{
        const char *id = (const char *)sqlite3_column_text(st, 0), *tree = (const char *)sqlite3_column_text(st, 7);
        struct version_info v = {0};

        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", id ? id : "");
        r->slug = column_strdup(st, 1);
        r->state = column_strdup(st, 2);
        r->project = column_strdup(st, 3);
        r->run_dir = column_strdup(st, 4);
        r->reason = column_strdup(st, 5);
        r->version_id = sqlite3_column_int64(st, 6);
        if (!tree || digest_from_hex(tree, &r->tree) < 0)
                memset(&r->tree, 0, sizeof r->tree);
        r->created_at = sqlite3_column_int64(st, 8);
        r->updated_at = sqlite3_column_int64(st, 9);
        r->started_at = sqlite3_column_int64(st, 10);
        r->stopped_at = sqlite3_column_int64(st, 11);
        if (index_get_version(store_index(s), r->version_id, &v, NULL) == 0) {
                r->version = v.version;
                v.version = NULL;
                version_info_release(&v);
        } else {
                r->version = strdup("?");
        }
        if (!r->slug || !r->state || !r->project || !r->run_dir || !r->version) {
                run_row_release(r);
                return -ENOMEM;
        }
        return 0;
}

int runs_insert(struct store *s, const struct run_row *r, struct error *err)
{
        char hex[DIGEST_HEX_LEN + 1];
        sqlite3 *db;
        sqlite3_stmt *st;
        int64_t now = (int64_t)time(NULL);
        int rc;

        rc = prepare(
                s,
                "INSERT INTO runs(id, slug, version_id, tree, state, project, run_dir, reason, created_at, updated_at)"
                " VALUES(?,?,?,?,?,?,?,?,?,?)",
                &db, &st, err);
        if (rc < 0)
                return rc;
        digest_to_hex(&r->tree, hex);
        sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->slug, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, r->version_id);
        sqlite3_bind_text(st, 4, hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->project, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->run_dir, -1, SQLITE_STATIC);
        if (r->reason)
                sqlite3_bind_text(st, 8, r->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, now);
        sqlite3_bind_int64(st, 10, now);
        return step_done(db, st, err);
}

int runs_set_state(struct store *s, const char *id, const char *state, const char *reason, struct error *err)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        int64_t now = (int64_t)time(NULL);
        int rc;

        rc = prepare(s,
                     "UPDATE runs SET state = ?1, reason = ?2, updated_at = ?3,"
                     " started_at = CASE WHEN ?1 = 'running' THEN ?3 ELSE started_at END,"
                     " stopped_at = CASE WHEN ?1 IN ('stopped', 'failed') THEN ?3 ELSE stopped_at END WHERE id = ?4",
                     &db, &st, err);
        if (rc < 0)
                return rc;
        sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
        if (reason)
                sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
        return step_done(db, st, err);
}

int runs_get(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err)
{
        static const char *const sql[2] = {
                "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?",
                "SELECT " RUN_COLUMNS " FROM runs WHERE slug = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
        };

        for (int i = 0; i < 2; i++) {
                sqlite3 *db;
                sqlite3_stmt *st;
                int rc = prepare(s, sql[i], &db, &st, err);
                if (rc < 0)
                        return rc;
                sqlite3_bind_text(st, 1, id_or_slug, -1, SQLITE_STATIC);
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        rc = run_from_row(s, st, ret) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
                        sqlite3_finalize(st);
                        return rc;
                }
                if (rc != SQLITE_DONE)
                        rc = db_error(db, err, "read runs");
                sqlite3_finalize(st);
                if (rc < 0)
                        return rc;
        }
        return error_set(err, STACK_ENOTFOUND, "no run '%s' (stack ps lists them)", id_or_slug);
}

int runs_list(struct store *s, struct run_row **ret, size_t *ret_n, struct error *err)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        struct run_row *v = NULL;
        size_t n = 0, cap = 0;
        int rc;

        rc = prepare(s, "SELECT " RUN_COLUMNS " FROM runs ORDER BY created_at DESC, rowid DESC", &db, &st, err);
        if (rc < 0)
                return rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        struct run_row *nv = realloc(v, ncap * sizeof *nv);
                        if (!nv)
                                break;
                        v = nv;
                        cap = ncap;
                }
                if (run_from_row(s, st, &v[n]) < 0)
                        break;
                n++;
        }
        if (rc != SQLITE_DONE) {
                rc = rc == SQLITE_ROW ? error_set(err, STACK_EFAIL, "out of memory") : db_error(db, err, "read runs");
                sqlite3_finalize(st);
                run_rows_free(v, n);
                return rc;
        }
        sqlite3_finalize(st);
        *ret = v;
        *ret_n = n;
        return 0;
}

int runs_delete(struct store *s, const char *id, struct error *err)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        int rc = prepare(s, "DELETE FROM runs WHERE id = ?", &db, &st, err);

        if (rc < 0)
                return rc;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        return step_done(db, st, err);
}

int allows_get(struct store *s, const char *slug, unsigned *ret, struct error *err)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        int rc = prepare(s, "SELECT perms FROM allows WHERE slug = ?", &db, &st, err);

        if (rc < 0)
                return rc;
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
                *ret = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int64(st, 0) : 0;
                rc = 0;
        } else {
                rc = db_error(db, err, "read allows");
        }
        sqlite3_finalize(st);
        return rc;
}

int allows_set(struct store *s, const char *slug, unsigned perms, struct error *err)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        int rc = prepare(s, "INSERT INTO allows(slug, perms) VALUES(?1, ?2) ON CONFLICT(slug) DO UPDATE SET perms = ?2",
                         &db, &st, err);

        if (rc < 0)
                return rc;
        sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, perms);
        return step_done(db, st, err);
}
