/* test-export.c - a version and its registry images out of the store as one bundle (store/export.h): what import
 * reads back, the images listed in stack.yaml with its other keys kept, an image the store lacks warned about or
 * refused, the same bytes twice, and no output (nor temp file) when it fails. */
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

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "fetch/fetch.h"
#include "store/export.h"
#include "store/imagearchive.h"
#include "store/index.h"
#include "store/pack.h"
#include "store/store.h"
#include "testlib.h"

#define REF      "127.0.0.1:5000/app:1"
#define REF_PATH "images/registry/1-127.0.0.1_5000_app_1.tar"

struct fixture {
        struct store *s;
        char dir[512];        /* where bundles go */
        unsigned char *image; /* a docker save archive, over 1 MiB: the store keeps it as its parts */
        size_t image_len;
        struct digest image_tree; /* a store tree holding it as IMAGE_TREE_FILE */
        int warnings;
        char warning[512];
};

/* manifest.json + a 1.5 MiB layer, plain ustar: what `docker save` writes, enough for the store to split it. */
static void make_image(struct fixture *f)
{
        static const char manifest[] = "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"" REF "\"],"
                                       "\"Layers\":[\"l1/layer.tar\"]}]";
        static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}";
        const size_t layer_len = 1536 * 1024, cap = layer_len + 64 * 1024;
        unsigned char *layer = malloc(layer_len);
        const struct {
                const char *name;
                const void *data;
                size_t len;
        } m[] = {{"cfg.json", cfg, sizeof cfg - 1},
                 {"l1/layer.tar", layer, layer_len},
                 {"manifest.json", manifest, sizeof manifest - 1}};
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();
        size_t used = 0;

        assert_non_null(layer);
        for (size_t i = 0; i < layer_len; i++)
                layer[i] = (unsigned char)(i * 2654435761u >> 13);
        f->image = malloc(cap);
        assert_non_null(f->image);
        assert_int_equal(archive_write_set_format_ustar(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_memory(a, f->image, cap, &used), ARCHIVE_OK);
        for (size_t i = 0; i < sizeof m / sizeof *m; i++) {
                archive_entry_clear(ae);
                archive_entry_set_pathname(ae, m[i].name);
                archive_entry_set_filetype(ae, AE_IFREG);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_size(ae, (la_int64_t)m[i].len);
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_entry_free(ae);
        archive_write_free(a);
        free(layer);
        f->image_len = used;
}

/* The image into the store as its parts (a bundle that ships it), then a tree of its own with just that file, as
 * a pull records it. */
static void store_image(struct fixture *f)
{
        struct error err = ERROR_INIT;
        struct tl_entry e[3];
        struct tl_imported imp;
        struct tree t, back;
        struct digest d;

        tl_valid_entries(e, "holder", "1");
        e[2] = (struct tl_entry){.path = IMAGE_TREE_FILE, .type = 'f', .data = f->image, .len = f->image_len};
        if (tl_import(f->s, TL_ZSTD, e, 3, NULL, &imp, &err) < 0)
                fail_msg("import: %s", err.msg);
        digest_buffer(f->image, f->image_len, &d);
        tree_init(&t);
        assert_int_equal(tree_add(&t, IMAGE_TREE_FILE, ENTRY_FILE, 0644, f->image_len, &d, NULL, &err), 0);
        assert_int_equal(tree_finalize(&t, &err), 0);
        assert_int_equal(tree_digest(&t, &f->image_tree), 0);
        if (index_put_tree(store_index(f->s), &t, &f->image_tree, &err) < 0)
                fail_msg("put_tree: %s", err.msg);
        tree_release(&t);
        /* the fixture means it: the archive comes back from its parts, never from one object file */
        assert_int_equal(index_load_tree(store_index(f->s), &f->image_tree, &back, &err), 0);
        assert_non_null(back.v[0].recipe);
        assert_false(store_has_object(f->s, &d));
        tree_release(&back);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);

        assert_non_null(f);
        f->s = tl_store_new();
        snprintf(f->dir, sizeof f->dir, "%s", tl_tmpdir());
        make_image(f);
        store_image(f);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        store_free(f->s);
        free(f->image);
        free(f);
        return 0;
}

static void on_warn(void *ctx, const char *line)
{
        struct fixture *f = ctx;

        f->warnings++;
        snprintf(f->warning, sizeof f->warning, "%s", line);
}

/* A version whose compose file names REF and busybox:1, shipping an image archive of its own; its stack.yaml has
 * keys export must keep (a tag, an anchor and its alias among them). */
