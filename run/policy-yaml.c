/* policy-yaml.c - the compose document as a tree (base/yamltree.h): what a node is (null, false, a
 * variable ...), editing it (map_get/map_set/map_del, scalars replaced in place), string lists, and the
 * bounded parse in (tags checked and resolved by policy_tags(), policy-keys.c) and the emit out (libyaml, no
 * tags, anchors or aliases, at most POLICY_MAX_OUTPUT bytes).
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

int strv_add(struct strv *s, const char *str, size_t len)
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

bool strv_has(const struct strv *s, const char *str, size_t len)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                if (strlen(s->v[i]) == len && memcmp(s->v[i], str, len) == 0)
                        return true;
        return false;
}

void strv_release(struct strv *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        memset(s, 0, sizeof *s);
}

/* The list as a NULL-terminated array (an empty one when nothing was added); the strv is emptied. */
char **strv_steal(struct strv *s)
{
        char **v = s->v;

        if (!v)
                v = calloc(1, sizeof *v);
        memset(s, 0, sizeof *s);
        return v;
}

void strv_free(char **v)
{
        size_t i;

        for (i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

/* A value quoted in a message: at most ~60 bytes, control characters shown as '?'. */
const char *show(const char *s, size_t len, char *buf, size_t size)
{
        return yamltree_show(s, len, buf, size);
}

const char *kind_name(const struct yamltree_node *n)
{
        return n->kind == YAMLTREE_SCALAR ? "scalar" : n->kind == YAMLTREE_SEQ ? "list" : "mapping";
}

bool is_scalar(const struct yamltree_node *n)
{
        return n && n->kind == YAMLTREE_SCALAR;
}

bool tag_is(const struct yamltree_node *n, const char *tag)
{
        return n->tag && strcmp(n->tag, tag) == 0;
}

/* Absent (NULL: the key is not there) or a YAML null (yamltree_is_null). */
bool is_null(const struct yamltree_node *n)
{
        return !n || yamltree_is_null(n);
}

bool text_is(const struct yamltree_node *n, const char *s)
{
        return is_scalar(n) && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

bool text_is_ci(const struct yamltree_node *n, const char *s)
{
        return is_scalar(n) && n->len == strlen(s) && strncasecmp(n->text, s, n->len) == 0;
}

/* Compose interpolates $NAME and ${...}; $$ is a literal '$'. */
bool has_var(const char *s, size_t len)
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

bool node_has_var(const struct yamltree_node *n)
{
        return is_scalar(n) && has_var(n->text, n->len);
}

/* A value compose reads as false, or no value at all. Anything else (true, yes, a variable ...) is not. */
bool is_false(const struct yamltree_node *n)
{
        static const char *const falses[] = {"false", "no", "off", "0"};
        size_t i;

        if (is_null(n))
                return true;
        for (i = 0; i < COUNT(falses); i++)
                if (text_is_ci(n, falses[i]))
                        return true;
        return false;
}

/* A list or mapping with something in it, or any scalar that is not null (`gpus: all`, a variable ...). */
bool non_empty(const struct yamltree_node *n)
{
        if (is_null(n))
                return false;
        return n->kind == YAMLTREE_SCALAR || n->n > 0;
}

struct yamltree_node *node_new(enum yamltree_kind kind)
{
        struct yamltree_node *n = calloc(1, sizeof *n);

        if (n)
                n->kind = kind;
        return n;
}

struct yamltree_node *scalar_new(const char *text, size_t len, int style)
{
        struct yamltree_node *n = node_new(YAMLTREE_SCALAR);

        if (!n)
                return NULL;
        n->text = strndup(text, len);
        if (!n->text) {
                free(n);
                return NULL;
        }
        n->len = len;
        n->style = style;
        return n;
}

void scalar_replace(struct yamltree_node *n, char *text, int style)
{
        free(n->text);
        free(n->tag);
        n->tag = NULL;
        n->text = text;
        n->len = strlen(text);
        n->style = style;
        n->mark = 0; /* the caller's text: not a resolved value to escape */
}

int node_append(struct yamltree_node *parent, struct yamltree_node *n)
{
        if (parent->n == parent->cap) {
                size_t cap = parent->cap ? parent->cap * 2 : 8;
                struct yamltree_node **items = realloc(parent->items, cap * sizeof *items);

                if (!items)
                        return -ENOMEM;
                parent->items = items;
                parent->cap = cap;
        }
        parent->items[parent->n++] = n;
        return 0;
}

static ssize_t map_index(const struct yamltree_node *m, const char *key)
{
        size_t i;

        if (!m || m->kind != YAMLTREE_MAP)
                return -1;
        for (i = 0; i + 1 < m->n; i += 2)
                if (text_is(m->items[i], key))
                        return (ssize_t)i;
        return -1;
}

struct yamltree_node *map_get(const struct yamltree_node *m, const char *key)
{
        ssize_t i = map_index(m, key);

        return i < 0 ? NULL : m->items[i + 1];
}

/* Set key to v (owned from here on, also on failure), replacing what was there. */
int map_set(struct yamltree_node *m, const char *key, int key_style, struct yamltree_node *v)
{
        ssize_t i = map_index(m, key);
        struct yamltree_node *k;

        if (!v)
                return -ENOMEM;
        if (i >= 0) {
                yamltree_free(m->items[i + 1]);
                m->items[i + 1] = v;
                return 0;
        }
        k = scalar_new(key, strlen(key), key_style);
        if (!k || node_append(m, k) < 0) {
                yamltree_free(k);
                yamltree_free(v);
                return -ENOMEM;
        }
        if (node_append(m, v) < 0) {
                yamltree_free(m->items[--m->n]);
                yamltree_free(v);
                return -ENOMEM;
        }
        return 0;
}

int map_set_text(struct yamltree_node *m, const char *key, const char *text, int style)
{
        return map_set(m, key, YAML_PLAIN_SCALAR_STYLE, scalar_new(text, strlen(text), style));
}

/* Remove key (and free its value); returns the value instead when steal is set. */
struct yamltree_node *map_del(struct yamltree_node *m, const char *key, bool steal)
{
        ssize_t i = map_index(m, key);
        struct yamltree_node *v;

        if (i < 0)
                return NULL;
        v = m->items[i + 1];
        yamltree_free(m->items[i]);
        memmove(m->items + i, m->items + i + 2, (m->n - (size_t)i - 2) * sizeof *m->items);
        m->n -= 2;
        if (steal)
                return v;
        yamltree_free(v);
        return NULL;
}

/* A list or mapping we add to: policy_tags() already removed a `!reset` node and dropped `!override`, so there is
 * no tag left that could drop what we add; should one be there, a `!reset` one is emptied (what compose would
 * have read) and the tag dropped. The effective file carries no tags. */
int prepare_append(struct yamltree_node *n)
{
        size_t i;

        if (!n->tag)
                return 0;
        if (tag_is(n, "!reset")) {
                for (i = 0; i < n->n; i++)
                        yamltree_free(n->items[i]);
                n->n = 0;
        }
        free(n->tag);
        n->tag = NULL;
        return 0;
}

char *concat3(const char *a, const char *b, size_t blen, const char *c)
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
char *escape_dollars(const char *s)
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

int oom(struct error *err)
{
        return error_set(err, STACK_EFAIL, "out of memory");
}

int parse_yaml(const char *name, const char *data, size_t len, struct yamltree_node **ret, struct error *err)
{
        return parse_yaml_tags(name, data, len, true, ret, err);
}

int parse_yaml_tags(const char *name, const char *data, size_t len, bool resolve, struct yamltree_node **ret,
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

/* libyaml's writer: 1 to go on, 0 to stop (the buf says why: toobig or oom). */
static int emit_write(void *data, unsigned char *buffer, size_t size)
{
        return buf_add(data, buffer, size) == 0;
}

static int emit_node(yaml_emitter_t *e, const struct yamltree_node *n)
{
        yaml_event_t ev;
        size_t i;
        int ok;

        if (n->tag) /* policy_tags() resolved every tag: one left is a bug, not something to pass on */
                return -2;

        if (n->kind == YAMLTREE_SCALAR) {
                const char *text = n->text;
                size_t len = n->len;

                /* an empty plain scalar is a null; in a flow collection libyaml would write '' (a string) */
                if (len == 0 && n->style == YAML_PLAIN_SCALAR_STYLE) {
                        text = "null";
                        len = 4;
                }
                ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1,
                                                  (yaml_scalar_style_t)n->style);
                return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
        }
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, (yaml_sequence_style_t)n->style);
        else
                ok = yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, (yaml_mapping_style_t)n->style);
        if (!ok || !yaml_emitter_emit(e, &ev))
                return -1;
        for (i = 0; i < n->n; i++) {
                int r = emit_node(e, n->items[i]);

                if (r < 0)
                        return r;
        }
        if (n->kind == YAMLTREE_SEQ)
                ok = yaml_sequence_end_event_initialize(&ev);
        else
                ok = yaml_mapping_end_event_initialize(&ev);
        return ok && yaml_emitter_emit(e, &ev) ? 0 : -1;
}

int emit_yaml(const char *name, const struct yamltree_node *root, char **ret, size_t *ret_len, struct error *err)
{
        struct buf b = BUF_INIT(POLICY_MAX_OUTPUT);
        yaml_emitter_t e;
        yaml_event_t ev;
        int r = 0, tagged = 0;

        if (!yaml_emitter_initialize(&e))
                return oom(err);
        yaml_emitter_set_output(&e, emit_write, &b);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_indent(&e, 2);
        yaml_emitter_set_width(&e, -1);
        yaml_emitter_set_break(&e, YAML_LN_BREAK);
        if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || !yaml_emitter_emit(&e, &ev) ||
            (tagged = emit_node(&e, root)) < 0 || !yaml_document_end_event_initialize(&ev, 1) ||
            !yaml_emitter_emit(&e, &ev) || !yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&e, &ev) ||
            !yaml_emitter_flush(&e)) {
                if (tagged == -2)
                        r = error_set(err, STACK_EFAIL, "%s: a YAML tag is left in the effective compose file", name);
                else if (b.toobig)
                        r = error_set(err, STACK_EREJECT, "%s: larger than %d bytes once aliases are expanded", name,
                                      POLICY_MAX_OUTPUT);
                else if (e.error == YAML_MEMORY_ERROR || (e.error == YAML_WRITER_ERROR && !b.toobig))
                        r = oom(err);
                else
                        r = error_set(err, STACK_EFAIL, "%s: cannot write the effective compose file: %s", name,
                                      e.problem ? e.problem : "emitter error");
        }
        yaml_emitter_delete(&e);
        if (r < 0 || !b.p) {
                buf_release(&b);
                return r < 0 ? r : oom(err);
        }
        *ret = b.p;
        *ret_len = b.len;
        return 0;
}

