/* policy-override.c - the override file compose reads beside the compose file (compose.override.yml and the
 * other three names), merged into the main document before it is checked, the way compose merges a second -f
 * file: stack runs compose with -f <effective file>, so compose itself never reads the override. The merged
 * document goes through the policy as one, so an override cannot add what the main file could not.
 *
 * Merge rules (compose specification, "Merge"): mappings are merged key by key and the override wins on a
 * scalar; sequences are appended, equal items once; command, entrypoint and healthcheck's keys are replaced;
 * environment, labels, args, extra_hosts, sysctls and annotations are merged by variable/label name whether
 * written as a mapping or a "K=V" list; a service's volumes (and devices) are unique by container path,
 * its secrets and configs by source; depends_on and networks mix list and mapping forms; `!reset` drops a
 * key and `!override` replaces it. The main file's own tags were resolved when it was read (policy_parse_yaml()); the
 * override's are only checked when it is read, used by the merge, and what is left of them in what it added is
 * resolved on the merged document (policy_tags()), so the document checked carries no tags.
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/fsutil.h"

/* compose-go's DefaultOverrideFileNames, in its order: the first one present is read. */
static const char *const override_names[] = {
        "compose.override.yml",
        "compose.override.yaml",
        "docker-compose.override.yml",
        "docker-compose.override.yaml",
};

enum merge_ctx {
        CTX_PLAIN,
        CTX_TOP,
        CTX_SERVICES,
        CTX_SERVICE,
};

static bool is_keyed(const struct yamltree_node *k)
{
        return yamltree_text_is(k, "environment") || yamltree_text_is(k, "labels") || yamltree_text_is(k, "args") ||
               yamltree_text_is(k, "extra_hosts") || yamltree_text_is(k, "sysctls") ||
               yamltree_text_is(k, "annotations");
}

/* The name a "K=V" (or "host:ip" for extra_hosts) item or a mapping key stands for. */
static size_t item_key(const struct yamltree_node *item, bool hosts)
{
        return strcspn(item->text, hosts ? "=:" : "=");
}

