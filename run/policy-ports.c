/* policy-ports.c - published ports: bound to 127.0.0.1 unless the stack may listen (short syntax gets the
 * prefix, long syntax host_ip, or the short syntax when compose v1 would not know host_ip); the API's and the
 * front door's ports are never published.
 */
#include "policy-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/ports.h"

static bool is_loopback(const char *s, size_t len)
{
        size_t i;

        if ((len == 3 && memcmp(s, "::1", 3) == 0) || (len == 5 && memcmp(s, "[::1]", 5) == 0))
                return true;
        if (len < 4 || memcmp(s, "127.", 4) != 0)
                return false;
        for (i = 4; i < len; i++)
                if (!(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* Positions of the ':' separators of a port or volume string, outside ${...} and [...] (an IPv6 address).
 * Returns how many there are; the last two positions go to last[0] (second to last) and last[1]; the first
 * to *first. */
size_t policy_split_colons(const char *s, size_t len, size_t *first, size_t last[2])
{
        size_t i, n = 0, brace = 0;
        bool bracket = false;

        for (i = 0; i < len; i++) {
                if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
                        i++;
                } else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
                        brace++;
                        i++;
                } else if (s[i] == '}' && brace) {
                        brace--;
                } else if (s[i] == '[' && !brace) {
                        bracket = true;
                } else if (s[i] == ']' && !brace) {
                        bracket = false;
                } else if (s[i] == ':' && !brace && !bracket) {
                        if (n == 0)
                                *first = i;
                        last[0] = last[1];
                        last[1] = i;
                        n++;
                }
        }
        return n;
}

/* Short port syntax bound to 127.0.0.1: "80" -> "127.0.0.1::80", "8080:80" -> "127.0.0.1:8080:80",
 * "0.0.0.0:8080:80" -> "127.0.0.1:8080:80"; ranges, /udp and ${VAR} parts are kept as they are. A variable
 * that turns out to hold more colons makes the string invalid, which compose refuses: it never widens. *ret is
 * NULL when the string already binds to a loopback address. */
static int port_rewrite(const char *s, size_t len, char **ret)
{
        size_t first = 0, last[2] = {0, 0}, n = policy_split_colons(s, len, &first, last);

        *ret = NULL;
        if (n == 0)
                *ret = policy_concat3(LOOPBACK "::", s, len, "");
        else if (n == 1)
                *ret = policy_concat3(LOOPBACK ":", s, len, "");
        else if (is_loopback(s, last[0]))
                return 0;
        else
                *ret = policy_concat3(LOOPBACK ":", s + last[0] + 1, len - last[0] - 1, "");
        return *ret ? 0 : -ENOMEM;
}

/* A host port the API or the front door listens on: no bundle publishes it, on any address, whatever it was
 * granted (the daemon or the proxy could not start, or a container would answer in their place). */
static int check_reserved(struct file *f, const char *who, const struct yamltree_node *p)
{
        const struct yamltree_node *pub = p;
        size_t first = 0, last[2] = {0, 0}, n, from = 0, to = 0;
        unsigned port;

        if (p->kind == YAMLTREE_MAP) {
                pub = yamltree_map_get(p, "published");
                if (!yamltree_is_scalar(pub) || policy_is_null(pub))
                        return 0;
                to = pub->len;
        } else {
                n = policy_split_colons(p->text, p->len, &first, last);
                if (n == 0)
                        return 0;
                from = n == 1 ? 0 : last[0] + 1;
                to = last[1];
        }
        port = policy_reserved_port(f->a, pub->text + from, to - from);
        if (!port)
                return 0;
        return error_set(f->a->err, STACK_EREJECT,
                         "%s: ports: host port %u is reserved for stack's own %s (line %zu); a bundle may not "
                         "publish it",
                         who, port,
                         (int)port == ports_front_https() || (int)port == ports_front_http()
                                 ? "front door (stack proxy)"
                                 : "API (stack serve)",
                         p->line);
}

int policy_check_port(struct file *f, const char *who, struct yamltree_node *seq, size_t i)
{
        static const char *const simple[] = {"target", "published", "host_ip", "protocol", "mode"};
        struct yamltree_node *p = seq->items[i], *host_ip, *target, *published, *protocol;
        bool listen = f->a->in->allow & PERM_LISTEN;
        char *text = NULL;
        size_t k, j;

        if (p->kind == YAMLTREE_SCALAR) {
                if (memchr(p->text, 0, p->len))
                        return error_set(f->a->err, STACK_EREJECT, "%s: ports entry contains a NUL (line %zu)", who,
                                         p->line);
                if (check_reserved(f, who, p) < 0)
                        return -STACK_EREJECT;
                if (port_rewrite(p->text, p->len, &text) < 0)
                        return policy_oom(f->a->err);
                if (!text)
                        return 0;
                f->a->needed |= PERM_LISTEN;
                if (listen)
                        free(text);
                else
                        yamltree_scalar_replace(p, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                return 0;
        }
        if (p->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "a ports entry must be a string or a mapping", p);
        if (check_reserved(f, who, p) < 0)
                return -STACK_EREJECT;
        host_ip = yamltree_map_get(p, "host_ip");
        if (yamltree_is_scalar(host_ip) && is_loopback(host_ip->text, host_ip->len))
                return 0;
        f->a->needed |= PERM_LISTEN;
        if (listen)
                return 0;
        for (k = 0; k + 1 < p->n; k += 2) {
                for (j = 0; j < COUNT(simple) && !yamltree_text_is(p->items[k], simple[j]); j++)
                        ;
                if (j == COUNT(simple)) /* name, app_protocol ...: compose v2 only, and it has host_ip */
                        return yamltree_map_set_text(p, "host_ip", LOOPBACK, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0
                                       ? policy_oom(f->a->err)
                                       : 0;
        }
        /* compose v1 knows no host_ip: the short syntax says the same to both */
        target = yamltree_map_get(p, "target");
        published = yamltree_map_get(p, "published");
        protocol = yamltree_map_get(p, "protocol");
        if (!yamltree_is_scalar(target) || policy_is_null(target))
                return error_set(f->a->err, STACK_EREJECT, "%s: ports entry without a target (line %zu)", who, p->line);
        if ((published && !policy_is_null(published) && !yamltree_is_scalar(published)) ||
            (protocol && !yamltree_is_scalar(protocol)))
                return error_set(f->a->err, STACK_EREJECT, "%s: ports entry with a non-scalar value (line %zu)", who,
                                 p->line);
        if (published && policy_is_null(published))
                published = NULL;
        if (protocol && policy_is_null(protocol))
                protocol = NULL;
        if (asprintf(&text, LOOPBACK ":%.*s:%.*s%s%.*s", published ? (int)published->len : 0,
                     published ? published->text : "", (int)target->len, target->text, protocol ? "/" : "",
                     protocol ? (int)protocol->len : 0, protocol ? protocol->text : "") < 0)
                return policy_oom(f->a->err);
        /* the mapping becomes the string, in place */
        for (k = 0; k < p->n; k++)
                yamltree_free(p->items[k]);
        free(p->items);
        p->items = NULL;
        p->n = p->cap = 0;
        p->kind = YAMLTREE_SCALAR;
        yamltree_scalar_replace(p, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
}
