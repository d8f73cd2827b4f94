/* test-verify.c - verify_store(): damage (missing or corrupt objects, bad trees, dangling rows) fails with a
 * store error; garbage (unreferenced objects, temp files) is reported but is not damage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "store/index.h"
#include "store/store.h"
#include "store/verify.h"
#include "testlib.h"

static const char page[] = "<h1>verified</h1>\n";

struct fixture {
        struct store *s;
        struct tl_imported imp;
        struct digest page;  /* the object of site/index.html */
        char findings[8192]; /* "<kind> <detail>\n" per problem */
        int n_findings;
};

static void on_problem(void *ctx, const char *kind, const char *detail)
{
        struct fixture *f = ctx;
        size_t len = strlen(f->findings);

        snprintf(f->findings + len, sizeof f->findings - len, "%s %s\n", kind, detail);
        f->n_findings++;
}

static int setup(void **state)
{
        struct error err = ERROR_INIT;
        struct fixture *f = calloc(1, sizeof *f);
        struct tl_entry e[4];

        assert_non_null(f);
        f->s = tl_store_new();
        tl_valid_entries(e, "checked", "1.0");
        e[2] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = page, .len = sizeof page - 1};
        e[3] = (struct tl_entry){.path = "site/big.bin", .type = 'f', .len = (1 << 20) + 17, .fill = 'r'};
        if (tl_import(f->s, TL_ZSTD, e, 4, NULL, &f->imp, &err) < 0)
                fail_msg("import: %s", err.msg);
        digest_buffer(page, sizeof page - 1, &f->page);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_free(f->s);
        free(f);
        return 0;
}

static int verify(struct fixture *f, struct verify_report *rep, struct error *err)
{
        memset(rep, 0, sizeof *rep);
        rep->problem = on_problem;
        rep->ctx = f;
        f->findings[0] = 0;
        f->n_findings = 0;
        return verify_store(f->s, rep, err);
}

static void object_path(struct fixture *f, const struct digest *d, char *out)
{
        assert_int_equal(store_object_path(f->s, d, out, PATH_MAX), 0);
}

static void assert_damage(struct fixture *f, int r, const struct error *err, const char *kind, const char *detail)
{
        char line[256];

        snprintf(line, sizeof line, "%s ", kind);
        if (r >= 0)
                fail_msg("verify passed a damaged store; findings:\n%s", f->findings);
        assert_int_equal(err->code, STACK_ESTORE);
        assert_non_null(strstr(err->msg, "damaged"));
        if (strncmp(f->findings, line, strlen(line)) || !strstr(f->findings, detail))
                fail_msg("wanted '%s ... %s', findings:\n%s", kind, detail, f->findings);
}

static void verify_finds_nothing_wrong_in_a_clean_store(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;

        assert_int_equal(verify(f, &rep, &err), 0);
        assert_int_equal(f->n_findings, 0);
        assert_int_equal(rep.objects, 4);
        assert_int_equal(rep.trees, 1);
        assert_int_equal(rep.missing + rep.corrupt + rep.bad_trees + rep.dangling + rep.extra + rep.temp, 0);
        assert_true(rep.bytes > (1u << 20));
        assert_int_equal(err.code, 0);
}

static void verify_reports_corrupt_object_as_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char path[PATH_MAX], hex[DIGEST_HEX_LEN + 1], bad[sizeof page];
        int fd;

        /* same size, one byte flipped: only re-hashing finds it */
        memcpy(bad, page, sizeof page);
        bad[4] ^= 1;
        object_path(f, &f->page, path);
        assert_int_equal(chmod(path, 0644), 0);
        fd = open(path, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, bad, sizeof page - 1), sizeof page - 1);
        close(fd);
        digest_to_hex(&f->page, hex);
        assert_damage(f, verify(f, &rep, &err), &err, "corrupt", hex);
        assert_int_equal(rep.corrupt, 1);
        assert_int_equal(rep.missing, 0);
        assert_int_equal(f->n_findings, 1);
}

static void verify_reports_object_of_the_wrong_size_as_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char path[PATH_MAX], hex[DIGEST_HEX_LEN + 1];

        object_path(f, &f->page, path);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(truncate(path, 0), 0);
        digest_to_hex(&f->page, hex);
        assert_damage(f, verify(f, &rep, &err), &err, "corrupt", hex);
        assert_int_equal(rep.corrupt, 1);
}