static int64_t app_version(struct fixture *f, const char *version)
{
        static const char local[] = "not really an image, any file will do";
        static const char compose[] = "services:\n  app:\n    image: " REF "\n  side:\n    image: busybox:1\n";
        char yaml[512];
        struct error err = ERROR_INIT;
        struct tl_imported imp;
        struct tl_entry e[3];

        snprintf(yaml, sizeof yaml,
                 "slug: app\nname: App\nflavor: DockerCompose\nversion: \"%s\"\ndescription: d\nauthor: &who a\n"
                 "license: !!str MIT\nhomepage: https://example.org\ntags: [x, y]\nimages: [images/local.tar]\n"
                 "maintainer: *who\n"
                 "resources: {memory: 64m}\n",
                 version);
        e[0] = (struct tl_entry){.path = "stack.yaml", .type = 'f', .data = yaml, .len = strlen(yaml)};
        e[1] = (struct tl_entry){.path = "compose.yaml", .type = 'f', .data = compose, .len = sizeof compose - 1};
        e[2] = (struct tl_entry){.path = "images/local.tar", .type = 'f', .data = local, .len = sizeof local - 1};
        if (tl_import(f->s, TL_ZSTD, e, 3, NULL, &imp, &err) < 0)
                fail_msg("import: %s", err.msg);
        return imp.id;
}

static void pin_images(struct fixture *f, int64_t id, bool stored)
{
        struct error err = ERROR_INIT;
        struct version_image v[2] = {
                {.ref = REF,
                 .image_id = "sha256:aa",
                 .tree = f->image_tree,
                 .stored = stored,
                 .size = f->image_len,
                 .layers = 1,
                 .pinned_at = 1},
                {.ref = "busybox:1", .image_id = "sha256:bb", .stored = false, .pinned_at = 1},
        };

        if (!stored)
                memset(&v[0].tree, 0, sizeof v[0].tree);
        if (index_set_version_images(store_index(f->s), id, v, 2, &err) < 0)
                fail_msg("set_version_images: %s", err.msg);
}

static int export_ref(struct fixture *f, const char *ref, const char *out, bool require, struct export_result *res,
                      struct error *err)
{
        struct export_options o = {.require_images = require, .warn = on_warn, .warn_ctx = f};
        struct version_info v = {0};
        int r = index_resolve_ref(store_index(f->s), ref, &v, err);

        if (r == 0)
                r = export_version(f->s, &v, out, &o, res, err);
        version_info_release(&v);
        return r;
}

/* Import path into a fresh store; its version's tree into t. */
static struct store *import_fresh(const char *path, struct tree *t)
{
        struct fetch_options o = {.allow_unsigned = true};
        struct fetch_result res = {0};
        struct error err = ERROR_INIT;
        struct store *s = tl_store_new();

        if (fetch_bundle(s, path, &o, &res, &err) < 0)
                fail_msg("import of the export: %s", err.msg);
        if (index_load_tree(store_index(s), &res.v.tree, t, &err) < 0)
                fail_msg("load_tree: %s", err.msg);
        fetch_result_release(&res);
        return s;
}

static void export_without_registry_images_is_the_versions_own_tree(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct export_result res;
        struct tl_imported imp;
        struct tree t;
        struct digest d;
        char out[PATH_MAX];
        struct store *s2;

        assert_int_equal(tl_import_version(f->s, "plain", "2.0", "hello", &imp, &err), 0);
        snprintf(out, sizeof out, "%s/plain.stack", f->dir);
        if (export_ref(f, "plain@2.0", out, true, &res, &err) < 0)
                fail_msg("export: %s", err.msg);
        assert_int_equal(res.n_images, 0);
        assert_int_equal(res.n_missing, 0);
        assert_int_equal(f->warnings, 0);
        s2 = import_fresh(out, &t);
        assert_int_equal(tree_digest(&t, &d), 0);
        assert_memory_equal(&d, &imp.tree, sizeof d);
        assert_non_null(tree_find(&t, "marker.txt"));
        tree_release(&t);
        store_free(s2);
}

