/* approval.c - what a request approves, from the version in the store, and the stack's icon (approval.h). */
#include "approval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "run/policy.h"
#include "run/regimages.h"
#include "run/runs.h"
#include "store/imagearchive.h"
#include "store/index.h"
#include "store/manifest.h"
#include "store/tree.h"

/* A file of the tree, stored whole, into memory (NUL-terminated). STACK_ENOTFOUND when it is not a file there. */
static int read_tree_file(struct store *s, const struct tree *t, const char *path, size_t max, char **ret,
                          size_t *ret_len, struct error *err)
{
        const struct tree_entry *e = tree_find(t, path);
        char *data;
        ssize_t n;
        int fd;

        if (!e || e->type != ENTRY_FILE || e->recipe)
                return error_set(err, STACK_ENOTFOUND, "%s: not a file of the bundle", path);
        if (e->size > max)
                return error_set(err, STACK_ENOTFOUND, "%s: larger than %zu bytes", path, max);
        fd = store_object_open(s, &e->digest);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, -fd, "%s: its object is unreadable (run stack verify)", path);
        data = malloc(e->size + 1);
        n = data ? pread(fd, data, e->size, 0) : -1;
        close(fd);
        if (n != (ssize_t)e->size) {
                free(data);
                return error_set(err, STACK_ESTORE, "%s: its object is short (run stack verify)", path);
        }
        data[e->size] = '\0';
        *ret = data;
        *ret_len = e->size;
        return 0;
}

/* The version's tree and its stack.yaml. */
static int load_version(struct store *s, const struct version_info *v, struct tree *t, struct manifest **ret,
                        struct error *err)
{
        char *text = NULL;
        size_t len = 0;
        int r = index_load_tree(store_index(s), &v->tree, t, err);

        if (r == 0)
                r = read_tree_file(s, t, "stack.yaml", MANIFEST_MAX_SIZE, &text, &len, err);
        if (r == 0)
                r = manifest_parse(text, len, ret, NULL, NULL, err);
        free(text);
        return r;
}

/* "NAME (sha256:FP16)" (fetch/sign.h) into its name and fingerprint. */
static void signer_json(json_t *o, const char *signer)
{
        const char *fp = signer ? strstr(signer, " (sha256:") : NULL;
        size_t n = fp ? (size_t)(fp - signer) : signer ? strlen(signer) : 0;

        json_object_set_new(o, "signer", signer ? json_stringn(signer, n) : json_null());
        if (fp && fp[strlen(fp) - 1] == ')')
                json_object_set_new(o, "fingerprint", json_stringn(fp + 2, strlen(fp) - 3));
        else
                json_object_set_new(o, "fingerprint", json_null());
}

/* stack.yaml `permissions` the policy knows, each with whether the person granted it to the stack already. */
static int permissions_json(struct store *s, const char *slug, const struct manifest *m, json_t **ret,
                            struct error *err)
{
        json_t *list = json_array(), *declared = NULL, *v;
        const char *k;
        unsigned granted = 0;
        int r = allows_get(s, slug, &granted, err);

        if (r == 0 && m->permissions_yaml)
                declared = json_loads(m->permissions_yaml, 0, NULL);
        json_object_foreach(declared, k, v)
        {
                unsigned bit = policy_perm_from_name(k);
                if (bit && !json_is_false(v) && !json_is_null(v))
                        json_array_append_new(list, json_pack("{s:s, s:b}", "name", policy_perm_name(bit), "granted",
                                                              (granted & bit) != 0));
        }
        json_decref(declared);
        *ret = list;
        return r;
}

static bool engine_has(struct engine *e, const char *ref)
{
        bool have = false;

        return e && ref && engine_image_exists(e, ref, &have, NULL) == 0 && have;
}

static void image_add(json_t *images, const char *ref, json_t *size, bool cached, const char *source)
{
        json_array_append_new(images, json_pack("{s:s, s:o, s:b, s:s}", "ref", ref, "size", size, "cached", cached,
                                                "source", source));
}

/* The images the compose file names that neither an archive nor a pin covers (regimages_needed(), which reads a
 * file: the compose file's bytes go to a memfd): pulled as the run starts, cached (with the Engine's size for
 * them) when the Engine has them. */
