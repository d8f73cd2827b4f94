/* export.c - `stack export`: a version from the store, with the registry images it runs with, as one bundle
 * (export.h, spec/bundle.md "Export bundles").
 *
 * Nothing here reads a directory: the entries come from the version's tree and the image trees, their bytes from
 * the store (ia_file_stream(): an object, or an image archive assembled from its parts), and go through the
 * writer `stack pack` uses, so the bundle is what pack would write for the same files.
 */
#include "export.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/buf.h"
#include "base/yamltree.h"
#include "imagearchive.h"
#include "pack.h"
#include "tree.h"

#define EXPORT_IMAGE_DIR "images/registry"
#define EXPORT_NAME_MAX  80 /* bytes of an image's name in its file name */

/* A registry image going into the bundle: its archive's entry in the image's own tree. */
struct export_image {
        char path[sizeof EXPORT_IMAGE_DIR + 32 + EXPORT_NAME_MAX];
        struct tree tree; /* the image's store tree */
        const struct tree_entry *archive;
};

struct exporter {
        struct store *s;
        const struct version_info *v;
        char what[512]; /* "export SLUG@VERSION", for messages */
        struct tree version;
        struct export_image *images;
        size_t n_images;
        char *yaml; /* the rewritten stack.yaml, NULL when the version's own goes out */
        size_t yaml_len;
        struct tree out; /* the bundle's entries */
};