struct yamltree_node *node_copy(const struct yamltree_node *n)
{
        struct yamltree_node *c;
        size_t i;

        if (!n)
                return NULL;
        c = node_new(n->kind);
        if (!c)
                return NULL;
        c->style = n->style;
        c->line = n->line;
        c->len = n->len;
        if ((n->tag && !(c->tag = strdup(n->tag))) || (n->text && !(c->text = malloc(n->len + 1))))
                goto fail;
        if (n->text)
                memcpy(c->text, n->text, n->len + 1);
        for (i = 0; i < n->n; i++) {
                struct yamltree_node *item = node_copy(n->items[i]);

                if (!item || node_append(c, item) < 0) {
                        yamltree_free(item);
                        goto fail;
                }
        }
        return c;
fail:
        yamltree_free(c);
        return NULL;
}

bool node_equal(const struct yamltree_node *x, const struct yamltree_node *y)
{
        size_t i;

        if (!x || !y)
                return x == y;
        if (x->kind != y->kind || x->n != y->n)
                return false;
        if (x->kind == YAMLTREE_SCALAR)
                return x->len == y->len && memcmp(x->text, y->text, x->len) == 0 &&
                       yamltree_is_null(x) == yamltree_is_null(y);
        for (i = 0; i < x->n; i++)
                if (!node_equal(x->items[i], y->items[i]))
                        return false;
        return true;
}
