/* proxy.h - the front door: https://<name>.stack.localhost served by a Caddy process stack manages, with
 * routes kept in a table under $STACK_HOME/proxy/ and certificates from the local CA (spec/proxy.md).
 *
 * Calling sequence (run.c, the CLI):
 *   proxy_route_set(s, slug, host, "127.0.0.1:PORT", err)     route host to a loopback upstream
 *   proxy_route_placeholder(s, slug, host, state, err)          or answer 503 "waiting/starting/stopped/failed"
 *   proxy_route_static(s, slug, host, "/abs/dir", err)          or serve the files of a directory (StaticWebsite)
 *   proxy_route_remove(s, slug, host or NULL, err)              forget one host of slug, or all of them
 * Each changes the table (under a lock), then brings the proxy in line: starts it when it is not running
 * (set/placeholder only), else loads the whole new configuration through the admin API. The table is changed
 * even when the proxy cannot be started (not installed: -STACK_ERUNTIME), so the next start serves it.
 * A host another slug holds is refused with -STACK_EREJECT naming both; the holder keeps it.
 *   proxy_start(s, err)     start (or reload) the proxy from the table: what a restart does
 *   proxy_status(s, &json, err) / proxy_stop(s, err)
 *   proxy_address(slug, buf, size) / proxy_host_address(host, ...)   the https:// address a person opens
 * Ports: https on 127.0.0.1:443, or STACK_PROXY_PORT; http (a redirect to https) on 127.0.0.1:80 unless
 * STACK_PROXY_PORT is set, or on STACK_PROXY_HTTP_PORT when that is set.
 * One front door per port and machine (frontdoor.h): a start on a port another store's proxy (or another
 * program) holds is refused with -STACK_ERUNTIME naming that store and STACK_PROXY_PORT; a proxy stops by itself
 * when its store's proxy/ directory is deleted; proxy_stop() also stops an orphan on its port.
 */
#ifndef STACK_PROXY_H
#define STACK_PROXY_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "store/store.h"

#define PROXY_ROUTES_MAX 1024
#define PROXY_DOMAIN     "stack.localhost"
#define PROXY_REFRESH_S  3

enum proxy_state {
        PROXY_WAITING, /* waiting for approval */
        PROXY_STARTING,
        PROXY_STOPPED,
        PROXY_FAILED,
};

int proxy_route_set(struct store *s, const char *slug, const char *host, const char *upstream, struct error *err);
int proxy_route_placeholder(struct store *s, const char *slug, const char *host, enum proxy_state state,
                            struct error *err);
/* Serve root (an absolute directory: a StaticWebsite's run dir) with Caddy's file_server; stack's own files
 * there (stack.yaml, .env, .stack-*) are hidden. */
int proxy_route_static(struct store *s, const char *slug, const char *host, const char *root, struct error *err);
int proxy_route_remove(struct store *s, const char *slug, const char *host, struct error *err);
int proxy_start(struct store *s, struct error *err);
int proxy_stop(struct store *s, struct error *err);
/* {"running", "pid", "port", "http_port", "admin", "log", "routes": [{"slug","host","address","upstream"|"state"|"root"}]};
 * port and http_port are the running proxy's when it runs, else what a start would use. */
int proxy_status(struct store *s, json_t **ret, struct error *err);

/* https://<slug>.stack.localhost, with ":port" when the https port is not 443. -ENAMETOOLONG when it does not fit. */
int proxy_address(const char *slug, char *buf, size_t size);
int proxy_host_address(const char *host, char *buf, size_t size);
/* The https / http ports in force (environment above; base/ports.h reads it); -1 when STACK_PROXY_PORT (or _HTTP_PORT) is not a port;
 * http: 0 for none. */
int proxy_https_port(void);
int proxy_http_port(void);
const char *proxy_state_name(enum proxy_state state);

#endif
