/* labels.c - traefik router labels to host routes (labels.h). Only what the catalog's compose files use is
 * read: Host() matchers joined by ||; anything else in a rule makes the rule unreadable, which is a warning.
 */
#include "labels.h"

#include "base/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTER_PREFIX  "traefik.http.routers."
#define SERVICE_PREFIX "traefik.http.services."
#define PORT_SUFFIX    ".loadbalancer.server.port"
#define NAME_MAX_LEN   63

int labels_host_ok(const char *host)
{
        size_t len = host ? strlen(host) : 0, suffix = strlen(LABELS_SUFFIX);
        char prev = '.';

        if (len <= suffix || len > LABELS_HOST_MAX || strcmp(host + len - suffix, LABELS_SUFFIX) != 0)
                return 0;
        for (size_t i = 0; i < len; i++) {
                char c = host[i];
                if (c == '.') {
                        if (prev == '.' || prev == '-')
                                return 0;
                } else if (c == '-') {
                        if (prev == '.')
                                return 0;
                } else if (!islower((unsigned char)c) && !isdigit((unsigned char)c))
                        return 0;
                prev = c;
        }
        return 1;
}

/* The <name> in prefix<name>suffix, into out; 0 when key is not of that form. */
static int key_name(const char *key, const char *prefix, const char *suffix, char out[NAME_MAX_LEN + 1])
{
        size_t pl = strlen(prefix), sl = strlen(suffix), kl = strlen(key), nl;

        if (kl <= pl + sl || strncmp(key, prefix, pl) != 0 || strcmp(key + kl - sl, suffix) != 0)
                return 0;
        nl = kl - pl - sl;
        if (nl > NAME_MAX_LEN || memchr(key + pl, '.', nl))
                return 0;
        memcpy(out, key + pl, nl);
        out[nl] = '\0';
        return 1;
}

static const char *find_value(const struct label *labels, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (labels[i].key && labels[i].value && strcmp(labels[i].key, key) == 0)
                        return labels[i].value;
        return NULL;
}

static int parse_port(const char *s)
{
        char *end;
        long v;

        if (!s)
                return 0;
        while (isspace((unsigned char)*s))
                s++;
        v = strtol(s, &end, 10);
        while (isspace((unsigned char)*end))
                end++;
        return end != s && *end == '\0' && v >= 1 && v <= 65535 ? (int)v : 0;
}

static const char *skip_space(const char *p)
{
        while (isspace((unsigned char)*p))
                p++;
        return p;
}

/* Host(`a`, `b`) || Host(`c`) -> hosts (lower case). -1 when the rule is anything else. */
static int parse_rule(const char *rule, char hosts[][LABELS_HOST_MAX + 1], size_t max, size_t *ret_n)
{
        const char *p = skip_space(rule);
        size_t n = 0;

        for (;;) {
                if (strncasecmp(p, "Host", 4) != 0)
                        return -1;
                p = skip_space(p + 4);
                if (*p++ != '(')
                        return -1;
                for (;;) {
                        char quote;
                        const char *end;
                        size_t len;

                        p = skip_space(p);
                        quote = *p;
                        if (quote != '`' && quote != '"')
                                return -1;
                        end = strchr(p + 1, quote);
                        if (!end)
                                return -1;
                        len = (size_t)(end - p - 1);
                        if (len == 0 || len > LABELS_HOST_MAX || n == max)
                                return -1;
                        for (size_t i = 0; i < len; i++)
                                hosts[n][i] = (char)tolower((unsigned char)p[1 + i]);
                        hosts[n++][len] = '\0';
                        p = skip_space(end + 1);
                        if (*p == ',') {
                                p++;
                                continue;
                        }
                        if (*p++ != ')')
                                return -1;
                        break;
                }
                p = skip_space(p);
                if (*p == '\0')
                        break;
                if (p[0] != '|' || p[1] != '|')
                        return -1;
                p = skip_space(p + 2);
        }
        *ret_n = n;
        return 0;
}

/* The port of router r: its service's, the only service's, the same-named service's, else exposed_port. */
static int router_port(const struct label *labels, size_t n, const char *router, int exposed_port)
{
        char key[256], name[NAME_MAX_LEN + 1], only[NAME_MAX_LEN + 1] = "";
        const char *service, *v;
        int services = 0;

        snprintf(key, sizeof key, ROUTER_PREFIX "%s.service", router);
        service = find_value(labels, n, key);
        if (!service) {
                for (size_t i = 0; i < n; i++)
                        if (labels[i].key && key_name(labels[i].key, SERVICE_PREFIX, PORT_SUFFIX, name) &&
                            strcmp(name, only) != 0) {
                                services++;
                                memcpy(only, name, sizeof only);
                        }
                service = services == 1 ? only : router;
        }
        snprintf(key, sizeof key, SERVICE_PREFIX "%s" PORT_SUFFIX, service);
        v = find_value(labels, n, key);
        return v ? parse_port(v) : exposed_port;
}

int labels_routes(const struct label *labels, size_t n, int exposed_port, struct label_routes *ret, labels_warn_fn warn,
                  void *ctx, struct error *err)
{
        char router[NAME_MAX_LEN + 1], hosts[LABELS_ROUTES_MAX][LABELS_HOST_MAX + 1];
        const char *enable;

        if ((!labels && n) || !ret)
                return error_set(err, STACK_EFAIL, "labels_routes: bad arguments");
        memset(ret, 0, sizeof *ret);
        enable = find_value(labels, n, "traefik.enable");
        if (enable && strcasecmp(enable, "false") == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                size_t nh = 0;
                int port;

                if (!labels[i].key || !labels[i].value || !key_name(labels[i].key, ROUTER_PREFIX, ".rule", router))
                        continue;
                if (parse_rule(labels[i].value, hosts, LABELS_ROUTES_MAX, &nh) < 0) {
                        error_say(warn, ctx,
                                  "label %s: cannot read the rule '%s' (only Host(`name`) joined by || is "
                                  "routed); not routed",
                                  labels[i].key, labels[i].value);
                        continue;
                }
                port = router_port(labels, n, router, exposed_port);
                if (port == 0) {
                        error_say(warn, ctx,
                                  "router %s: no port (set traefik.http.services.<name>.loadbalancer.server.port "
                                  "or expose one port); not routed",
                                  router);
                        continue;
                }
                for (size_t h = 0; h < nh; h++) {
                        struct label_route *rt;
                        bool dup = false;

                        if (!labels_host_ok(hosts[h])) {
                                error_say(warn, ctx, "router %s: %s is not a name under %s; not routed", router,
                                          hosts[h], &LABELS_SUFFIX[1]);
                                continue;
                        }
                        for (size_t k = 0; k < ret->n; k++)
                                dup = dup || strcmp(ret->v[k].host, hosts[h]) == 0;
                        if (dup)
                                continue;
                        if (ret->n == LABELS_ROUTES_MAX) {
                                error_say(warn, ctx, "router %s: more than %d host names; %s not routed", router,
                                          LABELS_ROUTES_MAX, hosts[h]);
                                continue;
                        }
                        rt = &ret->v[ret->n++];
                        memcpy(rt->host, hosts[h], strlen(hosts[h]) + 1);
                        snprintf(rt->router, sizeof rt->router, "%s", router);
                        rt->port = port;
                }
        }
        return 0;
}
