/* cmd-show.c - `stack show SLUG[@VER]`: one version's metadata, tree digest and files. */
#include "cli.h"
#include "store/imagearchive.h"
#include "store/index.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* The image archives stored as their parts (spec/store.md "Image archives"): per archive its path, its
 * recipe, the images its manifest.json names with their layers, and every part. */
static json_t *archives_json(struct store *s, const struct tree *t, struct error *err)
{
        json_t *list = json_array();

        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                char hex[DIGEST_HEX_LEN + 1];
                json_t *d = NULL;

                if (!e->recipe)
                        continue;
                if (ia_describe(s, &e->recipe->digest, &d, err) < 0) {
                        json_decref(list);
                        return NULL;
                }
                digest_to_hex(&e->recipe->digest, hex);
                json_object_set_new(d, "path", json_string(e->path));
                json_object_set_new(d, "recipe", json_string(hex));
                json_array_append_new(list, d);
        }
        return list;
}

static void print_archives(json_t *list)
{
        size_t i, k, l;
        json_t *a, *img, *v;

        if (!json_array_size(list))
                return;
        printf("\nimage archives (stored as their parts):\n");
        json_array_foreach(list, i, a)
        {
                printf("  %s  %llu bytes, recipe %.12s, %zu parts\n", json_string_value(json_object_get(a, "path")),
                       (unsigned long long)json_integer_value(json_object_get(a, "size")),
                       json_string_value(json_object_get(a, "recipe")), json_array_size(json_object_get(a, "parts")));
                json_array_foreach(json_object_get(a, "images"), k, img)
                {
                        json_t *tags = json_object_get(img, "tags");
                        printf("    image %s\n",
                               json_array_size(tags) ? json_string_value(json_array_get(tags, 0)) : "(untagged)");
                        json_array_foreach(json_object_get(img, "layers"), l, v)
                                printf("      layer %s %10llu  %s\n", json_string_value(json_object_get(v, "sha256")),
                                       (unsigned long long)json_integer_value(json_object_get(v, "size")),
                                       json_string_value(json_object_get(v, "name")));
                }
                if (!json_array_size(json_object_get(a, "images")))
                        json_array_foreach(json_object_get(a, "parts"), l, v)
                                printf("      part  %s %10llu  %s\n", json_string_value(json_object_get(v, "sha256")),
                                       (unsigned long long)json_integer_value(json_object_get(v, "size")),
                                       json_string_value(json_object_get(v, "name")));
        }
}

/* The version's registry images (spec/store.md "Registry images"): its pins, and the bytes of their layers that
 * another version's images share. */
static json_t *pins_json(struct store *s, const struct version_info *v, uint64_t *ret_shared, struct error *err)
{
        struct version_image *vi = NULL;
        size_t n = 0;
        json_t *list;

        if (index_version_images(store_index(s), v->id, &vi, &n, err) < 0 ||
            index_image_shared_bytes(store_index(s), v->id, ret_shared, err) < 0) {
                version_images_free(vi, n);
                return NULL;
        }
        list = json_array();
        for (size_t i = 0; i < n; i++) {
                char hex[DIGEST_HEX_LEN + 1];
                digest_to_hex(&vi[i].tree, hex);
                json_array_append_new(list, json_pack("{s:s, s:s?, s:s, s:I, s:i, s:b, s:s?, s:I}", "ref", vi[i].ref,
                                                      "repo_digest", vi[i].repo_digest, "image_id", vi[i].image_id,
                                                      "size", (json_int_t)vi[i].size, "layers", (int)vi[i].layers,
                                                      "stored", vi[i].stored, "tree", vi[i].stored ? hex : NULL,
                                                      "pinned_at", (json_int_t)vi[i].pinned_at));
        }
        version_images_free(vi, n);
        return list;
}

static void print_pins(json_t *list, uint64_t shared)
{
        size_t i;
        json_t *p;
        char size[32];

        if (!json_array_size(list))
                return;
        printf("\nimages (registry, pinned to this version):\n");
        json_array_foreach(list, i, p)
        {
                const char *rd = json_string_value(json_object_get(p, "repo_digest"));
                const char *at = rd ? strchr(rd, '@') : NULL;
                printf("  %s@%s  %s, %d layers, stored %s\n", json_string_value(json_object_get(p, "ref")),
                       at ? at + 1 : json_string_value(json_object_get(p, "image_id")),
                       cli_human_size((uint64_t)json_integer_value(json_object_get(p, "size")), size),
                       (int)json_integer_value(json_object_get(p, "layers")),
                       json_is_true(json_object_get(p, "stored")) ? "yes" : "no");
        }
        printf("  shared with other versions' images: %s\n", cli_human_size(shared, size));
}

