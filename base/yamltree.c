/* yamltree.c - libyaml events -> a bounded tree (see yamltree.h). */
#include "base/yamltree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <yaml.h>

struct anchor {
        char *name;
        const struct yamltree_node *node;
};

struct ctx {
        const struct yamltree_opts *o;
        struct error *err;
        size_t n_nodes, n_aliases, copy_bytes;
        struct anchor *anchors;
        size_t n_anchors, cap_anchors;
};

static int oom(struct ctx *c)
{
        if (c->o->flags & YAMLTREE_OOM_NAMED)
                return error_set(c->err, STACK_EFAIL, "%s: out of memory", c->o->name);
        return error_set(c->err, STACK_EFAIL, "out of memory");
}

void yamltree_free(struct yamltree_node *n)
{
        size_t i;

        if (!n)
                return;
        for (i = 0; i < n->n; i++)
                yamltree_free(n->items[i]);
        free(n->items);
        free(n->text);
        free(n->tag);
        free(n);
}

bool yamltree_is_null(const struct yamltree_node *n)
{
        static const char *const nulls[] = {"~", "null", "Null", "NULL"};
        size_t i;

        if (n && n->kind == YAMLTREE_ALIAS)
                n = n->target;
        if (!n || n->kind != YAMLTREE_SCALAR)
                return false;
        if (n->tag)
                return strcmp(n->tag, YAML_NULL_TAG) == 0;
        if (n->style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        if (n->len == 0)
                return true;
        for (i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
                if (n->len == strlen(nulls[i]) && memcmp(n->text, nulls[i], n->len) == 0)
                        return true;
        return false;
}

const char *yamltree_show(const char *s, size_t len, char *buf, size_t size)
{
        size_t i, o = 0;

        for (i = 0; i < len && o + 4 < size && o < 60; i++) {
                unsigned char ch = (unsigned char)s[i];

                buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
        }
        if (i < len) {
                /* do not cut a UTF-8 sequence in half */
                while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
                        o--;
                if (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
                        o--;
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = 0;
        return buf;
}

/* ---- anchors ---- */

static int anchor_add(struct ctx *c, const char *name, const struct yamltree_node *n)
{
        char *copy;

        if (c->n_anchors == c->cap_anchors) {
                size_t cap = c->cap_anchors ? c->cap_anchors * 2 : 8;
                struct anchor *a = realloc(c->anchors, cap * sizeof *a);

                if (!a)
                        return oom(c);
                c->anchors = a;
                c->cap_anchors = cap;
        }
        copy = strdup(name);
        if (!copy)
                return oom(c);
        c->anchors[c->n_anchors].name = copy;
        c->anchors[c->n_anchors++].node = n;
        return 0;
}

/* YAML lets an anchor be redefined; an alias refers to the latest definition before it. */
static const struct yamltree_node *anchor_find(const struct ctx *c, const char *name)
{
        size_t i;

        for (i = c->n_anchors; i > 0; i--)
                if (strcmp(c->anchors[i - 1].name, name) == 0)
                        return c->anchors[i - 1].node;
        return NULL;
}

/* ---- nodes ---- */

static int count_node(struct ctx *c, size_t line)
{
        if (++c->n_nodes <= c->o->limits.max_nodes)
                return 0;
        if (c->o->aliases == YAMLTREE_ALIAS_COPY)
                return error_set(c->err, STACK_EREJECT,
                                 "%s: too many YAML nodes (more than %zu, aliases expanded; line %zu)", c->o->name,
                                 c->o->limits.max_nodes, line);
        return error_set(c->err, STACK_EREJECT, "%s: too many YAML nodes (more than %zu)", c->o->name,
                         c->o->limits.max_nodes);
}

static int copy_counted(struct ctx *c, const struct yamltree_node *src, size_t depth, size_t line,
                        struct yamltree_node **ret)
{
        struct yamltree_node *n;
        size_t i;
        int r;

        r = count_node(c, line);
        if (r < 0)
                return r;
        if (depth > c->o->limits.max_copy_depth)
                return error_set(c->err, STACK_EREJECT,
                                 "%s: nested deeper than %zu levels once aliases are expanded (line %zu)", c->o->name,
                                 c->o->limits.max_copy_depth, line);
        n = calloc(1, sizeof *n);
        if (!n)
                return oom(c);
        n->kind = src->kind;
        n->style = src->style;
        n->line = src->line;
        if (src->tag && !(n->tag = strdup(src->tag)))
                goto nomem;
        if (src->kind == YAMLTREE_SCALAR) {
                c->copy_bytes += src->len;
                if (c->copy_bytes > c->o->limits.max_copy_bytes) {
                        yamltree_free(n);
                        return error_set(c->err, STACK_EREJECT,
                                         "%s: aliases copy more than %zu bytes of text (line %zu)", c->o->name,
                                         c->o->limits.max_copy_bytes, line);
                }
                n->text = malloc(src->len + 1);
                if (!n->text)
                        goto nomem;
                memcpy(n->text, src->text, src->len + 1);
                n->len = src->len;
        } else if (src->n > 0) {
                n->items = calloc(src->n, sizeof *n->items);
                if (!n->items)
                        goto nomem;
                n->cap = src->n;
                for (i = 0; i < src->n; i++) {
                        r = copy_counted(c, src->items[i], depth + 1, line, &n->items[i]);
                        if (r < 0) {
                                yamltree_free(n);
                                return r;
                        }
                        n->n++;
                }
        }
        *ret = n;
        return 0;
nomem:
        yamltree_free(n);
        return oom(c);
}

static struct yamltree_node *node_from_event(const yaml_event_t *ev, const struct yamltree_node *target)
{
        struct yamltree_node *n = calloc(1, sizeof *n);
        const char *tag = NULL;

        if (!n)
                return NULL;
        n->line = ev->start_mark.line + 1;
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                n->kind = YAMLTREE_SCALAR;
                n->text = malloc(ev->data.scalar.length + 1);
                if (!n->text) {
                        free(n);
                        return NULL;
                }
                memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
                n->text[ev->data.scalar.length] = 0;
                n->len = ev->data.scalar.length;
                n->style = ev->data.scalar.style;
                tag = (const char *)ev->data.scalar.tag;
                break;
        case YAML_SEQUENCE_START_EVENT:
                n->kind = YAMLTREE_SEQ;
                n->style = ev->data.sequence_start.style;
                tag = (const char *)ev->data.sequence_start.tag;
                n->open = true;
                break;
        case YAML_MAPPING_START_EVENT:
                n->kind = YAMLTREE_MAP;
                n->style = ev->data.mapping_start.style;
                tag = (const char *)ev->data.mapping_start.tag;
                n->open = true;
                break;
        default:
                n->kind = YAMLTREE_ALIAS;
                n->target = target;
                break;
        }
        if (tag && !(n->tag = strdup(tag))) {
                yamltree_free(n);
                return NULL;
        }
        return n;
}

static const char *event_anchor(const yaml_event_t *ev)
{
        switch (ev->type) {
        case YAML_SCALAR_EVENT: return (const char *)ev->data.scalar.anchor;
        case YAML_SEQUENCE_START_EVENT: return (const char *)ev->data.sequence_start.anchor;
        case YAML_MAPPING_START_EVENT: return (const char *)ev->data.mapping_start.anchor;
        default: return NULL;
        }
}

/* One node event (scalar, alias, sequence/mapping start): make the node (or copy the aliased one) and hang
 * it in the tree. */
static int tree_add(struct ctx *c, const yaml_event_t *ev, struct yamltree_node **stack, size_t *depth,
                    struct yamltree_node **root)
{
        const struct yamltree_limits *lim = &c->o->limits;
        bool copy = c->o->aliases == YAMLTREE_ALIAS_COPY;
        bool collection = ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT;
        const struct yamltree_node *target = NULL;
        size_t line = ev->start_mark.line + 1;
        const char *anchor;
        struct yamltree_node *n;
        int r;

        if (!copy) {
                r = count_node(c, line); /* the alias itself is one node */
                if (r < 0)
                        return r;
        }
        if (ev->type == YAML_ALIAS_EVENT) {
                const char *name = (const char *)ev->data.alias.anchor;

                if (++c->n_aliases > lim->max_aliases)
                        return error_set(c->err, STACK_EREJECT, "%s: too many YAML aliases (more than %zu, line %zu)",
                                         c->o->name, lim->max_aliases, line);
                target = anchor_find(c, name);
                if (!target)
                        return error_set(c->err, STACK_EREJECT, "%s: alias '*%.64s' names no anchor (line %zu)",
                                         c->o->name, name, line);
                if (target->open)
                        return error_set(c->err, STACK_EREJECT,
                                         "%s: alias '*%.64s' refers to a node that contains it (line %zu)", c->o->name,
                                         name, line);
        }
        if ((c->o->flags & YAMLTREE_ROOT_MAPPING) && *depth == 0 && ev->type != YAML_MAPPING_START_EVENT)
                return error_set(c->err, STACK_EREJECT,
                                 "%s: the document is a %s, expected a mapping of keys (line %zu)", c->o->name,
                                 ev->type == YAML_SEQUENCE_START_EVENT ? "list" : "scalar", line);
        if (target && copy) {
                r = copy_counted(c, target, *depth, line, &n);
                if (r < 0)
                        return r;
        } else {
                if (copy) {
                        r = count_node(c, line);
                        if (r < 0)
                                return r;
                }
                if (*depth == lim->max_depth && collection)
                        return error_set(c->err, STACK_EREJECT, "%s: nested deeper than %zu levels (line %zu)",
                                         c->o->name, lim->max_depth, line);
                n = node_from_event(ev, target);
                if (!n)
                        return oom(c);
        }
        if (*depth == 0) {
                *root = n;
        } else if (yamltree_append(stack[*depth - 1], n) < 0) {
                yamltree_free(n);
                return oom(c);
        }
        /* n is owned by the tree from here on */
        if (n->open)
                stack[(*depth)++] = n;
        anchor = event_anchor(ev);
        return anchor ? anchor_add(c, anchor, n) : 0;
}

static int yaml_fail(struct ctx *c, const yaml_parser_t *p)
{
        const char *problem = p->problem ? p->problem : "unknown error";

        if (p->error == YAML_MEMORY_ERROR)
                return oom(c);
        if (p->error == YAML_READER_ERROR)
                return error_set(c->err, STACK_EREJECT, "%s: not valid YAML at byte %zu: %s", c->o->name,
                                 p->problem_offset, problem);
        if (p->context && (c->o->flags & YAMLTREE_ERROR_CONTEXT))
                return error_set(c->err, STACK_EREJECT,
                                 "%s: not valid YAML at line %zu, column %zu: %s (%s at line %zu)", c->o->name,
                                 p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
                                 p->context_mark.line + 1);
        return error_set(c->err, STACK_EREJECT, "%s: not valid YAML at line %zu, column %zu: %s", c->o->name,
                         p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
}

static int tree_build(struct ctx *c, yaml_parser_t *p, struct yamltree_node **ret_root)
{
        struct yamltree_node **stack, *root = NULL;
        size_t depth = 0, docs = 0;
        bool done = false;
        yaml_event_t ev;
        int r = 0;

        stack = malloc(c->o->limits.max_depth * sizeof *stack);
        if (!stack)
                return oom(c);
        while (!done) {
                if (!yaml_parser_parse(p, &ev)) {
                        r = yaml_fail(c, p);
                        goto fail;
                }
                switch (ev.type) {
                case YAML_STREAM_END_EVENT: done = true; break;
                case YAML_DOCUMENT_START_EVENT:
                        if (docs > 0)
                                r = error_set(c->err, STACK_EREJECT, "%s: more than one YAML document (line %zu)",
                                              c->o->name, (size_t)ev.start_mark.line + 1);
                        break;
                case YAML_DOCUMENT_END_EVENT: docs++; break;
                case YAML_SCALAR_EVENT:
                case YAML_ALIAS_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT: r = tree_add(c, &ev, stack, &depth, &root); break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0) /* always: libyaml pairs start and end events */
                                stack[--depth]->open = false;
                        break;
                default: break;
                }
                yaml_event_delete(&ev);
                if (r < 0)
                        goto fail;
        }
        if (!root) {
                if (c->o->flags & YAMLTREE_ROOT_MAPPING)
                        r = error_set(c->err, STACK_EREJECT, "%s: the document is empty, expected a mapping of keys",
                                      c->o->name);
                else
                        r = error_set(c->err, STACK_EREJECT, "%s: the document is empty", c->o->name);
                goto fail;
        }
        free(stack);
        *ret_root = root;
        return 0;
fail:
        free(stack);
        yamltree_free(root);
        return r;
}

/* ---- merge keys ---- */

/* One key/value pair of a mapping being resolved: slots in the mapping itself or in a merged one. */
struct pair {
        struct yamltree_node **k, **v;
        size_t ord;
        bool merged, keep;
};

static int pair_cmp(const void *a, const void *b)
{
        const struct pair *x = *(const struct pair *const *)a, *y = *(const struct pair *const *)b;
        const struct yamltree_node *kx = *x->k, *ky = *y->k;

        if (kx->len != ky->len)
                return kx->len < ky->len ? -1 : 1;
        if (kx->len && memcmp(kx->text, ky->text, kx->len))
                return memcmp(kx->text, ky->text, kx->len);
        return x->ord < y->ord ? -1 : x->ord > y->ord;
}

#define MERGE_TAG "tag:yaml.org,2002:merge"

/* A merge key as compose v1 or v2 reads one: any key tagged !!merge whatever its text or style (PyYAML merges
 * `!!merge innocent: *x` and `!!merge "<<": *x`), and a plain `<<` untagged or with the non-specific tag `!`
 * (PyYAML and go-yaml resolve both to !!merge). A quoted "<<" is a string for both. */
static bool is_merge_key(const struct yamltree_node *k)
{
        if (!k || k->kind != YAMLTREE_SCALAR)
                return false;
        if (k->tag && strcmp(k->tag, MERGE_TAG) == 0)
                return true;
        return yamltree_text_is(k, "<<") && k->style == YAML_PLAIN_SCALAR_STYLE &&
               (!k->tag || strcmp(k->tag, "!") == 0);
}

static int add_pairs(struct pair **v, size_t *n, size_t *cap, struct yamltree_node *m, bool merged)
{
        size_t i;

        for (i = 0; i + 1 < m->n; i += 2) {
                if (is_merge_key(m->items[i]))
                        continue; /* ours is handled by the caller; a merged map was resolved before its parent */
                if (*n == *cap) {
                        size_t c = *cap ? *cap * 2 : 16;
                        struct pair *p = realloc(*v, c * sizeof *p);

                        if (!p)
                                return -1;
                        *v = p;
                        *cap = c;
                }
                (*v)[*n] = (struct pair){.k = &m->items[i], .v = &m->items[i + 1], .ord = *n, .merged = merged};
                (*n)++;
        }
        return 0;
}

/* Keys are scalars and unique; `<<: map` / `<<: [map, ...]` adds the keys the mapping does not set itself,
 * earlier merged mappings first (YAML 1.1 merge, as PyYAML and go-yaml read it). Sorted: n log n. */
static int map_resolve(struct ctx *c, struct yamltree_node *m)
{
        const char *name = c->o->name;
        struct pair *pairs = NULL, **idx = NULL;
        struct yamltree_node *merge = NULL, **items = NULL;
        size_t n = 0, cap = 0, i, j, kept = 0;
        char buf[80];
        int r = 0;

        for (i = 0; i + 1 < m->n; i += 2) {
                const struct yamltree_node *k = m->items[i];

                if (k->kind != YAMLTREE_SCALAR)
                        return error_set(c->err, STACK_EREJECT, "%s: mapping keys must be strings (line %zu)", name,
                                         k->line);
                if (is_merge_key(k)) {
                        if (merge)
                                return error_set(
                                        c->err, STACK_EREJECT,
                                        "%s: more than one merge key ('<<' or !!merge) in a mapping (line %zu)", name,
                                        k->line);
                        merge = m->items[i + 1];
                        if (merge->kind == YAMLTREE_SEQ) {
                                for (j = 0; j < merge->n; j++)
                                        if (merge->items[j]->kind != YAMLTREE_MAP)
                                                return error_set(c->err, STACK_EREJECT,
                                                                 "%s: '<<' merges a %s, not a mapping (line %zu)", name,
                                                                 yamltree_kind_name(merge->items[j]), k->line);
                        } else if (merge->kind != YAMLTREE_MAP) {
                                return error_set(c->err, STACK_EREJECT,
                                                 "%s: '<<' merges a %s, not a mapping (line %zu)", name,
                                                 yamltree_kind_name(merge), k->line);
                        }
                }
        }
        if (m->n < 4 && !merge)
                return 0;
        r = add_pairs(&pairs, &n, &cap, m, false);
        if (r == 0 && merge && merge->kind == YAMLTREE_MAP)
                r = add_pairs(&pairs, &n, &cap, merge, true);
        for (j = 0; r == 0 && merge && merge->kind == YAMLTREE_SEQ && j < merge->n; j++)
                r = add_pairs(&pairs, &n, &cap, merge->items[j], true);
        if (r < 0)
                goto nomem;
        idx = malloc((n ? n : 1) * sizeof *idx);
        if (!idx)
                goto nomem;
        for (i = 0; i < n; i++)
                idx[i] = &pairs[i];
        if (n > 1)
                qsort(idx, n, sizeof *idx, pair_cmp);
        for (i = 0; i < n; i++) {
                const struct yamltree_node *k = *idx[i]->k, *prev = i ? *idx[i - 1]->k : NULL;

                if (prev && prev->len == k->len && memcmp(prev->text, k->text, k->len) == 0) {
                        if (!idx[i]->merged) {
                                r = error_set(c->err, STACK_EREJECT, "%s: duplicate key '%s' (lines %zu and %zu)", name,
                                              yamltree_show(k->text, k->len, buf, sizeof buf), prev->line, k->line);
                                goto out;
                        }
                        continue;
                }
                idx[i]->keep = true;
                kept++;
        }
        if (!merge)
                goto out; /* nothing to rebuild: every own key is kept, in place */
        items = malloc((kept ? 2 * kept : 1) * sizeof *items);
        if (!items)
                goto nomem;
        for (i = 0, j = 0; i < n; i++)
                if (pairs[i].keep) {
                        items[j++] = *pairs[i].k;
                        items[j++] = *pairs[i].v;
                        *pairs[i].k = NULL;
                        *pairs[i].v = NULL;
                }
        /* what is left in m: the merge key and the merged mappings' overridden pairs */
        for (i = 0; i < m->n; i++)
                yamltree_free(m->items[i]);
        free(m->items);
        m->items = items;
        m->n = m->cap = 2 * kept;
        items = NULL;
out:
        free(items);
        free(idx);
        free(pairs);
        return r;
nomem:
        r = oom(c);
        goto out;
}

/* The merge tag anywhere but on a mapping key (a value, a list item, a collection) is refused: compose v1
 * would fail or merge something, and we would not know which. */
static int merge_tag_misused(struct ctx *c, const struct yamltree_node *n)
{
        if (!n->tag || strcmp(n->tag, MERGE_TAG) != 0)
                return 0;
        return error_set(c->err, STACK_EREJECT,
                         "%s: the YAML merge tag (!!merge) is only allowed on a mapping key (line %zu)", c->o->name,
                         n->line);
}

static int resolve(struct ctx *c, struct yamltree_node *n)
{
        size_t i;
        int r;

        r = merge_tag_misused(c, n);
        if (r < 0 || n->kind == YAMLTREE_SCALAR)
                return r;
        for (i = 0; i < n->n; i++) {
                if (n->kind == YAMLTREE_MAP && i % 2 == 0 && n->items[i]->kind == YAMLTREE_SCALAR)
                        continue; /* a key: checked by map_resolve (a merge key, or text) */
                r = resolve(c, n->items[i]);
                if (r < 0)
                        return r;
        }
        return n->kind == YAMLTREE_MAP ? map_resolve(c, n) : 0;
}

/* ---- loading ---- */

int yamltree_load(const struct yamltree_opts *opts, const void *data, size_t len, struct yamltree_node **ret,
                  struct error *err)
{
        struct ctx c = {.o = opts, .err = err};
        struct yamltree_node *root = NULL;
        yaml_parser_t parser;
        size_t i;
        int r;

        if (!opts || !opts->name || !ret || (!data && len) || opts->limits.max_depth == 0 ||
            ((opts->flags & YAMLTREE_MERGE) && opts->aliases != YAMLTREE_ALIAS_COPY))
                return error_set(err, STACK_EFAIL, "yamltree_load: invalid argument");
        if (len > opts->limits.max_bytes)
                return error_set(err, STACK_EREJECT, "%s: larger than %zu bytes", opts->name, opts->limits.max_bytes);
        if (!yaml_parser_initialize(&parser))
                return oom(&c);
        yaml_parser_set_input_string(&parser, data ? data : (const void *)"", len);
        r = tree_build(&c, &parser, &root);
        yaml_parser_delete(&parser);
        for (i = 0; i < c.n_anchors; i++)
                free(c.anchors[i].name);
        free(c.anchors);
        if (r == 0 && (opts->flags & YAMLTREE_MERGE))
                r = resolve(&c, root);
        if (r < 0) {
                yamltree_free(root);
                return r;
        }
        *ret = root;
        return 0;
}

/* ---- reading and editing a tree ---- */

const char *yamltree_kind_name(const struct yamltree_node *n)
{
        return n->kind == YAMLTREE_SCALAR ? "scalar" : n->kind == YAMLTREE_SEQ ? "list" : "mapping";
}

bool yamltree_is_scalar(const struct yamltree_node *n)
{
        return n && n->kind == YAMLTREE_SCALAR;
}

bool yamltree_tag_is(const struct yamltree_node *n, const char *tag)
{
        return n->tag && strcmp(n->tag, tag) == 0;
}

bool yamltree_text_is(const struct yamltree_node *n, const char *s)
{
        return yamltree_is_scalar(n) && n->len == strlen(s) && memcmp(n->text, s, n->len) == 0;
}

bool yamltree_text_is_ci(const struct yamltree_node *n, const char *s)
{
        return yamltree_is_scalar(n) && n->len == strlen(s) && strncasecmp(n->text, s, n->len) == 0;
}

struct yamltree_node *yamltree_node_new(enum yamltree_kind kind)
{
        struct yamltree_node *n = calloc(1, sizeof *n);

        if (n)
                n->kind = kind;
        return n;
}

struct yamltree_node *yamltree_scalar_new(const char *text, size_t len, int style)
{
        struct yamltree_node *n = yamltree_node_new(YAMLTREE_SCALAR);

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

void yamltree_scalar_replace(struct yamltree_node *n, char *text, int style)
{
        free(n->text);
        free(n->tag);
        n->tag = NULL;
        n->text = text;
        n->len = strlen(text);
        n->style = style;
        n->mark = 0; /* new text: whatever the caller marked on the old one no longer holds */
}

int yamltree_append(struct yamltree_node *parent, struct yamltree_node *n)
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
                if (yamltree_text_is(m->items[i], key))
                        return (ssize_t)i;
        return -1;
}

struct yamltree_node *yamltree_map_get(const struct yamltree_node *m, const char *key)
{
        ssize_t i = map_index(m, key);

        return i < 0 ? NULL : m->items[i + 1];
}

int yamltree_map_set(struct yamltree_node *m, const char *key, int key_style, struct yamltree_node *v)
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
        k = yamltree_scalar_new(key, strlen(key), key_style);
        if (!k || yamltree_append(m, k) < 0) {
                yamltree_free(k);
                yamltree_free(v);
                return -ENOMEM;
        }
        if (yamltree_append(m, v) < 0) {
                yamltree_free(m->items[--m->n]);
                yamltree_free(v);
                return -ENOMEM;
        }
        return 0;
}

int yamltree_map_set_text(struct yamltree_node *m, const char *key, const char *text, int style)
{
        return yamltree_map_set(m, key, YAML_PLAIN_SCALAR_STYLE, yamltree_scalar_new(text, strlen(text), style));
}

struct yamltree_node *yamltree_map_del(struct yamltree_node *m, const char *key, bool steal)
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

struct yamltree_node *yamltree_copy(const struct yamltree_node *n)
{
        struct yamltree_node *c;
        size_t i;

        if (!n)
                return NULL;
        c = yamltree_node_new(n->kind);
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
                struct yamltree_node *item = yamltree_copy(n->items[i]);

                if (!item || yamltree_append(c, item) < 0) {
                        yamltree_free(item);
                        goto fail;
                }
        }
        return c;
fail:
        yamltree_free(c);
        return NULL;
}

bool yamltree_equal(const struct yamltree_node *x, const struct yamltree_node *y)
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
                if (!yamltree_equal(x->items[i], y->items[i]))
                        return false;
        return true;
}

size_t yamltree_parse_decimal(const char *s, size_t len, uint64_t *ret_int, double *ret_frac)
{
        uint64_t v = 0;
        double frac = 0, scale = 1;
        size_t i = 0, digits = 0;

        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return 0;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i < len && s[i] == '.') {
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
                        scale /= 10;
                        frac += (s[i] - '0') * scale;
                }
        }
        if (!digits)
                return 0;
        *ret_int = v;
        *ret_frac = frac;
        return i;
}
