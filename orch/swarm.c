/* swarm.c - gc --images on every node of the swarm stack deploys to (swarm.h). */
#include "swarm.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/fsutil.h"
#include "base/mem.h"
#include "run/engine.h"
#include "run/run.h"
#include "run/runs.h"

#define REGISTRY_PORT_DEFAULT 45000

static int add_line(char ***v, const char *node, const char *text, struct error *err)
{
        char line[2048];

        snprintf(line, sizeof line, "node %s: %.1900s", node, text);
        return strv_extend(v, (char *const[]){line, NULL}) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

static int add_prefix(char ***v, const char *p)
{
        for (size_t i = 0; *v && (*v)[i]; i++)
                if (!strcmp((*v)[i], p))
                        return 0;
        return strv_extend(v, (char *const[]){(char *)p, NULL});
}

/* "HOST:PORT/" prefixes of stack's registries: the ones runs on the swarm record, the managed one on loopback
 * and on the manager's address, and the person's (config.json swarm.registry). */
static int prefixes(struct store *s, const json_t *cfg, const char *manager_addr, char ***ret, struct error *err)
{
        json_int_t port = json_integer_value(json_object_get(cfg, "registry_port"));
        const char *named = json_string_value(json_object_get(cfg, "registry"));
        struct run_row *rows = NULL;
        size_t n = 0;
        char p[512];
        int r = 0;

        if (port <= 0 || port > 65535)
                port = REGISTRY_PORT_DEFAULT;
        snprintf(p, sizeof p, "127.0.0.1:%lld/", (long long)port);
        r |= add_prefix(ret, p);
        if (manager_addr && *manager_addr) {
                snprintf(p, sizeof p, "%s:%lld/", manager_addr, (long long)port);
                r |= add_prefix(ret, p);
        }
        if (named && *named) {
                snprintf(p, sizeof p, "%s/", named);
                r |= add_prefix(ret, p);
        }
        if (runs_list(s, &rows, &n, NULL) == 0)
                for (size_t i = 0; i < n; i++) {
                        struct run_swarm sw;
                        if (run_swarm_get(rows[i].run_dir, &sw) == 0 && sw.registry[0]) {
                                snprintf(p, sizeof p, "%s/", sw.registry);
                                r |= add_prefix(ret, p);
                        }
                }
        run_rows_free(rows, n);
        return r < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

/* One node's Engine: the images under the prefixes that no container uses, removed (or, dry, named). */
static int gc_node(struct engine *e, const char *node, char *const *pfx, bool dry, struct gc_report *rep,
                   struct error *err)
{
        int r = 0;

        for (size_t k = 0; r == 0 && pfx && pfx[k]; k++) {
                char **refs = NULL;
                r = engine_images_under(e, pfx[k], &refs, err);
                for (size_t i = 0; r == 0 && refs && refs[i]; i++) {
                        bool used = false, removed = false;
                        r = engine_image_used(e, refs[i], &used, err);
                        if (r == 0 && used) {
                                char kept[1024];
                                snprintf(kept, sizeof kept, "%.900s: a container uses it", refs[i]);
                                r = add_line(&rep->images_kept, node, kept, err);
                        } else if (r == 0 && !dry && engine_image_remove(e, refs[i], &removed, err) == 0 && removed)
                                r = add_line(&rep->images, node, refs[i], err);
                        else if (r == 0 && dry)
                                r = add_line(&rep->images, node, refs[i], err);
                }
                strv_free(refs);
        }
        return r;
}

int orch_swarm_gc_images(struct store *s, bool dry, struct gc_report *rep, struct error *err)
{
        struct engine *e = NULL;
        struct engine_swarm sw;
        struct engine_node *nodes = NULL;
        char path[PATH_MAX], **pfx = NULL;
        size_t n = 0;
        json_t *cfg = NULL, *engines;
        int r;

        if (engine_open(&e, NULL) < 0)
                return 0; /* gc said what it could of the Engine already */
        r = engine_swarm_info(e, &sw, err);
        if (r < 0 || !sw.manager) {
                engine_free(e);
                return r < 0 ? r : 0;
        }
        if (fs_path(path, sizeof path, "%s/config.json", store_home(s)) == 0)
                cfg = json_load_file(path, 0, NULL);
        engines = json_object_get(json_object_get(cfg, "swarm"), "engines");
        r = engine_nodes(e, &nodes, &n, err);
        if (r == 0)
                r = prefixes(s, json_object_get(cfg, "swarm"), sw.node_addr, &pfx, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *host = nodes[i].hostname ? nodes[i].hostname : nodes[i].id;
                const char *sock = json_string_value(json_object_get(engines, host));
                struct engine *ne = NULL;
                struct error nerr = ERROR_INIT;
                char why[1536];
                if (nodes[i].id && !strcmp(nodes[i].id, sw.node_id)) {
                        r = gc_node(e, host, pfx, dry, rep, err);
                        continue;
                }
                if (!sock) {
                        r = add_line(&rep->images_kept, host,
                                     "not reached (config.json swarm.engines names no Engine socket for it)", err);
                        continue;
                }
                if (engine_open_at(sock, &ne, &nerr) < 0) {
                        snprintf(why, sizeof why, "not reached at %s: %s", sock, nerr.msg);
                        r = add_line(&rep->images_kept, host, why, err);
                        continue;
                }
                r = gc_node(ne, host, pfx, dry, rep, &nerr);
                if (r < 0) { /* one node failing does not stop the others */
                        snprintf(why, sizeof why, "gc stopped: %s", nerr.msg);
                        r = add_line(&rep->images_kept, host, why, err);
                }
                engine_free(ne);
        }
        strv_free(pfx);
        json_decref(cfg);
        engine_nodes_free(nodes, n);
        engine_free(e);
        return r;
}
