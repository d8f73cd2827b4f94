/* run.h - stacks on the Docker Engine, from the store (spec/run.md).
 *
 * run_start(store, version, opts, &info, err) runs a version the store holds (orch/orch.h resolves a ref and
 * fetches it first): Engine ping -> the run dir $STACK_HOME/runs/<slug> kept when it already holds this tree
 * (the re-launch fast path), else the version checked out into a fresh dir beside it -> policy + effective
 * compose file -> required variables -> image archives loaded only when the Engine lacks them -> only then
 * another version of the stack that runs is taken down and the fresh dir becomes the run dir -> `compose up
 * -d`, or on the fast path, when nothing changed since the last up, the same containers started through the
 * Engine (relaunch.h, spec/run.md "Re-launch") -> wait until every container runs (healthy where it has a
 * healthcheck). A version that fails before
 * the switch leaves the running one and its row untouched. States (runs.h): starting -> running | failed.
 * run_list() reconciles recorded states with the Engine first (a container killed outside stack shows as
 * stopped or failed). run_stop(), run_remove() (compose down when compose accepts the file, then the project's
 * containers and networks, with purge its volumes, through the Engine by label: it never depends on compose;
 * keeps the data unless purge), run_logs(). run_config() prepares a version as run_start() does, and stops
 * there.
 * All take the store's shared lock while they change the run dir. Each entry point hands the run to the runner of
 * its flavor (run/runner.h: compose, DockerService, StaticWebsite); the run dir and its swap are run/rundir.h's.
 */
#ifndef STACK_RUN_H
#define STACK_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "run/runs.h"
#include "store/index.h"
#include "store/manifest.h"
#include "store/store.h"

struct run_route;

struct engine_progress;
struct run_options {
        const char *const *env; /* "K=V" from --env: remembered in the stack's env file */
        unsigned allow;         /* enum policy_perm bits granted now (remembered per stack) */
        int timeout_s;          /* waiting for containers; 0: 120 */
        manifest_warn_fn warn;  /* warnings, may be NULL */
        void *warn_ctx;
        void (*step)(void *ctx, const char *step, double seconds); /* timings: checkout, images, up, wait */
        void *step_ctx;
        /* The hosts the stack routes (policy.h), before anything is taken down or started: a refusal (the
         * front door gives a host to one stack only) stops the start there. May be NULL. */
        int (*routes_check)(void *ctx, const char *slug, const struct run_route *routes, size_t n, struct error *err);
        void *routes_ctx;
        /* stack upgrade (orch/upgrade.c): called once the new version is prepared and its images are loaded, just
         * before the other version (old, the stack's recorded run) is taken down; a failure stops the start
         * there, with the old version untouched. Then step "down" is timed. May be NULL. */
        int (*before_switch)(void *ctx, const struct run_row *old, struct error *err);
        void *switch_ctx;
        /* Registry images (run/regimages.h): offline never pulls; pull re-resolves every tag and pins what comes
         * (stack upgrade --pull); pull_progress gets each line of a pull's stream and note a line per image
         * pulled or loaded from the store (both may be NULL). */
        bool offline, pull;
        void (*pull_progress)(void *ctx, const char *ref, const struct engine_progress *p);
        void (*note)(void *ctx, const char *line);
        void *pull_ctx;
        /* Deploy on the Docker Swarm the Engine manages (spec/run.md "Swarm"); a stack whose recorded run is on
         * the swarm stays there (run_start sets it), as does every stack when config.json says "swarm":
         * {"default": true}. */
        bool swarm;
};

/* A host of the front door: service's container port, published on 127.0.0.1:host_port (0 until running);
 * or, for a StaticWebsite (run/flavor.h), the directory the proxy serves (root; port and host_port 0). */
struct run_route {
        char *service, *host;
        unsigned port, host_port;
        char *root;
        char *upstream; /* a swarm run: "ADDR:PORT[,ADDR:PORT...]", its running tasks (NULL: 127.0.0.1:host_port) */
};

struct run_address {
        char *service, *label, *url; /* url: http://127.0.0.1:PORT or https://SLUG.stack.localhost (proxy) */
};

