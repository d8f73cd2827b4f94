/* alerts.h - unusual behaviour of what runs, named and kept until a person dismisses it (spec/run.md "Watching"):
 * the module table alerts in index.db, written by the watcher (orch/watch.h), listed and dismissed by
 * `stack alerts` and the API (GET /alerts, POST /alerts/{id}/dismiss).
 *
 * Calling sequence: alerts_add(s, &alert, &id, err) (alert.id and dismissed_at_ms are ignored, at_ms 0 means
 * now; the table keeps the newest ALERTS_KEEP); alerts_list(s, include_dismissed, &v, &n, err) newest first,
 * alerts_free(v, n); alerts_dismiss(s, id, err) (STACK_ENOTFOUND for an id that is not there; dismissing twice
 * keeps the first time); alerts_count(s, run_id) the undismissed alerts of a run (0 when they cannot be read).
 * alert_json() is the object the API, `stack alerts --json` and the SSE "alert" event carry. Each call
 * migrates the module's table first.
 */
#ifndef STACK_ALERTS_H
#define STACK_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "store/store.h"

#define ALERTS_SCHEMA_VERSION 1
#define ALERTS_KEEP           1000 /* rows kept (dismissed or not): a flood of execs cannot fill the disk */

/* kind: "exec", "foreign-container", "update", "config-drift", "restart-loop" or "oom". */
struct alert {
        char id[17];
        char *slug, *run_id, *kind, *container, *detail; /* container, detail: NULL when none */
        int64_t at_ms, dismissed_at_ms;                  /* unix milliseconds; dismissed_at_ms 0: not dismissed */
};

/* ret_id (may be NULL) gets the new id: 17 bytes. */
int alerts_add(struct store *s, const struct alert *a, char *ret_id, struct error *err);
int alerts_list(struct store *s, bool include_dismissed, struct alert **ret, size_t *ret_n, struct error *err);
void alerts_free(struct alert *v, size_t n);
int alerts_dismiss(struct store *s, const char *id, struct error *err);
unsigned alerts_count(struct store *s, const char *run_id);
/* {"id","slug","run_id","kind","container","detail","at","dismissed_at"} (at, dismissed_at: unix ms or null). */
json_t *alert_json(const struct alert *a);

#endif
