/* runner-compose-int.h - what the files of the compose runner (runner.h: runner_compose, runner_service) share.
 *   runner-compose.c      start as named steps, stop, remove, status (the Engine's view), stack config
 *   runner-compose-env.c  a run's paths, the compose tool's environment (remembered env file, --env, the bundle's
 *                         .env) and its calls, logs among them
 *   runner-compose-up.c   the pieces of bringing a project up: images, create + judge, re-launch, wait until it
 *                         runs, addresses and routes
 * The run dir ($STACK_HOME/runs/<slug>, rundir.h) is a checkout of the version's tree plus files of ours: the
 * effective compose file beside the bundle's (so relative paths and .env resolve as the author meant), the
 * marker and the routes. What a stack writes lives in named volumes or under $STACK_HOME/data/<slug> (policy.c
 * redirects unshipped bind mounts there), never in the run dir, so the run dir can be replaced on upgrade and
 * removed by `rm` without losing anything.
 */
#ifndef STACK_RUNNER_COMPOSE_INT_H
#define STACK_RUNNER_COMPOSE_INT_H

#include <limits.h>
#include <stdbool.h>

#include "base/error.h"
#include "run/backend.h"
#include "run/engine.h"
#include "run/judge.h"
#include "run/policy.h"
#include "run/run.h"

#define RUN_SETTLE_MS 250 /* a container that has run this long has really started */

struct compose_paths {
        char run_dir[PATH_MAX], data_dir[PATH_MAX], env_file[PATH_MAX];
        char compose[PATH_MAX], compose_dir[PATH_MAX], effective[PATH_MAX];
        char project[RUN_PROJECT_MAX];
};

/* The paths of slug's run with its run dir at run_dir (NULL: $STACK_HOME/runs/<slug>; run_start prepares a new
 * version in a fresh dir beside it before switching). */
int compose_make_paths(struct store *s, const char *slug, const char *compose_rel, const char *run_dir,
                       struct compose_paths *p);
/* The paths of a recorded run (its version's compose file, or the default name when the version is gone). */
int compose_row_paths(struct store *s, const struct run_row *row, struct compose_paths *p);

/* K=V lists. Grow as needed: the remembered env file (at most 1 MiB) and --env bound them. v is NULL-terminated
 * whenever it is not NULL, as backend_compose() reads it. */
struct envlist {
        char **v;
        size_t n, cap;
};
void envlist_release(struct envlist *e);
int envlist_set(struct envlist *e, const char *kv);

/* The compose environment: the stack's remembered env file plus --env (written back unless dry), PROJECT and
 * DOMAIN (stack's), and the bundle's .env in dotenv. o may be NULL. */
int compose_build_env(const struct run_options *o, const char *slug, const struct compose_paths *p, bool dry,
                      struct envlist *env, struct envlist *dotenv, struct error *err);
/* What compose interpolates with, in its order (the lookup of composevars.h / policy.h): PROJECT and DOMAIN,
 * then env, the process's environment, then dotenv. ctx: a struct compose_vars. */
struct compose_vars {
        const char *slug;
        const struct envlist *env, *dotenv;
};
const char *compose_vars_lookup(void *ctx, const char *name);
/* One call of the compose tool on the run's effective file. */
int compose_call(const struct backend *b, const struct compose_paths *p, const struct envlist *env,
                 const char *const *args, bool inherit, int *ret_status, char **ret_out, struct error *err);
/* The same with the run's own environment; a non-zero exit is STACK_ERUNTIME with the tail of the output. */
int compose_simple(const char *slug, const struct compose_paths *p, const struct backend *b, const char *const *args,
                   struct error *err);
/* The last lines of text (heap). */
char *compose_tail_lines(const char *text, int lines);
/* A warning to o->warn (o may be NULL). */
#define compose_warn(o, ...) error_say((o) ? (o)->warn : NULL, (o) ? (o)->warn_ctx : NULL, __VA_ARGS__)

/* runner-compose-up.c */
/* o->step with the time since *t0, which becomes now. */
void compose_step(const struct run_options *o, const char *what, double *t0);
/* The bundle's image archives the Engine lacks, loaded (recorded for gc --images); the references they name
 * appended to *ret_refs (may be NULL). */
int compose_load_images(struct store *s, struct engine *e, const struct manifest *m, const struct tree *t,
                        unsigned *ret_loaded, char ***ret_refs, struct error *err);
/* Wait until every container of the project runs (healthy where it has a healthcheck). 0, or STACK_ERUNTIME
 * with the failing service in *ret_service / its exit code. */
int compose_wait_running(struct engine *e, const char *project, int timeout_s, int settle_ms, char **ret_reason,
                         char **ret_service, struct engine_container **ret_c, size_t *ret_n, struct error *err);
