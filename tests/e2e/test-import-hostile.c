/* test-import-hostile.c - every bad bundle `stack import` must refuse: exit 3, one line on stderr naming the
 * problem, and a store exactly as it was (same rows, same object files, no temp files, verify clean).
 * The bundles are made here, with libarchive, one per attack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

struct fixture {
        char home[512];
        char dir[512];
        struct tl_snapshot before;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        struct tl_entry e[3];
        char good[600];

        snprintf(f->home, sizeof f->home, "%s", tl_tmpdir());
        snprintf(f->dir, sizeof f->dir, "%s", tl_tmpdir());
        tl_valid_entries(e, "good", "1.0");
        e[2] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = "<h1>hi</h1>\n", .len = 12};
        snprintf(good, sizeof good, "%s/good.stack", f->dir);
        assert_int_equal(tl_write_bundle(good, TL_ZSTD, e, 3), 0);
        assert_int_equal(tl_run(f->home, NULL, (const char *const[]){"import", good, NULL}), 0);
        assert_int_equal(tl_snapshot(f->home, &f->before), 0);
        assert_int_equal(f->before.versions, 1);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        free(*state);
        return 0;
}

/* Import `path` and check the refusal: exit 3, one stderr line containing `needle`, store unchanged. */
static void assert_refused_file(struct fixture *f, const char *path, const char *env, const char *needle)
{
        struct tl_snapshot after;
        int code = tl_run(f->home, env, (const char *const[]){"import", path, NULL});

        if (code != 3 || !strstr(tl_err, needle))
                print_error("exit %d, stderr: %s\n", code, tl_err);
        assert_int_equal(code, 3);
        assert_int_equal(tl_count_lines(tl_err), 1);
        assert_non_null(strstr(tl_err, needle));
        assert_int_equal(tl_snapshot(f->home, &after), 0);
        assert_true(tl_snapshot_equal(&f->before, &after));
        assert_int_equal(tl_run(f->home, NULL, (const char *const[]){"verify", NULL}), 0);
}

static void assert_refused(void **state, enum tl_compression c, const struct tl_entry *extra, size_t n_extra,
                           bool with_valid, const char *env, const char *needle)
{
        struct fixture *f = *state;
        struct tl_entry e[64];
        char path[600];
        size_t n = 0;

        if (with_valid) {
                tl_valid_entries(e, "evil", "6.6.6");
                n = 2;
        }
        if (n_extra)
                memcpy(e + n, extra, n_extra * sizeof *extra);
        n += n_extra;
        snprintf(path, sizeof path, "%s/evil.stack", f->dir);
        assert_int_equal(tl_write_bundle(path, c, e, n), 0);
        assert_refused_file(f, path, env, needle);
}

#define REFUSE(state, needle, ...)                                                                          \
        do {                                                                                                \
                const struct tl_entry extra_[] = {__VA_ARGS__};                                             \
                assert_refused(state, TL_ZSTD, extra_, sizeof extra_ / sizeof *extra_, true, NULL, needle); \
        } while (0)

static void import_refuses_file_that_is_not_an_archive(void **state)
{
        struct fixture *f = *state;
        char path[600];
        FILE *fp;

        snprintf(path, sizeof path, "%s/random.stack", f->dir);
        fp = fopen(path, "w");
        for (int i = 0; i < 5000; i++)
                fputc((i * 7919) & 0xff, fp);
        fclose(fp);
        assert_refused_file(f, path, NULL, "not a zstd or gzip compressed tar");
}

static void import_refuses_uncompressed_tar(void **state)
{
        assert_refused(state, TL_NONE, NULL, 0, true, NULL, "uncompressed tar");
}

static void import_refuses_truncated_stream(void **state)
{
        struct fixture *f = *state;
        struct tl_entry e[3];
        char path[600];

        tl_valid_entries(e, "evil", "1");
        e[2] = (struct tl_entry){.path = "big.bin", .type = 'f', .len = 300000, .fill = 'r'};
        snprintf(path, sizeof path, "%s/trunc.stack", f->dir);
        assert_int_equal(tl_write_bundle(path, TL_ZSTD, e, 3), 0);
        assert_int_equal(truncate(path, 150000), 0);
        assert_refused_file(f, path, NULL, "corrupt");
}

