/* engine.h - the Docker Engine API over its unix socket, through libcurl (spec/run.md "Engine").
 *
 * Everything that can be asked of the Engine directly goes here (not by parsing CLI output): ping, image
 * present?, image load (streamed from a store object), container states, and taking a compose project down
 * when the compose tool cannot (engine_remove_project). Up/down/logs go through the compose tool (backend.h).
 *
 * Calling sequence: engine_open(&e, err) (socket from DOCKER_HOST=unix://PATH, else /var/run/docker.sock; it
 * pings once: an Engine that does not answer is STACK_ERUNTIME with a message saying how to start one); any
 * calls; engine_free(e).
 */
#ifndef STACK_ENGINE_H
#define STACK_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/error.h"

struct engine;

int engine_open(struct engine **ret, struct error *err);
void engine_free(struct engine *e);
/* The socket path in use (for messages). */
const char *engine_socket(const struct engine *e);

/* GET /images/{ref}/json: *ret true when the Engine has the image (200), false on 404. */
int engine_image_exists(struct engine *e, const char *ref, bool *ret, struct error *err);
/* POST /images/load with the archive streamed from fd (size bytes; docker save or OCI layout tar). The Engine's
 * streamed JSON answer is read: an {"error": ...} or "errorDetail" in it is STACK_EREJECT naming `what`. */
int engine_image_load(struct engine *e, int fd, uint64_t size, const char *what, struct error *err);
/* The image references an archive names (docker save: manifest.json RepoTags; OCI layout: index.json
 * annotations org.opencontainers.image.ref.name / io.containerd.image.name), read with libarchive from fd
 * (which is left at an unspecified offset). NULL-terminated heap array in *ret; STACK_EREJECT when the file
 * is not such an archive. */
int engine_archive_refs(int fd, char ***ret, struct error *err);
void engine_strv_free(char **v);

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
int engine_container_status(struct engine *e, const char *id, struct engine_config *ret, bool *ret_gone,
                            struct error *err);
int engine_image_id(struct engine *e, const char *ref, char **ret_id, struct error *err);
int engine_container_start(struct engine *e, const char *id, struct error *err);

#endif
