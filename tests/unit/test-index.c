/* test-index.c - index.db through its public functions: publishing is one transaction, which version a label
 * resolves to, bundles mapped to versions, listings, counts and trees rebuilt from rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fsutil.h"
#include "base/digest.h"
#include "store/index.h"
#include "store/ingest.h"
#include "store/store.h"
#include "testlib.h"

static void import(struct store *s, const char *slug, const char *version, const char *marker, struct tl_imported *ret)
{
        struct error err = ERROR_INIT;

        if (tl_import_version(s, slug, version, marker, ret, &err) < 0)
                fail_msg("import %s@%s: %s", slug, version, err.msg);
}

/* The version a ref resolves to; fails the test when it does not resolve. */
static void resolve(struct store *s, const char *slug, const char *version, struct version_info *ret)
{
        struct error err = ERROR_INIT;

        if (index_resolve(store_index(s), slug, version, ret, &err) < 0)
                fail_msg("resolve %s@%s: %s", slug, version ? version : "(newest)", err.msg);
}

static void assert_resolves_to(struct store *s, const char *slug, const char *version, const struct tl_imported *want)
{
        struct version_info v;

        resolve(s, slug, version, &v);
        assert_int_equal(v.id, want->id);
        assert_true(digest_equal(&v.tree, &want->tree));
        version_info_release(&v);
}

static void publish_makes_a_version_visible_only_after_it_commits(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct ingest *ing = NULL;
        struct publish_info pi = {0};
        struct index_counts c;
        struct version_info v;
        struct tl_entry e[3];
        int64_t id = 0;
        bool is_new = false;

        tl_valid_entries(e, "seen", "1.0");
        e[2] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = "<p>hi</p>", .len = 9};
        assert_int_equal(tl_ingest(s, TL_ZSTD, e, 3, NULL, &ing, &err), 0);
        /* read and checked, not published: nothing to see */
        assert_true(index_resolve(store_index(s), "seen", NULL, &v, &err) < 0);
        error_clear(&err);
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.stacks + c.versions + c.trees + c.entries + c.objects, 0);

        pi.bundle = ingest_bundle_digest(ing);
        pi.bundle_size = ingest_bundle_size(ing);
        assert_int_equal(ingest_publish(ing, &pi, &id, &is_new, &err), 0);
        assert_true(is_new);
        resolve(s, "seen", NULL, &v);
        assert_int_equal(v.id, id);
        assert_string_equal(v.version, "1.0");
        assert_string_equal(v.name, "Test seen");
        assert_string_equal(v.flavor, "DockerCompose");
        assert_string_equal(v.compose, "compose.yaml");
        assert_null(v.signer);
        assert_true(v.has_bundle);
        assert_true(digest_equal(&v.bundle, ingest_bundle_digest(ing)));
        assert_int_equal(v.n_files, 3);
        assert_int_equal(v.size, e[0].len + e[1].len + e[2].len);
        version_info_release(&v);
        ingest_free(ing);
        store_free(s);
}

static void publish_failing_at_its_last_row_leaves_no_row_at_all(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct index_counts c;
        struct version_info v;

        /* The versions row is written after the stack, objects, tree and entries rows of the same transaction. */
        assert_int_equal(tl_sql(store_home(s), "CREATE TRIGGER refuse BEFORE INSERT ON versions"
                                               " BEGIN SELECT RAISE(ABORT, 'injected'); END"),
                         0);
        assert_true(tl_import_version(s, "torn", "1.0", "x", NULL, &err) < 0);
        assert_int_equal(err.code, STACK_ESTORE);
        assert_non_null(strstr(err.msg, "injected"));
        error_clear(&err);
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.stacks, 0);
        assert_int_equal(c.versions, 0);
        assert_int_equal(c.trees, 0);
        assert_int_equal(c.entries, 0);
        assert_int_equal(c.objects, 0);
        assert_true(index_resolve(store_index(s), "torn", NULL, &v, &err) < 0);

        assert_int_equal(tl_sql(store_home(s), "DROP TRIGGER refuse"), 0);
        error_clear(&err);
        assert_int_equal(tl_import_version(s, "torn", "1.0", "x", NULL, &err), 0);
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.versions, 1);
        store_free(s);
}

static void publish_of_a_tree_whose_version_row_is_gone_succeeds(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported first, again;

        /* trees, entries and objects kept without their version: what a gc that keeps a tree for another root
         * (or drops versions first) leaves; publishing that content again must not trip over its own rows */
        import(s, "back", "1.0", "x", &first);
        assert_int_equal(tl_sql(store_home(s), "DELETE FROM versions; DELETE FROM bundles"), 0);
        if (tl_import_version(s, "back", "1.0", "x", &again, &err) < 0)
                fail_msg("republish: %s", err.msg);
        assert_true(again.is_new);
        assert_true(digest_equal(&again.tree, &first.tree));
        assert_resolves_to(s, "back", "1.0", &again);
        store_free(s);
}

