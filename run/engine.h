/* engine.h - the Docker Engine API over its unix socket, through libcurl (spec/run.md "Engine").
 *
 * Everything that can be asked of the Engine directly goes here (not by parsing CLI output): ping, image
 * present?, image load (streamed from a store object), container states, and taking a compose project down
 * when the compose tool cannot (engine_remove_project). Up/down/logs go through the compose tool (backend.h).
 *
 * Calling sequence: engine_open(&e, err) (socket from DOCKER_HOST=unix://PATH, else /var/run/docker.sock; it
 * pings once: an Engine that does not answer is STACK_ERUNTIME with a message saying how to start one); any
 * calls; engine_free(e).
 *
 * Code: run/engine.c (transport, version), one file a topic: run/engine-images.c, run/engine-containers.c,
 * run/engine-down.c, run/engine-volumes.c, run/engine-stats.c, run/engine-events.c; what they share is
 * run/engine-int.h.
 */
#ifndef STACK_ENGINE_H
#define STACK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct engine;

int engine_open(struct engine **ret, struct error *err);
/* The same for another Engine: host "unix://PATH" (NULL or "": the default socket), as DOCKER_HOST would say. */
int engine_open_at(const char *host, struct engine **ret, struct error *err);
void engine_free(struct engine *e);
/* The socket path in use (for messages). */
const char *engine_socket(const struct engine *e);

/* GET /images/{ref}/json: *ret true when the Engine has the image (200), false on 404. */
int engine_image_exists(struct engine *e, const char *ref, bool *ret, struct error *err);
/* POST /images/load with the archive streamed from fd (size bytes; docker save or OCI layout tar). The Engine's
 * streamed JSON answer is read: an {"error": ...} or "errorDetail" in it is STACK_EREJECT naming `what`. */
int engine_image_load(struct engine *e, int fd, uint64_t size, const char *what, struct error *err);
/* The same, for an archive that is not a file (one assembled from its parts, store/imagearchive.h): read hands
 * out up to n bytes (0 at the end, a negative errno on failure, reported as STACK_ESTORE). The references an
 * archive names are read without the Engine: ia_archive_refs() in store/imagearchive.h. */
typedef ssize_t (*engine_read_fn)(void *ctx, void *buf, size_t n);
int engine_image_load_stream(struct engine *e, engine_read_fn read, void *ctx, uint64_t size, const char *what,
                             struct error *err);
/* Registry images (spec/run.md "Registry images"), for run/regimages.c.
 * engine_image_pull(): POST /images/create?fromImage=REF (a tag or "@sha256:" digest), the Engine's platform;
 * auth is the X-Registry-Auth value (NULL: none); progress (may be NULL) gets each status line of the stream
 * ("Downloading" with bytes current/total of layer id, "Pull complete", ...). A reference the registry lacks or
 * refuses is STACK_ERUNTIME, a registry that cannot be reached or fails (5xx, a cut or damaged blob) is
 * STACK_ENETWORK, each with the Engine's message.
 * engine_image_inspect(): GET /images/{ref}/json: Id, RepoDigests, RepoTags, Size, the number of RootFS layers; ret->id
 * "" when the Engine lacks it. engine_image_info_release() frees the digests and tags. engine_image_save(): GET /images/{ref}/get, the docker save tar handed to write
 * as it arrives (a write failure stops it with write's code). engine_image_tag(): POST /images/{id}/tag, so ref
 * names the image id.
 * engine_image_push(): POST /images/{repo}/push?tag=TAG for ref "REPO:TAG" (the Engine's image of that name, to
 * the registry REPO names), auth the X-Registry-Auth value (NULL: "{}", no credentials: the Engine wants the
 * header); progress as a pull's ("Pushed", "Layer already exists", ...). ret_digest gets the manifest digest the
 * stream's aux line names ("sha256:..."); a push the registry or the Engine refuses, or one that names no digest,
 * is STACK_ERUNTIME with the Engine's message.
 * engine_ref_domain_len(), engine_ref_repo_len(): the one split of an image reference "[DOMAIN/]PATH[:TAG][@DIGEST]"
 * that stack uses: the length of its registry host (a first component that holds a '.' or a ':', or is
 * "localhost"; 0 for none: Docker Hub), and of its repository DOMAIN/PATH (what precedes ":TAG" or "@DIGEST"). */