static int compose_images(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                          json_t *images, struct error *err)
{
        const char *const *names = manifest_compose_candidates();
        const char *name = v->compose;
        char **known = NULL, **refs = NULL, *text = NULL, path[64];
        size_t len = 0, i;
        json_t *img;
        int fd = -1, r = 0;

        for (i = 0; !name && names[i]; i++)
                if (tree_find(t, names[i]))
                        name = names[i];
        if (!name || read_tree_file(s, t, name, 4u << 20, &text, &len, NULL) < 0) {
                free(text);
                return 0; /* no compose file to read: the run says so */
        }
        json_array_foreach(images, i, img)
        {
                char *const one[] = {(char *)json_string_value(json_object_get(img, "ref")), NULL};
                if (r == 0 && strv_extend(&known, one) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        fd = r == 0 ? memfd_create("stack-approval", MFD_CLOEXEC) : -1;
        if (r == 0 && (fd < 0 || fs_write_all(fd, text, len) < 0))
                r = error_errno(err, STACK_EFAIL, errno, "memfd");
        if (r == 0) {
                snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                if (regimages_needed(path, known, &refs, NULL) < 0)
                        refs = NULL; /* a compose file the policy refuses: the run says why */
        }
        for (i = 0; r == 0 && refs && refs[i]; i++) {
                struct engine_image_info info = {0};
                bool have = e && engine_image_inspect(e, refs[i], &info, NULL) == 0 && info.id[0];
                image_add(images, refs[i], have ? json_integer((json_int_t)info.size) : json_null(), have, "compose");
                engine_image_info_release(&info);
        }
        if (fd >= 0)
                close(fd);
        strv_free(refs);
        strv_free(known);
        free(text);
        return r;
}

/* The bundle's image archives (each image with the bytes of its layers), the registry images pinned to it and
 * the compose file's others. */
static int images_json(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                       json_t *images, struct error *err)
{
        struct version_image *pins = NULL;
        size_t n = 0, i, k;
        json_t *img, *layer;
        int r = 0;

        for (size_t f = 0; f < t->n && r == 0; f++) {
                json_t *d = NULL;
                if (!t->v[f].recipe)
                        continue;
                r = ia_describe(s, &t->v[f].recipe->digest, &d, err);
                json_array_foreach(json_object_get(d, "images"), i, img)
                {
                        json_t *tags = json_object_get(img, "tags");
                        json_int_t bytes = 0;
                        json_array_foreach(json_object_get(img, "layers"), k, layer) bytes +=
                                json_integer_value(json_object_get(layer, "size"));
                        image_add(images,
                                  json_array_size(tags) ? json_string_value(json_array_get(tags, 0)) : t->v[f].path,
                                  json_integer(bytes), true, "bundle");
                }
                if (r == 0 && !json_array_size(json_object_get(d, "images")))
                        image_add(images, t->v[f].path, json_integer((json_int_t)t->v[f].size), true, "bundle");
                json_decref(d);
        }
        if (r == 0)
                r = index_version_images(store_index(s), v->id, &pins, &n, err);
        for (i = 0; r == 0 && i < n; i++)
                image_add(images, pins[i].ref, json_integer((json_int_t)pins[i].size),
                          pins[i].stored || engine_has(e, pins[i].image_id), "registry");
        version_images_free(pins, n);
        return r < 0 ? r : compose_images(s, e, v, t, images, err);
}

static json_t *ports_json(const struct manifest *m)
{
        json_t *list = json_array();

        for (size_t i = 0; i < m->n_ports; i++)
                json_array_append_new(list, json_pack("{s:s, s:i, s:s?}", "service", m->ports[i].service, "port",
                                                      (int)m->ports[i].port, "label", m->ports[i].label));
        return list;
}

/* What each container gets: the person's limits, lowered by stack.yaml `resources`. */
static int limits_json(struct store *s, const struct manifest *m, json_t **ret, struct error *err)
{
        const struct manifest_resources *want = &m->resources;
        struct policy_limits l;
        int r = policy_limits_load(store_home(s), &l, err);

        if (r < 0)
                return r;
        if (want->cpus > 0 && want->cpus < l.cpus)
                l.cpus = want->cpus;
        if (want->memory && want->memory < l.memory)
                l.memory = want->memory;
        if (want->pids && want->pids < l.pids)
                l.pids = want->pids;
        *ret = json_pack("{s:f, s:I, s:i, s:{s:o, s:o, s:o}}", "cpus", l.cpus, "memory", (json_int_t)l.memory, "pids",
                         (int)l.pids, "requested", "cpus", want->cpus > 0 ? json_real(want->cpus) : json_null(),
                         "memory", want->memory ? json_integer((json_int_t)want->memory) : json_null(), "pids",
                         want->pids ? json_integer(want->pids) : json_null());
        return 0;
}

int approval_describe(struct store *s, struct engine *e, const char *ref, json_t **ret, struct error *err)
{
        struct error miss = ERROR_INIT; /* not in the store: no failure */
        struct version_info v = {0};
        struct manifest *m = NULL;
        struct tree t;
        json_t *o, *perms = NULL, *limits = NULL, *images = json_array(), *addresses = json_array();
        char url[512];
        int r;

        if (!s || !ref || !ret)
                return -EINVAL;
        tree_init(&t);
        r = index_resolve_ref(store_index(s), ref, &v, &miss);
        if (r < 0 && r != -STACK_ENOTFOUND && err && !err->code)
                *err = miss;
        if (r == -STACK_ENOTFOUND) {
                json_decref(images);
                json_decref(addresses);
                *ret = json_pack("{s:b}", "in_store", 0);
                return *ret ? 0 : error_set(err, STACK_EFAIL, "out of memory");
        }
        if (r == 0)
                r = load_version(s, &v, &t, &m, err);
        if (r == 0)
                r = permissions_json(s, v.slug, m, &perms, err);
        if (r == 0)
                r = images_json(s, e, &v, &t, images, err);
        if (r == 0)
                r = limits_json(s, m, &limits, err);
        if (r == 0 && proxy_address(v.slug, url, sizeof url) == 0)
                json_array_append_new(addresses, json_string(url));
        o = r < 0 ? NULL
                  : json_pack("{s:b, s:s, s:s?, s:b, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:b}", "in_store", 1, "version",
                              v.version, "name", v.name, "insecure", v.insecure, "permissions", perms, "images", images,
                              "ports", ports_json(m), "addresses", addresses, "limits", limits, "size",
                              (json_int_t)v.size, "image_bytes", (json_int_t)v.image_bytes, "icon", m->icon != NULL);
        if (r < 0) {
                json_decref(perms);
                json_decref(images);
                json_decref(addresses);
                json_decref(limits);
        } else if (!o) {
                r = error_set(err, STACK_EFAIL, "out of memory");
        } else {
                signer_json(o, v.signer);
                *ret = o;
        }
        manifest_free(m);
        tree_release(&t);
        version_info_release(&v);
        return r;
}

void approval_summary(const json_t *a, char *buf, size_t size)
{
        const char *signer = json_string_value(json_object_get(a, "signer"));
        const char *fp = json_string_value(json_object_get(a, "fingerprint"));
        json_t *perms = json_object_get(a, "permissions"), *p;
        size_t used, i;

        if (!json_is_true(json_object_get(a, "in_store"))) {
                snprintf(buf, size, "not in the store yet: fetched once approved");
                return;
        }
        used = (size_t)snprintf(buf, size, "%s%s%s%s", signer ? "signed by " : "unsigned", signer ? signer : "",
                                fp ? " " : "", fp ? fp : "");
        if (!json_array_size(perms) && used < size)
                used += (size_t)snprintf(buf + used, size - used, "; no permission beyond the sandbox");
        json_array_foreach(perms, i, p) if (used < size) used +=
                (size_t)snprintf(buf + used, size - used, "%s%s%s", i ? ", " : "; asks for ",
                                 json_string_value(json_object_get(p, "name")),
                                 json_is_true(json_object_get(p, "granted")) ? " (granted)" : "");
}

/* The content type of an icon, from its name's extension. */
static const char *icon_type(const char *path)
{
        static const struct {
                const char *ext, *type;
        } types[] = {{".png", "image/png"},
                     {".svg", "image/svg+xml"},
                     {".jpg", "image/jpeg"},
                     {".jpeg", "image/jpeg"},
                     {".webp", "image/webp"}};
        size_t n = strlen(path);

        for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
                size_t k = strlen(types[i].ext);
                if (n > k && !strcasecmp(path + n - k, types[i].ext))
                        return types[i].type;
        }
        return NULL;
}

int approval_icon(struct store *s, const char *slug, char **ret_data, size_t *ret_len, const char **ret_type,
                  struct error *err)
{
        struct version_info *v = NULL;
        struct manifest *m = NULL;
        struct tree t;
        char path[TREE_MAX_PATH + 1];
        size_t n = 0;
        int r = index_list_versions(store_index(s), slug, &v, &n, err);

        tree_init(&t);
        if (r == 0 && n == 0)
                r = error_set(err, STACK_ENOTFOUND, "no stack '%s' in the store", slug);
        if (r == 0)
                r = load_version(s, &v[0], &t, &m, err); /* newest first */
        if (r == 0 && (!m->icon || strstr(m->icon, "://") || !icon_type(m->icon)))
                r = error_set(err, STACK_ENOTFOUND, "%s has no icon in its bundle (png, svg, jpg, webp)", slug);
        if (r == 0 && tree_path_normalize(m->icon, path, NULL) < 0)
                r = error_set(err, STACK_ENOTFOUND, "%s: its icon's path is not one inside the bundle", slug);
        if (r == 0)
                r = read_tree_file(s, &t, path, APPROVAL_ICON_MAX, ret_data, ret_len, err);
        if (r == 0)
                *ret_type = icon_type(path);
        manifest_free(m);
        tree_release(&t);
        version_list_free(v, n);
        return r;
}
