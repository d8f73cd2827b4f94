/* policy-vars.c - the variables a compose file requires (${NAME:?msg}, ${NAME?msg}): named before anything
 * starts, so a missing one is one message instead of a compose failure half-way.
 */
#include "policy-int.h"

#include <stdbool.h>
#include <stddef.h>

static bool name_char(char c, bool first)
{
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

/* ${NAME:?msg} and ${NAME?msg}: compose stops when NAME is unset. Only the outermost expressions count: one
 * inside another's default (${A:-${B:?}}) is needed only when A is unset. */
static int scan_text(struct apply *a, const char *s, size_t len)
{
        size_t i = 0, j, depth;

        while (i < len) {
                if (s[i] != '$' || i + 1 >= len) {
                        i++;
                        continue;
                }
                if (s[i + 1] == '$') {
                        i += 2;
                        continue;
                }
                if (s[i + 1] != '{') {
                        i++;
                        continue;
                }
                j = i + 2;
                if (j < len && name_char(s[j], true)) {
                        while (j < len && name_char(s[j], false))
                                j++;
                        if (j < len && (s[j] == '?' || (s[j] == ':' && j + 1 < len && s[j + 1] == '?')) &&
                            !strv_has(&a->vars, s + i + 2, j - i - 2)) {
                                if (a->vars.n >= POLICY_MAX_VARS)
                                        return error_set(a->err, STACK_EREJECT,
                                                         "the compose file requires more than %d variables",
                                                         POLICY_MAX_VARS);
                                if (strv_add(&a->vars, s + i + 2, j - i - 2) < 0)
                                        return oom(a->err);
                        }
                }
                /* skip to the matching brace */
                for (depth = 1, j = i + 2; j < len && depth; j++) {
                        if (s[j] == '$' && j + 1 < len && s[j + 1] == '{') {
                                depth++;
                                j++;
                        } else if (s[j] == '}') {
                                depth--;
                        }
                }
                i = j;
        }
        return 0;
}

int scan_vars(struct apply *a, const struct yamltree_node *n)
{
        size_t i;
        int r;

        if (n->kind == YAMLTREE_SCALAR)
                return scan_text(a, n->text, n->len);
        for (i = n->kind == YAMLTREE_MAP ? 1 : 0; i < n->n; i += n->kind == YAMLTREE_MAP ? 2 : 1) {
                r = scan_vars(a, n->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
