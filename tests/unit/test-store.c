/* test-store.c - the store on disk: its layout, opening it again, objects kept once and read-only, and
 * staged writes that stay invisible until committed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <ftw.h>
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
#include "testlib.h"

static void assert_is(const char *home, const char *rel, mode_t type)
{
        char path[PATH_MAX];
        struct stat st;

        assert_int_equal(fs_path(path, sizeof path, "%s/%s", home, rel), 0);
        if (lstat(path, &st) < 0)
                fail_msg("%s is missing", path);
        assert_int_equal(st.st_mode & S_IFMT, type);
}

static int tmp_count;

static int count_files(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
        (void)path, (void)sb, (void)ftw;
        tmp_count += type == FTW_F;
        return 0;
}

/* The temp files under tmp/ (each staging writes into a folder of its own there). */
static int tmp_files(struct store *s)
{
        char path[PATH_MAX];

        assert_int_equal(fs_path(path, sizeof path, "%s/tmp", store_home(s)), 0);
        tmp_count = 0;
        assert_int_equal(nftw(path, count_files, 16, FTW_PHYS), 0);
        return tmp_count;
}

/* Entries directly in tmp/: none once every staging is freed. */
static int tmp_entries(struct store *s)
{
        char path[PATH_MAX];

        assert_int_equal(fs_path(path, sizeof path, "%s/tmp", store_home(s)), 0);
        return tl_count_dir(path);
}

static void read_object(struct store *s, const struct digest *d, char *buf, size_t size, size_t *ret_len)
{
        int fd = store_object_open(s, d);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, size);
        assert_true(n >= 0);
        *ret_len = (size_t)n;
        close(fd);
}

static void store_open_creates_the_layout_in_a_new_home(void **state)
{
        struct error err = ERROR_INIT;
        struct index_counts c;
        struct store *s = NULL;
        char home[PATH_MAX];

        /* a home that does not exist yet, two levels down */
        assert_int_equal(fs_path(home, sizeof home, "%s/a/b", tl_tmpdir()), 0);
        assert_int_equal(store_open(home, &s, &err), 0);
        assert_string_equal(store_home(s), home);
        assert_is(home, "objects/sha256", S_IFDIR);
        assert_is(home, "tmp", S_IFDIR);
        assert_is(home, "keys/trusted", S_IFDIR);
        assert_is(home, "index.db", S_IFREG);
        assert_is(home, "lock", S_IFREG);
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.stacks + c.versions + c.trees + c.entries + c.objects + c.object_bytes, 0);
        store_free(s);
}

static void store_open_finds_what_an_earlier_open_stored(void **state)
{
        struct error err = ERROR_INIT;
        struct tl_imported imp;
        struct version_info v;
        struct store *s = tl_store_new();
        char home[PATH_MAX];

        snprintf(home, sizeof home, "%s", store_home(s));
        assert_int_equal(tl_import_version(s, "kept", "1.0", "first", &imp, &err), 0);
        store_free(s);
        s = NULL;
        assert_int_equal(store_open(home, &s, &err), 0);
        assert_int_equal(index_resolve(store_index(s), "kept", NULL, &v, &err), 0);
        assert_string_equal(v.version, "1.0");
        assert_true(digest_equal(&v.tree, &imp.tree));
        version_info_release(&v);
        store_free(s);
}

static void store_open_without_a_home_uses_stack_home(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        const char *home = tl_tmpdir();
        char path[PATH_MAX];

        assert_int_equal(setenv("STACK_HOME", home, 1), 0);
        assert_int_equal(store_open(NULL, &s, &err), 0);
        unsetenv("STACK_HOME");
        assert_string_equal(store_home(s), home);
        assert_int_equal(fs_path(path, sizeof path, "%s/index.db", home), 0);
        assert_int_equal(access(path, F_OK), 0);
        store_free(s);
}

static void store_open_refuses_an_index_newer_than_this_binary(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        char home[PATH_MAX];

        snprintf(home, sizeof home, "%s", store_home(s));
        store_free(s);
        s = NULL;
        assert_int_equal(tl_sql(home, "PRAGMA user_version = 99"), 0);
        assert_true(store_open(home, &s, &err) < 0);
        assert_null(s);
        assert_int_equal(err.code, STACK_ESTORE);
        assert_non_null(strstr(err.msg, "schema version 99"));
}

