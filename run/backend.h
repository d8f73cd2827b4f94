/* backend.h - the compose tool that brings stacks up and down (spec/run.md "Backends").
 *
 * backend_detect(store, &b, err): the tool STACK_RUNTIME names ("docker compose", "docker-compose",
 * "podman compose", "podman-compose"), else, by what each candidate's `version` reports (not its name): compose
 * v2 (`docker compose`, then `docker-compose`), docker-compose 1.x when it is the only docker tool, Podman's
 * (`podman compose`, then `podman-compose`) when no docker tool answers. A tool whose `version` reports nothing
 * stack knows is not used (with STACK_RUNTIME: STACK_ERUNTIME quoting its last line). The choice is remembered
 * in $STACK_HOME/runtime with the installed tools' identity (path, inode, size, mtime) and probed again when
 * that identity or STACK_RUNTIME changes (also kept for the user, for their other stores: spec/run.md "Backends").
 * backend_compose() runs one compose command for a project;
 * backend_free(b).
 */
#ifndef STACK_BACKEND_H
#define STACK_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "store/store.h"

struct backend;

int backend_detect(struct store *s, struct backend **ret, struct error *err);
void backend_free(struct backend *b);
enum backend_kind {
        BACKEND_COMPOSE_V2,     /* compose v2 (or later): `docker compose version` says "Docker Compose version 2.x" */
        BACKEND_COMPOSE_V1,     /* docker-compose 1.x ("docker-compose version 1.29.2, build ...") */
        BACKEND_PODMAN_COMPOSE, /* podman-compose ("podman-compose version 1.0.3"; 1.0.x spells "podman-composer") */
};

/* The tool as invoked: "docker compose", "docker-compose", "podman compose" or "podman-compose". */
const char *backend_name(const struct backend *b);
/* What its `version` reported, and the version text ("2.26.1-4", "1.29.2", "1.0.3"). */
enum backend_kind backend_kind(const struct backend *b);
const char *backend_version(const struct backend *b);
/* docker-compose 1.x semantics (1.29 on Debian 12), whatever the tool's name. */
bool backend_is_v1(const struct backend *b);
/* The effective compose file is written with the v1 rewrites (spec/run.md "Compose v1 rewrites"): for
 * docker-compose 1.x and for podman-compose (PyYAML, no include:, no configs content). */
bool backend_v1_file(const struct backend *b);
/* Parse a `<tool> version` output into kind and version; -EINVAL when it names no tool stack knows. */
int backend_parse_version(const char *output, enum backend_kind *kind, char *version, size_t size);

struct backend_call {
        const char *project;      /* -p */
        const char *compose_file; /* -f (absolute) */
        const char *project_dir;  /* --project-directory (the compose file's directory) */
        const char *const *env;   /* "K=V" added to (and overriding) the environment; NULL-terminated or NULL */
        const char *const *args;  /* the command: {"up", "-d", NULL} */
        bool inherit_output;      /* true: the caller's stdout/stderr (logs); false: captured */
        int output_fd;            /* with inherit_output, > 0: stdout and stderr go to this fd instead */
        volatile int *ret_pid;    /* when set: the tool's pid while it runs (the caller may signal it), 0 after */
        bool plain;               /* args only: no -p/-f/--project-directory (the docker CLI: backend_docker()) */
};

/* Run the call and wait. *ret_status: the tool's exit status. With captured output, *ret_output gets its last
 * 8 KiB (stdout and stderr together), heap, may be NULL when the caller does not want it. Failing to start the
 * tool is STACK_ERUNTIME; a non-zero exit is not an error here (the caller decides). */
int backend_compose(const struct backend *b, const struct backend_call *c, int *ret_status, char **ret_output,
                    struct error *err);

/* A call started before its compose file is written (spec/run.md "Compose calls"): the tool is started with `-f -`
 * and loads (docker-compose 1.x's Python start-up is about 0.3 s) while stack does what the file waits for (the
 * images pulled, the old version taken down); backend_early_finish() then sends it c->compose_file's bytes on its
 * standard input, the file compose would have read, and waits as backend_compose() does. The tool reads that
 * input before it asks the Engine anything: backend_early_cancel() (SIGKILL) leaves the Engine as it was.
 * docker-compose 1.x reading `-f -` takes its working directory, not --project-directory, as the project's: it
 * is started in cwd, the folder that holds the file's .env, and takes both the .env and that folder's name as
 * it starts, before it reads the file: cwd must be in place, under its final name, before the call starts.
 * Only for docker-compose 1.x (backend_early_ok()); c is copied (its pointers must outlive the call), neither
 * plain nor inherit_output.
 *   backend_early_start(b, &c, cwd, &x, err)
 *   ... backend_early_finish(x, &status, &output, err)  or  backend_early_cancel(x)   (each frees x) */
struct backend_early;
bool backend_early_ok(const struct backend *b);
int backend_early_start(const struct backend *b, const struct backend_call *c, const char *cwd,
                        struct backend_early **ret, struct error *err);
int backend_early_finish(struct backend_early *x, int *ret_status, char **ret_output, struct error *err);
void backend_early_cancel(struct backend_early *x);

/* A program in PATH ("docker": the docker CLI) as a backend for backend_compose() calls with .plain set (`docker
 * stack deploy`, `docker service logs`: spec/run.md "Swarm"), with the same environment rules and time limits;
 * STACK_ERUNTIME when it is not installed. backend_free() it. */
int backend_program(const char *prog, struct backend **ret, struct error *err);

/* podman-compose passes no memswap_limit and no pids_limit to Podman (1.0.3: only cpus and mem_limit), so
 * backend_compose() gives its `up` the limits the policy wrote into the effective file as --podman-run-args, which
 * it adds to every `podman create` / `podman run` (spec/run.md "Backends"). backend_podman_run_args() works them
 * out from the file's text (name for messages): "--memory-swap=N --pids-limit=M" in ret (either part left out
 * when no service has the key; "" when none has either). One --memory-swap serves every container: services with
 * different memory limits (a service asked for less than the stack's) are STACK_ERUNTIME saying so, before
 * anything is created. Pure, for tests (backend-podman.c). */
int backend_podman_run_args(const char *name, const char *yaml, size_t len, char *ret, size_t size, struct error *err);

#endif