void compose_addresses(const struct manifest *m, const struct engine_container *c, size_t n, struct run_info *info);
/* The routes of the policy, kept in the run dir (.stack-routes: "service\thost\tport" lines) for the fast
 * path, which does not judge the file again; loaded back with compose_routes_load(). compose_routes_ports():
 * each route's host port, from the running containers. */
int compose_routes_save(const struct compose_paths *p, const struct policy_result *pr, struct error *err);
int compose_route_add(struct run_info *info, const char *service, const char *host, unsigned port);
int compose_routes_load(const struct compose_paths *p, struct run_info *info);
void compose_routes_ports(struct run_info *info, const struct engine_container *c, size_t n);
/* Re-launch (relaunch.h). Before up (state: the last run's state on the fast path, else NULL): 0 when the
 * containers were started through the Engine, else the record is dropped and 1 (compose up follows). After a
 * compose up whose containers run (state NULL, ret->relaunch "compose"): record what compose made. */
int compose_relaunch_hook(struct engine *e, const struct compose_paths *p, const struct envlist *env,
                          const struct run_options *o, const enum run_state *state, const struct judge_input *judge,
                          struct run_info *ret, struct error *err);
/* The project created without starting it, then judged (judge.h): 0 with the judged container ids, or the
 * refusal (STACK_EREJECT) with what this creation made removed: the project's containers and networks, and the
 * volumes of the project that were not there before (a volume the stack already had keeps its data). A compose
 * failure is *ret_status != 0 with its output in *ret_out. */
int compose_create_judged(struct engine *e, const struct backend *b, const struct compose_paths *p,
                          const struct envlist *env, struct backend_early **early, const struct judge_input *jin,
                          char ***ret_ids, int *ret_status, char **ret_out, struct error *err);
/* That creation's `up --no-start` begun before the images are ready (backend.h "backend_early_start"), in the run
 * dir's compose folder, which must be in place (and stay) until compose_create_judged() finishes it (*early then
 * NULL; when it failed, the usual call follows). *ret stays NULL (the call is made there as usual) when the tool
 * is not docker-compose 1.x or the effective file holds `extends` (1.29 cannot resolve it in a file read from its
 * input).
 * backend_early_cancel() when no creation follows. */
void compose_create_early(const struct backend *b, const struct compose_paths *p, const struct envlist *env,
                          struct backend_early **ret);
/* The containers `up --no-start` made and the judge accepted, started through the Engine in dependency order
 * (relaunch.h: recorded as made by compose, then started as a re-launch would): 0, or 1 when compose `up -d`
 * must start them instead (the record is then dropped). Saves the compose tool's second start-up. */
int compose_start_created(struct engine *e, const struct compose_paths *p, const struct envlist *env,
                          const struct run_options *o);
/* Every container that runs now is one the judge saw. */
int compose_only_judged(const char *const *ids, const struct engine_container *c, size_t n, struct error *err);
/* The limits every container of the stack must have (spec/run.md "Limits"): the person's (lim), lowered by
 * stack.yaml `resources`; a service may have set lower ones itself. */
void compose_judge_limits(const struct policy_limits *lim, const struct manifest *m, struct judge_input *jin);

/* The run dir, the data dir with purge and the row of a run whose containers are gone (runner-compose.c, under
 * the store's shared lock). */
int compose_remove_files(struct store *s, const struct run_row *row, bool purge, struct error *err);

/* runner-swarm.c: a run on a Docker Swarm (spec/run.md "Swarm"). SWARM_RECORD in the run dir marks it: the node
 * that holds its data (placement of its stateful services) and the registry its images come from.
 *   swarm_prepare(s, e, &np, pr, o, &rec, err)   before the switch (np: the new version's paths): the Engine a swarm
 *        manager, the images pushed to the registry, the swarm file written beside the effective file, the mark
 *   swarm_up(e, run_dir, project, env, jin, &rec, info, timeout_s, &reason, err)   after the run is recorded:
 *        deploy at 0 replicas, judge, scale (a first deploy), or probe-judge then deploy (an update); wait until
 *        every service runs its replicas
 *   swarm_routes(e, project, info)   each route's upstreams: the running tasks' nodes and host-mode ports
 *   swarm_logs(project, follow, fd, ret_pid, err)   `docker service logs` of every service */
#define SWARM_RECORD ".stack-swarm"
/* config.json "swarm": {"default": true}: every run goes to the swarm (false when unset or unreadable). */
bool swarm_config_default(const char *stack_home);
int swarm_prepare(struct store *s, struct engine *e, const struct compose_paths *np, const struct policy_result *pr,
                  const struct run_options *o, struct run_swarm *rec, struct error *err);
int swarm_up(struct engine *e, const char *run_dir, const char *project, const struct envlist *env,
             const struct judge_input *jin, const struct run_swarm *rec, struct run_info *info, int timeout_s,
             char **ret_reason, struct error *err);
void swarm_routes(struct engine *e, const char *project, struct run_info *info);
int swarm_logs(const char *project, bool follow, int fd, volatile int *ret_pid, struct error *err);

#endif