static void import_refuses_dotdot_path_traversal(void **state)
{
        REFUSE(state, "path traversal", {.path = "../evil", .type = 'f', .data = "x", .len = 1});
}

static void import_refuses_nested_dotdot_traversal(void **state)
{
        REFUSE(state, "path traversal", {.path = "a/b/../../../evil", .type = 'f', .data = "x", .len = 1});
}

static void import_refuses_absolute_path(void **state)
{
        REFUSE(state, "absolute path", {.path = "/etc/evil", .type = 'f', .data = "x", .len = 1});
}

static void import_refuses_symlink_escape(void **state)
{
        REFUSE(state, "points outside the bundle", {.path = "link", .type = 'l', .target = "../../etc/passwd"});
}

static void import_refuses_absolute_symlink(void **state)
{
        REFUSE(state, "absolute path", {.path = "link", .type = 'l', .target = "/etc/passwd"});
}

static void import_refuses_symlink_chain_escape(void **state)
{
        /* Each link alone looks inside; followed together they leave the root: sub/up -> .. is the root, then
         * sub/up/.. would be above it. */
        REFUSE(state, "points outside the bundle", {.path = "sub", .type = 'd'},
               {.path = "sub/up", .type = 'l', .target = ".."}, {.path = "escape", .type = 'l', .target = "sub/up/.."});
}

static void import_refuses_entry_written_through_symlink(void **state)
{
        /* dir -> real is inside, but a later entry dir/x would be written through the link. */
        REFUSE(state, "below the symlink", {.path = "real", .type = 'd'},
               {.path = "dir", .type = 'l', .target = "real"}, {.path = "dir/x", .type = 'f', .data = "x", .len = 1});
}

static void import_refuses_symlink_loop(void **state)
{
        REFUSE(state, "symlink loop", {.path = "a", .type = 'l', .target = "b"},
               {.path = "b", .type = 'l', .target = "a"});
}

static void import_refuses_hard_link(void **state)
{
        REFUSE(state, "hard link", {.path = "data", .type = 'f', .data = "x", .len = 1},
               {.path = "copy", .type = 'h', .target = "data"});
}

static void import_refuses_device_node(void **state)
{
        REFUSE(state, "character device", {.path = "null", .type = 'c'});
}

static void import_refuses_fifo(void **state)
{
        REFUSE(state, "fifo", {.path = "pipe", .type = 'p'});
}

static void import_refuses_setuid_file(void **state)
{
        REFUSE(state, "setuid", {.path = "tool", .type = 'f', .mode = 04755, .data = "x", .len = 1});
}

static void import_refuses_setgid_dir(void **state)
{
        REFUSE(state, "setgid", {.path = "shared", .type = 'd', .mode = 02775});
}

static void import_refuses_duplicate_path(void **state)
{
        REFUSE(state, "duplicate path", {.path = "a.txt", .type = 'f', .data = "1", .len = 1},
               {.path = "./a.txt", .type = 'f', .data = "2", .len = 1});
}