/* images/registry/<n>-<ref with every byte but [A-Za-z0-9._-] as '_'>.tar */
static void image_path(char *out, size_t size, size_t n, const char *ref)
{
        char name[EXPORT_NAME_MAX + 1];
        size_t i;

        for (i = 0; ref[i] && i < EXPORT_NAME_MAX; i++) {
                unsigned char c = (unsigned char)ref[i];
                name[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                                          c == '-' || c == '_'
                                  ? (char)c
                                  : '_';
        }
        name[i] = 0;
        snprintf(out, size, EXPORT_IMAGE_DIR "/%zu-%s.tar", n, name);
}

/* The registry images of the version the store holds into x->images; the others are warned about, or refused. */
static int collect_images(struct exporter *x, const struct export_options *o, struct export_result *res,
                          struct error *err)
{
        struct version_image *vi = NULL;
        size_t n = 0;
        int r;

        r = index_version_images(store_index(x->s), x->v->id, &vi, &n, err);
        if (r < 0)
                return r;
        x->images = calloc(n ? n : 1, sizeof *x->images);
        if (!x->images) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        for (size_t i = 0; i < n; i++) {
                struct export_image *img = &x->images[x->n_images];

                if (!vi[i].stored) {
                        if (o->require_images) {
                                r = pack_fail(x->what, err, STACK_EFAIL,
                                              "image %s is not in the store (--require-images)", vi[i].ref);
                                goto done;
                        }
                        if (o->warn) {
                                char line[1024];
                                snprintf(line, sizeof line,
                                         "image %s is not in the store: %s %s is exported without it", vi[i].ref,
                                         x->v->slug, x->v->version);
                                o->warn(o->warn_ctx, line);
                        }
                        res->n_missing++;
                        continue;
                }
                tree_init(&img->tree);
                x->n_images++;
                r = index_load_tree(store_index(x->s), &vi[i].tree, &img->tree, err);
                if (r < 0)
                        goto done;
                img->archive = tree_find(&img->tree, IMAGE_TREE_FILE);
                if (!img->archive || img->archive->type != ENTRY_FILE) {
                        r = pack_fail(x->what, err, STACK_ESTORE,
                                      "the store's tree of image %s has no %s (run stack verify)", vi[i].ref,
                                      IMAGE_TREE_FILE);
                        goto done;
                }
                image_path(img->path, sizeof img->path, x->n_images, vi[i].ref);
                res->image_bytes += img->archive->size;
        }
        r = 0;
done:
        version_images_free(vi, n);
        return r;
}

static int buf_write(void *ctx, const void *data, size_t n, struct error *err)
{
        struct buf *b = ctx;

        if (buf_add(b, data, n) < 0) /* import took no stack.yaml over MANIFEST_MAX_SIZE: the store is damaged */
                return b->toobig ? error_set(err, STACK_ESTORE,
                                             "the store's stack.yaml is larger than %d bytes (run stack verify)",
                                             MANIFEST_MAX_SIZE)
                                 : error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

/* stack.yaml with every added image at the end of its `images:` list; checked as import will check it. */
static int rewrite_manifest(struct exporter *x, struct manifest **ret, struct error *err)
{
        const struct tree_entry *e = tree_find(&x->version, "stack.yaml");
        struct buf in = BUF_INIT(MANIFEST_MAX_SIZE), out = BUF_INIT(MANIFEST_MAX_SIZE);
        struct yamltree_node *root = NULL, *list;
        struct error local = ERROR_INIT;
        const char *problem = NULL;
        int r;

        if (!e || e->type != ENTRY_FILE)
                return pack_fail(x->what, err, STACK_ESTORE, "the version has no stack.yaml (run stack verify)");
        r = ia_file_stream(x->s, e, buf_write, &in, err);
        if (r == 0)
                r = manifest_load_yaml(in.p ? in.p : "", in.len, &root, &local);
        if (r < 0 && local.code)
                r = pack_fail(x->what, err, local.code, "%s", local.msg);
        if (r < 0)
                goto done;
        list = yamltree_map_get(root, "images");
        if (!list || yamltree_is_null(list)) {
                list = yamltree_node_new(YAMLTREE_SEQ);
                if (list)
                        list->style = YAML_BLOCK_SEQUENCE_STYLE;
                if (yamltree_map_set(root, "images", YAML_PLAIN_SCALAR_STYLE, list) < 0) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto done;
                }
        } else if (list->kind != YAMLTREE_SEQ) {
                r = pack_fail(x->what, err, STACK_EREJECT, "stack.yaml: images is a %s, not a list",
                              yamltree_kind_name(list));
                goto done;
        }
        for (size_t i = 0; i < x->n_images; i++) {
                const char *p = x->images[i].path;
                if (yamltree_append(list, yamltree_scalar_new(p, strlen(p), YAML_PLAIN_SCALAR_STYLE)) < 0) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto done;
                }
        }
        r = yamltree_emit(root, false, &out, &problem);
        if (r == -E2BIG)
                r = pack_fail(x->what, err, STACK_EFAIL, "stack.yaml with the images listed is larger than %d bytes",
                              MANIFEST_MAX_SIZE);
        else if (r == -ENOMEM)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (r < 0)
                r = pack_fail(x->what, err, STACK_EFAIL, "cannot write stack.yaml: %s",
                              problem ? problem : "emitter error");
        if (r < 0)
                goto done;
        r = manifest_parse(out.p, out.len, ret, NULL, NULL, &local);
        if (r < 0) {
                r = pack_fail(x->what, err, local.code ? local.code : STACK_EFAIL, "the rewritten %s",
                              local.code ? local.msg : "stack.yaml is invalid");
                goto done;
        }
        x->yaml = buf_steal(&out, &x->yaml_len);
        r = x->yaml ? 0 : error_set(err, STACK_EFAIL, "out of memory");
done:
        yamltree_free(root);
        buf_release(&in);
        buf_release(&out);
        return r;
}

/* The bundle's entries: the version's (stack.yaml as rewritten), the images, the directories they need. */
static int build_tree(struct exporter *x, const struct manifest *m, struct error *err)
{
        struct error local = ERROR_INIT;
        struct digest yaml_digest;
        int r = 0;

        if (x->yaml)
                digest_buffer(x->yaml, x->yaml_len, &yaml_digest);
        for (size_t i = 0; r == 0 && i < x->version.n; i++) {
                const struct tree_entry *e = &x->version.v[i];
                bool manifest = x->yaml && !strcmp(e->path, "stack.yaml");

                r = tree_add(&x->out, e->path, e->type, e->mode, manifest ? x->yaml_len : e->size,
                             manifest ? &yaml_digest : &e->digest, e->target, &local);
        }
        for (size_t i = 0; r == 0 && i < x->n_images; i++)
                r = tree_add(&x->out, x->images[i].path, ENTRY_FILE, 0644, x->images[i].archive->size,
                             &x->images[i].archive->digest, NULL, &local);
        if (r < 0)
                return pack_fail(x->what, err, local.code ? local.code : STACK_EFAIL, "%s",
                                 local.code ? local.msg : "tree refused");
        return pack_check_tree(x->what, &x->out, m, err);
}

