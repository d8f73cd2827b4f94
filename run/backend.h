/* backend.h - the compose tool that brings stacks up and down (spec/run.md "Backends").
 *
 * backend_detect(store, &b, err): STACK_RUNTIME when set ("docker compose", "docker-compose",
 * "podman compose"), else the first that answers `version`: docker compose (v2 plugin), docker-compose (v1),
 * podman compose. The answer is remembered in $STACK_HOME/runtime so later runs do not probe again (it is
 * probed again when the remembered program is gone). backend_compose() runs one compose command for a
 * project; backend_free(b).
 */
#ifndef STACK_BACKEND_H
#define STACK_BACKEND_H

#include <stdbool.h>

#include "store/error.h"
#include "store/store.h"

struct backend;

int backend_detect(struct store *s, struct backend **ret, struct error *err);
void backend_free(struct backend *b);
/* "docker-compose", "docker compose" or "podman compose". */
const char *backend_name(const struct backend *b);
/* docker-compose (v1, 1.29 on Debian 12): the effective compose file is written for it (spec/run.md). */
bool backend_is_v1(const struct backend *b);

struct backend_call {
        const char *project;      /* -p */
        const char *compose_file; /* -f (absolute) */
        const char *project_dir;  /* --project-directory (the compose file's directory) */
        const char *const *env;   /* "K=V" added to (and overriding) the environment; NULL-terminated or NULL */
        const char *const *args;  /* the command: {"up", "-d", NULL} */
        bool inherit_output;      /* true: the caller's stdout/stderr (logs); false: captured */
        int output_fd;            /* with inherit_output, > 0: stdout and stderr go to this fd instead */
        volatile int *ret_pid;    /* when set: the tool's pid while it runs (the caller may signal it), 0 after */
};

/* Run the call and wait. *ret_status: the tool's exit status. With captured output, *ret_output gets its last
 * 8 KiB (stdout and stderr together), heap, may be NULL when the caller does not want it. Failing to start the
 * tool is STACK_ERUNTIME; a non-zero exit is not an error here (the caller decides). */
int backend_compose(const struct backend *b, const struct backend_call *c, int *ret_status, char **ret_output,
                    struct error *err);

#endif