static void store_keeps_identical_files_once(void **state)
{
        static const char content[] = "same bytes in two files\n";
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct staging *st = NULL;
        struct digest a, b, want;
        char path[PATH_MAX], buf[256];
        struct stat sb;
        size_t len;

        assert_int_equal(staging_new(s, &st, &err), 0);
        assert_int_equal(staging_put_buffer(st, content, sizeof content - 1, &a, &err), 0);
        assert_int_equal(staging_put_buffer(st, content, sizeof content - 1, &b, &err), 0);
        digest_buffer(content, sizeof content - 1, &want);
        assert_true(digest_equal(&a, &want));
        assert_true(digest_equal(&b, &want));
        assert_int_equal(tmp_files(s), 1);
        assert_int_equal(staging_bytes_written(st), sizeof content - 1);
        assert_int_equal(staging_commit(st, &err), 0);
        staging_free(st);
        assert_int_equal(tmp_files(s), 0);
        assert_int_equal(tmp_entries(s), 0);

        /* one file, under the name of its content, read-only, with the content */
        assert_true(store_has_object(s, &want));
        assert_int_equal(store_object_path(s, &want, path, sizeof path), 0);
        assert_int_equal(lstat(path, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_mode & 07777, 0444);
        assert_int_equal(sb.st_nlink, 1);
        read_object(s, &want, buf, sizeof buf, &len);
        assert_int_equal(len, sizeof content - 1);
        assert_memory_equal(buf, content, len);

        /* a later staging that brings the same content writes nothing */
        assert_int_equal(staging_new(s, &st, &err), 0);
        assert_int_equal(staging_put_buffer(st, content, sizeof content - 1, &a, &err), 0);
        assert_int_equal(staging_bytes_written(st), 0);
        assert_int_equal(tmp_files(s), 0);
        assert_int_equal(staging_commit(st, &err), 0);
        staging_free(st);
        store_free(s);
}

static void store_streams_identical_objects_once(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct staging *st = NULL;
        struct digest a, b, whole;
        struct hasher h;
        char chunk[4096];

        memset(chunk, 'x', sizeof chunk);
        digest_init(&h);
        for (int i = 0; i < 3; i++)
                digest_update(&h, chunk, sizeof chunk);
        digest_final(&h, &whole);
        assert_int_equal(staging_new(s, &st, &err), 0);
        for (int k = 0; k < 2; k++) {
                assert_int_equal(staging_begin(st, &err), 0);
                for (int i = 0; i < 3; i++)
                        assert_int_equal(staging_write(st, chunk, sizeof chunk, &err), 0);
                assert_int_equal(staging_end(st, k ? &b : &a, &err), 0);
        }
        assert_true(digest_equal(&a, &whole));
        assert_true(digest_equal(&b, &whole));
        assert_int_equal(tmp_files(s), 1); /* the second copy was dropped at staging_end */
        assert_false(store_has_object(s, &whole));
        assert_int_equal(staging_commit(st, &err), 0);
        assert_true(store_has_object(s, &whole));
        assert_int_equal(tmp_files(s), 0);
        staging_free(st);
        store_free(s);
}

static void staging_abandoned_leaves_no_object_and_no_temp_file(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct staging *st = NULL;
        struct digest small, streamed;
        struct index_counts c;

        assert_int_equal(staging_new(s, &st, &err), 0);
        assert_int_equal(staging_put_buffer(st, "abandoned", 9, &small, &err), 0);
        assert_int_equal(staging_begin(st, &err), 0);
        assert_int_equal(staging_write(st, "half-written", 12, &err), 0);
        assert_int_equal(tmp_files(s), 2);
        staging_free(st); /* neither committed nor ended */
        assert_int_equal(tmp_files(s), 0);
        assert_int_equal(tmp_entries(s), 0);
        assert_false(store_has_object(s, &small));
        digest_buffer("half-written", 12, &streamed);
        assert_false(store_has_object(s, &streamed));
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.objects, 0);
        assert_int_equal(c.versions, 0);
        store_free(s);
}

static void store_object_open_reports_a_missing_object(void **state)
{
        struct store *s = tl_store_new();
        struct digest d;

        digest_buffer("never stored", 12, &d);
        assert_false(store_has_object(s, &d));
        assert_int_equal(store_object_open(s, &d), -ENOENT);
        store_free(s);
}

static void store_object_path_fans_out_by_the_first_two_hex_digits(void **state)
{
        struct store *s = tl_store_new();
        char path[PATH_MAX], want[PATH_MAX], hex[DIGEST_HEX_LEN + 1];
        struct digest d;

        digest_buffer("", 0, &d);
        digest_to_hex(&d, hex);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_int_equal(store_object_path(s, &d, path, sizeof path), 0);
        snprintf(want, sizeof want,
                 "%s/objects/sha256/e3/b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", store_home(s));
        assert_string_equal(path, want);
        store_free(s);
}

static void shared_locks_of_two_writers_do_not_exclude_each_other(void **state)
{
        struct error err = ERROR_INIT;
        struct store *a = tl_store_new(), *b = NULL;

        assert_int_equal(store_open(store_home(a), &b, &err), 0);
        assert_int_equal(store_lock_shared(a, &err), 0);
        assert_int_equal(store_lock_shared(b, &err), 0); /* would wait STORE_LOCK_WAIT_S if it excluded */
        store_unlock(a);
        store_unlock(b);
        assert_int_equal(store_lock_exclusive(a, &err), 0);
        store_unlock(a);
        store_free(b);
        store_free(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(store_open_creates_the_layout_in_a_new_home),
                cmocka_unit_test(store_open_finds_what_an_earlier_open_stored),
                cmocka_unit_test(store_open_without_a_home_uses_stack_home),
                cmocka_unit_test(store_open_refuses_an_index_newer_than_this_binary),
                cmocka_unit_test(store_keeps_identical_files_once),
                cmocka_unit_test(store_streams_identical_objects_once),
                cmocka_unit_test(staging_abandoned_leaves_no_object_and_no_temp_file),
                cmocka_unit_test(store_object_open_reports_a_missing_object),
                cmocka_unit_test(store_object_path_fans_out_by_the_first_two_hex_digits),
                cmocka_unit_test(shared_locks_of_two_writers_do_not_exclude_each_other),
        };
        return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