struct engine_progress {
        const char *id, *status; /* id: a layer (short digest) or the reference; may be NULL */
        uint64_t current, total; /* bytes, 0 when the line has none */
};
typedef void (*engine_progress_fn)(void *ctx, const struct engine_progress *p);
typedef int (*engine_write_fn)(void *ctx, const void *buf, size_t n, struct error *err);
struct engine_image_info {
        char id[80];         /* "sha256:<64 hex>", "" when the Engine lacks the image */
        char **repo_digests; /* NULL-terminated "repo@sha256:...", or NULL */
        char **repo_tags;    /* NULL-terminated "repo:tag", or NULL */
        uint64_t size;
        unsigned layers;
};
int engine_image_pull(struct engine *e, const char *ref, const char *auth, engine_progress_fn progress, void *ctx,
                      struct error *err);
int engine_image_inspect(struct engine *e, const char *ref, struct engine_image_info *ret, struct error *err);
void engine_image_info_release(struct engine_image_info *i);
int engine_image_save(struct engine *e, const char *ref, engine_write_fn write, void *ctx, struct error *err);
int engine_image_tag(struct engine *e, const char *id, const char *ref, struct error *err);
int engine_image_push(struct engine *e, const char *ref, const char *auth, engine_progress_fn progress, void *ctx,
                      char *ret_digest, size_t size, struct error *err);
size_t engine_ref_domain_len(const char *ref);
size_t engine_ref_repo_len(const char *ref);

struct engine_container {
        char *id, *name, *service; /* service: label com.docker.compose.service */
        char *state;               /* created|running|paused|restarting|removing|exited|dead */
        char *health;              /* healthy|unhealthy|starting, or NULL without a healthcheck */
        int exit_code;             /* when exited */
        int64_t started_ms;        /* State.StartedAt, unix milliseconds (0 when unknown) */
        int pid;                   /* State.Pid: the main process, as the host sees it (0 when not running) */
        struct engine_port {
                char *ip; /* host IP bound, e.g. "127.0.0.1" */
                unsigned private_port, public_port;
                char *proto;
        } * ports;
        size_t n_ports;
        char *run_label; /* label io.stack.run, or NULL */
        char *image;     /* Image: the reference it was created from, or NULL */
};

/* GET /containers/json?all=1&filters={"label":[label]} (label "key=value" or "key"), then for each container
 * GET /containers/{id}/json for health and exit code. */
int engine_list_containers(struct engine *e, const char *label, struct engine_container **ret, size_t *ret_n,
                           struct error *err);
void engine_containers_free(struct engine_container *c, size_t n);

/* Taking a project down without the compose tool (it may refuse the file, or never have accepted it).
 *
 * engine_remove_containers(e, "io.stack.run=ID", volumes, &n, err) kills and removes every container carrying
 * the label (which must be "key=value"): DELETE /containers/{id}?force=1, with &v=1 (their anonymous volumes
 * too) when `volumes`. A container already gone (404) is fine; *ret_n counts those this call removed.
 *
 * engine_remove_project(e, project, volumes, &rm, err) does that for label com.docker.compose.project=<project>
 * (compose v1 and v2 both set it), then removes the project's networks and, only when `volumes`, its named
 * volumes (found by the same label). A network or volume that something outside the project still uses is left
 * and named in rm.kept; that is not a failure. Calling it again when nothing is left is a success that removes
 * nothing. rm is written only on success; engine_removed_release(&rm) afterwards (safe on a zeroed struct).
 */
struct engine_removed {
        unsigned containers, networks, volumes; /* removed by this call */
        char **kept; /* NULL-terminated, one line each: "network NAME: <Engine message>", or NULL when none */
};

int engine_remove_containers(struct engine *e, const char *label, bool volumes, unsigned *ret_n, struct error *err);
int engine_remove_project(struct engine *e, const char *project, bool volumes, struct engine_removed *ret,
                          struct error *err);