static void verify_reports_missing_object_as_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char path[PATH_MAX], hex[DIGEST_HEX_LEN + 1];

        object_path(f, &f->page, path);
        assert_int_equal(unlink(path), 0);
        digest_to_hex(&f->page, hex);
        assert_damage(f, verify(f, &rep, &err), &err, "missing", hex);
        assert_int_equal(rep.missing, 1);
        assert_int_equal(rep.corrupt, 0);
        assert_int_equal(rep.objects, 3);
}

static void verify_reports_stray_temp_file_as_garbage_not_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char path[PATH_MAX];

        assert_int_equal(fs_path(path, sizeof path, "%s/tmp/obj-0123456789abcdef", store_home(f->s)), 0);
        assert_int_equal(fs_write_atomic(path, "half", 4, 0444), 0);
        assert_int_equal(verify(f, &rep, &err), 0);
        assert_int_equal(rep.temp, 1);
        assert_int_equal(rep.missing + rep.corrupt + rep.bad_trees + rep.dangling, 0);
        assert_int_equal(f->n_findings, 1);
        assert_non_null(strstr(f->findings, "temp tmp/obj-0123456789abcdef"));
}

static void verify_reports_unreferenced_object_as_garbage_not_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        struct staging *st = NULL;
        struct digest d;
        char hex[DIGEST_HEX_LEN + 1];

        /* committed to disk, never published: what a crash between the renames and the transaction leaves */
        assert_int_equal(staging_new(f->s, &st, &err), 0);
        assert_int_equal(staging_put_buffer(st, "orphan", 6, &d, &err), 0);
        assert_int_equal(staging_commit(st, &err), 0);
        staging_free(st);
        assert_true(store_has_object(f->s, &d));
        assert_int_equal(verify(f, &rep, &err), 0);
        assert_int_equal(rep.extra, 1);
        assert_int_equal(rep.missing + rep.corrupt + rep.bad_trees + rep.dangling, 0);
        digest_to_hex(&d, hex);
        assert_non_null(strstr(f->findings, "extra "));
        assert_non_null(strstr(f->findings, hex));
}

static void verify_reports_a_file_that_is_not_an_object_name_as_garbage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char dir[PATH_MAX], path[PATH_MAX];

        assert_int_equal(fs_path(dir, sizeof dir, "%s/objects/sha256/ab", store_home(f->s)), 0);
        assert_int_equal(fs_mkdir_p(dir, 0755), 0);
        assert_int_equal(fs_path(path, sizeof path, "%s/notes.txt", dir), 0);
        assert_int_equal(fs_write_atomic(path, "hello", 5, 0644), 0);
        assert_int_equal(verify(f, &rep, &err), 0);
        assert_int_equal(rep.extra, 1);
        assert_int_equal(rep.missing + rep.corrupt + rep.bad_trees + rep.dangling, 0);
        assert_non_null(strstr(f->findings, "extra objects/sha256/ab/notes.txt"));
}

static void verify_reports_a_version_whose_tree_is_gone_as_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;

        assert_int_equal(tl_sql(store_home(f->s), "DELETE FROM trees"), 0);
        assert_damage(f, verify(f, &rep, &err), &err, "dangling", "version rows");
        assert_true(rep.dangling >= 1);
}

static void verify_reports_a_tree_whose_rows_do_not_give_its_digest_as_damage(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct verify_report rep;
        char hex[DIGEST_HEX_LEN + 1];

        /* an executable bit the bundle never had: the rows now describe another tree */
        assert_int_equal(tl_sql(store_home(f->s), "UPDATE entries SET mode = 493 WHERE path = 'site/index.html'"), 0);
        digest_to_hex(&f->imp.tree, hex);
        assert_damage(f, verify(f, &rep, &err), &err, "bad-tree", hex);
        assert_int_equal(rep.bad_trees, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(verify_finds_nothing_wrong_in_a_clean_store),
                T(verify_reports_corrupt_object_as_damage),
                T(verify_reports_object_of_the_wrong_size_as_damage),
                T(verify_reports_missing_object_as_damage),
                T(verify_reports_stray_temp_file_as_garbage_not_damage),
                T(verify_reports_unreferenced_object_as_garbage_not_damage),
                T(verify_reports_a_file_that_is_not_an_object_name_as_garbage),
                T(verify_reports_a_version_whose_tree_is_gone_as_damage),
                T(verify_reports_a_tree_whose_rows_do_not_give_its_digest_as_damage),
        };
#undef T
        return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