static void bare_slug_resolves_to_the_highest_semver(void **state)
{
        struct store *s = tl_store_new();
        struct tl_imported v10, v9, v2;

        import(s, "app", "1.2.10", "a", &v10);
        import(s, "app", "1.2.9", "b", &v9); /* fetched later, but lower */
        assert_resolves_to(s, "app", NULL, &v10);
        import(s, "app", "v2.0", "c", &v2);
        assert_resolves_to(s, "app", NULL, &v2);
        assert_resolves_to(s, "app", "1.2.9", &v9);
        store_free(s);
}

static void bare_slug_resolves_to_the_later_fetch_when_a_label_is_not_semver(void **state)
{
        struct store *s = tl_store_new();
        struct tl_imported rel, latest, again;

        import(s, "app", "1.0", "release", &rel);
        import(s, "app", "latest", "rolling", &latest);
        assert_resolves_to(s, "app", NULL, &latest);
        /* the release fetched again (same content) is now the later fetch */
        import(s, "app", "1.0", "release", &again);
        assert_false(again.is_new);
        assert_int_equal(again.id, rel.id);
        assert_resolves_to(s, "app", NULL, &rel);
        store_free(s);
}

static void republished_label_resolves_to_the_newest_content(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported a, b, a_again;
        struct version_info *list = NULL;
        size_t n = 0;

        import(s, "blog", "latest", "monday", &a);
        import(s, "blog", "latest", "tuesday", &b);
        assert_true(b.is_new);
        assert_false(digest_equal(&a.tree, &b.tree));
        assert_resolves_to(s, "blog", "latest", &b);
        assert_resolves_to(s, "blog", NULL, &b);
        /* both contents are kept as versions of the one label */
        assert_int_equal(index_list_versions(store_index(s), "blog", &list, &n, &err), 0);
        assert_int_equal(n, 2);
        version_list_free(list, n);
        /* monday's content published again: no new version, but it is the newest fetch now */
        import(s, "blog", "latest", "monday", &a_again);
        assert_false(a_again.is_new);
        assert_int_equal(a_again.id, a.id);
        assert_resolves_to(s, "blog", "latest", &a);
        store_free(s);
}

static void resolve_ref_splits_slug_and_version(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported one, two;
        struct version_info v;

        import(s, "web.site", "1.0", "one", &one);
        import(s, "web.site", "2.0", "two", &two);
        assert_int_equal(index_resolve_ref(store_index(s), "web.site@1.0", &v, &err), 0);
        assert_int_equal(v.id, one.id);
        version_info_release(&v);
        assert_int_equal(index_resolve_ref(store_index(s), "web.site", &v, &err), 0);
        assert_int_equal(v.id, two.id);
        version_info_release(&v);
        store_free(s);
}

static void resolve_ref_refuses_malformed_refs(void **state)
{
        static const char *const bad[] = {"", "@1.0", "app@", "Not A Slug", "../etc@1"};
        struct store *s = tl_store_new();

        import(s, "app", "1.0", "x", NULL);
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct error err = ERROR_INIT;
                struct version_info v;
                if (index_resolve_ref(store_index(s), bad[i], &v, &err) >= 0)
                        fail_msg("'%s' resolved", bad[i]);
                assert_true(err.msg[0] != 0);
        }
        store_free(s);
}

static void missing_version_is_refused_with_the_versions_the_store_has(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct version_info v;

        import(s, "app", "1.0", "a", NULL);
        import(s, "app", "1.1", "b", NULL);
        assert_true(index_resolve(store_index(s), "app", "9.9", &v, &err) < 0);
        assert_non_null(strstr(err.msg, "'9.9'"));
        assert_non_null(strstr(err.msg, "1.0"));
        assert_non_null(strstr(err.msg, "1.1"));
        store_free(s);
}

static void missing_stack_is_refused_naming_it(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct version_info v;

        import(s, "app", "1.0", "a", NULL);
        assert_true(index_resolve(store_index(s), "nothere", NULL, &v, &err) < 0);
        assert_non_null(strstr(err.msg, "'nothere'"));
        assert_non_null(strstr(err.msg, "not in the store"));
        store_free(s);
}