struct run_info {
        struct run_row row; /* as recorded now */
        struct run_address *addresses;
        size_t n_addresses;
        bool fast_path; /* started from its existing run dir */
        /* run_start: "engine" when the containers were started straight through the Engine (spec/run.md
         * "Re-launch"), else "compose"; relaunch_why: why a fast-path run could not (heap, NULL otherwise). */
        const char *relaunch;
        char *relaunch_why;
        char *ports; /* run_list: published ports now, "127.0.0.1:8080->8080/tcp, ..." (NULL: none) */
        unsigned images_loaded;
        unsigned images_pulled;   /* registry images pulled (run/regimages.h) */
        struct run_route *routes; /* run_start: from the policy (kept in the run dir for the fast path) */
        size_t n_routes;
        /* run_list, a run on the swarm: {"services": [{"name", "running", "desired", "tasks": [{"id", "node",
         * "state", "desired", "error", "lost"}]}], "node": the node that holds its data, "registry"} as JSON text
         * (heap); NULL for a run on one machine. Such a run that runs also has its routes, each with the
         * upstreams of the tasks that run now (run_route.upstream) */
        char *swarm;
};

/* A run on the swarm (spec/run.md "Swarm"), as its run dir records it: the node that holds its data (id and
 * hostname) and the registry its images come from. run_swarm_get(): 0, or -ENOENT for a run on one machine. */
struct run_swarm {
        char node[64], node_name[256], registry[256];
};
int run_swarm_get(const char *run_dir, struct run_swarm *ret);

/* One look at the services of a swarm project (spec/run.md "Swarm"), for the deploy's wait, the run's state and an
 * upgrade's health wait: how many services, how many run fewer replicas than they want, how many want none;
 * whether an update (or its rollback) is under way, whether swarm rolled one back or paused it (failed), and why:
 * the first such update ("service S: swarm's update STATE: MESSAGE"), else the first service short of replicas
 * ("service S runs R of D replicas"), else "". */
struct run_swarm_look {
        size_t services, short_of, idle;
        bool updating, rolling_back, failed;
        char why[512];
};
struct engine;
int run_swarm_look(struct engine *e, const char *project, struct run_swarm_look *ret, struct error *err);

/* The compose project of a slug (spec/run.md "Backends"), injective: a slug of [a-z0-9-] only is
 * "stack-<slug>" (the names runs always had); any other ("a.b", "a_b") is "stack--" followed by the slug with
 * '-' written "-h", '.' "-d", '_' "-u" (no plain slug gives "stack--": slugs start with [a-z0-9]). size:
 * RUN_PROJECT_MAX holds any valid slug's. run_project_of(): the project recorded in the stack's run row when
 * it has one (existing runs keep the name they were created under), else run_project_name(). */
#define RUN_PROJECT_MAX 160
void run_project_name(const char *slug, char *out, size_t size);
void run_project_of(struct store *s, const char *slug, char *out, size_t size);

/* v: a version the store holds (index.h); o may be NULL (defaults). */
int run_start(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
              struct error *err);
void run_info_release(struct run_info *i);

/* `stack config`: the effective compose file run_start() would write for v with o (*ret, NUL-terminated: free()
 * it), or its refusal with the same codes. The same preparation as run_start() in a temp dir beside the run
 * dirs, removed afterwards: nothing starts, and no row, run dir, data dir, remembered env or grant changes. */
int run_config(struct store *s, const struct version_info *v, const struct run_options *o, char **ret,
               struct error *err);

/* `stack fetch --images`: the images v runs, ready in the Engine as run_start() makes them (the bundle's archives
 * loaded, its registry images pinned, pulled and kept: run/regimages.h), after the same preparation as
 * run_config(); nothing starts. ret->images_loaded and images_pulled say what it did (run_info_release()). */
int run_images(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
               struct error *err);

/* Every run, reconciled with the Engine. A run the Engine could not be asked about (none answers, or it
 * refused the question) has state RUN_UNKNOWN (runs.h) in the list (not in its row), and a reason that gives the
 * recorded state and the Engine's error. */
int run_list(struct store *s, struct run_info **ret, size_t *ret_n, struct error *err);
void run_infos_free(struct run_info *v, size_t n);
int run_stop(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err);
int run_remove(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, struct error *err);
/* `stack rm`: run_remove() that completes whatever the Engine answers (none, or an error): the run dir, the data
 * dir with purge and the row go; *ret_left (free(), NULL when nothing) then says in one line what may be left
 * on the Engine and why. Store errors still fail. run_remove() itself fails when the Engine does (an upgrade's
 * rollback must not go on as if the new version were down). */
int run_remove_anyway(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, char **ret_left,
                      struct error *err);
/* compose logs [-f] with the caller's stdout; returns the tool's status as a stack_code. */
int run_logs(struct store *s, const char *id_or_slug, bool follow, struct error *err);
/* The same into fd (its stdout and stderr; the daemon's GET /runs/{id}/logs); fd <= 0: the caller's stdout.
 * ret_pid (may be NULL) holds the tool's pid while it runs, so another thread can end a follow (SIGTERM). */
int run_logs_to(struct store *s, const char *id_or_slug, bool follow, int fd, volatile int *ret_pid, struct error *err);

#endif
