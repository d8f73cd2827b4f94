/* orch.c - resolve, fetch when missing, run: the order of the parts, kept out of the parts themselves. */
#include "orch.h"
#include "base/wallclock.h"
#include "swarm.h"

#include "fetch/fetch.h"
#include "gc/gc.h"
#include "orch/upgrade.h"
#include "proxy/proxy.h"
#include "run/snapshot.h"
#include "store/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int orch_resolve(struct store *s, const char *ref, const struct orch_options *o, struct version_info *ret,
                 struct error *err)
{
        struct version_info v = {0};
        double t0 = monotonic_s();
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s || !ref || !o)
                return error_set(err, STACK_EFAIL, "orch_resolve: invalid arguments");
        /* The store first; a fetch only when it lacks the version. */
        r = index_resolve_ref(store_index(s), ref, &v, err);
        if (r == -STACK_ENOTFOUND) {
                struct fetch_options fo = {.catalog = o->catalog,
                                           .insecure = o->insecure,
                                           .warn = o->run.warn,
                                           .warn_ctx = o->run.warn_ctx,
                                           .progress = o->progress,
                                           .progress_ctx = o->progress_ctx};
                struct fetch_result fr;
                if (o->offline) {
                        char msg[sizeof err->msg] = "";
                        if (err) {
                                snprintf(msg, sizeof msg, "%s", err->msg);
                                error_clear(err);
                        }
                        return error_set(err, STACK_ENETWORK, "%s, and --offline forbids fetching it", msg);
                }
                error_clear(err);
                r = fetch_ref(s, ref, &fo, &fr, err);
                if (r < 0)
                        return r;
                v = fr.v;
                memset(&fr.v, 0, sizeof fr.v);
                fetch_result_release(&fr);
                if (o->run.step)
                        o->run.step(o->run.step_ctx, "fetch", monotonic_s() - t0);
        }
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

/* What the front door calls during one orch_run. */
struct door {
        struct store *s;
        manifest_warn_fn warn;
        void *warn_ctx;
        bool warned;  /* the proxy is unavailable: said once */
        bool refused; /* a host is another stack's */
};

/* A proxy call that did not go through: a warning (once), never a failure of the stack. */
static void door_warn(struct door *d, struct error *perr)
{
        char line[sizeof perr->msg + 128];

        if (!d->warned && d->warn) {
                snprintf(line, sizeof line,
                         "the front door is not available (%s); the stack answers at its published ports", perr->msg);
                d->warn(d->warn_ctx, line);
        }
        d->warned = true;
        error_clear(perr);
}

/* The hosts the proxy table gives slug (NULL-terminated, free with free_hosts), NULL when there are none. */
static char **slug_hosts(struct store *s, const char *slug)
{
        struct error err = ERROR_INIT;
        json_t *st = NULL, *routes, *e;
        char **v = NULL;
        size_t i, n = 0;

        if (proxy_status(s, &st, &err) < 0)
                return NULL;
        routes = json_object_get(st, "routes");
        v = calloc(json_array_size(routes) + 1, sizeof *v);
        json_array_foreach(routes, i, e)
        {
                const char *rs = json_string_value(json_object_get(e, "slug")),
                           *host = json_string_value(json_object_get(e, "host"));
                if (v && rs && host && strcmp(rs, slug) == 0)
                        v[n++] = strdup(host);
        }
        json_decref(st);
        return v;
}