static void find_bundle_maps_zstd_and_gzip_of_one_tree_to_one_version(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported z, g;
        struct version_info v;
        struct tl_entry e[2];
        struct digest unknown;

        tl_valid_entries(e, "twice", "1.0");
        assert_int_equal(tl_import(s, TL_ZSTD, e, 2, NULL, &z, &err), 0);
        assert_int_equal(tl_import(s, TL_GZIP, e, 2, NULL, &g, &err), 0);
        assert_false(digest_equal(&z.bundle, &g.bundle));
        assert_false(g.is_new);
        assert_int_equal(index_find_bundle(store_index(s), &z.bundle, &v, &err), 0);
        assert_int_equal(v.id, z.id);
        version_info_release(&v);
        assert_int_equal(index_find_bundle(store_index(s), &g.bundle, &v, &err), 0);
        assert_int_equal(v.id, z.id);
        assert_string_equal(v.slug, "twice");
        version_info_release(&v);
        digest_buffer("no such bundle", 14, &unknown);
        assert_true(index_find_bundle(store_index(s), &unknown, &v, &err) < 0);
        store_free(s);
}

static void get_version_finds_a_version_by_id(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported a;
        struct version_info v;

        import(s, "app", "3.1", "a", &a);
        assert_int_equal(index_get_version(store_index(s), a.id, &v, &err), 0);
        assert_string_equal(v.slug, "app");
        assert_string_equal(v.version, "3.1");
        assert_true(digest_equal(&v.tree, &a.tree));
        version_info_release(&v);
        assert_true(index_get_version(store_index(s), a.id + 100, &v, &err) < 0);
        store_free(s);
}

static void list_versions_orders_by_slug_then_newest_fetch_first(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct version_info *v = NULL;
        size_t n = 0;

        import(s, "zeta", "1", "z1", NULL);
        import(s, "alpha", "1", "a1", NULL);
        import(s, "zeta", "2", "z2", NULL);
        import(s, "alpha", "0.9", "a0", NULL); /* fetched last, older by semver: listings go by fetch */
        assert_int_equal(index_list_versions(store_index(s), NULL, &v, &n, &err), 0);
        assert_int_equal(n, 4);
        assert_string_equal(v[0].slug, "alpha");
        assert_string_equal(v[0].version, "0.9");
        assert_string_equal(v[1].slug, "alpha");
        assert_string_equal(v[1].version, "1");
        assert_string_equal(v[2].slug, "zeta");
        assert_string_equal(v[2].version, "2");
        assert_string_equal(v[3].slug, "zeta");
        assert_string_equal(v[3].version, "1");
        version_list_free(v, n);
        assert_int_equal(index_list_versions(store_index(s), "zeta", &v, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].version, "2");
        version_list_free(v, n);
        assert_int_equal(index_list_versions(store_index(s), "none", &v, &n, &err), 0);
        assert_int_equal(n, 0);
        version_list_free(v, n);
        store_free(s);
}

static void counts_add_up_rows_and_share_identical_objects(void **state)
{
        static const char *const sv[3][2] = {{"one", "1"}, {"one", "2"}, {"two", "1"}};
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct index_counts c;
        struct tl_entry e[2];
        uint64_t bytes = 0;

        import(s, sv[0][0], sv[0][1], "m1", NULL);
        import(s, sv[1][0], sv[1][1], "m2", NULL);
        import(s, sv[2][0], sv[2][1], "m1", NULL);
        for (int i = 0; i < 3; i++) {
                tl_valid_entries(e, sv[i][0], sv[i][1]);
                bytes += e[0].len; /* three different stack.yaml */
        }
        bytes += e[1].len + 2 + 2; /* one compose.yaml for all, markers m1 (twice) and m2 */
        assert_int_equal(index_counts(store_index(s), &c, &err), 0);
        assert_int_equal(c.stacks, 2);
        assert_int_equal(c.versions, 3);
        assert_int_equal(c.trees, 3);
        assert_int_equal(c.entries, 9);
        assert_int_equal(c.objects, 3 + 1 + 2);
        assert_int_equal(c.object_bytes, bytes);
        store_free(s);
}

