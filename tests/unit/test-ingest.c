/* test-ingest.c - one bundle into the store: the same tree whatever the compression, every file an object,
 * nothing visible before publishing, and the limits (STACK_MAX_*) refusing a bundle with the store unchanged. */
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
#include "store/ingest.h"
#include "store/store.h"
#include "testlib.h"

struct fixture {
        struct store *s;
        struct tl_imported good; /* one version already in the store */
        struct tl_snapshot before;
};

static int setup(void **state)
{
        struct error err = ERROR_INIT;
        struct fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        f->s = tl_store_new();
        if (tl_import_version(f->s, "good", "1.0", "already here", &f->good, &err) < 0)
                fail_msg("import: %s", err.msg);
        assert_int_equal(tl_snapshot(store_home(f->s), &f->before), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        unsetenv("STACK_MAX_ENTRIES");
        unsetenv("STACK_MAX_UNPACKED");
        unsetenv("STACK_MAX_RATIO");
        store_free(f->s);
        free(f);
        return 0;
}

static void assert_store_unchanged(struct fixture *f)
{
        struct tl_snapshot after;

        assert_int_equal(tl_snapshot(store_home(f->s), &after), 0);
        assert_int_equal(after.versions, f->before.versions);
        assert_int_equal(after.objects, f->before.objects);
        assert_int_equal(after.object_files, f->before.object_files);
        assert_int_equal(after.temp_files, 0);
        assert_true(tl_snapshot_equal(&f->before, &after));
}

/* Import e[0..n) and expect a refusal whose message holds needle. */
static void assert_refused(struct fixture *f, enum tl_compression c, const struct tl_entry *e, size_t n,
                           const char *needle)
{
        struct error err = ERROR_INIT;
        int r = tl_import(f->s, c, e, n, NULL, NULL, &err);

        if (r >= 0 || !strstr(err.msg, needle))
                fail_msg("import gave %d (%s), wanted a refusal saying '%s'", r, err.msg, needle);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_store_unchanged(f);
}

static void object_holds(struct store *s, const struct digest *d, const void *data, size_t len)
{
        char buf[4096];
        int fd = store_object_open(s, d);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, sizeof buf);
        close(fd);
        assert_int_equal(n, len);
        assert_memory_equal(buf, data, len);
}

static void ingest_gives_one_tree_digest_for_zstd_and_gzip(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct tl_imported z, g;
        struct tl_entry e[4];

        tl_valid_entries(e, "both", "2.0");
        e[2] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = "<h1>hello</h1>\n", .len = 15};
        e[3] = (struct tl_entry){.path = "site/big.bin", .type = 'f', .len = 3 << 20, .fill = 'r'}; /* streamed */
        assert_int_equal(tl_import(f->s, TL_ZSTD, e, 4, NULL, &z, &err), 0);
        assert_int_equal(tl_import(f->s, TL_GZIP, e, 4, NULL, &g, &err), 0);
        assert_true(z.is_new);
        assert_false(g.is_new);
        assert_int_equal(g.id, z.id);
        assert_true(digest_equal(&z.tree, &g.tree));
        assert_false(digest_equal(&z.bundle, &g.bundle));
}

static void ingest_stores_every_file_as_an_object_named_by_its_content(void **state)
{
        static const char page[] = "<h1>hello</h1>\n";
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct tl_imported imp;
        struct tl_entry e[3];
        struct tree t;

        tl_valid_entries(e, "objs", "1.0");
        e[2] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = page, .len = sizeof page - 1};
        assert_int_equal(tl_import(f->s, TL_ZSTD, e, 3, NULL, &imp, &err), 0);
        assert_int_equal(index_load_tree(store_index(f->s), &imp.tree, &t, &err), 0);
        for (int i = 0; i < 3; i++) {
                const struct tree_entry *te = tree_find(&t, e[i].path);
                struct digest want;
                assert_non_null(te);
                digest_buffer(e[i].data, e[i].len, &want);
                assert_true(digest_equal(&te->digest, &want));
                assert_int_equal(te->size, e[i].len);
                object_holds(f->s, &want, e[i].data, e[i].len);
        }
        tree_release(&t);
}

