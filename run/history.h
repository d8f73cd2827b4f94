/* history.h - each run's state changes with their times (spec/run.md "Run states", "Watching"): the module table
 * run_history in index.db, written by the watcher (orch/watch.h) and read by the API and the CLI.
 *
 * Calling sequence: history_add(s, run_id, state, reason, container, err) after each change of a run's state
 * (it keeps the newest HISTORY_KEEP rows of that run and deletes older ones in the same transaction);
 * history_list(s, run_id, &rows, &n, err) newest first; history_rows_free(rows, n). Like runs.h, each call
 * migrates the module's table first.
 */
#ifndef STACK_HISTORY_H
#define STACK_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "run/runs.h"
#include "store/store.h"

#define HISTORY_SCHEMA_VERSION 1
#define HISTORY_KEEP           200 /* rows kept per run */

struct history_row {
        char run_id[17];
        int64_t at_ms; /* unix milliseconds */
        enum run_state state;
        char *reason;    /* NULL when none */
        char *container; /* the container whose change it was, NULL when the run's own */
};

/* reason and container may be NULL. */
int history_add(struct store *s, const char *run_id, enum run_state state, const char *reason, const char *container,
                struct error *err);
int history_list(struct store *s, const char *run_id, struct history_row **ret, size_t *ret_n, struct error *err);
void history_rows_free(struct history_row *v, size_t n);

#endif
