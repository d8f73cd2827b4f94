/* manifest-json.c - a manifest's `permissions` re-emitted as JSON (which is also flow YAML), for the store to
 * keep as text (spec/manifest.md). The one place that expands aliases, so the output has a cap.
 */
#include "manifest-int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

static int out_add(struct manifest_ctx *c, struct buf *b, const char *s, size_t n)
{
        int r = buf_add(b, s, n);

        if (r == -EFBIG)
                return error_set(c->err, STACK_EREJECT,
                                 "stack.yaml: 'permissions' is larger than %d bytes once written out",
                                 MANIFEST_MAX_PERMISSIONS);
        return r < 0 ? manifest_oom(c) : 0;
}

static int out_str(struct manifest_ctx *c, struct buf *b, const char *s)
{
        return out_add(c, b, s, strlen(s));
}

/* A plain scalar the JSON reader sees as the same value: true/false/null and JSON numbers. */
static const char *json_bare(const struct yamltree_node *s)
{
        size_t i = 0;
        const char *t = s->text;

        if (yamltree_is_null(s))
                return "null";
        if (!manifest_node_plain(s))
                return NULL;
        if (manifest_scalar_is(s, "true") || manifest_scalar_is(s, "True") || manifest_scalar_is(s, "TRUE"))
                return "true";
        if (manifest_scalar_is(s, "false") || manifest_scalar_is(s, "False") || manifest_scalar_is(s, "FALSE"))
                return "false";
        /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        if (i < s->len && t[i] == '-')
                i++;
        if (i < s->len && t[i] == '0')
                i++;
        else if (i < s->len && t[i] >= '1' && t[i] <= '9')
                while (i < s->len && t[i] >= '0' && t[i] <= '9')
                        i++;
        else
                return NULL;
        if (i < s->len && t[i] == '.') {
                if (++i >= s->len || t[i] < '0' || t[i] > '9')
                        return NULL;
                while (i < s->len && t[i] >= '0' && t[i] <= '9')
                        i++;
        }
        if (i < s->len && (t[i] == 'e' || t[i] == 'E')) {
                i++;
                if (i < s->len && (t[i] == '+' || t[i] == '-'))
                        i++;
                if (i >= s->len || t[i] < '0' || t[i] > '9')
                        return NULL;
                while (i < s->len && t[i] >= '0' && t[i] <= '9')
                        i++;
        }
        return i == s->len ? t : NULL;
}

static int emit_string(struct manifest_ctx *c, struct buf *b, const struct yamltree_node *s)
{
        char esc[8];
        size_t i, start = 0;
        int r;

        r = out_add(c, b, "\"", 1);
        for (i = 0; r == 0 && i < s->len; i++) {
                unsigned char ch = (unsigned char)s->text[i];

                if (ch >= 0x20 && ch != '"' && ch != '\\')
                        continue;
                r = out_add(c, b, s->text + start, i - start);
                if (r < 0)
                        break;
                if (ch == '"' || ch == '\\')
                        snprintf(esc, sizeof esc, "\\%c", ch);
                else if (ch == '\n')
                        snprintf(esc, sizeof esc, "\\n");
                else if (ch == '\t')
                        snprintf(esc, sizeof esc, "\\t");
                else
                        snprintf(esc, sizeof esc, "\\u%04x", ch);
                r = out_str(c, b, esc);
                start = i + 1;
        }
        if (r == 0)
                r = out_add(c, b, s->text + start, s->len - start);
        if (r == 0)
                r = out_add(c, b, "\"", 1);
        return r;
}

static int emit_node(struct manifest_ctx *c, struct buf *b, const struct yamltree_node *n, unsigned depth)
{
        const char *bare;
        size_t i;
        int r;

        n = manifest_deref(n);
        /* aliases can nest anchored collections: count the depth of what is written, not of the tree */
        if (depth > MANIFEST_MAX_DEPTH)
                return error_set(c->err, STACK_EREJECT, "stack.yaml: 'permissions' nests deeper than %d levels",
                                 MANIFEST_MAX_DEPTH);
        switch (n->kind) {
        case YAMLTREE_SCALAR: bare = json_bare(n); return bare ? out_str(c, b, bare) : emit_string(c, b, n);
        case YAMLTREE_SEQ:
                r = out_add(c, b, "[", 1);
                for (i = 0; r == 0 && i < n->n; i++) {
                        if (i)
                                r = out_add(c, b, ", ", 2);
                        if (r == 0)
                                r = emit_node(c, b, n->items[i], depth + 1);
                }
                return r < 0 ? r : out_add(c, b, "]", 1);
        default:
                r = manifest_map_check(c, n, "permissions");
                if (r == 0)
                        r = out_add(c, b, "{", 1);
                for (i = 0; r == 0 && i + 1 < n->n; i += 2) {
                        if (i)
                                r = out_add(c, b, ", ", 2);
                        if (r == 0)
                                r = emit_string(c, b, manifest_deref(n->items[i]));
                        if (r == 0)
                                r = out_add(c, b, ": ", 2);
                        if (r == 0)
                                r = emit_node(c, b, n->items[i + 1], depth + 1);
                }
                return r < 0 ? r : out_add(c, b, "}", 1);
        }
}

int manifest_permissions_json(struct manifest_ctx *c, const struct yamltree_node *v, char **ret)
{
        struct buf b = BUF_INIT(MANIFEST_MAX_PERMISSIONS);
        int r;

        r = emit_node(c, &b, v, 1);
        if (r < 0) {
                buf_release(&b);
                return r;
        }
        *ret = b.p;
        return 0;
}