static void ingest_reads_the_manifest_and_finds_the_compose_file(void **state)
{
        static const char yaml[] = "slug: named\nname: Named\nflavor: DockerCompose\nversion: \"0.3\"\n"
                                   "description: d\nauthor: a\nlicense: MIT\ncompose: deploy/app.yml\nfuture_key: 1\n";
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct tl_entry e[2] = {
                {.path = "stack.yaml", .type = 'f', .data = yaml, .len = sizeof yaml - 1},
                {.path = "deploy/app.yml", .type = 'f', .data = "services: {}\n", .len = 13},
        };

        assert_int_equal(tl_ingest(f->s, TL_GZIP, e, 2, NULL, &ing, &err), 0);
        assert_string_equal(ingest_manifest(ing)->slug, "named");
        assert_string_equal(ingest_manifest(ing)->version, "0.3");
        assert_string_equal(ingest_compose_path(ing), "deploy/app.yml");
        assert_int_equal(ingest_manifest(ing)->n_unknown, 1);
        assert_string_equal(ingest_manifest(ing)->unknown[0], "future_key");
        assert_int_equal(ingest_tree(ing)->n, 3); /* the implicit directory "deploy" too */
        ingest_free(ing);
}

static void ingest_abandoned_before_publish_leaves_the_store_unchanged(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct version_info v;
        struct tl_entry e[4];

        tl_valid_entries(e, "dropped", "1.0");
        e[2] = (struct tl_entry){.path = "small.txt", .type = 'f', .data = "new content", .len = 11};
        e[3] = (struct tl_entry){.path = "large.bin", .type = 'f', .len = 2 << 20, .fill = 'r'};
        assert_int_equal(tl_ingest(f->s, TL_ZSTD, e, 4, NULL, &ing, &err), 0);
        assert_true(ingest_bytes_added(ing) > (2u << 20));
        ingest_free(ing); /* read and checked, never published */
        assert_true(index_resolve(store_index(f->s), "dropped", NULL, &v, &err) < 0);
        assert_store_unchanged(f);
}

static void ingest_adds_only_the_bytes_the_store_lacks(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct tl_entry e[3];

        /* the same marker as the fixture's version: only stack.yaml is new */
        tl_valid_entries(e, "good", "1.1");
        e[2] = (struct tl_entry){.path = "marker.txt", .type = 'f', .data = "already here", .len = 12};
        assert_int_equal(tl_ingest(f->s, TL_ZSTD, e, 3, NULL, &ing, &err), 0);
        assert_int_equal(ingest_bytes_added(ing), e[0].len);
        ingest_free(ing);
}

static void ingest_limits_default_reads_the_environment(void **state)
{
        struct ingest_limits lim;

        assert_int_equal(setenv("STACK_MAX_ENTRIES", "12", 1), 0);
        assert_int_equal(setenv("STACK_MAX_UNPACKED", "3M", 1), 0);
        assert_int_equal(setenv("STACK_MAX_RATIO", "7", 1), 0);
        ingest_limits_default(&lim);
        assert_int_equal(lim.max_entries, 12);
        assert_int_equal(lim.max_unpacked, 3 << 20);
        assert_int_equal(lim.max_ratio, 7);
        unsetenv("STACK_MAX_ENTRIES");
        unsetenv("STACK_MAX_UNPACKED");
        unsetenv("STACK_MAX_RATIO");
        ingest_limits_default(&lim);
        assert_int_equal(lim.max_entries, 100000);
        assert_int_equal(lim.max_unpacked, 16ULL << 30);
        assert_int_equal(lim.max_ratio, 200);
}

static void ingest_refuses_more_entries_than_the_limit(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct tl_entry e[5];

        tl_valid_entries(e, "many", "1.0");
        e[2] = (struct tl_entry){.path = "a.txt", .type = 'f', .data = "a", .len = 1};
        e[3] = (struct tl_entry){.path = "b.txt", .type = 'f', .data = "b", .len = 1};
        e[4] = (struct tl_entry){.path = "c.txt", .type = 'f', .data = "c", .len = 1};
        assert_int_equal(setenv("STACK_MAX_ENTRIES", "4", 1), 0);
        assert_refused(f, TL_ZSTD, e, 5, "STACK_MAX_ENTRIES");
        /* at the limit it is accepted */
        assert_int_equal(tl_import(f->s, TL_ZSTD, e, 4, NULL, NULL, &err), 0);
}

static void ingest_refuses_more_unpacked_bytes_than_the_limit(void **state)
{
        struct fixture *f = *state;
        struct tl_entry e[3];

        tl_valid_entries(e, "fat", "1.0");
        e[2] = (struct tl_entry){.path = "fat.bin", .type = 'f', .len = 5000, .fill = 'r'};
        assert_int_equal(setenv("STACK_MAX_UNPACKED", "4K", 1), 0);
        assert_refused(f, TL_GZIP, e, 3, "STACK_MAX_UNPACKED");
}