static void load_tree_rebuilds_the_published_tree(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported imp;
        struct tree t, want;
        struct digest d;
        char *text, *want_text;
        size_t len, want_len;
        struct tl_entry e[6];

        tl_valid_entries(e, "shape", "1.0");
        e[2] = (struct tl_entry){.path = "bin/run.sh", .type = 'f', .mode = 0755, .data = "#!/bin/sh\n", .len = 10};
        e[3] = (struct tl_entry){.path = "site/index.html", .type = 'f', .data = "<p>", .len = 3};
        e[4] = (struct tl_entry){.path = "site/home", .type = 'l', .target = "index.html"};
        e[5] = (struct tl_entry){.path = "data", .type = 'd'};
        assert_int_equal(tl_import(s, TL_ZSTD, e, 6, NULL, &imp, &err), 0);
        assert_int_equal(index_load_tree(store_index(s), &imp.tree, &t, &err), 0);
        assert_int_equal(tree_digest(&t, &d), 0);
        assert_true(digest_equal(&d, &imp.tree));

        /* the same tree built by hand, as the bundle describes it */
        tree_init(&want);
        for (int i = 0; i < 6; i++) {
                struct digest cd;
                if (e[i].type == 'f') {
                        digest_buffer(e[i].data, e[i].len, &cd);
                        assert_int_equal(tree_add(&want, e[i].path, ENTRY_FILE, e[i].mode ? e[i].mode : 0644, e[i].len,
                                                  &cd, NULL, &err),
                                         0);
                } else if (e[i].type == 'l') {
                        assert_int_equal(tree_add(&want, e[i].path, ENTRY_SYMLINK, 0777, 0, NULL, e[i].target, &err),
                                         0);
                } else {
                        assert_int_equal(tree_add(&want, e[i].path, ENTRY_DIR, 0755, 0, NULL, NULL, &err), 0);
                }
        }
        assert_int_equal(tree_finalize(&want, &err), 0);
        assert_int_equal(tree_serialize(&t, &text, &len), 0);
        assert_int_equal(tree_serialize(&want, &want_text, &want_len), 0);
        assert_string_equal(text, want_text);
        assert_int_equal(tree_find(&t, "bin/run.sh")->mode, 0755);
        assert_string_equal(tree_find(&t, "site/home")->target, "index.html");
        free(text);
        free(want_text);
        tree_release(&want);
        tree_release(&t);
        store_free(s);
}

static void load_tree_of_an_unknown_digest_fails(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct digest d;
        struct tree t;

        import(s, "app", "1", "a", NULL);
        digest_buffer("no tree", 7, &d);
        assert_true(index_load_tree(store_index(s), &d, &t, &err) < 0);
        assert_true(err.msg[0] != 0);
        store_free(s);
}

static void signed_record_is_never_downgraded_by_an_unsigned_republish(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct ingest *ing = NULL;
        struct version_info v;
        struct tl_entry e[2];
        const char *const signers[] = {NULL, "alice", NULL};
        const char *const want[] = {NULL, "alice", "alice"};

        tl_valid_entries(e, "signed", "1.0");
        for (int i = 0; i < 3; i++) {
                struct publish_info pi = {.signer = signers[i]};
                assert_int_equal(tl_ingest(s, TL_ZSTD, e, 2, NULL, &ing, &err), 0);
                pi.bundle = ingest_bundle_digest(ing);
                pi.bundle_size = ingest_bundle_size(ing);
                assert_int_equal(ingest_publish(ing, &pi, NULL, NULL, &err), 0);
                ingest_free(ing);
                resolve(s, "signed", "1.0", &v);
                if (want[i])
                        assert_string_equal(v.signer, want[i]);
                else
                        assert_null(v.signer);
                version_info_release(&v);
        }
        store_free(s);
}

/* A tree that is no version, as an image tree is: one file. */
static void put_image_tree(struct store *s, const char *content, struct digest *ret)
{
        struct error err = ERROR_INIT;
        struct digest d;
        struct tree t;

        digest_buffer(content, strlen(content), &d);
        tree_init(&t);
        assert_int_equal(tree_add(&t, IMAGE_TREE_FILE, ENTRY_FILE, 0644, strlen(content), &d, NULL, &err), 0);
        assert_int_equal(tree_finalize(&t, &err), 0);
        assert_int_equal(tree_digest(&t, ret), 0);
        assert_int_equal(index_put_tree(store_index(s), &t, ret, &err), 0);
        tree_release(&t);
}

static bool tree_row(struct store *s, const struct digest *tree)
{
        struct error err = ERROR_INIT;
        struct tree t;
        bool have;

        tree_init(&t);
        have = index_load_tree(store_index(s), tree, &t, &err) == 0;
        tree_release(&t);
        return have;
}

