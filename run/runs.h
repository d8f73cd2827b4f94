/* runs.h - the run module's records in index.db (spec/store.md "Module tables", spec/run.md "Run states"):
 * one row per run of a stack, and the permissions a person granted each stack.
 *
 * Every function takes the store and migrates the module's tables first (index_module_db: cheap when
 * current), so a store of any age works. Rows come filled; release each with run_row_release() or a list
 * with run_rows_free(). Writers run under the store's shared lock (run.c takes it).
 */
#ifndef STACK_RUNS_H
#define STACK_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"

#define RUNS_SCHEMA_VERSION 2

/* A run's state (spec/run.md "Run states"): pending .. failed, unhealthy and restarting are what the runs table
 * holds (the schema admits pending, which nothing writes yet: the API's approval will; unhealthy and restarting
 * are the watcher's, orch/watch.h); RUN_UNKNOWN (the Engine could not be asked, run_list()) and RUN_REMOVED (a
 * run just removed) are only ever in memory. Names are the table's and the
 * output's ("running"); run_state_parse() gives the state, or -EINVAL for any other name. */
enum run_state {
        RUN_PENDING,
        RUN_STARTING,
        RUN_RUNNING,
        RUN_STOPPING,
        RUN_STOPPED,
        RUN_FAILED,
        RUN_UNKNOWN,
        RUN_REMOVED,
        RUN_UNHEALTHY,  /* running, a healthcheck fails: reason "healthcheck failed: <its last output line>" */
        RUN_RESTARTING, /* a container is being restarted by the Engine's restart policy */
};
const char *run_state_name(enum run_state state);
int run_state_parse(const char *name);

struct run_row {
        char id[17];
        char *slug, *version, *project, *run_dir, *reason; /* version: the label, "?" when it is gone */
        enum run_state state;
        int64_t version_id;
        struct digest tree;
        int64_t created_at, updated_at, started_at, stopped_at;
};

int runs_insert(struct store *s, const struct run_row *r, struct error *err);
/* Set state (and reason, NULL to clear); sets updated_at, and started_at/stopped_at on running/stopped|failed. */
int runs_set_state(struct store *s, const char *id, enum run_state state, const char *reason, struct error *err);
/* By id, or (when no id matches) the newest run of a slug; STACK_EFAIL with a message when none. */
int runs_get(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err);
/* Newest first. */
int runs_list(struct store *s, struct run_row **ret, size_t *ret_n, struct error *err);
int runs_delete(struct store *s, const char *id, struct error *err);
void run_row_release(struct run_row *r);
void run_rows_free(struct run_row *v, size_t n);

/* Permissions a person granted a stack (enum policy_perm bits), remembered across runs; 0 when none. */
int allows_get(struct store *s, const char *slug, unsigned *ret, struct error *err);
int allows_set(struct store *s, const char *slug, unsigned perms, struct error *err);

#endif
