/* test-error.c - the error sink and the two return ranges: project codes never equal a negative errno, "not
 * found" is its own code (and exits 1), HTTP failures carry their status as a number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/error.h"
#include "store/index.h"
#include "testlib.h"

static const int codes[] = {STACK_EFAIL,    STACK_EUSAGE,   STACK_EREJECT,  STACK_ESTORE,
                            STACK_ERUNTIME, STACK_ENETWORK, STACK_ENOTFOUND};

static void project_codes_never_equal_a_negative_errno(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
                assert_true(codes[i] > 4095); /* errno's range ends at 4095 (MAX_ERRNO) */
                assert_int_equal(error_set(NULL, codes[i], "x"), -codes[i]);
        }
        assert_int_not_equal(-EPERM, -STACK_EFAIL);
        assert_int_not_equal(-ENOENT, -STACK_EUSAGE);
        assert_int_not_equal(-EIO, -STACK_ERUNTIME);
        assert_int_not_equal(-ENOMEM, -STACK_ENOTFOUND);
}

static void exit_codes_are_the_documented_ones(void **state)
{
        (void)state;
        assert_int_equal(stack_exit_code(STACK_OK), 0);
        assert_int_equal(stack_exit_code(STACK_EFAIL), 1);
        assert_int_equal(stack_exit_code(STACK_EUSAGE), 2);
        assert_int_equal(stack_exit_code(STACK_EREJECT), 3);
        assert_int_equal(stack_exit_code(STACK_ESTORE), 4);
        assert_int_equal(stack_exit_code(STACK_ERUNTIME), 5);
        assert_int_equal(stack_exit_code(STACK_ENETWORK), 6);
        assert_int_equal(stack_exit_code(STACK_ENOTFOUND), 1);
        /* A return value maps the same way as its code; -errno is a failure, out of memory included. */
        assert_int_equal(stack_exit_code(-STACK_EREJECT), 3);
        assert_int_equal(stack_exit_code(-ENOMEM), 1);
        assert_int_equal(stack_exit_code(-EIO), 1);
        assert_int_equal(stack_exit_code(12345), 1);
}

static void code_of_folds_errno_into_failure_and_keeps_project_codes(void **state)
{
        (void)state;
        assert_int_equal(stack_code_of(0), STACK_OK);
        assert_int_equal(stack_code_of(7), STACK_OK);
        assert_int_equal(stack_code_of(-STACK_ENOTFOUND), STACK_ENOTFOUND);
        assert_int_equal(stack_code_of(-STACK_ESTORE), STACK_ESTORE);
        assert_int_equal(stack_code_of(-ENOMEM), STACK_EFAIL);
        assert_int_equal(stack_code_of(-ENOENT), STACK_EFAIL);
}

static void first_message_wins_and_stays_one_line(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        assert_int_equal(error_set(&err, STACK_EREJECT, "bad\nname %d", 1), -STACK_EREJECT);
        assert_int_equal(error_set(&err, STACK_EFAIL, "later"), -STACK_EFAIL);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_string_equal(err.msg, "bad name 1");
        error_clear(&err);
        assert_int_equal(err.code, 0);
        assert_int_equal(err.http_status, 0);
}

static void a_code_that_is_not_one_becomes_failure(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        /* An old-style small code, zero, or a negative return passed as the code by mistake. */
        assert_int_equal(error_set(&err, 3, "x"), -STACK_EFAIL);
        assert_int_equal(err.code, STACK_EFAIL);
        error_clear(&err);
        assert_int_equal(error_set(&err, 0, "x"), -STACK_EFAIL);
        error_clear(&err);
        assert_int_equal(error_set(&err, -STACK_ESTORE, "x"), -STACK_ESTORE);
        assert_int_equal(err.code, STACK_ESTORE);
}

static void errno_suffix_names_errno_only(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        error_errno(&err, STACK_ESTORE, -ENOENT, "cannot open %s", "f");
        assert_string_equal(err.msg, "cannot open f: No such file or directory");
        error_clear(&err);
        error_errno(&err, STACK_ESTORE, -STACK_EREJECT, "cannot open %s", "f");
        assert_string_equal(err.msg, "cannot open f"); /* no "Unknown error 4099" */
}

static void http_failure_carries_its_status(void **state)
{
        struct error err = ERROR_INIT;

        (void)state;
        assert_int_equal(error_http(&err, STACK_ENETWORK, 404, "%s: HTTP %d", "u", 404), -STACK_ENETWORK);
        assert_int_equal(err.http_status, 404);
        assert_int_equal(err.code, STACK_ENETWORK);
        error_clear(&err);
        error_set(&err, STACK_ENETWORK, "HTTP 404 in the text is not a status");
        assert_int_equal(err.http_status, 0);
}

static void resolving_a_missing_stack_is_not_found(void **state)
{
        struct error err = ERROR_INIT;
        struct version_info v;
        struct index *ix = NULL;
        struct digest d;
        char path[4096];

        (void)state;
        snprintf(path, sizeof path, "%s/index.db", tl_tmpdir());
        assert_int_equal(index_open(path, &ix, &err), 0);
        assert_int_equal(index_resolve(ix, "nosuch", NULL, &v, &err), -STACK_ENOTFOUND);
        assert_non_null(strstr(err.msg, "not in the store"));
        assert_int_equal(stack_exit_code(err.code), 1);
        error_clear(&err);
        assert_int_equal(index_resolve_ref(ix, "nosuch@1.0", &v, &err), -STACK_ENOTFOUND);
        error_clear(&err);
        memset(&d, 0xab, sizeof d);
        assert_int_equal(index_find_bundle(ix, &d, &v, &err), -STACK_ENOTFOUND);
        assert_int_equal(err.code, 0); /* no message: the caller decides */
        assert_int_equal(index_get_version(ix, 42, &v, &err), -STACK_ENOTFOUND);
        assert_non_null(strstr(err.msg, "42"));
        index_free(ix);
}

static void last_line_is_the_last_non_empty_one(void **state)
{
        char out[16];

        (void)state;
        error_last_line("first\nsecond line \r\n\n  \n", out, sizeof out);
        assert_string_equal(out, "second line");
        error_last_line("one", out, sizeof out);
        assert_string_equal(out, "one");
        error_last_line("a line longer than the buffer\n", out, sizeof out);
        assert_string_equal(out, "a line longer t");
        error_last_line(NULL, out, sizeof out);
        assert_string_equal(out, "");
        error_last_line("\n\n", out, sizeof out);
        assert_string_equal(out, "");
}

static void said(void *ctx, const char *line)
{
        snprintf(ctx, 64, "%s", line);
}

static void say_formats_one_line_or_nothing(void **state)
{
        char got[64] = "";

        (void)state;
        error_say(said, got, "%s %d", "n =", 3);
        assert_string_equal(got, "n = 3");
        error_say(NULL, got, "%s", "dropped");
        assert_string_equal(got, "n = 3");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(project_codes_never_equal_a_negative_errno),
                cmocka_unit_test(exit_codes_are_the_documented_ones),
                cmocka_unit_test(code_of_folds_errno_into_failure_and_keeps_project_codes),
                cmocka_unit_test(first_message_wins_and_stays_one_line),
                cmocka_unit_test(a_code_that_is_not_one_becomes_failure),
                cmocka_unit_test(errno_suffix_names_errno_only),
                cmocka_unit_test(http_failure_carries_its_status),
                cmocka_unit_test(resolving_a_missing_stack_is_not_found),
                cmocka_unit_test(last_line_is_the_last_non_empty_one),
                cmocka_unit_test(say_formats_one_line_or_nothing),
        };
        return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