int cmd_show(int argc, char **argv)
{
        bool json = false;
        struct store *s = NULL;
        const struct cli_command c = {"show", "usage: stack show SLUG[@VERSION] [--json]\n", NULL,
                                      &json,  .args = {1, 1, "expects SLUG[@VERSION]"},      .store = &s};
        struct error err = ERROR_INIT;
        struct version_info v = {0};
        struct tree t;
        json_t *archives = NULL, *pins = NULL;
        uint64_t shared = 0;
        int r = cli_parse(&c, argc, argv);

        if (r != CLI_PARSED)
                return r;
        tree_init(&t);
        r = cli_load_version(s, argv[optind], &v, &t, &err);
        if (r == 0 && !(archives = archives_json(s, &t, &err)))
                r = err.code ? -err.code : error_set(&err, STACK_EFAIL, "out of memory");
        if (r == 0 && !(pins = pins_json(s, &v, &shared, &err)))
                r = err.code ? -err.code : error_set(&err, STACK_EFAIL, "out of memory");
        if (r < 0) {
                r = cli_fail(&err);
                goto done;
        }
        if (json) {
                json_t *o = cli_version_json(&v), *files = json_array();
                for (size_t i = 0; i < t.n; i++) {
                        const struct tree_entry *e = &t.v[i];
                        char hex[DIGEST_HEX_LEN + 1], type[2] = {e->type, 0}, mode[8];
                        snprintf(mode, sizeof mode, "%04o", e->mode);
                        if (e->type == ENTRY_FILE)
                                digest_to_hex(&e->digest, hex);
                        json_array_append_new(files,
                                              json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s?}", "path", e->path, "type",
                                                        type, "mode", mode, "size", (json_int_t)e->size, "sha256",
                                                        e->type == ENTRY_FILE ? hex : NULL, "target", e->target));
                }
                json_object_set_new(o, "compose", v.compose ? json_string(v.compose) : json_null());
                json_object_set_new(o, "entries", files);
                json_object_set(o, "image_archives", archives);
                json_object_set(o, "images", pins);
                json_object_set_new(o, "images_shared_bytes", json_integer((json_int_t)shared));
                r = cli_print_json(o);
                goto done;
        }
        {
                char tree[DIGEST_HEX_LEN + 1], bundle[DIGEST_HEX_LEN + 1], size[32];
                digest_to_hex(&v.tree, tree);
                printf("%s %s  %s\n", v.slug, v.version, v.name ? v.name : "");
                if (v.description)
                        printf("  %s\n", v.description);
                printf("flavor:  %s\ncompose: %s\ntree:    %s\n", v.flavor ? v.flavor : "-",
                       v.compose ? v.compose : "-", tree);
                if (v.has_bundle) {
                        digest_to_hex(&v.bundle, bundle);
                        printf("bundle:  %s (%s)\n", bundle, cli_human_size(v.bundle_size, size));
                }
                printf("signer:  %s\nsource:  %s\nfiles:   %llu, %s\n\n",
                       v.signer     ? v.signer
                       : v.insecure ? "none (fetched with --insecure)"
                                    : "none (unsigned import)",
                       v.source ? v.source : "-", (unsigned long long)v.n_files, cli_human_size(v.size, size));
                for (size_t i = 0; i < t.n; i++) {
                        const struct tree_entry *e = &t.v[i];
                        char hex[DIGEST_HEX_LEN + 1] = "-";
                        if (e->type == ENTRY_FILE)
                                digest_to_hex(&e->digest, hex);
                        printf("%c %04o %10llu %.12s  %s%s%s\n", e->type, e->mode, (unsigned long long)e->size, hex,
                               e->path, e->target ? " -> " : "", e->target ? e->target : "");
                }
                print_archives(archives);
                print_pins(pins, shared);
        }
done:
        json_decref(pins);
        json_decref(archives);
        tree_release(&t);
        version_info_release(&v);
        store_free(s);
        return r;
}