static void free_hosts(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void door_state(struct door *d, const char *slug, enum proxy_state state)
{
        char **hosts = slug_hosts(d->s, slug);
        struct error perr = ERROR_INIT;

        for (size_t i = 0; hosts && hosts[i]; i++)
                if (proxy_route_placeholder(d->s, slug, hosts[i], state, &perr) < 0)
                        door_warn(d, &perr);
        free_hosts(hosts);
}

static int door_check(void *ctx, const char *slug, const struct run_route *routes, size_t n, struct error *err)
{
        struct door *d = ctx;
        struct error perr = ERROR_INIT;
        char **hosts;
        size_t i, k;
        int r;

        for (i = 0; i < n; i++) {
                r = proxy_route_placeholder(d->s, slug, routes[i].host, PROXY_STARTING, &perr);
                if (r == -STACK_EREJECT) {
                        d->refused = true;
                        return error_set(err, STACK_EREJECT, "%s", perr.msg);
                }
                if (r < 0)
                        door_warn(d, &perr);
        }
        hosts = slug_hosts(d->s, slug); /* a host an earlier version routed and this one does not */
        for (k = 0; hosts && hosts[k]; k++) {
                for (i = 0; i < n && strcmp(hosts[k], routes[i].host); i++)
                        ;
                if (i == n && proxy_route_remove(d->s, slug, hosts[k], &perr) < 0)
                        door_warn(d, &perr);
        }
        free_hosts(hosts);
        return 0;
}

/* Running: each host to its loopback port, its https address first in info->addresses. */
static void door_open(struct door *d, struct run_info *info)
{
        struct run_address *a;
        size_t n = 0;

        if (!info->n_routes)
                return;
        a = calloc(info->n_routes + info->n_addresses + 1, sizeof *a);
        if (!a)
                return;
        for (size_t i = 0; i < info->n_routes; i++) {
                const struct run_route *rt = &info->routes[i];
                struct error perr = ERROR_INIT;
                char up[64], url[512];
                int r;

                if (rt->root) { /* a StaticWebsite: the proxy serves its run dir */
                        r = proxy_route_static(d->s, info->row.slug, rt->host, rt->root, &perr);
                        if (r < 0)
                                door_warn(d, &perr);
                        else if (proxy_host_address(rt->host, url, sizeof url) == 0) {
                                a[n].service = strdup(rt->service);
                                a[n].url = strdup(url);
                                n++;
                        }
                        continue;
                }
                if (!rt->host_port) {
                        if (d->warn) {
                                snprintf(url, sizeof url, "%s: port %u of service '%s' is not published", rt->host,
                                         rt->port, rt->service);
                                d->warn(d->warn_ctx, url);
                        }
                        continue;
                }
                snprintf(up, sizeof up, "127.0.0.1:%u", rt->host_port);
                /* a swarm run: the nodes its tasks run on (run/runner-swarm.c) */
                r = proxy_route_set(d->s, info->row.slug, rt->host, rt->upstream ? rt->upstream : up, &perr);
                if (r < 0) {
                        door_warn(d, &perr);
                        continue;
                }
                if (proxy_host_address(rt->host, url, sizeof url) < 0)
                        continue;
                a[n].service = strdup(rt->service);
                a[n].url = strdup(url);
                n++;
        }
        if (info->n_addresses) /* a StaticWebsite has none of its own */
                memcpy(a + n, info->addresses, info->n_addresses * sizeof *a);
        free(info->addresses);
        info->addresses = a;
        info->n_addresses += n;
}

int orch_run(struct store *s, const char *ref, const struct orch_options *o, struct run_info *ret, struct error *err)
{
        struct version_info v = {0};
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s)
                return error_set(err, STACK_EFAIL, "orch_run: invalid arguments");
        /* One shared lock from resolving to running: gc cannot collect the version in between. */
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = orch_resolve(s, ref, o, &v, err);
        if (r == 0)
                r = orch_run_version(s, &v, o, ret, err);
        version_info_release(&v);
        store_unlock(s);
        return r;
}

int orch_run_version(struct store *s, const struct version_info *v, const struct orch_options *o, struct run_info *ret,
                     struct error *err)
{
        struct door d = {.s = s, .warn = o->run.warn, .warn_ctx = o->run.warn_ctx};
        struct run_options ro = o->run;
        int r;

        memset(ret, 0, sizeof *ret);
        ro.routes_check = door_check;
        ro.routes_ctx = &d;
        ro.offline = ro.offline || o->offline; /* nor pull its images */
        r = run_start(s, v, &ro, ret, err);
        if (r == 0)
                door_open(&d, ret);
        else if (!d.refused && ret->n_routes)
                door_state(&d, v->slug, PROXY_FAILED);
        return r;
}

int orch_stop(struct store *s, const char *id_or_slug, bool remove, bool purge, manifest_warn_fn warn, void *warn_ctx,
              struct run_row *ret, struct error *err)
{
        struct door d = {.s = s, .warn = warn, .warn_ctx = warn_ctx};
        struct error perr = ERROR_INIT;
        int r;

        r = remove ? run_remove(s, id_or_slug, purge, ret, err) : run_stop(s, id_or_slug, ret, err);
        if (r < 0 || !ret->slug)
                return r;
        if (remove && purge) /* the data went: its snapshots go with it (gc then collects their trees) */
                snapshot_forget(s, ret->slug, NULL, NULL);
        if (!remove)
                door_state(&d, ret->slug, PROXY_STOPPED);
        else if (proxy_route_remove(s, ret->slug, NULL, &perr) < 0 && perr.code != STACK_ENOTFOUND)
                door_warn(&d, &perr);
        return r;
}

int orch_remove(struct store *s, const char *id_or_slug, bool purge, manifest_warn_fn warn, void *warn_ctx,
                struct run_row *ret, struct error *err)
{
        struct door d = {.s = s, .warn = warn, .warn_ctx = warn_ctx};
        struct error perr = ERROR_INIT;
        char *left = NULL;
        int r;

