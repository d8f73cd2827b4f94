/* policy-keys.c - fail closed on compose keys the policy does not know (spec/run.md "Known compose keys"), and
 * where a node is, for the messages of this check and of the tags' (policy-tags.c).
 *
 * Keys (policy_check_keys(), run first by policy_check_document()): the table (policy-keytable.c) is every key
 * of the compose specification, nested mappings included; `x-` extensions are dropped where the specification
 * allows them; free-form mappings (environment, labels, driver_opts ...) and names (services, networks ...) are
 * not key-checked. Any other key is STACK_EREJECT with its path. A few known keys are judged here because no
 * other check owns them: the service's `provider` and the `models` keys are refused (stack does not run them),
 * `use_api_socket` needs docker-socket, a lifecycle hook's `privileged` needs privileged.
 */
#include "policy-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths in messages ---- */

static const struct {
        const char *section, *what;
} named_sections[] = {
        {"services", "service"}, {"volumes", "volume"}, {"networks", "network"},
        {"secrets", "secret"},   {"configs", "config"}, {"models", "model"},
};

bool policy_where_named(const char *section, const struct yamltree_node *k, char *head, size_t size)
{
        char buf[80];
        size_t i;

        for (i = 0; section && i < COUNT(named_sections); i++)
                if (strcmp(section, named_sections[i].section) == 0) {
                        snprintf(head, size, "%s '%s'", named_sections[i].what,
                                 yamltree_show(k->text, k->len, buf, sizeof buf));
                        return true;
                }
        return false;
}

void policy_where_key(char *out, const char *tail, const struct yamltree_node *k)
{
        char buf[80];

        if (snprintf(out, TAIL_SIZE, "%s%s%s", tail, *tail ? "." : "",
                     yamltree_show(k->text, k->len, buf, sizeof buf)) >= TAIL_SIZE)
                return; /* a path this deep is cut short in the message: nothing is decided on it */
}

void policy_where_item(char *out, const char *tail, size_t i)
{
        char idx[24];
        size_t n = strnlen(tail, TAIL_SIZE - 1), m;

        snprintf(idx, sizeof idx, "[%zu]", i);
        m = strlen(idx);
        if (n + m >= TAIL_SIZE)
                n = TAIL_SIZE - 1 - m; /* a path this deep is cut short in the message, as above */
        memmove(out, tail, n);
        memcpy(out + n, idx, m + 1);
}

const char *policy_where(const char *head, const char *tail, char *buf, size_t size)
{
        if (*head && *tail)
                snprintf(buf, size, "%s: %s", head, tail);
        else if (*head || *tail)
                snprintf(buf, size, "%s", *head ? head : tail);
        else
                snprintf(buf, size, "the top level");
        return buf;
}

/* ---- keys ---- */

static const struct key_def *key_find(const struct key_def *keys, const struct yamltree_node *k)
{
        for (; keys->name; keys++)
                if (strlen(keys->name) == k->len && memcmp(keys->name, k->text, k->len) == 0)
                        return keys;
        return NULL;
}

static bool is_extension(const struct yamltree_node *k)
{
        return k->kind == YAMLTREE_SCALAR && k->len >= 2 && k->text[0] == 'x' && k->text[1] == '-';
}

/* Key k at head/ktail is d in the table (NULL: not there): refused, or judged by its flags. noinline: its
 * buffers stay off the stack of every level of a deep document. */
static __attribute__((noinline)) int key_judge(struct file *f, const char *head, const char *ktail,
                                               const struct key_def *d, const struct yamltree_node *k,
                                               const struct yamltree_node *v)
{
        char who[WHO_SIZE + HEAD_SIZE + TAIL_SIZE], at[HEAD_SIZE + TAIL_SIZE];

        if (!d) {
                if (*head)
                        snprintf(who, sizeof who, "%s%s", f->prefix, head);
                else
                        snprintf(who, sizeof who, "%s", f->rel);
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: unknown compose key '%s' (stack refuses what it does not know; line %zu)", who,
                                 ktail, k->line);
        }
        if (!d->flags)
                return 0;
        snprintf(who, sizeof who, "%s%s", f->prefix, policy_where(head, ktail, at, sizeof at));
        if (d->flags & KEY_REFUSE)
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: not supported by stack (compose runs it outside the sandbox stack judges; line "
                                 "%zu)",
                                 who, k->line);
        if ((d->flags & KEY_DOCKER_SOCKET) && !policy_is_false(v))
                policy_need(f, PERM_DOCKER_SOCKET, who, "the Docker socket");
        if ((d->flags & KEY_PRIVILEGED) && !policy_is_false(v))
                policy_need(f, PERM_PRIVILEGED, who, "a privileged command");
        return 0;
}

static int keys_node(struct file *f, struct yamltree_node *n, const struct key_shape *s, const char *head,
                     const char *tail, size_t depth, const char *section);

static int keys_map(struct file *f, struct yamltree_node *m, const struct key_shape *s, const char *head,
                    const char *tail, size_t depth, const char *section)
{
        char child_head[HEAD_SIZE], child_tail[TAIL_SIZE];
        size_t i = 0;
        int r;

        while (i + 1 < m->n) {
                struct yamltree_node *k = m->items[i], *v = m->items[i + 1];
                const struct key_shape *sub = s->names;
                const char *h = head;

                if (s->x && is_extension(k)) { /* dropped: compose ignores it, nothing is judged in it */
                        yamltree_free(k);
                        yamltree_free(v);
                        memmove(m->items + i, m->items + i + 2, (m->n - i - 2) * sizeof *m->items);
                        m->n -= 2;
                        continue;
                }
                if (depth == 1 && policy_where_named(section, k, child_head, sizeof child_head)) {
                        h = child_head;
                        child_tail[0] = 0;
                } else {
                        policy_where_key(child_tail, tail, k);
                }
                if (s->keys) {
                        const struct key_def *d = k->kind == YAMLTREE_SCALAR ? key_find(s->keys, k) : NULL;

                        r = key_judge(f, head, child_tail, d, k, v);
                        if (r < 0)
                                return r;
                        sub = d->shape;
                }
                if (sub) {
                        r = keys_node(f, v, sub, h, child_tail, depth + 1,
                                      depth == 0 && k->kind == YAMLTREE_SCALAR ? k->text : section);
                        if (r < 0)
                                return r;
                }
                i += 2;
        }
        return 0;
}

static int keys_node(struct file *f, struct yamltree_node *n, const struct key_shape *s, const char *head,
                     const char *tail, size_t depth, const char *section)
{
        char child_tail[TAIL_SIZE];
        size_t i;
        int r;

        if (n->kind == YAMLTREE_MAP && (s->keys || s->names))
                return keys_map(f, n, s, head, tail, depth, section);
        if (n->kind != YAMLTREE_SEQ || !s->items)
                return 0; /* a scalar, or a free mapping */
        for (i = 0; i < n->n; i++) {
                policy_where_item(child_tail, tail, i);
                r = keys_node(f, n->items[i], s->items, head, child_tail, depth + 1, section);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_check_keys(struct file *f, struct yamltree_node *root)
{
        return keys_node(f, root, &policy_key_top, "", "", 0, NULL);
}
