/* test-runs.c - the run module's tables in index.db: created by the run module itself, and a store made when
 * the index still created them (schema 2) keeps its runs and grants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "run/runs.h"
#include "store/db.h"
#include "store/index.h"
#include "store/store.h"
#include "testlib.h"

#define TREE_HEX "ab00000000000000000000000000000000000000000000000000000000000001"

/* A store as the index's schema 2 left it: the index's tables plus runs and allows (the run module's version
 * 1 is that migration's SQL, unchanged), no module_schemas, user_version 2. Made by running the module on a
 * fresh store, then undoing what schemas 3 to 6 added; then a version, a run and a grant in it. */
static const char to_schema2[] =
        "DROP TABLE module_schemas;"
        "DROP TABLE lost;"                             /* schema 4 */
        "DROP TABLE recipe_parts; DROP TABLE recipes;" /* schema 5 */
        "DROP TABLE version_images;"                   /* schema 6 */
        "PRAGMA user_version = 2;"
        "DELETE FROM runs;"
        "INSERT INTO versions(id, slug, version, tree, fetched_at, fetch_seq) VALUES(7, 'web', '1.0', '" TREE_HEX
        "', 1, 1);"
        "INSERT INTO runs(id, slug, version_id, tree, state, project, run_dir, created_at, updated_at, started_at)"
        "  VALUES('0123456789ab', 'web', 7, '" TREE_HEX "', 'running', 'stack-web', '/x/runs/web', 10, 11, 11);"
        "INSERT INTO allows(slug, perms) VALUES('web', 5);";

static void sql(const char *home, const char *text)
{
        char path[4096];
        sqlite3 *db;

        snprintf(path, sizeof path, "%s/index.db", home);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

static long long query(struct store *s, const char *text)
{
        return db_query_int64(index_db(store_index(s)), text, NULL, -1);
}

static void store_at_schema_2_keeps_its_runs_and_grants(void **state)
{
        const char *home = tl_tmpdir();
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_row *rows = NULL;
        size_t n = 0;
        unsigned perms = 0;

        assert_int_equal(store_open(home, &s, &err), 0);
        assert_int_equal(allows_set(s, "other", 1, &err), 0); /* creates the run module's tables */
        store_free(s);
        sql(home, to_schema2);
        assert_int_equal(store_open(home, &s, &err), 0);
        assert_int_equal(query(s, "PRAGMA user_version"), INDEX_SCHEMA_VERSION);
        assert_int_equal(query(s, "SELECT version FROM module_schemas WHERE module = 'run'"), 1);
        assert_int_equal(runs_list(s, &rows, &n, &err), 0); /* the run module migrates its tables on use */
        assert_int_equal(query(s, "SELECT version FROM module_schemas WHERE module = 'run'"), RUNS_SCHEMA_VERSION);
        assert_int_equal(n, 1);
        assert_string_equal(rows[0].id, "0123456789ab");
        assert_string_equal(run_state_name(rows[0].state), "running");
        assert_string_equal(rows[0].version, "1.0");
        assert_int_equal(rows[0].version_id, 7);
        assert_int_equal(rows[0].started_at, 11);
        run_rows_free(rows, n);
        assert_int_equal(allows_get(s, "web", &perms, &err), 0);
        assert_int_equal(perms, 5);
        assert_int_equal(allows_get(s, "nobody", &perms, &err), 0);
        assert_int_equal(perms, 0);
        /* and the rows stay writable through the run module */
        assert_int_equal(runs_set_state(s, "0123456789ab", RUN_STOPPED, NULL, &err), 0);
        assert_int_equal(query(s, "SELECT COUNT(*) FROM runs WHERE state = 'stopped' AND stopped_at IS NOT NULL"), 1);
        /* schema 2: the watcher's states */
        assert_int_equal(runs_set_state(s, "0123456789ab", RUN_UNHEALTHY, "healthcheck failed: x", &err), 0);
        assert_int_equal(runs_set_state(s, "0123456789ab", RUN_RESTARTING, NULL, &err), 0);
        assert_int_equal(query(s, "SELECT COUNT(*) FROM runs WHERE state = 'restarting'"), 1);
        store_free(s);
}

static void fresh_store_gets_run_tables_from_the_run_module(void **state)
{
        const char *home = tl_tmpdir();
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_row row = {0}, got = {0};

        assert_int_equal(store_open(home, &s, &err), 0);
        /* the index alone creates no runs table */
        assert_int_equal(query(s, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('runs', 'allows')"), 0);
        assert_int_equal(query(s, "SELECT COUNT(*) FROM module_schemas"), 0);
        snprintf(row.id, sizeof row.id, "%s", "feedfacecafe");
        row.slug = "web";
        row.state = RUN_STARTING;
        row.project = "stack-web";
        row.run_dir = "/x/runs/web";
        row.version_id = 42; /* no such version: shown as "?" */
        assert_int_equal(runs_insert(s, &row, &err), 0);
        assert_int_equal(query(s, "SELECT version FROM module_schemas WHERE module = 'run'"), RUNS_SCHEMA_VERSION);
        assert_int_equal(runs_get(s, "web", &got, &err), 0);
        assert_string_equal(got.id, "feedfacecafe");
        assert_string_equal(got.version, "?");
        run_row_release(&got);
        assert_int_equal(runs_delete(s, "feedfacecafe", &err), 0);
        assert_int_equal(runs_get(s, "web", &got, &err), -STACK_ENOTFOUND);
        store_free(s);
}

static void run_tables_newer_than_this_stack_are_refused(void **state)
{
        const char *home = tl_tmpdir();
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        unsigned perms;

        assert_int_equal(store_open(home, &s, &err), 0);
        store_free(s);
        sql(home, "INSERT INTO module_schemas(module, version) VALUES('run', 99)");
        assert_int_equal(store_open(home, &s, &err), 0);
        assert_int_equal(allows_get(s, "web", &perms, &err), -STACK_ESTORE);
        assert_non_null(strstr(err.msg, "newer than this stack"));
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(store_at_schema_2_keeps_its_runs_and_grants),
                cmocka_unit_test(fresh_store_gets_run_tables_from_the_run_module),
                cmocka_unit_test(run_tables_newer_than_this_stack_are_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
