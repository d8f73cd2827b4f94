/* policy-yaml.c - the compose document as compose reads it (the tree itself, its nodes and edits, is
 * base/yamltree.h): what a node means (absent or null, false, a variable ...), string lists, and the bounded
 * parse in (tags checked and resolved by policy_tags(), policy-keys.c) and the emit out (libyaml, no tags,
 * anchors or aliases, at most POLICY_MAX_OUTPUT bytes).
 */
#include "policy-int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <yaml.h>

#include "base/buf.h"

int policy_strv_add(struct strv *s, const char *str, size_t len)
{
        char *copy;

        if (s->n + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = realloc(s->v, cap * sizeof *v);

                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        copy = strndup(str, len);
        if (!copy)
                return -ENOMEM;
        s->v[s->n++] = copy;
        s->v[s->n] = NULL;
        return 0;
}

bool policy_strv_has(const struct strv *s, const char *str, size_t len)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (strlen(s->v[i]) == len && memcmp(s->v[i], str, len) == 0)
                        return true;
        return false;
}

void policy_strv_release(struct strv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        memset(s, 0, sizeof *s);
}

/* The list as a NULL-terminated array (an empty one when nothing was added); the strv is emptied. */
char **policy_strv_steal(struct strv *s)
{
        char **v = s->v;

        if (!v)
                v = calloc(1, sizeof *v);
        memset(s, 0, sizeof *s);
        return v;
}

/* Absent (NULL: the key is not there) or a YAML null (yamltree_is_null). */
bool policy_is_null(const struct yamltree_node *n)
{
        return !n || yamltree_is_null(n);
}

/* Compose interpolates $NAME and ${...}; $$ is a literal '$'. */
bool policy_has_var(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                if (s[i] != '$')
                        continue;
                if (i + 1 < len && s[i + 1] == '$') {
                        i++;
                        continue;
                }
                return true;
        }
        return false;
}

bool policy_node_has_var(const struct yamltree_node *n)
{
        return yamltree_is_scalar(n) && policy_has_var(n->text, n->len);
}

/* A value compose reads as false, or no value at all. Anything else (true, yes, a variable ...) is not. */
bool policy_is_false(const struct yamltree_node *n)
{
        static const char *const falses[] = {"false", "no", "off", "0"};
        size_t i;

        if (policy_is_null(n))
                return true;
        for (i = 0; i < COUNT(falses); i++)
                if (yamltree_text_is_ci(n, falses[i]))
                        return true;
        return false;
}

/* A list or mapping with something in it, or any scalar that is not null (`gpus: all`, a variable ...). */
bool policy_non_empty(const struct yamltree_node *n)
{
        if (policy_is_null(n))
                return false;
        return n->kind == YAMLTREE_SCALAR || n->n > 0;
}

/* A list or mapping we add to: policy_tags() already removed a `!reset` node and dropped `!override`, so there is
 * no tag left that could drop what we add; should one be there, a `!reset` one is emptied (what compose would
 * have read) and the tag dropped. The effective file carries no tags. */
int policy_prepare_append(struct yamltree_node *n)
{
        size_t i;

        if (!n->tag)
                return 0;
        if (yamltree_tag_is(n, "!reset")) {
                for (i = 0; i < n->n; i++)
                        yamltree_free(n->items[i]);
                n->n = 0;
        }
        free(n->tag);
        n->tag = NULL;
        return 0;
}

char *policy_concat3(const char *a, const char *b, size_t blen, const char *c)
{
        size_t la = strlen(a), lc = strlen(c);
        char *out = malloc(la + blen + lc + 1);

        if (!out)
                return NULL;
        memcpy(out, a, la);
        memcpy(out + la, b, blen);
        memcpy(out + la + blen, c, lc + 1);
        return out;
}

/* compose interpolates bind sources: a '$' in a path of ours must be written "$$". */
char *policy_escape_dollars(const char *s)
{
        size_t i, o = 0, n = strlen(s);
        char *out = malloc(2 * n + 1);

        if (!out)
                return NULL;
        for (i = 0; i < n; i++) {
                out[o++] = s[i];
                if (s[i] == '$')
                        out[o++] = '$';
        }
        out[o] = 0;
        return out;
}

int policy_oom(struct error *err)
{
        return error_set(err, STACK_EFAIL, "out of memory");
}

int policy_parse_yaml(const char *name, const char *data, size_t len, struct yamltree_node **ret, struct error *err)
{
        return policy_parse_yaml_tags(name, data, len, true, ret, err);
}

int policy_parse_yaml_tags(const char *name, const char *data, size_t len, bool resolve, struct yamltree_node **ret,
                           struct error *err)
{
        const struct yamltree_opts opts = {
                .name = name,
                .limits = {.max_bytes = POLICY_MAX_SIZE,
                           .max_aliases = POLICY_MAX_ALIASES,
                           .max_nodes = POLICY_MAX_NODES,
                           .max_depth = POLICY_MAX_DEPTH,
                           .max_copy_depth = POLICY_MAX_COPY_DEPTH,
                           .max_copy_bytes = POLICY_MAX_COPY_BYTES},
                .aliases = YAMLTREE_ALIAS_COPY,
                .flags = YAMLTREE_MERGE,
        };

        struct yamltree_node *root = NULL;
        int r;

        r = yamltree_load(&opts, data, len, &root, err);
        if (r == 0)
                r = policy_tags(name, root, resolve, err);
        if (r < 0) {
                yamltree_free(root);
                return r;
        }
        *ret = root;
        return 0;
}

int policy_emit_yaml(const char *name, const struct yamltree_node *root, char **ret, size_t *ret_len, struct error *err)
{
        struct buf b = BUF_INIT(POLICY_MAX_OUTPUT);
        const char *problem = NULL;
        int r = yamltree_emit(root, true, &b, &problem);

        if (r == -EPROTO) /* policy_tags() resolved every tag: one left is a bug, not something to pass on */
                r = error_set(err, STACK_EFAIL, "%s: a YAML tag is left in the effective compose file", name);
        else if (r == -E2BIG)
                r = error_set(err, STACK_EREJECT, "%s: larger than %d bytes once aliases are expanded", name,
                              POLICY_MAX_OUTPUT);
        else if (r == -ENOMEM)
                r = policy_oom(err);
        else if (r < 0)
                r = error_set(err, STACK_EFAIL, "%s: cannot write the effective compose file: %s", name,
                              problem ? problem : "emitter error");
        if (r < 0 || !b.p) {
                buf_release(&b);
                return r < 0 ? r : policy_oom(err);
        }
        *ret = b.p;
        *ret_len = b.len;
        return 0;
}