void engine_removed_release(struct engine_removed *r);

/* For gc --images (spec/store.md "gc"). engine_image_used(): *ret true when any container (of any project, in
 * any state) was created from ref or from an image built on it (GET /containers/json?all=1 with an ancestor
 * filter); an image the Engine lacks is used by nothing. engine_image_remove(): DELETE /images/{ref} without
 * force, so the Engine itself refuses an image a container still references (409: *ret_removed false, not an
 * error); an image already gone is *ret_removed false too. */
int engine_image_used(struct engine *e, const char *ref, bool *ret, struct error *err);
int engine_image_remove(struct engine *e, const char *ref, bool *ret_removed, struct error *err);

/* POST /build?t=tag with the build context (a tar whose root holds the Dockerfile) streamed from fd (size bytes);
 * the Engine's own builder, no pull (a FROM image the Engine lacks fails the build). The streamed answer is read
 * like an image load's: its error line (for example "The command '/bin/sh -c false' returned a non-zero code: 1")
 * is STACK_ERUNTIME "building TAG failed: ...". */
int engine_build(struct engine *e, int fd, uint64_t size, const char *tag, struct error *err);

/* Named volumes, for snapshots (spec/run.md "Upgrades and snapshots"); all STACK_ERUNTIME on Engine errors.
 *   engine_list_volumes(e, project, &names, err)   GET /volumes by label com.docker.compose.project=<project>:
 *                                                   NULL-terminated names (strv_free)
 *   engine_helper_create(e, image, volume, "/vol", &id, err)   POST /containers/create, never started: a
 *                                                   container that mounts the volume (NoCopy) at the target
 *   engine_archive_get(e, id, "/vol", fd, err)     GET /containers/{id}/archive?path=: the tar written to fd
 *   engine_archive_put(e, id, "/vol", fd, size, err)  PUT /containers/{id}/archive?path=: size bytes of tar
 *                                                   from fd, extracted there (owners and modes as in the tar)
 *   engine_container_delete(e, id, err)            DELETE /containers/{id}?force=1 (404 is fine)
 *   engine_volume_recreate(e, name, err)           an empty volume of the same name, driver, labels and
 *                                                   options: GET /volumes/{name}, DELETE, POST /volumes/create
 *   engine_project_stop(e, project, &n, err)       POST /containers/{id}/stop?t=10 for each container of the
 *                                                   project (304 already stopped and 404 gone are fine)
 *   engine_volume_delete(e, name, err)             DELETE /volumes/{name} (404 is fine)
 *   engine_container_logs(e, id, tail, &text, err) GET /containers/{id}/logs: the last `tail` lines (free())
 */
int engine_list_volumes(struct engine *e, const char *project, char ***ret, struct error *err);
int engine_helper_create(struct engine *e, const char *image, const char *volume, const char *target, char **ret_id,
                         struct error *err);
int engine_archive_get(struct engine *e, const char *id, const char *path, int fd, struct error *err);
int engine_archive_put(struct engine *e, const char *id, const char *path, int fd, uint64_t size, struct error *err);
int engine_container_delete(struct engine *e, const char *id, struct error *err);
int engine_volume_recreate(struct engine *e, const char *name, struct error *err);
int engine_project_stop(struct engine *e, const char *project, unsigned *ret_n, struct error *err);
int engine_volume_delete(struct engine *e, const char *name, struct error *err);
int engine_container_logs(struct engine *e, const char *id, int tail, char **ret, struct error *err);

/* Re-launch through the Engine (relaunch.c, spec/run.md "Re-launch").
 *
 * engine_project_configs(): one GET /containers/json?all=1 filtered by com.docker.compose.project=<project>:
 * each container's id, name, compose service and config-hash labels, ImageID, Image and State (no health: the
 * list does not say). Sorted by name. engine_container_status(): GET /containers/{id}/json, the same fields
 * (image_ref from Config.Image) plus State.Status, State.ExitCode and State.Health.Status; *ret_gone on 404.
 * engine_image_id(): GET /images/{ref}/json's Id, *ret_id NULL when the Engine lacks the image.
 * engine_container_start(): POST /containers/{id}/start; 204 and 304 (running already) are success, any
 * other answer STACK_ERUNTIME with the Engine's message. */
