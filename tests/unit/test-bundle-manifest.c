/* test-bundle-manifest.c - bundle_read_manifest(): a bundle's stack.yaml, digest and size without a store,
 * as `stack catalog build` reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "store/pack.h"
#include "testlib.h"

static void bundle_path(char *out, const char *name)
{
        assert_int_equal(fs_path(out, PATH_MAX, "%s/%s", tl_tmpdir(), name), 0);
}

/* SHA-256 and size of a whole file, the way sha256sum and stat see it. */
static void file_digest(const char *path, struct digest *ret, uint64_t *ret_size)
{
        char *buf = NULL;
        size_t len = 0;

        assert_int_equal(fs_read_file(path, 64 << 20, &buf, &len), 0);
        digest_buffer(buf, len, ret);
        *ret_size = len;
        free(buf);
}

static void append(const char *path, const void *data, size_t len)
{
        FILE *f = fopen(path, "ab");

        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

static void check_reads(const char *path, const char *slug, const char *version)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        struct digest got, want;
        uint64_t got_size = 0, want_size = 0;

        if (bundle_read_manifest(path, &m, &got, &got_size, &err) != 0)
                fail_msg("bundle_read_manifest %s: %s", path, err.msg);
        assert_string_equal(m->slug, slug);
        assert_string_equal(m->version, version);
        file_digest(path, &want, &want_size);
        assert_true(digest_equal(&got, &want));
        assert_int_equal(got_size, want_size);
        manifest_free(m);
}

static void zstd_and_gzip_bundles_give_manifest_digest_and_size(void **state)
{
        struct tl_entry e[3];
        char p[PATH_MAX];

        tl_valid_entries(e, "hello", "1.0");
        e[2] = (struct tl_entry){.path = "site/big.bin", .type = 'f', .len = 3 << 20, .fill = 'r'};
        bundle_path(p, "z.stack");
        assert_int_equal(tl_write_bundle(p, TL_ZSTD, e, 3), 0);
        check_reads(p, "hello", "1.0");
        bundle_path(p, "g.stack");
        assert_int_equal(tl_write_bundle(p, TL_GZIP, e, 3), 0);
        check_reads(p, "hello", "1.0");
}

static void digest_covers_bytes_after_the_archive(void **state)
{
        static const unsigned char zeros[8192];
        struct tl_entry e[2];
        char p[PATH_MAX];

        tl_valid_entries(e, "padded", "2.0.1");
        bundle_path(p, "padded.stack");
        assert_int_equal(tl_write_bundle(p, TL_GZIP, e, 2), 0);
        append(p, zeros, sizeof zeros);
        check_reads(p, "padded", "2.0.1");
}

static void expect_reject(const char *path, const char *what)
{
        struct error err = ERROR_INIT;
        struct manifest *m = NULL;
        struct digest d;
        uint64_t size = 0;

        assert_int_equal(bundle_read_manifest(path, &m, &d, &size, &err), -STACK_EREJECT);
        assert_null(m);
        if (!strstr(err.msg, what) || !strstr(err.msg, path))
                fail_msg("message '%s' should name %s and say '%s'", err.msg, path, what);
}

static void bundle_without_stack_yaml_is_rejected(void **state)
{
        struct tl_entry e[2];
        char p[PATH_MAX];

        tl_valid_entries(e, "x", "1");
        bundle_path(p, "noyaml.stack");
        assert_int_equal(tl_write_bundle(p, TL_ZSTD, e + 1, 1), 0);
        expect_reject(p, "has no stack.yaml");
}

static void bundle_with_an_invalid_stack_yaml_is_rejected(void **state)
{
        struct tl_entry e[2];
        char p[PATH_MAX];

        tl_valid_entries(e, "Bad Slug", "1");
        bundle_path(p, "badslug.stack");
        assert_int_equal(tl_write_bundle(p, TL_ZSTD, e, 2), 0);
        expect_reject(p, "slug");
}

static void stack_yaml_that_is_a_directory_or_twice_is_rejected(void **state)
{
        struct tl_entry e[3];
        char p[PATH_MAX];

        tl_valid_entries(e, "x", "1");
        e[2] = e[1];
        e[1] = (struct tl_entry){.path = "./stack.yaml", .type = 'f', .data = e[0].data, .len = e[0].len};
        bundle_path(p, "twice.stack");
        assert_int_equal(tl_write_bundle(p, TL_ZSTD, e, 3), 0);
        expect_reject(p, "two stack.yaml");
        e[0] = (struct tl_entry){.path = "stack.yaml", .type = 'd'};
        bundle_path(p, "yamldir.stack");
        assert_int_equal(tl_write_bundle(p, TL_ZSTD, e, 1), 0);
        expect_reject(p, "not a regular file");
}

static void uncompressed_tar_and_non_archives_are_rejected(void **state)
{
        struct tl_entry e[2];
        char p[PATH_MAX];

        tl_valid_entries(e, "x", "1");
        bundle_path(p, "plain.stack");
        assert_int_equal(tl_write_bundle(p, TL_NONE, e, 2), 0);
        expect_reject(p, "uncompressed tar");
        bundle_path(p, "text.stack");
        assert_int_equal(fs_write_atomic(p, "hello, world\n", 13, 0644), 0);
        expect_reject(p, "not a zstd or gzip compressed tar");
        bundle_path(p, "empty.stack");
        assert_int_equal(fs_write_atomic(p, "", 0, 0644), 0);
        expect_reject(p, "not a zstd or gzip compressed tar");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(zstd_and_gzip_bundles_give_manifest_digest_and_size),
                cmocka_unit_test(digest_covers_bytes_after_the_archive),
                cmocka_unit_test(bundle_without_stack_yaml_is_rejected),
                cmocka_unit_test(bundle_with_an_invalid_stack_yaml_is_rejected),
                cmocka_unit_test(stack_yaml_that_is_a_directory_or_twice_is_rejected),
                cmocka_unit_test(uncompressed_tar_and_non_archives_are_rejected),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