/* list <- "K=V" strings from a mapping (a null value is "K", as compose reads it). */
static int map_to_list(const struct yamltree_node *m, struct yamltree_node **ret, bool hosts)
{
        struct yamltree_node *l = yamltree_node_new(YAMLTREE_SEQ);
        size_t i;

        if (!l)
                return -ENOMEM;
        for (i = 0; i + 1 < m->n; i += 2) {
                const struct yamltree_node *k = m->items[i], *v = m->items[i + 1];
                struct yamltree_node *s;
                char *text;

                if (!yamltree_is_scalar(k) || (v->kind != YAMLTREE_SCALAR))
                        continue;
                text = policy_is_null(v) ? policy_concat3(k->text, "", 0, "")
                                         : policy_concat3(k->text, hosts ? ":" : "=", 1, v->text);
                s = text ? yamltree_scalar_new(text, strlen(text), YAML_DOUBLE_QUOTED_SCALAR_STYLE) : NULL;
                free(text);
                if (!s || yamltree_append(l, s) < 0) {
                        yamltree_free(s);
                        yamltree_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static ssize_t list_find_key(const struct yamltree_node *l, const char *key, size_t klen, bool hosts)
{
        size_t i;

        for (i = 0; i < l->n; i++) {
                const struct yamltree_node *it = l->items[i];

                if (yamltree_is_scalar(it) && item_key(it, hosts) == klen && memcmp(it->text, key, klen) == 0)
                        return (ssize_t)i;
        }
        return -1;
}

/* environment, labels ...: by name, the override's value wins. */
static int merge_keyed(struct yamltree_node *dst, const struct yamltree_node *src, bool hosts)
{
        struct yamltree_node *conv = NULL;
        size_t i;
        int r = 0;

        if (dst->kind == YAMLTREE_MAP && src->kind == YAMLTREE_MAP) {
                for (i = 0; i + 1 < src->n && r == 0; i += 2)
                        if (yamltree_is_scalar(src->items[i]))
                                r = yamltree_map_set(dst, src->items[i]->text, src->items[i]->style,
                                                     yamltree_copy(src->items[i + 1]));
                return r;
        }
        if (dst->kind == YAMLTREE_MAP) { /* a list onto a mapping: each "K=V" becomes K: V */
                for (i = 0; i < src->n && r == 0; i++) {
                        const struct yamltree_node *it = src->items[i];
                        size_t kl;
                        char *key;

                        if (!yamltree_is_scalar(it))
                                continue;
                        kl = item_key(it, hosts);
                        key = strndup(it->text, kl);
                        if (!key)
                                return -ENOMEM;
                        if (kl < it->len)
                                r = yamltree_map_set(dst, key, YAML_PLAIN_SCALAR_STYLE,
                                                     yamltree_scalar_new(it->text + kl + 1, it->len - kl - 1,
                                                                         YAML_DOUBLE_QUOTED_SCALAR_STYLE));
                        else
                                r = yamltree_map_set(dst, key, YAML_PLAIN_SCALAR_STYLE,
                                                     yamltree_scalar_new("", 0, YAML_PLAIN_SCALAR_STYLE));
                        free(key);
                }
                return r;
        }
        if (src->kind == YAMLTREE_MAP) {
                r = map_to_list(src, &conv, hosts);
                if (r < 0)
                        return r;
                src = conv;
        }
        for (i = 0; i < src->n && r == 0; i++) {
                const struct yamltree_node *it = src->items[i];
                struct yamltree_node *c = yamltree_copy(it);
                ssize_t at = yamltree_is_scalar(it) ? list_find_key(dst, it->text, item_key(it, hosts), hosts) : -1;

                if (!c) {
                        r = -ENOMEM;
                } else if (at >= 0) {
                        yamltree_free(dst->items[at]);
                        dst->items[at] = c;
                } else if (yamltree_append(dst, c) < 0) {
                        yamltree_free(c);
                        r = -ENOMEM;
                }
        }
        yamltree_free(conv);
        return r;
}

/* A service's volume or device: its container path; a secret or config: its source. */
static bool unique_id(const struct yamltree_node *it, bool by_source, const char **ret, size_t *ret_len)
{
        size_t first = 0, last[2] = {0, 0}, n;

        if (it->kind == YAMLTREE_MAP) {
                const struct yamltree_node *v = yamltree_map_get(it, by_source ? "source" : "target");

                if (!yamltree_is_scalar(v))
                        return false;
                *ret = v->text;
                *ret_len = v->len;
                return true;
        }
        if (!yamltree_is_scalar(it))
                return false;
        if (by_source) {
                *ret = it->text;
                *ret_len = it->len;
                return true;
        }
        n = policy_split_colons(it->text, it->len, &first, last);
        if (n == 0) {
                *ret = it->text;
                *ret_len = it->len;
        } else {
                *ret = it->text + first + 1;
                *ret_len = (n >= 2 ? last[1] : it->len) - first - 1;
        }
        return true;
}

static int merge_unique(struct yamltree_node *dst, const struct yamltree_node *src, bool by_source)
{
        size_t i, j;

        for (i = 0; i < src->n; i++) {
                const struct yamltree_node *it = src->items[i];
                struct yamltree_node *c;
                const char *id, *id2;
                size_t len, len2;
                ssize_t at = -1;

                if (unique_id(it, by_source, &id, &len))
                        for (j = 0; j < dst->n && at < 0; j++)
                                if (unique_id(dst->items[j], by_source, &id2, &len2) && len == len2 &&
                                    memcmp(id, id2, len) == 0)
                                        at = (ssize_t)j;
                c = yamltree_copy(it);
                if (!c)
                        return -ENOMEM;
                if (at >= 0) {
                        yamltree_free(dst->items[at]);
                        dst->items[at] = c;
                } else if (yamltree_append(dst, c) < 0) {
                        yamltree_free(c);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* Sequences in general: appended, an item already there once. */
int policy_merge_append(struct yamltree_node *dst, const struct yamltree_node *src)
{
        size_t i, j;

        for (i = 0; i < src->n; i++) {
                struct yamltree_node *c;
                bool dup = false;

                for (j = 0; j < dst->n && !dup; j++)
                        dup = yamltree_equal(dst->items[j], src->items[i]);
                if (dup)
                        continue;
                c = yamltree_copy(src->items[i]);
                if (!c || yamltree_append(dst, c) < 0) {
                        yamltree_free(c);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* depends_on / networks as a list of names -> the mapping form. */
static int names_to_map(struct yamltree_node *l, bool depends)
{
        struct yamltree_node **items = l->items;
        size_t i, n = l->n;
        int r = 0;

        l->items = NULL;
        l->n = l->cap = 0;
        l->kind = YAMLTREE_MAP;
        l->style = YAML_ANY_MAPPING_STYLE;
        for (i = 0; i < n; i++) {
                struct yamltree_node *v = NULL;

                if (r == 0 && yamltree_is_scalar(items[i])) {
                        if (depends) {
                                v = yamltree_node_new(YAMLTREE_MAP);
                                if (v && yamltree_map_set_text(v, "condition", "service_started",
                                                               YAML_PLAIN_SCALAR_STYLE) < 0) {
                                        yamltree_free(v);
                                        v = NULL;
                                }
                        } else {
                                v = yamltree_scalar_new("", 0, YAML_PLAIN_SCALAR_STYLE);
                        }
                        r = yamltree_map_set(l, items[i]->text, items[i]->style, v);
                }
                yamltree_free(items[i]);
        }
        free(items);
        return r;
}

static int merge_map(struct yamltree_node *dst, const struct yamltree_node *src, enum merge_ctx ctx);

static int merge_value(struct yamltree_node *dst, const struct yamltree_node *k, const struct yamltree_node *src,
                       enum merge_ctx ctx)
{
        struct yamltree_node *d = yamltree_map_get(dst, k->text), *c;
        int r;

        if (yamltree_tag_is(src, "!reset")) {
                yamltree_map_del(dst, k->text, false);
                return 0;
        }
        if (d && ctx == CTX_SERVICE && yamltree_text_is(k, "build") && d->kind == YAMLTREE_SCALAR &&
            src->kind == YAMLTREE_MAP) { /* build: . + build: {dockerfile: X} */
                c = yamltree_node_new(YAMLTREE_MAP);
                if (!c || yamltree_map_set(c, "context", YAML_PLAIN_SCALAR_STYLE, yamltree_copy(d)) < 0 ||
                    merge_map(c, src, CTX_PLAIN) < 0) {
                        yamltree_free(c);
                        return -ENOMEM;
                }
                return yamltree_map_set(dst, k->text, k->style, c);
        }
        if (d && ctx == CTX_SERVICE && (yamltree_text_is(k, "depends_on") || yamltree_text_is(k, "networks")) &&
            d->kind != src->kind && d->kind != YAMLTREE_SCALAR && src->kind != YAMLTREE_SCALAR) {
                bool depends = yamltree_text_is(k, "depends_on");

                if (d->kind == YAMLTREE_SEQ && (r = names_to_map(d, depends)) < 0)
                        return r;
                if (src->kind == YAMLTREE_SEQ) {
                        c = yamltree_copy(src);
                        if (!c || names_to_map(c, depends) < 0) {
                                yamltree_free(c);
                                return -ENOMEM;
                        }
                        r = merge_map(d, c, CTX_PLAIN);
                        yamltree_free(c);
                        return r;
                }
        }
        if (d && is_keyed(k) && !yamltree_tag_is(src, "!override") && d->kind != YAMLTREE_SCALAR &&
            src->kind != YAMLTREE_SCALAR)
                return merge_keyed(d, src, yamltree_text_is(k, "extra_hosts"));
        if (!d || yamltree_tag_is(src, "!override") || d->kind != src->kind || src->kind == YAMLTREE_SCALAR ||
            (ctx == CTX_SERVICE && (yamltree_text_is(k, "command") || yamltree_text_is(k, "entrypoint")))) {
                c = yamltree_copy(src);
                if (c && yamltree_tag_is(c, "!override")) {
                        free(c->tag);
                        c->tag = NULL;
                }
                return yamltree_map_set(dst, k->text, k->style, c);
        }
        if (src->kind == YAMLTREE_MAP) {
                enum merge_ctx sub = CTX_PLAIN;

                if (ctx == CTX_TOP && yamltree_text_is(k, "services"))
                        sub = CTX_SERVICES;
                else if (ctx == CTX_SERVICES)
                        sub = CTX_SERVICE;
                if (ctx == CTX_SERVICE && yamltree_text_is(k, "healthcheck")) { /* test and the rest: replaced */
                        size_t i;

                        for (i = 0; i + 1 < src->n; i++, i++)
                                if (yamltree_is_scalar(src->items[i]) &&
                                    (r = yamltree_map_set(d, src->items[i]->text, src->items[i]->style,
                                                          yamltree_copy(src->items[i + 1]))) < 0)
                                        return r;
                        return 0;
                }
                return merge_map(d, src, sub);
        }
        if (ctx == CTX_SERVICE && (yamltree_text_is(k, "volumes") || yamltree_text_is(k, "devices")))
                return merge_unique(d, src, false);
        if (ctx == CTX_SERVICE && (yamltree_text_is(k, "secrets") || yamltree_text_is(k, "configs")))
                return merge_unique(d, src, true);
        return policy_merge_append(d, src);
}

static int merge_map(struct yamltree_node *dst, const struct yamltree_node *src, enum merge_ctx ctx)
{
        size_t i;
        int r;

        for (i = 0; i + 1 < src->n; i += 2) {
                if (!yamltree_is_scalar(src->items[i]))
                        continue;
                r = merge_value(dst, src->items[i], src->items[i + 1], ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_merge_definition(struct yamltree_node *base, const struct yamltree_node *over, bool service)
{
        if (base->kind != YAMLTREE_MAP || over->kind != YAMLTREE_MAP)
                return 0;
        return merge_map(base, over, service ? CTX_SERVICE : CTX_PLAIN);
}

/* The names the main file defines itself: an included file may not define them again, but it may be what an
 * override's partial definition applies to. */
static int record_names(struct apply *a, const struct yamltree_node *root)
{
        static const char *const sections[] = {"services", "volumes", "networks", "configs", "secrets"};
        char name[PATH_MAX];
        size_t s, i;

        for (s = 0; s < COUNT(sections); s++) {
                const struct yamltree_node *sec = yamltree_map_get(root, sections[s]);

                for (i = 0; sec && sec->kind == YAMLTREE_MAP && i + 1 < sec->n; i += 2) {
                        int n = snprintf(name, sizeof name, "%s/%s", sections[s], sec->items[i]->text);

                        if (n < (int)sizeof name && policy_strv_add(&a->main_names, name, (size_t)n) < 0)
                                return policy_oom(a->err);
                }
        }
        return 0;
}

int policy_merge_override(struct apply *a, const char *rel, struct yamltree_node *root)
{
        char dir[PATH_MAX], orel[PATH_MAX], path[PATH_MAX], *data = NULL;
        struct yamltree_node *ovr = NULL;
        const struct tree_entry *e = NULL;
        size_t i, len = 0;
        int r;

        r = record_names(a, root);
        if (r < 0)
                return r;
        policy_path_dirname(rel, dir, sizeof dir);
        for (i = 0; i < COUNT(override_names) && !e; i++) {
                if (snprintf(orel, sizeof orel, "%s%s%s", dir, *dir ? "/" : "", override_names[i]) >= (int)sizeof orel)
                        return error_set(a->err, STACK_EREJECT, "%s: path too long", rel);
                e = tree_find(a->in->tree, orel);
                if (e && e->type != ENTRY_FILE)
                        e = NULL;
        }
        if (!e)
                return 0;
        if (fs_path(path, sizeof path, "%s/%s", a->in->run_dir, orel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: path too long", orel);
        r = fs_read_file(path, POLICY_MAX_SIZE, &data, &len);
        if (r == -EFBIG)
                return error_set(a->err, STACK_EREJECT, "%s: larger than %d bytes", orel, POLICY_MAX_SIZE);
        if (r < 0)
                return error_errno(a->err, STACK_EFAIL, r, "cannot read %s", path);
        r = policy_parse_yaml_tags(orel, data, len, false, &ovr, a->err); /* its !reset/!override are the merge's */
        free(data);
        if (r < 0)
                return r;
        if (ovr->kind != YAMLTREE_MAP || root->kind != YAMLTREE_MAP)
                r = error_set(a->err, STACK_EREJECT, "%s: the top level is a %s, expected a mapping", orel,
                              yamltree_kind_name(ovr));
        else if (merge_map(root, ovr, CTX_TOP) < 0)
                r = policy_oom(a->err);
        yamltree_free(ovr);
        if (r == 0) /* the tags the override brought in with what it added (a new service's `!reset` ...) */
                r = policy_tags(orel, root, true, a->err);
        return r;
}