static void ingest_refuses_a_compression_ratio_over_the_limit(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct tl_entry e[3];

        /* 40 MiB of zeros: past the 32 MiB grace, compressed far beyond 1000:1 */
        tl_valid_entries(e, "bomb", "1.0");
        e[2] = (struct tl_entry){.path = "zeros.bin", .type = 'f', .len = 40 << 20};
        assert_int_equal(setenv("STACK_MAX_RATIO", "1000", 1), 0);
        assert_refused(f, TL_ZSTD, e, 3, "decompression bomb");
        assert_int_equal(setenv("STACK_MAX_RATIO", "100000000", 1), 0);
        assert_int_equal(tl_import(f->s, TL_ZSTD, e, 3, NULL, NULL, &err), 0);
}

static void ingest_refuses_a_bundle_without_stack_yaml(void **state)
{
        struct fixture *f = *state;
        struct tl_entry e[2];

        tl_valid_entries(e, "anon", "1.0");
        assert_refused(f, TL_ZSTD, &e[1], 1, "no stack.yaml");
}

static void ingest_refuses_a_stack_yaml_naming_a_missing_compose_file(void **state)
{
        static const char yaml[] = "slug: lost\nname: Lost\nflavor: DockerCompose\nversion: \"1\"\n"
                                   "description: d\nauthor: a\nlicense: MIT\ncompose: nowhere.yaml\n";
        struct fixture *f = *state;
        struct tl_entry e[2];

        tl_valid_entries(e, "lost", "1");
        e[0].data = yaml;
        e[0].len = sizeof yaml - 1;
        assert_refused(f, TL_ZSTD, e, 2, "'nowhere.yaml'");
}

struct failing_reader {
        const char *data;
        size_t len, sent;
};

/* Hands out the first half of a bundle, then fails as a network would. */
static ssize_t read_then_fail(void *ctx, const void **ret_buf, struct error *err)
{
        struct failing_reader *fr = ctx;

        if (fr->sent)
                return error_set(err, STACK_ENETWORK, "connection reset after %zu bytes", fr->sent);
        fr->sent = fr->len / 2;
        *ret_buf = fr->data;
        return (ssize_t)fr->sent;
}

static void ingest_keeps_the_message_of_a_failing_reader_and_the_store_unchanged(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct ingest *ing = NULL;
        struct failing_reader fr = {0};
        struct tl_entry e[3];
        char path[PATH_MAX], *data = NULL;
        size_t len = 0;

        tl_valid_entries(e, "cut", "1.0");
        e[2] = (struct tl_entry){.path = "r.bin", .type = 'f', .len = 1 << 20, .fill = 'r'};
        assert_int_equal(fs_path(path, sizeof path, "%s/cut.stack", tl_tmpdir()), 0);
        assert_int_equal(tl_write_bundle(path, TL_ZSTD, e, 3), 0);
        assert_int_equal(fs_read_file(path, 8 << 20, &data, &len), 0);
        fr.data = data;
        fr.len = len;
        assert_int_equal(ingest_new(f->s, NULL, &ing, &err), 0);
        assert_true(ingest_read(ing, read_then_fail, &fr, &err) < 0);
        assert_non_null(strstr(err.msg, "connection reset"));
        assert_null(ingest_tree_digest(ing));
        ingest_free(ing);
        free(data);
        assert_store_unchanged(f);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(ingest_gives_one_tree_digest_for_zstd_and_gzip),
                T(ingest_stores_every_file_as_an_object_named_by_its_content),
                T(ingest_reads_the_manifest_and_finds_the_compose_file),
                T(ingest_abandoned_before_publish_leaves_the_store_unchanged),
                T(ingest_adds_only_the_bytes_the_store_lacks),
                T(ingest_limits_default_reads_the_environment),
                T(ingest_refuses_more_entries_than_the_limit),
                T(ingest_refuses_more_unpacked_bytes_than_the_limit),
                T(ingest_refuses_a_compression_ratio_over_the_limit),
                T(ingest_refuses_a_bundle_without_stack_yaml),
                T(ingest_refuses_a_stack_yaml_naming_a_missing_compose_file),
                T(ingest_keeps_the_message_of_a_failing_reader_and_the_store_unchanged),
        };
#undef T
        return cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
}