struct engine_config {
        char *id, *name, *service;
        char *config_hash; /* label com.docker.compose.config-hash, or NULL */
        char *image_id;    /* the image the container was created from ("sha256:...") */
        char *image_ref;   /* the reference it was created with */
        char *state;       /* created|running|paused|restarting|removing|exited|dead */
        char *health;      /* engine_container_status only: healthy|unhealthy|starting, or NULL */
        int exit_code;     /* engine_container_status only */
};

int engine_project_configs(struct engine *e, const char *project, struct engine_config **ret, size_t *ret_n,
                           struct error *err);
void engine_configs_free(struct engine_config *c, size_t n);
void engine_config_release(struct engine_config *c); /* one, e.g. from engine_container_status */
int engine_container_status(struct engine *e, const char *id, struct engine_config *ret, bool *ret_gone,
                            struct error *err);
int engine_image_id(struct engine *e, const char *ref, char **ret_id, struct error *err);
int engine_container_start(struct engine *e, const char *id, struct error *err);

/* What a project was given, for the judge (run/judge.h, spec/run.md "What the Engine was asked for").
 * engine_inspect(): kind "containers" (GET /containers/{id}/json), "volumes" (GET /volumes/{name}), "networks"
 * (GET /networks/{id}), or "info" (GET /info, id unused): the answer object in *ret (json_decref), NULL on 404.
 * engine_containers_json(): GET /containers/json?all=1&filters={"<filter>":["<value>"]}: the list (an array). */
struct json_t;
int engine_inspect(struct engine *e, const char *kind, const char *id, struct json_t **ret, struct error *err);
int engine_containers_json(struct engine *e, const char *filter, const char *value, struct json_t **ret,
                           struct error *err);

/* Resource use (run/engine-stats.c, spec/run.md "Engine": "Resource use"), as `docker stats` computes it.
 * engine_container_stats(): GET /containers/{id}/stats?stream=false (with one-shot=true from API 1.41: no wait
 * for a second sample, so cpu_percent is 0 unless the Engine sent a previous sample); STACK_ENOTFOUND for a
 * container that is gone. The CPU % between two samples of one container, taken a while apart, is
 * engine_stats_cpu_percent(older, newer) (0 when the counters did not move forward). mem_used is the memory
 * usage less the inactive page cache; net_* sum every network; blk_* the block I/O reads and writes. */
struct engine_stats {
        double cpu_percent;
        uint64_t mem_used, mem_limit, net_rx, net_tx, blk_read, blk_write;
        unsigned pids;
        uint64_t cpu_total, cpu_system; /* the raw counters (ns): the container's CPU time, the host's */
        unsigned online_cpus;
};
int engine_container_stats(struct engine *e, const char *id, struct engine_stats *ret, struct error *err);
/* engine_container_stats() of n containers at once, each on a connection of its own (the Engine answers a stats
 * call at its collector's next tick, about a second: one after another would take n seconds). rets[i] and
 * oks[i] for ids[i]; oks[i] false for one that failed or is gone. Fails only when it cannot start a thread. */
int engine_containers_stats(struct engine *e, const char *const *ids, size_t n, struct engine_stats *rets, bool *oks,
                            struct error *err);
double engine_stats_cpu_percent(const struct engine_stats *older, const struct engine_stats *newer);

/* The Engine's event stream, for the watcher (orch/watch.h, spec/run.md "Watching"). It holds the handle for as
 * long as it lasts: give it a struct engine of its own.
 *
 * engine_events(e, since_ns, &handler, err): GET /events?filters={"type":["container"]} (with &since=<since_ns>
 * when not 0: the Engine replays what it still holds from then on), read as it arrives, one JSON object a line.
 * handler.event gets each container event; handler.bad each line that is not one (truncated, not JSON, longer
 * than ENGINE_EVENT_MAX: skipped); handler.tick is called after each piece of the stream and about once a
 * second while none comes. A nonzero return from event or tick ends the stream: 0. It also returns 0 when the
 * Engine ends the stream, and STACK_ERUNTIME when it cannot be reached or answers other than 200. */