struct data_ctx {
        struct pack_writer *w;
        const char *path;
};

static int data_write(void *ctx, const void *buf, size_t n, struct error *err)
{
        struct data_ctx *d = ctx;

        return pack_writer_data(d->w, d->path, buf, n, err);
}

/* Where an entry of the bundle gets its bytes: the version's file of that path, or an image's archive. */
static const struct tree_entry *source_of(const struct exporter *x, const char *path)
{
        for (size_t i = 0; i < x->n_images; i++)
                if (!strcmp(x->images[i].path, path))
                        return x->images[i].archive;
        return tree_find(&x->version, path);
}

static int write_bundle(struct exporter *x, const char *out_path, struct export_result *res, struct error *err)
{
        struct pack_writer *w = NULL;
        int r;

        r = pack_writer_open(out_path, x->what, &w, err);
        for (size_t i = 0; r == 0 && i < x->out.n; i++) {
                const struct tree_entry *e = &x->out.v[i], *src;
                struct data_ctx d = {w, e->path};

                r = pack_writer_add(w, e, e->size, err);
                if (r < 0 || e->type != ENTRY_FILE)
                        continue;
                if (x->yaml && !strcmp(e->path, "stack.yaml")) {
                        r = pack_writer_data(w, e->path, x->yaml, x->yaml_len, err);
                        continue;
                }
                src = source_of(x, e->path);
                if (!src) /* a directory tree_finalize() added has no file to read; a file always has one */
                        r = pack_fail(x->what, err, STACK_EFAIL, "no source for '%s'", e->path);
                else
                        r = ia_file_stream(x->s,
                                           &(struct tree_entry){.path = e->path,
                                                                .type = src->type,
                                                                .size = src->size,
                                                                .digest = src->digest,
                                                                .recipe = src->recipe},
                                           data_write, &d, err);
        }
        if (r == 0)
                r = pack_writer_commit(w, out_path, &res->size, &res->sha256, err);
        pack_writer_free(w);
        return r;
}

int export_version(struct store *s, const struct version_info *v, const char *out_path,
                   const struct export_options *opts, struct export_result *ret, struct error *err)
{
        static const struct export_options none = {0};
        struct exporter x = {.s = s, .v = v};
        struct export_result res = {0};
        struct manifest *m = NULL;
        int r;

        if (!s || !v || !out_path || !*out_path || !ret)
                return error_set(err, STACK_EFAIL, "export_version: invalid arguments");
        if (!opts)
                opts = &none;
        snprintf(x.what, sizeof x.what, "export %s@%s", v->slug, v->version);
        tree_init(&x.version);
        tree_init(&x.out);
        r = index_load_tree(store_index(s), &v->tree, &x.version, err);
        if (r == 0)
                r = collect_images(&x, opts, &res, err);
        if (r == 0 && x.n_images > 0)
                r = rewrite_manifest(&x, &m, err);
        if (r == 0)
                r = build_tree(&x, m, err);
        if (r == 0)
                r = write_bundle(&x, out_path, &res, err);
        if (r == 0) {
                res.n_entries = x.out.n;
                res.n_images = x.n_images;
                *ret = res;
        }
        manifest_free(m);
        free(x.yaml);
        for (size_t i = 0; i < x.n_images; i++)
                tree_release(&x.images[i].tree);
        free(x.images);
        tree_release(&x.out);
        tree_release(&x.version);
        return r;
}
