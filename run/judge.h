/* judge.h - what the Engine was asked for, judged before anything starts (spec/run.md "What the Engine was asked
 * for").
 *
 * The policy (policy.h) judges a YAML tree; the judge looks at what the compose tool then made of it: every
 * container of the project as the Engine holds it once created (GET /containers/{id}/json), and every volume and
 * network those containers use (GET /volumes/{name}, GET /networks/{name}), compared with the sandbox and the
 * person's grants. Private to run/.
 *
 * Calling sequence: run.c creates the project without starting it (compose `up --no-start`), then
 * judge_project(e, &in, &ids, err); 0: every container is inside the sandbox (ids: the ids judged, for the
 * check that `up` starts those very containers, strv_free()); STACK_EREJECT: the first thing outside it,
 * "container NAME: FIELD VALUE needs permission 'P'" (or "... is not allowed" when no permission grants it), and
 * the caller removes what was created. relaunch.c judges the same before it starts containers through the Engine.
 *
 * The pure parts, for tests: judge_container() on one inspect answer (references to other containers, volumes
 * and networks collected into refs, which judge_project() resolves with the Engine), judge_volume() and
 * judge_network() on their inspect answers, judge_reference() on another container's project label.
 */
#ifndef STACK_JUDGE_H
#define STACK_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "run/engine.h"
#include "base/error.h"

struct judge_input {
        const char *project;  /* the compose project (run_project_name()) */
        const char *run_dir;  /* absolute: binds inside it are the bundle's own */
        const char *data_dir; /* absolute: binds inside it are the stack's data */
        unsigned allow;       /* granted enum policy_perm bits */
        /* The stack's limits (the person's, lowered by stack.yaml resources, as the policy writes them; swap =
         * memory): a container without them, or
         * above them, is refused; 0: none required. */
        double cpus;
        uint64_t memory, pids;
        bool cgroupns_host_default; /* the Engine's default cgroup namespace is the host's (cgroup v1) */
        /* The version's pinned registry images (run/regimages.h), "REF" then "sha256:ID", pairs, NULL-terminated:
         * a container created from REF must run image ID (a compose tool that pulled a moved tag is refused). */
        char *const *pinned;
};

/* Names another container's settings point at, collected by judge_container(). */
struct judge_refs {
        char **containers; /* "FIELD=NAME": container:X of NetworkMode/PidMode/IpcMode, VolumesFrom, Links */
        char **volumes;    /* named volumes mounted */
        char **networks;   /* networks joined */
        size_t n_containers, n_volumes, n_networks;
};

int judge_container(const struct judge_input *in, const json_t *c, struct judge_refs *refs, struct error *err);
/* users_ok: every container that uses the volume is one of the project's (for a volume without labels, which
 * the Engine makes for an anonymous mount). */
int judge_volume(const struct judge_input *in, const char *who, const json_t *v, bool users_ok, struct error *err);
int judge_network(const struct judge_input *in, const char *who, const json_t *n, struct error *err);
/* A container named by who's `field` (NetworkMode, VolumesFrom, ...) whose inspect answer is c (NULL: none). */
int judge_reference(const struct judge_input *in, const char *who, const char *field, const char *name, const json_t *c,
                    struct error *err);
void judge_refs_release(struct judge_refs *r);

int judge_project(struct engine *e, const struct judge_input *in, char ***ret_ids, struct error *err);

/* ---- Swarm services (run/judge-swarm.c, spec/run.md "What swarm was asked for") ----
 *
 * A swarm run is judged on what `docker stack deploy` made of the swarm file: every service of the project as the
 * Engine holds it (one element of GET /services, API 1.41: its Spec), deployed with 0 replicas so that nothing
 * runs yet, and every network its tasks join (GET /networks/{id}). The same sandbox and grants as a container
 * (in: project is the stack namespace, run_dir and data_dir as on one machine, allow, cpus/memory/pids; cgroupns
 * and pinned unused), plus what stack expects of a swarm service (sw). Fail-closed: a field of the spec the judge
 * does not know, with a value other than its default (null, false, 0, "", empty), is refused.
 *
 * Calling sequence: the runner deploys the stack with 0 replicas, lists its services (GET /services filtered by
 * label com.docker.stack.namespace=<project>), then judge_services(e, &in, &sw, list, err); 0: every service and
 * network is inside the sandbox, and only then are services scaled; STACK_EREJECT: the first thing outside it,
 * "service NAME: FIELD VALUE needs permission 'P'" (or "... is not allowed"), and the caller removes the stack.
 * judge_service() and judge_swarm_network() are its pure parts (one service, one network inspect answer). */
struct judge_swarm {
        const char *data_node;          /* stateful services must carry the constraint node.id==data_node */
        const char *registry;           /* "host:port": every image is "<registry>/<repo>@sha256:<64 hex>" */
        const char *const *images;      /* the references pushed for this version, NULL-terminated: every image
                                           is one of them; NULL: any pinned into the registry */
        const char *const *route_ports; /* "service:port" (compose service name, target port) routed: published
                                           in host mode without a grant; NULL-terminated, may be NULL */
};

int judge_service(const struct judge_input *in, const struct judge_swarm *sw, const json_t *service, struct error *err);
int judge_swarm_network(const struct judge_input *in, const json_t *network, struct error *err);
/* Every service of services (the GET /services answer, an array), then through the Engine every network their
 * tasks join (TaskTemplate.Networks and the older Spec.Networks, by id: one missing is refused) and every named
 * volume they mount that the Engine already has (judge_volume(): a volume made before is used as it is). */
int judge_services(struct engine *e, const struct judge_input *in, const struct judge_swarm *sw, const json_t *services,
                   struct error *err);

#endif