static void import_refuses_missing_stack_yaml(void **state)
{
        const struct tl_entry e[] = {{.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 1, false, NULL, "no stack.yaml");
}

static void import_refuses_malformed_stack_yaml(void **state)
{
        const struct tl_entry e[] = {
                {.path = "stack.yaml", .type = 'f', .data = "slug: [unclosed\n  name: {\n", .len = 26},
                {.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 2, false, NULL, "stack.yaml");
}

static void import_refuses_yaml_alias_bomb(void **state)
{
        static const char bomb[] = "slug: bomb\nname: Bomb\nflavor: DockerCompose\nversion: \"1\"\ndescription: x\n"
                                   "author: x\nlicense: MIT\n"
                                   "tags: &a [x, x, x, x, x, x, x, x, x]\n"
                                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
        const struct tl_entry e[] = {{.path = "stack.yaml", .type = 'f', .data = bomb, .len = sizeof bomb - 1},
                                     {.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 2, false, NULL, "alias");
}

static void import_refuses_bad_slug(void **state)
{
        static const char y[] = "slug: Bad Slug!\nname: x\nflavor: DockerCompose\nversion: \"1\"\ndescription: x\n"
                                "author: x\nlicense: MIT\n";
        const struct tl_entry e[] = {{.path = "stack.yaml", .type = 'f', .data = y, .len = sizeof y - 1},
                                     {.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 2, false, NULL, "slug");
}

static void import_refuses_missing_required_key(void **state)
{
        static const char y[] = "slug: nolicense\nname: x\nflavor: DockerCompose\nversion: \"1\"\ndescription: x\n"
                                "author: x\n";
        const struct tl_entry e[] = {{.path = "stack.yaml", .type = 'f', .data = y, .len = sizeof y - 1},
                                     {.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 2, false, NULL, "license");
}

static void import_refuses_missing_compose_file(void **state)
{
        struct tl_entry e[2];
        tl_valid_entries(e, "nocompose", "1");
        assert_refused(state, TL_ZSTD, e, 1, false, NULL, "no compose file");
}

static void import_refuses_named_image_archive_that_is_absent(void **state)
{
        static const char y[] = "slug: noimg\nname: x\nflavor: DockerCompose\nversion: \"1\"\ndescription: x\n"
                                "author: x\nlicense: MIT\nimages: [images/app.tar]\n";
        const struct tl_entry e[] = {{.path = "stack.yaml", .type = 'f', .data = y, .len = sizeof y - 1},
                                     {.path = "compose.yaml", .type = 'f', .data = "services: {}\n", .len = 13}};
        assert_refused(state, TL_ZSTD, e, 2, false, NULL, "images/app.tar");
}

static void import_refuses_too_many_entries(void **state)
{
        struct tl_entry e[60];
        static char names[60][16];

        for (int i = 0; i < 60; i++) {
                snprintf(names[i], sizeof names[i], "f%02d", i);
                e[i] = (struct tl_entry){.path = names[i], .type = 'f', .data = names[i], .len = 3};
        }
        assert_refused(state, TL_ZSTD, e, 60, true, "STACK_MAX_ENTRIES=50", "more than 50 entries");
}

static void import_refuses_unpacked_size_above_limit(void **state)
{
        const struct tl_entry e[] = {{.path = "blob", .type = 'f', .len = 2 << 20, .fill = 'r'}};
        assert_refused(state, TL_ZSTD, e, 1, true, "STACK_MAX_UNPACKED=1M", "unpacks to more than");
}

static void import_refuses_decompression_bomb(void **state)
{
        /* 64 MiB of zeros compress to a few KiB: far past the 200:1 ratio once the first 32 MiB are out. */
        const struct tl_entry e[] = {{.path = "zeros", .type = 'f', .len = 64 << 20}};
        assert_refused(state, TL_ZSTD, e, 1, true, NULL, "decompression bomb");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(import_refuses_file_that_is_not_an_archive),
                T(import_refuses_uncompressed_tar),
                T(import_refuses_truncated_stream),
                T(import_refuses_dotdot_path_traversal),
                T(import_refuses_nested_dotdot_traversal),
                T(import_refuses_absolute_path),
                T(import_refuses_symlink_escape),
                T(import_refuses_absolute_symlink),
                T(import_refuses_symlink_chain_escape),
                T(import_refuses_entry_written_through_symlink),
                T(import_refuses_symlink_loop),
                T(import_refuses_hard_link),
                T(import_refuses_device_node),
                T(import_refuses_fifo),
                T(import_refuses_setuid_file),
                T(import_refuses_setgid_dir),
                T(import_refuses_duplicate_path),
                T(import_refuses_missing_stack_yaml),
                T(import_refuses_malformed_stack_yaml),
                T(import_refuses_yaml_alias_bomb),
                T(import_refuses_bad_slug),
                T(import_refuses_missing_required_key),
                T(import_refuses_missing_compose_file),
                T(import_refuses_named_image_archive_that_is_absent),
                T(import_refuses_too_many_entries),
                T(import_refuses_unpacked_size_above_limit),
                T(import_refuses_decompression_bomb),
#undef T
        };
        return cmocka_run_group_tests_name("import-hostile", tests, NULL, NULL);
}
