/* runner.h - one interface for the flavors of a run (spec/run.md "Flavors"): run.c dispatches run_start(),
 * run_stop(), run_remove() and run_list()'s question to the Engine through the runner of the version's (or the
 * recorded run's) flavor, and knows nothing of any flavor itself.
 *
 *   rn = runner_of_flavor(v->flavor)       run_start: DockerCompose (any unknown name too), DockerService,
 *                                          StaticWebsite
 *   rn = runner_of_row(s, &row)            the runner of a recorded run (runner_swarm for a swarm run; else its
 *                                          version's flavor; the compose runner when the version is gone)
 *   rn->start(rn, s, v, o, &info, err)     under the store's shared lock (run_start takes it)
 *   rn->stop(s, &row, err)                 row: the recorded run; its state is "stopped" on success
 *   rn->remove(s, &row, purge, anyway, &left, err)    row->id "": no row, a run dir left behind (run.c)
 *   rn->status(e, &row, &state, reason, size, &ports) NULL: nothing to ask, the recorded state stands
 *
 * A table of function pointers rather than a switch in each entry point: each flavor's operations sit together,
 * and DockerService is the compose runner's operations with two hooks set (compose_file, build), which a table
 * says in one line. Implemented by runner-compose.c (runner_compose, runner_service) and flavor.c
 * (runner_static, runner_of_flavor, runner_of_row).
 */
#ifndef STACK_RUNNER_H
#define STACK_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "run/run.h"

struct engine;

struct runner {
        const char *name;
        bool containers; /* false: no container, no logs, no compose file (the proxy serves a StaticWebsite) */
        int (*start)(const struct runner *rn, struct store *s, const struct version_info *v,
                     const struct run_options *o, struct run_info *ret, struct error *err);
        int (*stop)(struct store *s, struct run_row *row, struct error *err);
        /* anyway: run_remove_anyway() (run.h): an Engine that fails does not stop the rest, *ret_left says what
         * may be left on it */
        int (*remove)(struct store *s, const struct run_row *row, bool purge, bool anyway, char **ret_left,
                      struct error *err);
        /* RUN_RUNNING, RUN_STOPPED or RUN_FAILED (+ reason) and the published ports; RUN_UNKNOWN: the Engine
         * could not be asked (reason says why) */
        void (*status)(struct engine *e, const struct run_row *row, enum run_state *ret_state, char *reason,
                       size_t size, char **ret_ports);
        /* compose runners only: the compose file generated after the checkout (NULL: the bundle's own), and the
         * image built after the bundle's archives are loaded (NULL: none) (flavor.h) */
        int (*compose_file)(struct store *s, const struct version_info *v, const struct tree *t,
                            const char *compose_path, manifest_warn_fn warn, void *warn_ctx, struct error *err);
        int (*build)(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                     const struct run_options *o, struct error *err);
};

extern const struct runner runner_compose, runner_service, runner_static;
/* A run deployed on a Docker Swarm (runner-swarm.c): stop, rm and status; its start is the compose runner's with
 * run_options.swarm. runner_of_row() gives it for a run dir that holds the swarm mark. */
extern const struct runner runner_swarm;
bool swarm_is_run_dir(const char *run_dir); /* the run dir holds the swarm mark */
/* run_list: a swarm run's services and tasks as run_info.swarm says (heap JSON text, NULL when not asked). */
char *swarm_services_json(struct engine *e, const struct run_row *row);
/* run_list, a swarm run that runs: its routes with the upstreams its tasks have now (run_route.upstream). */
void swarm_run_routes(struct store *s, struct engine *e, const struct run_row *row, struct run_info *info);

const struct runner *runner_of_flavor(const char *flavor);
const struct runner *runner_of_row(struct store *s, const struct run_row *row);

#endif