static void export_adds_the_stored_image_and_keeps_stack_yaml(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct export_result res, again;
        struct manifest *m = NULL;
        const struct tree_entry *e;
        struct digest d;
        struct tree t;
        char out[PATH_MAX], out2[PATH_MAX];
        struct store *s2;

        pin_images(f, app_version(f, "1.0"), true);
        snprintf(out, sizeof out, "%s/app.stack", f->dir);
        if (export_ref(f, "app@1.0", out, false, &res, &err) < 0)
                fail_msg("export: %s", err.msg);
        assert_int_equal(res.n_images, 1);
        assert_int_equal(res.n_missing, 1);
        assert_int_equal(res.image_bytes, f->image_len);
        assert_int_equal(f->warnings, 1); /* busybox:1 was never kept */
        assert_non_null(strstr(f->warning, "busybox:1"));

        /* stack.yaml: the bundle's own image first, the registry image after it, every other key as it was */
        if (bundle_read_manifest(out, &m, NULL, NULL, &err) < 0)
                fail_msg("read back: %s", err.msg);
        assert_int_equal(m->n_images, 2);
        assert_string_equal(m->images[0], "images/local.tar");
        assert_string_equal(m->images[1], REF_PATH);
        assert_string_equal(m->homepage, "https://example.org");
        assert_string_equal(m->license, "MIT");
        assert_string_equal(m->author, "a");
        assert_int_equal(m->n_unknown, 1); /* maintainer, the alias expanded */
        assert_string_equal(m->version, "1.0");
        assert_int_equal(m->resources.memory, 64 * 1024 * 1024);
        manifest_free(m);

        /* import takes it, and the archive is the image's bytes */
        s2 = import_fresh(out, &t);
        e = tree_find(&t, REF_PATH);
        assert_non_null(e);
        digest_buffer(f->image, f->image_len, &d);
        assert_memory_equal(&e->digest, &d, sizeof d);
        assert_int_equal(e->size, f->image_len);
        assert_non_null(tree_find(&t, "images/local.tar"));
        tree_release(&t);
        store_free(s2);

        /* the same version exports to the same bytes */
        snprintf(out2, sizeof out2, "%s/app-again.stack", f->dir);
        assert_int_equal(export_ref(f, "app@1.0", out2, false, &again, &err), 0);
        assert_memory_equal(&again.sha256, &res.sha256, sizeof res.sha256);
        assert_int_equal(again.size, res.size);
}

static void export_require_images_refuses_an_image_not_kept(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct export_result res;
        char out[PATH_MAX], dir[512];

        snprintf(dir, sizeof dir, "%s", tl_tmpdir());
        pin_images(f, app_version(f, "1.1"), true);
        snprintf(out, sizeof out, "%s/app.stack", dir);
        assert_int_equal(export_ref(f, "app@1.1", out, true, &res, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "busybox:1"));
        assert_int_equal(tl_count_dir(dir), 0); /* no output, no temp file */
}

static void export_leaves_nothing_when_the_store_lost_a_part(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct export_result res;
        struct tree t;
        char out[PATH_MAX], dir[512], obj[PATH_MAX];

        pin_images(f, app_version(f, "1.2"), true);
        /* the layer, the largest part of the image's recipe */
        assert_int_equal(index_load_tree(store_index(f->s), &f->image_tree, &t, &err), 0);
        {
                struct tree_part *parts = NULL;
                size_t n = 0, big = 0;

                assert_int_equal(ia_recipe_parts(f->s, &t.v[0].recipe->digest, &parts, &n, &err), 0);
                for (size_t i = 1; i < n; i++)
                        if (parts[i].size > parts[big].size)
                                big = i;
                assert_int_equal(store_object_path(f->s, &parts[big].digest, obj, sizeof obj), 0);
                free(parts);
        }
        tree_release(&t);
        assert_int_equal(unlink(obj), 0);
        snprintf(dir, sizeof dir, "%s", tl_tmpdir());
        snprintf(out, sizeof out, "%s/app.stack", dir);
        assert_int_equal(export_ref(f, "app@1.2", out, false, &res, &err), -STACK_ESTORE);
        assert_int_equal(tl_count_dir(dir), 0);
}

static void export_of_an_unknown_version_is_not_found(void **state)
{
        struct fixture *f = *state;
        struct error err = ERROR_INIT;
        struct export_result res;
        char out[PATH_MAX];

        snprintf(out, sizeof out, "%s/none.stack", f->dir);
        assert_int_equal(export_ref(f, "nosuch@1", out, false, &res, &err), -STACK_ENOTFOUND);
        assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(export_without_registry_images_is_the_versions_own_tree, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(export_adds_the_stored_image_and_keeps_stack_yaml, setup, teardown),
                cmocka_unit_test_setup_teardown(export_require_images_refuses_an_image_not_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(export_leaves_nothing_when_the_store_lost_a_part, setup, teardown),
                cmocka_unit_test_setup_teardown(export_of_an_unknown_version_is_not_found, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
