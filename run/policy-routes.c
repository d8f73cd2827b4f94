/* policy-routes.c - the front door: the hosts a service's traefik router labels ask for under
 * .stack.localhost (run/labels.h reads them, on the resolved values), each routed port published on an
 * ephemeral loopback port when the file does not publish it, so the proxy has an upstream; and, for a stack
 * without router labels, its one dash.url service or else its one published port (spec/proxy.md "Routes from
 * runs").
 */
#include "policy-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "labels.h"

#define MAX_LABELS 256

/* The container port of a port entry as the checks left it ("127.0.0.1:8080:80/tcp", "80", {target: 80});
 * 0 for a range, a variable or anything else. */
static int entry_port(const struct yamltree_node *e)
{
        const char *s, *c;
        char *end;
        long v;

        if (e->kind == YAMLTREE_MAP)
                e = yamltree_map_get(e, "target");
        if (!yamltree_is_scalar(e) || policy_node_unknown(e))
                return 0;
        s = e->text;
        c = strrchr(s, ':');
        s = c ? c + 1 : s;
        v = strtol(s, &end, 10);
        if (end == s || (*end && *end != '/') || v < 1 || v > 65535)
                return 0;
        return (int)v;
}

/* The only entry of a list of ports (ports or expose), 0 when there is none or several. */
static int only_port(const struct yamltree_node *seq, size_t *n)
{
        *n = seq && seq->kind == YAMLTREE_SEQ ? seq->n : 0;
        return *n == 1 ? entry_port(seq->items[0]) : 0;
}

static bool published(const struct yamltree_node *ports, int port)
{
        for (size_t i = 0; ports && ports->kind == YAMLTREE_SEQ && i < ports->n; i++)
                if (entry_port(ports->items[i]) == port)
                        return true;
        return false;
}

static int publish(struct file *f, struct yamltree_node *svc, int port)
{
        struct yamltree_node *ports = yamltree_map_get(svc, "ports");
        char text[32];

        if (policy_is_null(ports)) {
                if (yamltree_map_set(svc, "ports", YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(YAMLTREE_SEQ)) < 0)
                        return policy_oom(f->a->err);
                ports = yamltree_map_get(svc, "ports");
        }
        if (ports->kind != YAMLTREE_SEQ || published(ports, port))
                return 0;
        if (policy_prepare_append(ports) < 0)
                return policy_oom(f->a->err);
        snprintf(text, sizeof text, LOOPBACK "::%d", port);
        if (yamltree_append(ports, yamltree_scalar_new(text, strlen(text), YAML_DOUBLE_QUOTED_SCALAR_STYLE)) < 0)
                return policy_oom(f->a->err);
        return 0;
}

static int add_route(struct apply *a, const char *service, const char *host, int port)
{
        struct policy_route *r;

        for (size_t i = 0; i < a->n_routes; i++)
                if (strcmp(a->routes[i].host, host) == 0)
                        return 0; /* the first service that names a host gets it */
        if (a->n_routes == a->cap_routes) {
                size_t cap = a->cap_routes ? 2 * a->cap_routes : 8;
                void *p = realloc(a->routes, cap * sizeof *a->routes);
                if (!p)
                        return policy_oom(a->err);
                a->routes = p;
                a->cap_routes = cap;
        }
        r = &a->routes[a->n_routes++];
        memset(r, 0, sizeof *r);
        snprintf(r->service, sizeof r->service, "%s", service);
        snprintf(r->host, sizeof r->host, "%s", host);
        r->port = port;
        return 0;
}

