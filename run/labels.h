/* labels.h - the routes a service asks for in its traefik labels, as pure functions (spec/proxy.md "Routes
 * from labels").
 *
 * Calling sequence: the caller resolves ${VAR} in the label values first (the stack's .env and --env), then
 *   labels_routes(labels, n, exposed_port, &routes, warn, ctx, err)
 * fills `routes` with one entry per host name: each `traefik.http.routers.<r>.rule` made of Host(`a`),
 * Host(`a`, `b`) and `||` between them, under `.stack.localhost`, to the port of the router's service
 * (`traefik.http.routers.<r>.service`, else the only service, else the service named like the router:
 * `traefik.http.services.<s>.loadbalancer.server.port`), else to exposed_port (the service's single exposed
 * port; 0 when it has none or several). Names outside .stack.localhost, rules it cannot read and routers
 * without a port are warned about (warn may be NULL) and skipped; `traefik.enable=false` routes nothing.
 */
#ifndef STACK_LABELS_H
#define STACK_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define LABELS_ROUTES_MAX 16
#define LABELS_HOST_MAX   253
#define LABELS_SUFFIX     ".stack.localhost"

struct label {
        const char *key, *value;
};

struct label_route {
        char host[LABELS_HOST_MAX + 1]; /* lower case */
        char router[64];                /* the router it came from */
        int port;
};

struct label_routes {
        struct label_route v[LABELS_ROUTES_MAX];
        size_t n;
};

typedef void (*labels_warn_fn)(void *ctx, const char *line);

/* 0 (possibly with no routes), or -STACK_EFAIL on bad arguments. */
int labels_routes(const struct label *labels, size_t n, int exposed_port, struct label_routes *ret, labels_warn_fn warn,
                  void *ctx, struct error *err);
/* Is host a name the proxy routes: [a-z0-9-] labels ending in LABELS_SUFFIX, at most LABELS_HOST_MAX? */
int labels_host_ok(const char *host);

#endif