#define ENGINE_EVENT_MAX (64u << 10)
struct engine_event {
        const char *action;                  /* "die", "health_status", "exec_create", ... (before any ": ") */
        const char *detail;                  /* what follows "action: " ("unhealthy", an exec's command), or NULL */
        const char *id;                      /* the container's id */
        const char *name;                    /* its name (attribute "name"), or NULL */
        const char *run, *project, *service; /* labels io.stack.run, com.docker.compose.project, ...service (NULL) */
        const char *exec_id;                 /* exec_*: attribute execID, or NULL */
        int exit_code;                       /* die: attribute exitCode, -1 when absent */
        int64_t time_ns;                     /* timeNano (time * 1e9 when only that is given) */
        const struct json_t *attributes;     /* Actor.Attributes, all of them */
};
struct engine_events_handler {
        int (*event)(void *ctx, const struct engine_event *ev);
        void (*bad)(void *ctx, const char *why);
        int (*tick)(void *ctx);
        void *ctx;
};
int engine_events(struct engine *e, int64_t since_ns, const struct engine_events_handler *h, struct error *err);

/* Docker Swarm (run/engine-swarm.c, spec/run.md "Swarm"). engine_swarm_info(): GET /info's Swarm part (an Engine
 * without one, Podman's, is "inactive"). engine_swarm_manager(): the same, STACK_ERUNTIME saying why when the
 * Engine is not an active swarm manager. engine_nodes(): GET /nodes (addr: the node's address, a manager's own
 * from ManagerStatus when Status says 0.0.0.0). engine_stack_list(): the "services" (with ServiceStatus),
 * "tasks", "networks", "volumes" or "containers" of a stack deployed under project (label
 * com.docker.stack.namespace), a JSON array in *ret. engine_service_scale(): service (one element of that list) updated to replicas;
 * engine_service_rollback(): a server-side rollback to its previous spec. */
struct engine_swarm {
        char state[16]; /* LocalNodeState: inactive, pending, active, error, locked */
        bool manager;   /* ControlAvailable */
        char node_id[64], node_addr[64], error[256];
        unsigned nodes, managers;
};
struct engine_node {
        char *id, *hostname, *role, *availability, *state, *addr, *version, *message;
        bool leader;
};
int engine_swarm_info(struct engine *e, struct engine_swarm *ret, struct error *err);
int engine_swarm_manager(struct engine *e, struct engine_swarm *ret, struct error *err);
int engine_nodes(struct engine *e, struct engine_node **ret, size_t *ret_n, struct error *err);
void engine_nodes_free(struct engine_node *v, size_t n);
int engine_stack_list(struct engine *e, const char *kind, const char *project, struct json_t **ret, struct error *err);
int engine_service_scale(struct engine *e, const struct json_t *service, unsigned replicas, struct error *err);
int engine_service_rollback(struct engine *e, const struct json_t *service, struct error *err);
/* The service's TaskTemplate.Resources.Limits.Pids set to pids (API 1.41 has it; the compose 3.x schema of docker
 * CLI 20.10 does not, so run/runner-swarm.c sets it after the deploy). */
int engine_service_limit_pids(struct engine *e, const struct json_t *service, int64_t pids, struct error *err);
/* Before a snapshot of a stack on the swarm (orch/upgrade.c): every service that mounts something (a volume, a
 * bind of its data) scaled to 0, and waited for until none of the stack's containers on this node runs; the
 * stateless ones keep serving. *ret_n (may be NULL): the services scaled. */
int engine_stack_stop_stateful(struct engine *e, const char *project, unsigned *ret_n, struct error *err);
/* The references of the Engine's images (RepoDigests, then RepoTags) that start with prefix ("HOST:PORT/": what
 * a node pulled from stack's registry), NULL-terminated in *ret (NULL when none; strv_free()). */
int engine_images_under(struct engine *e, const char *prefix, char ***ret, struct error *err);

#endif