        r = run_remove_anyway(s, id_or_slug, purge, ret, &left, err);
        if (left && warn)
                warn(warn_ctx, left);
        free(left);
        if (r < 0 || !ret->slug)
                return r;
        /* a removed stack is never started again by an upgrade's recovery; with purge its journal goes too */
        if (upgrade_forget(s, ret->slug, purge, &perr) < 0 && warn)
                warn(warn_ctx, perr.msg);
        error_clear(&perr);
        if (purge) /* the data went: its snapshots go with it (gc then collects their trees) */
                snapshot_forget(s, ret->slug, NULL, NULL);
        if (proxy_route_remove(s, ret->slug, NULL, &perr) < 0 && perr.code != STACK_ENOTFOUND)
                door_warn(&d, &perr);
        return r;
}

void orch_waiting(struct store *s, const char *slug, manifest_warn_fn warn, void *warn_ctx)
{
        struct door d = {.s = s, .warn = warn, .warn_ctx = warn_ctx};
        struct error perr = ERROR_INIT;
        char host[300];

        if (snprintf(host, sizeof host, "%s.%s", slug, PROXY_DOMAIN) < (int)sizeof host &&
            proxy_route_placeholder(s, slug, host, PROXY_WAITING, &perr) < 0)
                door_warn(&d, &perr);
}

/* A run on the swarm whose tasks moved (a node drained, a task replaced): each of its hosts routed to where they
 * run now (run_list() found the upstreams), when that differs from what the door has. */
static void door_follow(struct store *s, const json_t *routes, const struct run_info *info)
{
        for (size_t k = 0; k < info->n_routes; k++) {
                const struct run_route *rt = &info->routes[k];
                const json_t *e;
                size_t i;
                if (!rt->upstream)
                        continue;
                json_array_foreach(routes, i, e)
                {
                        const char *slug = json_string_value(json_object_get(e, "slug")),
                                   *host = json_string_value(json_object_get(e, "host")),
                                   *up = json_string_value(json_object_get(e, "upstream"));
                        if (slug && host && !strcmp(slug, info->row.slug) && !strcmp(host, rt->host) &&
                            (!up || strcmp(up, rt->upstream)))
                                proxy_route_set(s, slug, host, rt->upstream, NULL);
                }
        }
}

int orch_list(struct store *s, struct run_info **ret, size_t *ret_n, struct error *err)
{
        json_t *door = NULL, *e;
        int r = run_list(s, ret, ret_n, err);

        if (r < 0 || !*ret_n || proxy_status(s, &door, NULL) < 0)
                return r;
        for (size_t i = 0; i < *ret_n; i++) {
                struct run_info *info = &(*ret)[i];
                json_t *routes = json_object_get(door, "routes");
                size_t k, n = 0;
                struct run_address *a = calloc(json_array_size(routes) + info->n_addresses + 1, sizeof *a);

                if (!a)
                        break;
                json_array_foreach(routes, k, e)
                {
                        const char *slug = json_string_value(json_object_get(e, "slug"));
                        const char *addr = json_string_value(json_object_get(e, "address"));
                        if (slug && addr && !strcmp(slug, info->row.slug) && (a[n].url = strdup(addr)))
                                a[n++].label = strdup("front door");
                }
                if (info->n_addresses)
                        memcpy(a + n, info->addresses, info->n_addresses * sizeof *a);
                free(info->addresses);
                info->addresses = a;
                info->n_addresses += n;
                door_follow(s, routes, info);
        }
        json_decref(door);
        return r;
}

/* ---- gc: the upgrade journal's roots ---- */

/* "rollback": each stack's rollback target (the version before its last completed upgrade), both versions of an
 * upgrade still pending, and the snapshots they need. */
static int upgrade_gc_roots(void *ctx, struct store *s, struct gc_roots *roots, struct error *err)
{
        int64_t *v = NULL;
        char **snaps = NULL;
        size_t nv = 0, ns = 0;
        int r = upgrade_roots(s, &v, &nv, &snaps, &ns, err);

        (void)ctx;
        for (size_t i = 0; r == 0 && i < nv; i++)
                r = gc_roots_add_version(roots, v[i], err);
        for (size_t i = 0; r == 0 && i < ns; i++)
                r = gc_roots_keep_snapshot(roots, snaps[i], err);
        free(v);
        for (size_t i = 0; i < ns; i++)
                free(snaps[i]);
        free(snaps);
        return r;
}

int orch_gc(struct store *s, const struct gc_options *o, struct gc_report *ret, struct error *err)
{
        static const struct gc_provider upgrades = {"rollback", upgrade_gc_roots, NULL};
        struct gc_options with = *o;

        int r;

        with.providers = &upgrades;
        with.n_providers = 1;
        r = gc_run(s, &with, ret, err);
        if (r == 0 && o->images) /* the nodes of the swarm the Engine manages (orch/swarm.h) */
                r = orch_swarm_gc_images(s, o->dry_run, ret, err);
        return r;
}
