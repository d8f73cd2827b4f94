/* policy-tags.c - fail closed on YAML tags beyond the core schema (spec/run.md "Reading the file").
 *
 * Tags (policy_tags(), run by policy_parse_yaml() on every compose file read, and again on the main document
 * once its override file is merged): no tag, the core schema's !!str, !!int, !!float, !!bool, !!null (a scalar
 * whose text matches its tag), !!map, !!seq, and compose v2's !reset and !override are allowed; anything else
 * is refused with the key's path. Resolved, nothing is left for compose to read differently: !reset removes the
 * node (a mapping's key, or a list's item, as compose-go's reset processor does within one file), !override
 * and the collection tags are dropped, !!str makes a plain scalar double-quoted, !!int/!!float/!!bool/!!null
 * become the plain text both compose v1 (PyYAML, YAML 1.1) and v2 (go-yaml) read as that type.
 */
#include "policy-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* ---- YAML tags ---- */

#define CORE(t) "tag:yaml.org,2002:" t

struct tags {
        const char *rel;
        struct error *err;
        bool resolve;
};

static const char *tag_show(const char *tag, char *buf, size_t size)
{
        if (strncmp(tag, CORE(""), strlen(CORE(""))) == 0)
                snprintf(buf, size, "!!%.60s", tag + strlen(CORE("")));
        else
                snprintf(buf, size, "%.64s", tag);
        return buf;
}

/* noinline: its buffers stay off the stack of every level of a deep document */
static __attribute__((noinline)) int tag_refused(struct tags *t, const char *head, const char *tail,
                                                 const struct yamltree_node *n, const char *why)
{
        char at[HEAD_SIZE + TAIL_SIZE], tag[80];

        return error_set(t->err, STACK_EREJECT, "%s: %s: YAML tag '%s' is not allowed%s (line %zu)", t->rel,
                         policy_where(head, tail, at, sizeof at), tag_show(n->tag, tag, sizeof tag), why, n->line);
}

static bool all_digits(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return len > 0;
}

/* [-+]?(0|[1-9][0-9]*): an int for PyYAML and go-yaml alike (no octal, hex, `_` or sexagesimal). */
static bool plain_int(const char *s, size_t len)
{
        if (len && (*s == '-' || *s == '+'))
                s++, len--;
        return all_digits(s, len) && (len == 1 || s[0] != '0');
}

/* [-+]?[0-9]+\.[0-9]*([eE][-+][0-9]+)?: a float for PyYAML (which wants the dot and the exponent's sign) and
 * go-yaml alike. */
