/* relaunch.h - a stack that ran before started again straight through the Engine (spec/run.md "Re-launch").
 *
 * Private to run/. Calling sequence (run.c, on the re-launch fast path only):
 *   - after a compose `up` whose containers then ran, relaunch_record() writes what compose made (the run dir's
 *     .stack-relaunch: digests of the effective compose file and of the compose environment, and each container's
 *     id, service, config-hash label and image);
 *   - on a later run of the same tree from the same run dir, relaunch_start() checks that nothing changed since
 *     (the file, the environment, the same containers with the same config-hash, service set and images) and
 *     starts the containers with POST /containers/{id}/start in dependency order, waiting where depends_on asks
 *     for service_healthy / service_completed_successfully, once the judge (judge.h) accepted them (refused:
 *     < 0, the reason in in->err, nothing started). It returns 0 when it started them, or > 0 with a
 *     one-line reason in *why (heap) when the caller must use compose `up` instead: nothing it could not vouch
 *     for was changed (at most some of the containers were started, which compose `up` then finds running).
 *   - relaunch_forget() removes the record; run.c calls it before every compose `up`.
 *
 * relaunch_plan() is pure: the services of an effective compose file, each after the services it depends on
 * (depends_on in both forms, links, volumes_from, network_mode/ipc/pid "service:X"), file order otherwise.
 */
#ifndef STACK_RELAUNCH_H
#define STACK_RELAUNCH_H

#include <stddef.h>

#include "engine.h"
#include "judge.h"
#include "base/error.h"

#define RELAUNCH_RECORD ".stack-relaunch"

enum relaunch_cond {
        RELAUNCH_STARTED,   /* service_started (the default) */
        RELAUNCH_HEALTHY,   /* service_healthy */
        RELAUNCH_COMPLETED, /* service_completed_successfully */
};

struct relaunch_dep {
        char *service;
        enum relaunch_cond cond;
};

struct relaunch_service {
        char *name;
        struct relaunch_dep *deps;
        size_t n_deps;
};

struct relaunch_plan {
        struct relaunch_service *v; /* in start order */
        size_t n;
};

/* name: for messages. STACK_EREJECT for a file that is not a compose mapping with services, a dependency on a
 * service the file lacks, or a cycle; STACK_EFAIL out of memory. */
int relaunch_plan(const char *name, const char *yaml, size_t len, struct relaunch_plan *ret, struct error *err);
void relaunch_plan_release(struct relaunch_plan *p);
/* The effective compose file's tree, loaded within the policy's output bounds, and its services mapping (inside
 * *ret_root: yamltree_free() it); a file without one is STACK_EREJECT "<name>: no services mapping". What
 * relaunch_plan() reads; backend-podman.c reads the limits there (yamltree_map_get()). */
struct yamltree_node;
int relaunch_load(const char *name, const char *yaml, size_t len, struct yamltree_node **ret_root,
                  const struct yamltree_node **ret_services, struct error *err);
/* Only the tree, within the same bounds (a file without services, one that only includes others, is fine). */
int relaunch_load_tree(const char *name, const char *yaml, size_t len, struct yamltree_node **ret_root,
                       struct error *err);

struct relaunch_input {
        const char *project;    /* compose project (stack-<slug>) */
        const char *effective;  /* the effective compose file compose runs */
        const char *record;     /* <run dir>/.stack-relaunch */
        const char *const *env; /* the compose process's added environment (NULL-terminated, may be NULL) */
        int timeout_s;          /* waiting for a dependency's health */
        /* The containers are judged (judge.h) before any is started; a refusal is relaunch_start() < 0 with the
         * reason in err. NULL: not judged (tests). */
        const struct judge_input *judge;
        struct error *err;
};

int relaunch_record(struct engine *e, const struct relaunch_input *in, struct error *err);
int relaunch_start(struct engine *e, const struct relaunch_input *in, char **why);
void relaunch_forget(const struct relaunch_input *in);

#endif