static void version_images_are_replaced_whole_and_kept_while_their_version_is(void **state)
{
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();
        struct tl_imported a, b;
        struct version_image pin[2] = {0}, *got = NULL;
        struct digest t0, t1;
        struct index_sweep sw;
        size_t n = 0;
        uint64_t shared = 7;

        (void)state;
        import(s, "pinned", "1.0", "a", &a);
        import(s, "pinned", "2.0", "b", &b);
        put_image_tree(s, "image of 1.0", &t0);
        put_image_tree(s, "an image no pin names", &t1);
        pin[0] = (struct version_image){.ref = "reg:5000/app:1",
                                        .repo_digest = "reg:5000/app@sha256:aa",
                                        .image_id = "sha256:11",
                                        .tree = t0,
                                        .stored = true,
                                        .size = 12,
                                        .layers = 2,
                                        .pinned_at = 100};
        pin[1] = (struct version_image){.ref = "reg:5000/db:1", .image_id = "sha256:22", .pinned_at = 101};
        assert_int_equal(index_set_version_images(store_index(s), a.id, pin, 2, &err), 0);
        assert_int_equal(index_version_images(store_index(s), a.id, &got, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(got[0].ref, "reg:5000/app:1");
        assert_string_equal(got[0].repo_digest, "reg:5000/app@sha256:aa");
        assert_string_equal(got[0].image_id, "sha256:11");
        assert_true(got[0].stored && digest_equal(&got[0].tree, &t0));
        assert_int_equal(got[0].size, 12);
        assert_int_equal(got[0].layers, 2);
        assert_null(got[1].repo_digest); /* an image from no registry */
        assert_false(got[1].stored);
        version_images_free(got, n);
        assert_int_equal(index_image_shared_bytes(store_index(s), a.id, &shared, &err), 0);
        assert_int_equal(shared, 0);

        /* replaced whole: a new pin of the version (stack upgrade --pull) */
        assert_int_equal(index_set_version_images(store_index(s), a.id, &pin[0], 1, &err), 0);
        assert_int_equal(index_version_images(store_index(s), a.id, &got, &n, &err), 0);
        assert_int_equal(n, 1);
        version_images_free(got, n);
        assert_int_equal(index_version_images(store_index(s), b.id, &got, &n, &err), 0);
        assert_int_equal(n, 0);
        version_images_free(got, n);

        /* gc: the image tree stays while its version does, and goes with it */
        assert_int_equal(index_sweep_begin(store_index(s), &err), 0);
        assert_int_equal(index_sweep_keep_version(store_index(s), a.id, &err), 0);
        assert_int_equal(index_sweep_run(store_index(s), &sw, &err), 0);
        assert_int_equal(index_sweep_end(store_index(s), true, &err), 0);
        assert_true(tree_row(s, &t0));
        assert_false(tree_row(s, &t1)); /* no pin names it */
        assert_int_equal(index_sweep_begin(store_index(s), &err), 0);
        assert_int_equal(index_sweep_keep_version(store_index(s), b.id, &err), 0);
        assert_int_equal(index_sweep_run(store_index(s), &sw, &err), 0);
        assert_int_equal(index_sweep_end(store_index(s), true, &err), 0);
        assert_false(tree_row(s, &t0));
        assert_int_equal(index_version_images(store_index(s), a.id, &got, &n, &err), 0);
        assert_int_equal(n, 0);
        version_images_free(got, n);
        store_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(publish_makes_a_version_visible_only_after_it_commits),
                cmocka_unit_test(publish_failing_at_its_last_row_leaves_no_row_at_all),
                cmocka_unit_test(publish_of_a_tree_whose_version_row_is_gone_succeeds),
                cmocka_unit_test(bare_slug_resolves_to_the_highest_semver),
                cmocka_unit_test(bare_slug_resolves_to_the_later_fetch_when_a_label_is_not_semver),
                cmocka_unit_test(republished_label_resolves_to_the_newest_content),
                cmocka_unit_test(resolve_ref_splits_slug_and_version),
                cmocka_unit_test(resolve_ref_refuses_malformed_refs),
                cmocka_unit_test(missing_version_is_refused_with_the_versions_the_store_has),
                cmocka_unit_test(missing_stack_is_refused_naming_it),
                cmocka_unit_test(find_bundle_maps_zstd_and_gzip_of_one_tree_to_one_version),
                cmocka_unit_test(get_version_finds_a_version_by_id),
                cmocka_unit_test(list_versions_orders_by_slug_then_newest_fetch_first),
                cmocka_unit_test(counts_add_up_rows_and_share_identical_objects),
                cmocka_unit_test(load_tree_rebuilds_the_published_tree),
                cmocka_unit_test(load_tree_of_an_unknown_digest_fails),
                cmocka_unit_test(signed_record_is_never_downgraded_by_an_unsigned_republish),
                cmocka_unit_test(version_images_are_replaced_whole_and_kept_while_their_version_is),
        };
        return cmocka_run_group_tests_name("index", tests, NULL, NULL);
}
