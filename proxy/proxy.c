/* proxy.c - the routes table and the Caddy configuration made from it (proxy.h). The table
 * ($STACK_HOME/proxy/routes.json) is the truth; Caddy's configuration is always rebuilt whole from it and
 * loaded in one POST /load, so a restarted proxy serves exactly what the table says.
 */
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "caddy.h"
#include "frontdoor.h"
#include "run/labels.h"
#include "base/fsutil.h"
#include "base/ports.h"
#include "tls/ca.h"

#define TABLE_MAX (1024 * 1024)

static const char *const state_names[] = {"waiting", "starting", "stopped", "failed"};
static const char *const state_text[] = {"is waiting for approval", "is starting", "is stopped", "failed"};

const char *proxy_state_name(enum proxy_state state)
{
        return (unsigned)state < 4 ? state_names[state] : "unknown";
}

int proxy_https_port(void)
{
        return ports_front_https();
}

int proxy_http_port(void)
{
        return ports_front_http();
}

int proxy_host_address(const char *host, char *buf, size_t size)
{
        int port = proxy_https_port();

        if (port == 443 || port < 0)
                return fs_path(buf, size, "https://%s", host);
        return fs_path(buf, size, "https://%s:%d", host, port);
}

int proxy_address(const char *slug, char *buf, size_t size)
{
        char host[LABELS_HOST_MAX + 2];

        if (fs_path(host, sizeof host, "%s." PROXY_DOMAIN, slug) < 0)
                return -ENAMETOOLONG;
        return proxy_host_address(host, buf, size);
}

/* --- the table ---------------------------------------------------------------------------------------- */

struct table {
        struct caddy_paths paths;
        char path[PATH_MAX], lock[PATH_MAX], certs[PATH_MAX];
        const char *home;
        json_t *routes; /* array of {"slug","host","upstream"} | {"slug","host","state"} | {"slug","host","root"} */
        int lock_fd;
};

static void table_release(struct table *t)
{
        json_decref(t->routes);
        t->routes = NULL;
        if (t->lock_fd >= 0)
                close(t->lock_fd); /* drops the flock */
        t->lock_fd = -1;
}