static bool plain_float(const char *s, size_t len)
{
        size_t i = 0, j;

        if (len && (s[0] == '-' || s[0] == '+'))
                i++;
        for (j = i; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
        if (i == j || i >= len || s[i] != '.')
                return false;
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                ;
        if (i == len)
                return true;
        if (s[i] != 'e' && s[i] != 'E')
                return false;
        i++;
        if (i >= len || (s[i] != '-' && s[i] != '+'))
                return false;
        return all_digits(s + i + 1, len - i - 1);
}

static int set_text(struct yamltree_node *n, const char *text)
{
        char *copy = strdup(text);

        if (!copy)
                return -1;
        yamltree_scalar_replace(n, copy, YAML_PLAIN_SCALAR_STYLE);
        return 0;
}

/* A scalar's tag: checked, and (resolve) replaced by a style that makes both compose versions read the same. */
static int tag_scalar(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, bool key)
{
        static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
        const char *tag = n->tag;
        bool ok = false;
        size_t i;

        if (!tag)
                return 0;
        if (strcmp(tag, CORE("str")) == 0) {
                if (!t->resolve)
                        return 0;
                free(n->tag);
                n->tag = NULL;
                if (n->style == YAML_PLAIN_SCALAR_STYLE || n->style == YAML_ANY_SCALAR_STYLE)
                        n->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE; /* stays a string */
                return 0;
        }
        if (key)
                return tag_refused(t, head, tail, n, " on a key");
        if (strcmp(tag, "!override") == 0) {
                if (t->resolve) {
                        free(n->tag);
                        n->tag = NULL;
                }
                return 0;
        }
        if (strcmp(tag, CORE("int")) == 0) {
                if (!plain_int(n->text, n->len))
                        return tag_refused(t, head, tail, n, " on a value that is not a decimal integer");
                return t->resolve && set_text(n, n->text) < 0 ? policy_oom(t->err) : 0;
        }
        if (strcmp(tag, CORE("float")) == 0) {
                if (!plain_float(n->text, n->len))
                        return tag_refused(t, head, tail, n, " on a value that is not a decimal float");
                return t->resolve && set_text(n, n->text) < 0 ? policy_oom(t->err) : 0;
        }
        if (strcmp(tag, CORE("bool")) == 0) {
                for (i = 0; i < COUNT(bools) && !ok; i++)
                        ok = yamltree_text_is(n, bools[i]);
                if (!ok)
                        return tag_refused(t, head, tail, n, " on a value that is not true or false");
                return t->resolve && set_text(n, n->text[0] == 't' || n->text[0] == 'T' ? "true" : "false") < 0
                               ? policy_oom(t->err)
                               : 0;
        }
        if (strcmp(tag, CORE("null")) == 0) {
                ok = n->len == 0 || yamltree_text_is(n, "~") || yamltree_text_is(n, "null") ||
                     yamltree_text_is(n, "Null") || yamltree_text_is(n, "NULL");
                if (!ok)
                        return tag_refused(t, head, tail, n, " on a value that is not a null");
                return t->resolve && set_text(n, "null") < 0 ? policy_oom(t->err) : 0;
        }
        return tag_refused(t, head, tail, n, "");
}

/* A list's or mapping's own tag. */
static int tag_collection(struct tags *t, struct yamltree_node *n, const char *head, const char *tail)
{
        const char *own = n->kind == YAMLTREE_MAP ? CORE("map") : CORE("seq");

        if (!n->tag)
                return 0;
        if (strcmp(n->tag, own) != 0 && strcmp(n->tag, "!override") != 0)
                return tag_refused(t, head, tail, n, "");
        if (t->resolve) {
                free(n->tag);
                n->tag = NULL;
        }
        return 0;
}

static int tags_node(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, size_t depth,
                     const char *section);

static bool is_reset(const struct yamltree_node *n)
{
        return n->tag && strcmp(n->tag, "!reset") == 0;
}

static int tags_map(struct tags *t, struct yamltree_node *m, const char *head, const char *tail, size_t depth,
                    const char *section)
{
        char child_head[HEAD_SIZE], child_tail[TAIL_SIZE];
        const char *sec = NULL;
        size_t i = 0;
        int r;

        while (i + 1 < m->n) {
                struct yamltree_node *k = m->items[i], *v = m->items[i + 1];
                const char *h = head;

                if (depth == 0) {
                        sec = k->kind == YAMLTREE_SCALAR && !memchr(k->text, 0, k->len) ? k->text : NULL;
                        policy_where_key(child_tail, "", k);
                } else if (depth == 1 && policy_where_named(section, k, child_head, sizeof child_head)) {
                        h = child_head;
                        child_tail[0] = 0;
                } else {
                        policy_where_key(child_tail, tail, k);
                }
                r = k->kind == YAMLTREE_SCALAR ? tag_scalar(t, k, h, child_tail, true) : 0;
                if (r < 0)
                        return r;
                if (is_reset(v) && t->resolve) { /* the key is removed (compose v2 reads no value) */
                        yamltree_free(k);
                        yamltree_free(v);
                        memmove(m->items + i, m->items + i + 2, (m->n - i - 2) * sizeof *m->items);
                        m->n -= 2;
                        continue;
                }
                r = tags_node(t, v, h, child_tail, depth + 1, depth == 0 ? sec : section);
                if (r < 0)
                        return r;
                i += 2;
        }
        return 0;
}

static int tags_node(struct tags *t, struct yamltree_node *n, const char *head, const char *tail, size_t depth,
                     const char *section)
{
        char child_tail[TAIL_SIZE];
        size_t i = 0, shown = 0;
        int r;

        if (is_reset(n)) {
                if (depth == 0)
                        return tag_refused(t, head, tail, n, " on the document");
                return 0; /* resolve: removed by the caller; check only: allowed */
        }
        if (n->kind == YAMLTREE_SCALAR)
                return tag_scalar(t, n, head, tail, false);
        r = tag_collection(t, n, head, tail);
        if (r < 0)
                return r;
        if (n->kind == YAMLTREE_MAP)
                return tags_map(t, n, head, tail, depth, section);
        while (i < n->n) {
                if (is_reset(n->items[i]) && t->resolve) { /* the item is removed */
                        yamltree_free(n->items[i]);
                        memmove(n->items + i, n->items + i + 1, (n->n - i - 1) * sizeof *n->items);
                        n->n--;
                        shown++;
                        continue;
                }
                policy_where_item(child_tail, tail, i + shown);
                r = tags_node(t, n->items[i], head, child_tail, depth + 1, section);
                if (r < 0)
                        return r;
                i++;
        }
        return 0;
}

int policy_tags(const char *rel, struct yamltree_node *root, bool resolve, struct error *err)
{
        struct tags t = {.rel = rel, .err = err, .resolve = resolve};

        return tags_node(&t, root, "", "", 0, NULL);
}
