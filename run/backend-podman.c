/* backend-podman.c - the limits podman-compose drops, given to every `podman create` / `podman run` it makes.
 *
 * podman-compose 1.0.3 (Debian 12) turns cpus and mem_limit into podman flags but not memswap_limit nor
 * pids_limit; Podman then gives each container twice its memory as memory+swap and its default pids limit, and the
 * judge (judge.h) refuses what the Engine holds. Its --podman-run-args are added to every container it creates, so
 * the values the policy wrote into the effective file go there: one --memory-swap for the project (possible only
 * when every service has the same memory limit, which is what the policy writes unless a service asked for less)
 * and one --pids-limit (the highest a service has: the person's limit, never above it). A container's own flags
 * come after these, so a podman-compose that does pass the keys keeps each service's value.
 */
#include "backend.h"
#include "relaunch.h"
#include "base/yamltree.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A service's key as the policy writes it (a plain byte or count): 0 with *ret, 1 when absent. */
static int count_of(const char *name, const char *service, const struct yamltree_node *svc, const char *key,
                    uint64_t *ret, struct error *err)
{
        const struct yamltree_node *v = yamltree_map_get(svc, key);
        double frac = 0;

        if (!v || yamltree_is_null(v))
                return 1;
        if (v->kind != YAMLTREE_SCALAR || !v->len || yamltree_parse_decimal(v->text, v->len, ret, &frac) != v->len ||
            frac != 0)
                return error_set(err, STACK_EREJECT, "%s: service %s: %s is not a whole number", name, service, key);
        return 0;
}

int backend_podman_run_args(const char *name, const char *yaml, size_t len, char *ret, size_t size, struct error *err)
{
        struct yamltree_node *root = NULL;
        const struct yamltree_node *services;
        uint64_t swap = 0, pids = 0;
        const char *swap_of = NULL;
        size_t n_swap = 0, n_pids = 0, n = 0;
        int r;

        if (!name || !yaml || !ret || !size)
                return -EINVAL;
        ret[0] = 0;
        r = relaunch_load(name, yaml, len, &root, &services, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r == 0 && i + 1 < services->n; i += 2, n++) {
                const struct yamltree_node *svc = services->items[i + 1];
                const char *service = services->items[i]->kind == YAMLTREE_SCALAR ? services->items[i]->text : "?";
                uint64_t v;

                r = count_of(name, service, svc, "memswap_limit", &v, err);
                if (r == 0 && n_swap++ && v != swap)
                        r = error_set(err, STACK_ERUNTIME,
                                      "podman-compose gives every container of a project one memory+swap limit, and "
                                      "services %s and %s have different memory limits (%llu, %llu): this stack "
                                      "needs compose v2, which passes each service's memswap_limit",
                                      swap_of, service, (unsigned long long)swap, (unsigned long long)v);
                if (r == 0) {
                        swap = v;
                        swap_of = service;
                }
                if (r >= 0)
                        r = count_of(name, service, svc, "pids_limit", &v, err);
                if (r == 0) {
                        n_pids++;
                        pids = v > pids ? v : pids;
                }
                if (r == 1)
                        r = 0;
        }
        if (r == 0 && n_swap && n_swap != n)
                r = error_set(err, STACK_ERUNTIME,
                              "podman-compose gives every container of a project one memory+swap limit, and only "
                              "some services have a memory limit: this stack needs compose v2, which passes "
                              "each service's memswap_limit");
        if (r == 0) {
                /* a pids limit only when every service has one (the policy writes it for all or none) */
                int k = 0;
                if (n_swap)
                        k = snprintf(ret, size, "--memory-swap=%llu", (unsigned long long)swap);
                if (k >= 0 && (size_t)k < size && n_pids && n_pids == n)
                        k += snprintf(ret + k, size - (size_t)k, "%s--pids-limit=%llu", k ? " " : "",
                                      (unsigned long long)pids);
                if (k < 0 || (size_t)k >= size)
                        r = error_set(err, STACK_EFAIL, "podman-compose arguments too long");
        }
        yamltree_free(root);
        if (r < 0)
                ret[0] = 0;
        return r;
}