static int table_open(struct table *t, struct store *s, struct error *err)
{
        json_error_t jerr;
        json_t *doc;
        char *text = NULL;
        size_t len;
        int r;

        memset(t, 0, sizeof *t);
        t->lock_fd = -1;
        t->home = store_home(s);
        r = caddy_paths_init(&t->paths, t->home, err);
        if (r < 0)
                return r;
        if (fs_path(t->path, sizeof t->path, "%s/routes.json", t->paths.dir) < 0 ||
            fs_path(t->lock, sizeof t->lock, "%s/lock", t->paths.dir) < 0 ||
            fs_path(t->certs, sizeof t->certs, "%s/certs", t->paths.dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", t->home);
        t->lock_fd = open(t->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (t->lock_fd < 0)
                return error_errno(err, STACK_ESTORE, -errno, "cannot open %s", t->lock);
        if (flock(t->lock_fd, LOCK_EX) < 0) {
                r = error_errno(err, STACK_ESTORE, -errno, "cannot lock %s", t->lock);
                goto fail;
        }
        r = fs_read_file(t->path, TABLE_MAX, &text, &len);
        if (r == -ENOENT) {
                t->routes = json_array();
                return t->routes ? 0 : error_set(err, STACK_EFAIL, "out of memory");
        }
        if (r < 0) {
                r = error_errno(err, STACK_ESTORE, r, "cannot read %s", t->path);
                goto fail;
        }
        doc = json_loadb(text, len, 0, &jerr);
        free(text);
        if (!doc || !json_is_array(json_object_get(doc, "routes"))) {
                json_decref(doc);
                r = error_set(err, STACK_ESTORE, "%s is damaged (%s); remove it and restart the stacks", t->path,
                              doc ? "no routes array" : jerr.text);
                goto fail;
        }
        t->routes = json_incref(json_object_get(doc, "routes"));
        json_decref(doc);
        return 0;
fail:
        table_release(t);
        return r;
}

static int table_save(struct table *t, struct error *err)
{
        json_t *doc = json_pack("{s:i,s:O}", "schema", 1, "routes", t->routes);
        char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        int r;

        json_decref(doc);
        if (!text)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = fs_write_atomic(t->path, text, strlen(text), 0600);
        free(text);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", t->path) : 0;
}

static const char *route_str(json_t *route, const char *key)
{
        return json_string_value(json_object_get(route, key));
}

static int route_find(json_t *routes, const char *host)
{
        size_t i;
        json_t *v;

        json_array_foreach(routes, i,
                           v) if (route_str(v, "host") && strcmp(route_str(v, "host"), host) == 0) return (int)i;
        return -1;
}

/* --- the Caddy configuration ------------------------------------------------------------------------- */

static int leaf_paths(const struct table *t, const char *host, char key[PATH_MAX], char cert[PATH_MAX])
{
        if (fs_path(key, PATH_MAX, "%s/%s-key.pem", t->certs, host) < 0 ||
            fs_path(cert, PATH_MAX, "%s/%s.pem", t->certs, host) < 0)
                return -ENAMETOOLONG;
        return 0;
}

static json_t *placeholder_handler(const char *slug, const char *state)
{
        char body[2048], refresh[16];
        const char *text = "is not running";

        for (size_t i = 0; i < 4; i++)
                if (strcmp(state, state_names[i]) == 0)
                        text = state_text[i];
        snprintf(body, sizeof body,
                 "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"%d\">"
                 "<title>%s %s</title></head>\n<body style=\"font-family: sans-serif; margin: 3em\">"
                 "<h1>%s %s</h1>\n<p>This page refreshes itself every %d seconds.</p>"
                 "<p class=\"state\" data-state=\"%s\">state: %s</p></body></html>\n",
                 PROXY_REFRESH_S, slug, text, slug, text, PROXY_REFRESH_S, state, state);
        snprintf(refresh, sizeof refresh, "%d", PROXY_REFRESH_S);
        return json_pack("{s:s,s:i,s:{s:[s],s:[s],s:[s],s:[s]},s:s}", "handler", "static_response", "status_code", 503,
                         "headers", "Content-Type", "text/html; charset=utf-8", "Refresh", refresh, "Retry-After",
                         refresh, "Cache-Control", "no-store", "body", body);
}

static json_t *route_json(json_t *route)
{
        const char *host = route_str(route, "host"), *up = route_str(route, "upstream");
        json_t *handler;

        if (up) {
                json_t *ups = json_array();
                for (const char *p = up; ups && *p;) { /* "a:p,b:q": one upstream each (a swarm's tasks) */
                        size_t len = strcspn(p, ",");
                        json_array_append_new(ups, json_pack("{s:s%}", "dial", p, len));
                        p += len + (p[len] == ',');
                }
                handler = ups ? json_pack("{s:s,s:o}", "handler", "reverse_proxy", "upstreams", ups) : NULL;
                /* several (a swarm's tasks): one that does not answer is skipped for a while and the request
                 * tried on another */
                if (handler && json_array_size(json_object_get(handler, "upstreams")) > 1) {
                        json_object_set_new(handler, "load_balancing",
                                            json_pack("{s:s,s:s}", "try_duration", "5s", "try_interval", "250ms"));
                        json_object_set_new(handler, "health_checks",
                                            json_pack("{s:{s:s}}", "passive", "fail_duration", "10s"));
                }
        } else if (route_str(route, "root"))
                handler = json_pack("{s:s,s:s,s:[s,s,s]}", "handler", "file_server", "root", route_str(route, "root"),
                                    "hide", "stack.yaml", ".env", ".stack-*");
        else
                handler = placeholder_handler(route_str(route, "slug"), route_str(route, "state") ?: "unknown");
        if (!handler)
                return NULL;
        return json_pack("{s:[{s:[s]}],s:[o],s:b}", "match", "host", host, "handle", handler, "terminal", 1);
}

/* The whole configuration; leaf certificates are made for every host first. */
static int config_build(struct table *t, int https_port, int http_port, char **ret, struct error *err)
{
        char admin[PATH_MAX + 8], data[PATH_MAX], listen[32], key[PATH_MAX], cert[PATH_MAX], location[64];
        json_t *cfg = NULL, *routes, *files, *servers, *v;
        size_t i;
        int r;

        r = fs_mkdir_p(t->certs, 0700);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", t->certs);
        snprintf(admin, sizeof admin, "unix/%s", t->paths.socket);
        if (fs_path(data, sizeof data, "%s/data", t->paths.dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", t->home);
        snprintf(listen, sizeof listen, "127.0.0.1:%d", https_port);
        routes = json_array();
        files = json_array();
        /* For names that have no route (any more): the 404 below, not a failed handshake. */
        if (fs_path(key, sizeof key, "%s/wildcard-key.pem", t->certs) < 0 ||
            fs_path(cert, sizeof cert, "%s/wildcard.pem", t->certs) < 0) {
                r = error_set(err, STACK_ESTORE, "store path too long: %s", t->certs);
                goto done;
        }
        r = ca_ensure_leaf(t->home, "*." PROXY_DOMAIN, key, cert, err);
        if (r < 0)
                goto done;
        json_array_append_new(files, json_pack("{s:s,s:s,s:s}", "certificate", cert, "key", key, "format", "pem"));
        json_array_foreach(t->routes, i, v)
        {
                const char *host = route_str(v, "host");

                if (!host || !route_str(v, "slug") || !labels_host_ok(host))
                        continue;
                if (leaf_paths(t, host, key, cert) < 0) {
                        r = error_set(err, STACK_ESTORE, "store path too long: %s", t->certs);
                        goto done;
                }
                r = ca_ensure_leaf(t->home, host, key, cert, err);
                if (r < 0)
                        goto done;
                json_array_append_new(files,
                                      json_pack("{s:s,s:s,s:s}", "certificate", cert, "key", key, "format", "pem"));
                json_array_append_new(routes, route_json(v));
        }
        json_array_append_new(routes,
                              json_pack("{s:[{s:s,s:i,s:{s:[s]},s:s}]}", "handle", "handler", "static_response",
                                        "status_code", 404, "headers", "Content-Type", "text/plain; charset=utf-8",
                                        "body", "no stack answers at this address\n"));
        servers = json_pack("{s:{s:[s],s:[s,s],s:{s:b},s:[{}],s:o}}", "https", "listen", listen, "protocols", "h1",
                            "h2", "automatic_https", "disable", 1, "tls_connection_policies", "routes", routes);
        routes = NULL;
        if (servers && http_port > 0) {
                char http_listen[32];

                snprintf(http_listen, sizeof http_listen, "127.0.0.1:%d", http_port);
                if (https_port == 443)
                        snprintf(location, sizeof location, "https://{http.request.host}{http.request.uri}");
                else
                        snprintf(location, sizeof location, "https://{http.request.host}:%d{http.request.uri}",
                                 https_port);
                json_object_set_new(servers, "http",
                                    json_pack("{s:[s],s:[s],s:{s:b},s:[{s:[{s:s,s:i,s:{s:[s]}}]}]}", "listen",
                                              http_listen, "protocols", "h1", "automatic_https", "disable", 1, "routes",
                                              "handle", "handler", "static_response", "status_code", 308, "headers",
                                              "Location", location));
        }
        cfg = json_pack("{s:{s:s,s:{s:b},s:[s]},s:{s:{s:{s:s}}},s:{s:s,s:s},s:{s:{s:{s:o}},s:{s:o}}}", "admin",
                        "listen", admin, "config", "persist", 0, "origins", "localhost", "logging", "logs", "default",
                        "level", "WARN", "storage", "module", "file_system", "root", data, "apps", "tls",
                        "certificates", "load_files", files, "http", "servers", servers);
        files = NULL;
        if (!cfg) {
                r = error_set(err, STACK_EFAIL, "cannot build the proxy configuration (out of memory)");
                goto done;
        }
        *ret = json_dumps(cfg, JSON_COMPACT);
        r = *ret ? 0 : error_set(err, STACK_EFAIL, "out of memory");
done:
        json_decref(cfg);
        json_decref(routes);
        json_decref(files);
        return r;
}

/* Bring the proxy in line with the table: load into the running one, or start one when start_it. */
static int table_apply(struct table *t, bool start_it, struct error *err)
{
        int https_port = proxy_https_port(), http_port = proxy_http_port(), r;
        char *config = NULL;
        bool running;

        if (https_port < 0 || http_port < 0)
                return error_set(err, STACK_EUSAGE,
                                 "STACK_PROXY_PORT / STACK_PROXY_HTTP_PORT must be a port (1-65535)");
        running = caddy_running(&t->paths);
        if (!running && !start_it)
                return 0;
        if (!running) {
                char bin[PATH_MAX];

                r = caddy_find(bin, sizeof bin, err); /* before making certificates for a proxy that cannot run */
                if (r < 0)
                        return r;
        }
        r = config_build(t, https_port, http_port, &config, err);
        if (r == 0)
                r = running ? caddy_load(&t->paths, config, https_port, err)
                            : caddy_start(&t->paths, t->home, config, https_port, http_port, err);
        free(config);
        return r;
}

/* --- the interface ------------------------------------------------------------------------------------ */

static int check_route_args(const char *slug, const char *host, struct error *err)
{
        if (!slug || !*slug || strlen(slug) > 64 || strpbrk(slug, "\"<>&'/ \t\n"))
                return error_set(err, STACK_EUSAGE, "'%s' is not a stack name", slug ? slug : "");
        if (!host || !labels_host_ok(host))
                return error_set(err, STACK_EUSAGE, "'%s' is not a host name under " PROXY_DOMAIN, host ? host : "");
        return 0;
}

/* One upstream "ADDR:PORT": 127.0.0.1, or an IPv4 address (a swarm node's: run/runner-swarm.c). */
static int check_one_upstream(const char *up, size_t len, const char *all, struct error *err)
{
        char addr[64], *end;
        const char *colon = memrchr(up, ':', len);
        struct in_addr in;
        long port;

        if (!colon || (size_t)(colon - up) >= sizeof addr)
                return error_set(err, STACK_EUSAGE,
                                 "upstream '%s' is not ADDR:PORT (127.0.0.1 or a node's IPv4 "
                                 "address)",
                                 all);
        memcpy(addr, up, (size_t)(colon - up));
        addr[colon - up] = 0;
        if (inet_pton(AF_INET, addr, &in) != 1)
                return error_set(err, STACK_EUSAGE, "upstream '%s' is not 127.0.0.1:PORT or an IPv4 ADDR:PORT", all);
        port = strtol(colon + 1, &end, 10);
        if (end != up + len || end == colon + 1 || port < 1 || port > 65535)
                return error_set(err, STACK_EUSAGE, "upstream '%s' has no valid port", all);
        return 0;
}

/* "ADDR:PORT[,ADDR:PORT...]" (at most PROXY_UPSTREAMS_MAX): a swarm service's tasks, one per node. */
#define PROXY_UPSTREAMS_MAX 32
static int check_upstream(const char *up, struct error *err)
{
        size_t n = 0;
        int r = 0;

        if (!up || !*up)
                return error_set(err, STACK_EUSAGE, "upstream '' is not 127.0.0.1:PORT");
        for (const char *p = up; r == 0 && *p; n++) {
                size_t len = strcspn(p, ",");
                if (n == PROXY_UPSTREAMS_MAX)
                        return error_set(err, STACK_EUSAGE, "more than %d upstreams", PROXY_UPSTREAMS_MAX);
                r = check_one_upstream(p, len, up, err);
                if (r == 0 && p[len] == ',' && !p[len + 1])
                        r = error_set(err, STACK_EUSAGE, "upstream '%s' ends with a comma", up);
                p += len + (p[len] == ',');
        }
        return r;
}

static int route_put(struct store *s, const char *slug, const char *host, const char *upstream, const char *state,
                     const char *root, struct error *err)
{
        struct table t;
        json_t *route;
        int r, i;

        r = table_open(&t, s, err);
        if (r < 0)
                return r;
        i = route_find(t.routes, host);
        if (i >= 0 && strcmp(route_str(json_array_get(t.routes, (size_t)i), "slug") ?: "", slug) != 0) {
                r = error_set(err, STACK_EREJECT, "%s is already the address of stack %s; stack %s cannot claim it",
                              host, route_str(json_array_get(t.routes, (size_t)i), "slug"), slug);
                goto done;
        }
        if (i < 0 && json_array_size(t.routes) >= PROXY_ROUTES_MAX) {
                r = error_set(err, STACK_EFAIL, "the proxy has %d routes already", PROXY_ROUTES_MAX);
                goto done;
        }
        route = json_pack("{s:s,s:s,s:s}", "slug", slug, "host", host,
                          upstream ? "upstream"
                          : root   ? "root"
                                   : "state",
                          upstream ? upstream
                          : root   ? root
                                   : state);
        if (!route ||
            (i >= 0 ? json_array_set_new(t.routes, (size_t)i, route) : json_array_append_new(t.routes, route)) < 0) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        r = table_save(&t, err);
        if (r == 0)
                r = table_apply(&t, true, err);
done:
        table_release(&t);
        return r;
}

int proxy_route_set(struct store *s, const char *slug, const char *host, const char *upstream, struct error *err)
{
        int r = check_route_args(slug, host, err);

        if (r == 0)
                r = check_upstream(upstream, err);
        return r < 0 ? r : route_put(s, slug, host, upstream, NULL, NULL, err);
}

int proxy_route_placeholder(struct store *s, const char *slug, const char *host, enum proxy_state state,
                            struct error *err)
{
        int r = check_route_args(slug, host, err);

        if (r == 0 && (unsigned)state >= 4)
                r = error_set(err, STACK_EUSAGE, "proxy_route_placeholder: unknown state %d", (int)state);
        return r < 0 ? r : route_put(s, slug, host, NULL, state_names[state], NULL, err);
}

int proxy_route_static(struct store *s, const char *slug, const char *host, const char *root, struct error *err)
{
        int r = check_route_args(slug, host, err);

        if (r == 0 && (!root || root[0] != '/' || strlen(root) >= PATH_MAX || strpbrk(root, "{}\n")))
                r = error_set(err, STACK_EUSAGE, "'%s' is not an absolute directory to serve", root ? root : "");
        return r < 0 ? r : route_put(s, slug, host, NULL, NULL, root, err);
}

int proxy_route_remove(struct store *s, const char *slug, const char *host, struct error *err)
{
        struct table t;
        size_t removed = 0;
        int r;

        if (!slug || !*slug)
                return error_set(err, STACK_EUSAGE, "proxy_route_remove: no stack name");
        r = table_open(&t, s, err);
        if (r < 0)
                return r;
        for (size_t i = json_array_size(t.routes); i-- > 0;) {
                json_t *v = json_array_get(t.routes, i);

                if (strcmp(route_str(v, "slug") ?: "", slug) == 0 &&
                    (!host || strcmp(route_str(v, "host") ?: "", host) == 0)) {
                        json_array_remove(t.routes, i);
                        removed++;
                }
        }
        if (removed == 0) {
                r = error_set(err, STACK_ENOTFOUND, "stack %s has no route%s%s", slug, host ? " for " : "",
                              host ? host : "");
                goto done;
        }
        r = table_save(&t, err);
        if (r == 0)
                r = table_apply(&t, false, err);
done:
        table_release(&t);
        return r;
}

int proxy_start(struct store *s, struct error *err)
{
        struct table t;
        int r = table_open(&t, s, err);

        if (r == 0)
                r = table_apply(&t, true, err);
        table_release(&t);
        return r;
}

int proxy_stop(struct store *s, struct error *err)
{
        struct table t;
        int r = table_open(&t, s, err);

        if (r == 0)
                r = caddy_stop(&t.paths, err);
        if (r == 0 && proxy_https_port() > 0)
                frontdoor_stop_orphan(proxy_https_port()); /* a proxy on this port whose store is gone */
        table_release(&t);
        return r;
}

/* The port in a running server's listen address ("127.0.0.1:8443"), 0 when none. */
static int running_port(const struct caddy_paths *p, const char *server)
{
        char path[128], *body = NULL;
        struct error ignored = ERROR_INIT;
        const char *addr, *colon;
        json_t *doc;
        int port = 0;

        snprintf(path, sizeof path, "/config/apps/http/servers/%s/listen/0", server);
        if (caddy_get(p, path, &body, &ignored) < 0)
                return 0;
        doc = json_loads(body, JSON_DECODE_ANY, NULL);
        addr = json_string_value(doc);
        colon = addr ? strrchr(addr, ':') : NULL;
        if (colon)
                port = atoi(colon + 1);
        json_decref(doc);
        free(body);
        return port;
}

int proxy_status(struct store *s, json_t **ret, struct error *err)
{
        char addr[LABELS_HOST_MAX + 32];
        json_t *out, *routes, *v;
        struct table t;
        bool running;
        size_t i;
        int r;

        r = table_open(&t, s, err);
        if (r < 0)
                return r;
        running = caddy_running(&t.paths);
        routes = json_array();
        json_array_foreach(t.routes, i, v)
        {
                json_t *row = json_deep_copy(v);

                if (proxy_host_address(route_str(v, "host") ?: "", addr, sizeof addr) == 0)
                        json_object_set_new(row, "address", json_string(addr));
                json_array_append_new(routes, row);
        }
        out = json_pack("{s:b,s:i,s:i,s:i,s:s,s:s,s:o}", "running", running, "pid",
                        running ? (int)caddy_pid(&t.paths) : 0, "port",
                        running ? running_port(&t.paths, "https") : proxy_https_port(), "http_port",
                        running ? running_port(&t.paths, "http") : proxy_http_port(), "admin", t.paths.socket, "log",
                        t.paths.log, "routes", routes);
        table_release(&t);
        if (!out)
                return error_set(err, STACK_EFAIL, "out of memory");
        *ret = out;
        return 0;
}
