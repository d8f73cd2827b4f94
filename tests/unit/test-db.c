/* test-db.c - the SQLite layer (store/db.h): an error line names the statement's job; rows are read through their
 * column tables (text, fixed ids, integers, digests, enums by name) and released through them; a value the
 * stack does not know is refused; a failed transaction leaves nothing; the state names round-trip; db_write() binds
 * by its type string (NULL texts and int64 pointers bind NULL) and refuses one that does not fit the statement. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch/requests.h"
#include "run/runs.h"
#include "store/db.h"
#include "testlib.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct db *fresh_db(void)
{
        struct error err = ERROR_INIT;
        struct db *db = NULL;
        char path[4096];

        snprintf(path, sizeof path, "%s/test.db", tl_tmpdir());
        assert_int_equal(db_open(path, "test.db", &db, &err), 0);
        assert_int_equal(db_exec(db,
                                 "CREATE TABLE things(id TEXT, name TEXT, size INTEGER, state TEXT, tree TEXT);"
                                 "INSERT INTO things VALUES('a1', 'one', 1, 'running', '" HEX64 "');"
                                 "INSERT INTO things VALUES('b2', NULL, 2, 'stopped', NULL);",
                                 &err),
                         0);
        return db;
}

struct thing {
        char id[3];
        char *name;
        int64_t size;
        enum run_state state;
        struct digest tree;
};

static const char *const thing_states[] = {"pending", "starting", "running", "stopping", "stopped"};

static const struct db_column thing_cols[] = {
        DB_CHARS_COL(struct thing, id),    DB_TEXT_COL(struct thing, name),
        DB_INT64_COL(struct thing, size),  DB_ENUM_COL(struct thing, state, thing_states),
        DB_DIGEST_COL(struct thing, tree),
};

static const struct db_rows thing_rows = {
        .size = sizeof(struct thing), .cols = thing_cols, .n_cols = 5, .job = "read things"};

static void error_line_names_the_job(void **state)
{
        struct db *db = fresh_db();
        struct error err = ERROR_INIT;
        struct sqlite3_stmt *st = NULL;

        assert_int_equal(db_prepare(db, "SELECT nothing FROM nowhere", &st, "read things", &err), -STACK_ESTORE);
        assert_null(st);
        assert_non_null(strstr(err.msg, "test.db: read things: "));
        db_close(db);
}

static void rows_are_read_through_their_columns(void **state)
{
        struct db *db = fresh_db();
        struct error err = ERROR_INIT;
        struct thing *v = NULL;
        struct digest zero = {{0}};
        size_t n = 0;

        assert_int_equal(db_query_rows(db, "SELECT id, name, size, state, tree FROM things ORDER BY id", NULL,
                                       &thing_rows, &v, &n, &err),
                         0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].id, "a1");
        assert_string_equal(v[0].name, "one");
        assert_int_equal(v[0].size, 1);
        assert_int_equal(v[0].state, RUN_RUNNING);
        assert_memory_not_equal(&v[0].tree, &zero, sizeof zero);
        assert_string_equal(v[1].id, "b2");
        assert_null(v[1].name);
        assert_int_equal(v[1].state, RUN_STOPPED);
        assert_memory_equal(&v[1].tree, &zero, sizeof zero);
        db_free_rows(&thing_rows, v, n);
        assert_int_equal(db_query_rows(db, "SELECT id, name, size, state, tree FROM things WHERE id = ?", "b2",
                                       &thing_rows, &v, &n, &err),
                         0);
        assert_int_equal(n, 1);
        db_free_rows(&thing_rows, v, n);
        db_close(db);
}

static void unknown_state_name_is_refused(void **state)
{
        struct db *db = fresh_db();
        struct error err = ERROR_INIT;
        struct thing *v = NULL;
        size_t n = 0;

        assert_int_equal(db_exec(db, "UPDATE things SET state = 'sleeping' WHERE id = 'b2'", &err), 0);
        assert_int_equal(db_query_rows(db, "SELECT id, name, size, state, tree FROM things ORDER BY id", NULL,
                                       &thing_rows, &v, &n, &err),
                         -STACK_ESTORE);
        assert_non_null(strstr(err.msg, "read things: a row holds a value this stack does not know"));
        db_close(db);
}

static void failed_transaction_leaves_nothing(void **state)
{
        struct db *db = fresh_db();
        struct error err = ERROR_INIT;

        assert_int_equal(db_begin(db, &err), 0);
        assert_int_equal(db_exec(db, "DELETE FROM things", &err), 0);
        assert_int_equal(db_end(db, -STACK_EFAIL, &err), -STACK_EFAIL);
        assert_int_equal(db_query_int64(db, "SELECT COUNT(*) FROM things", NULL, -1), 2);
        assert_int_equal(db_begin(db, &err), 0);
        assert_int_equal(db_exec_texts(db, "DELETE FROM things WHERE id = ?", "a1", NULL, "write things", NULL, &err),
                         0);
        assert_int_equal(db_end(db, 0, &err), 0);
        assert_int_equal(db_query_int64(db, "SELECT COUNT(*) FROM things", NULL, -1), 1);
        assert_true(db_has_table(db, "things"));
        assert_false(db_has_table(db, "nothing"));
        db_close(db);
}

static void state_names_round_trip(void **state)
{
        for (int s = RUN_PENDING; s <= RUN_REMOVED; s++)
                assert_int_equal(run_state_parse(run_state_name((enum run_state)s)), s);
        for (int s = REQUEST_PENDING; s <= REQUEST_EXPIRED; s++)
                assert_int_equal(request_state_parse(request_state_name((enum request_state)s)), s);
        assert_string_equal(run_state_name(RUN_RUNNING), "running");
        assert_string_equal(request_state_name(REQUEST_DENIED), "denied");
        assert_int_equal(run_state_parse("sleeping"), -EINVAL);
        assert_int_equal(run_state_parse(NULL), -EINVAL);
}

static void writes_bind_their_type_string(void **state)
{
        struct db *db = fresh_db();
        struct error err = ERROR_INIT;
        struct digest d;
        int64_t big = INT64_C(1) << 40;
        unsigned changed = 0;

        assert_int_equal(digest_from_hex(HEX64, &d), 0);
        assert_int_equal(db_write(db, "INSERT INTO things VALUES(?, ?, ?, ?, ?)", "write things", &changed, &err,
                                  "ttItd", "c3", NULL, &big, "running", &d),
                         0);
        assert_int_equal(changed, 1);
        assert_int_equal(
                db_query_int64(db, "SELECT size FROM things WHERE id = 'c3' AND name IS NULL AND tree = '" HEX64 "'",
                               NULL, -1),
                big);
        assert_int_equal(db_write(db, "UPDATE things SET size = ?1, state = ?2 WHERE id = ?3", "write things", &changed,
                                  &err, "ntt", 7, "stopped", "c3"),
                         0);
        assert_int_equal(db_query_int64(db, "SELECT size FROM things WHERE id = 'c3'", NULL, -1), 7);
        assert_int_equal(db_write(db, "UPDATE things SET size = ? WHERE id = ?", "write things", NULL, &err, "iI",
                                  (int64_t)9, (const int64_t *)NULL),
                         0);
        assert_int_equal(db_query_int64(db, "SELECT size FROM things WHERE id = 'c3'", NULL, -1), 7); /* id NULL */
        /* A type string that does not match the statement is refused before anything is bound. */
        assert_int_equal(db_write(db, "DELETE FROM things WHERE id = ?", "write things", NULL, &err, "tt", "a1", "b2"),
                         -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "2 parameters given for 1"));
        assert_int_equal(db_query_int64(db, "SELECT COUNT(*) FROM things", NULL, -1), 3);
        db_close(db);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(error_line_names_the_job),      cmocka_unit_test(rows_are_read_through_their_columns),
                cmocka_unit_test(unknown_state_name_is_refused), cmocka_unit_test(failed_transaction_leaves_nothing),
                cmocka_unit_test(state_names_round_trip),        cmocka_unit_test(writes_bind_their_type_string),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