/* <slug>.stack.localhost or a name under it: the stack's own. Hosts are lower case (labels_host_ok). */
static bool own_host(const struct apply *a, const char *host)
{
        const char *slug = a->in->m ? a->in->m->slug : NULL;
        char own[LABELS_HOST_MAX + 2];
        size_t hl = strlen(host), ol;

        if (!slug || snprintf(own, sizeof own, "%s%s", slug, LABELS_SUFFIX) >= (int)sizeof own)
                return false;
        for (char *c = own; *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        ol = strlen(own);
        return hl == ol ? !strcmp(host, own) : hl > ol && host[hl - ol - 1] == '.' && !strcmp(host + hl - ol, own);
}

struct warn_ctx {
        struct apply *a;
        const char *who;
};

static void on_warning(void *ctx, const char *line)
{
        struct warn_ctx *w = ctx;
        char *text;

        if (asprintf(&text, "%s: %s", w->who, line) < 0)
                return;
        policy_strv_add(&w->a->warnings, text, strlen(text));
        free(text);
}

/* The value of label key in a labels mapping or list ("key=value"), NULL when absent. */
static const char *label_value(const struct yamltree_node *v, const char *key)
{
        size_t kl = strlen(key);

        for (size_t i = 0; v && i < (v->kind == YAMLTREE_MAP ? v->n / 2 : v->n); i++) {
                const struct yamltree_node *k = v->kind == YAMLTREE_MAP ? v->items[2 * i] : v->items[i];
                const struct yamltree_node *val = v->kind == YAMLTREE_MAP ? v->items[2 * i + 1] : NULL;

                if (!yamltree_is_scalar(k))
                        continue;
                if (v->kind == YAMLTREE_MAP && !strcmp(k->text, key))
                        return yamltree_is_scalar(val) ? val->text : NULL;
                if (v->kind == YAMLTREE_SEQ && !strncmp(k->text, key, kl) && k->text[kl] == '=')
                        return k->text + kl + 1;
        }
        return NULL;
}

/* dash.url (the hub's "open this" address) on a service no traefik router routes: its host when that is a name
 * under .stack.localhost, else <slug>.stack.localhost, to the service's single exposed or published port
 * (published on a loopback port now; routed by finish_routes when it is the only such service). */
static int dash_route(struct file *f, const char *who, const char *name, struct yamltree_node *svc, const char *url,
                      int port)
{
        struct apply *a = f->a;
        const char *slug = a->in->m ? a->in->m->slug : NULL, *h = url;
        char host[LABELS_HOST_MAX + 1], *text;
        size_t n;

        if (!strncmp(h, "https://", 8))
                h += 8;
        else if (!strncmp(h, "http://", 7))
                h += 7;
        n = strcspn(h, ":/?#");
        if (n < sizeof host) {
                for (size_t i = 0; i < n; i++)
                        host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
                host[n] = 0;
        }
        if (n >= sizeof host || !labels_host_ok(host) || !own_host(a, host)) { /* another's name: not by dash.url */
                if (!slug || snprintf(host, sizeof host, "%s%s", slug, LABELS_SUFFIX) >= (int)sizeof host ||
                    !labels_host_ok(host))
                        return 0;
        }
        if (!port) {
                if (asprintf(&text, "%s: dash.url '%s' has no single exposed or published port to route to", who,
                             url) >= 0) {
                        policy_strv_add(&a->warnings, text, strlen(text));
                        free(text);
                }
                return 0;
        }
        if (a->dash_services++ == 0) {
                snprintf(a->dash.service, sizeof a->dash.service, "%s", name);
                snprintf(a->dash.host, sizeof a->dash.host, "%s", host);
                a->dash.port = port;
                return publish(f, svc, port);
        }
        return 0;
}

int policy_apply_routes(struct file *f, const char *who, const char *name, struct yamltree_node *svc)
{
        struct yamltree_node *v = yamltree_map_get(svc, "labels"), *ports = yamltree_map_get(svc, "ports");
        struct label labels[MAX_LABELS];
        char *owned[2 * MAX_LABELS];
        struct label_routes *lr = NULL;
        struct warn_ctx w = {f->a, who};
        size_t n = 0, n_owned = 0, n_ports = 0, n_expose = 0, i;
        int port, exposed, r = 0;

        port = only_port(ports, &n_ports);
        exposed = only_port(yamltree_map_get(svc, "expose"), &n_expose);
        if (n_ports) {
                f->a->port_services++;
                if (port && n_ports == 1) {
                        snprintf(f->a->single.service, sizeof f->a->single.service, "%s", name);
                        f->a->single.port = port;
                }
        }
        if (policy_is_null(v) || v->kind == YAMLTREE_SCALAR)
                return 0;
        if (label_value(v, "dash.url")) {
                bool router = false;
                for (i = 0; i < (v->kind == YAMLTREE_MAP ? v->n / 2 : v->n) && !router; i++) {
                        const struct yamltree_node *k = v->kind == YAMLTREE_MAP ? v->items[2 * i] : v->items[i];
                        router = yamltree_is_scalar(k) && !strncmp(k->text, "traefik.http.routers.", 21);
                }
                if (!router)
                        return dash_route(f, who, name, svc, label_value(v, "dash.url"),
                                          exposed ? exposed : (n_ports == 1 ? port : 0));
        }
        for (i = 0; i < (v->kind == YAMLTREE_MAP ? v->n / 2 : v->n) && n < MAX_LABELS; i++) {
                const struct yamltree_node *k = v->kind == YAMLTREE_MAP ? v->items[2 * i] : v->items[i];
                const struct yamltree_node *val = v->kind == YAMLTREE_MAP ? v->items[2 * i + 1] : NULL;
                const char *eq;

                if (!yamltree_is_scalar(k) || strncmp(k->text, "traefik.", 8) != 0)
                        continue;
                if (v->kind == YAMLTREE_MAP) {
                        if (!yamltree_is_scalar(val))
                                continue;
                        labels[n].key = k->text;
                        labels[n].value = val->text;
                } else {
                        eq = strchr(k->text, '=');
                        owned[n_owned] = eq ? strndup(k->text, (size_t)(eq - k->text)) : NULL;
                        if (!owned[n_owned])
                                continue;
                        labels[n].key = owned[n_owned++];
                        labels[n].value = eq + 1;
                }
                n++;
        }
        if (n == 0)
                goto done;
        lr = calloc(1, sizeof *lr);
        if (!lr) {
                r = policy_oom(f->a->err);
                goto done;
        }
        r = labels_routes(labels, n, exposed ? exposed : (n_ports == 1 ? port : 0), lr, on_warning, &w, f->a->err);
        for (i = 0; r == 0 && i < lr->n; i++) {
                if (!own_host(f->a, lr->v[i].host)) {
                        policy_need(f, PERM_ROUTE, who,
                                    "a front door route for '%s' (a stack routes %s%s and names under it)",
                                    lr->v[i].host, f->a->in->m && f->a->in->m->slug ? f->a->in->m->slug : "<slug>",
                                    LABELS_SUFFIX);
                        if (!(f->a->in->allow & PERM_ROUTE))
                                continue;
                }
                r = add_route(f->a, name, lr->v[i].host, lr->v[i].port);
                if (r == 0)
                        r = publish(f, svc, lr->v[i].port);
        }
done:
        while (n_owned)
                free(owned[--n_owned]);
        free(lr);
        return r;
}

int policy_finish_routes(struct apply *a)
{
        char host[LABELS_HOST_MAX + 1];
        const char *slug = a->in->m ? a->in->m->slug : NULL;

        if (a->dash_services == 1)
                return add_route(a, a->dash.service, a->dash.host, a->dash.port); /* unless a router has the host */
        if (a->dash_services > 1) {
                char *text;
                if (asprintf(&text,
                             "dash.url on %zu services: which one is the stack's address is ambiguous, none is "
                             "routed by it",
                             a->dash_services) >= 0) {
                        policy_strv_add(&a->warnings, text, strlen(text));
                        free(text);
                }
        }
        if (a->n_routes || a->port_services != 1 || !a->single.port || !slug)
                return 0;
        if (snprintf(host, sizeof host, "%s%s", slug, LABELS_SUFFIX) >= (int)sizeof host || !labels_host_ok(host))
                return 0;
        return add_route(a, a->single.service, host, a->single.port);
}
