/* watch.h - the Engine event watcher of `stack serve` (spec/run.md "Watching").
 *
 * One thread holds one GET /events stream (run/engine.h engine_events(), on an Engine handle of its own) and
 * keeps the runs in the index true to what their containers do: a container that dies (its exit code; OOMKilled
 * from its inspect answer), restarts, turns unhealthy or is removed outside stack moves its run to failed,
 * restarting, unhealthy or back to running (runs.h), each change with its time in the run history (history.h);
 * exec into a container (not the Engine's own healthcheck probes), a container of the project created outside
 * stack, docker update, a configuration that no longer matches what was first seen, an OOM kill and a restart
 * loop are alerts (alerts.h). A restart loop (restart_count restarts within restart_seconds; config.json
 * "watch") stops the stack (engine_project_stop) and fails it with the last log lines.
 *
 * Only runs whose row says running, unhealthy or restarting are changed: stack's own start, stop and rm set
 * starting or stopping first, so what they do to containers is theirs. The watcher's own trouble (an Engine
 * that goes, a stream that ends or sends lines it cannot read) never fails a run: it says so once per outage
 * through log, reconnects with backoff (WATCH_BACKOFF_MIN_MS doubling to WATCH_BACKOFF_MAX_MS) and, on each
 * (re)connect, reconciles by inspecting the containers of every active run before it reads the stream again
 * (since the time it last read, so nothing in between is lost). Events are coalesced per run (a run is judged
 * again at most every WATCH_COALESCE_MS) and every table it keeps is bounded, so a flood of events costs
 * neither memory nor the API's time.
 *
 * Calling sequence: watch_start(&config, &w, err) starts the thread (it opens its own store at config.home);
 * watch_stop(w) ends it (within about a second) and frees; safe with NULL. emit and log are called from the
 * watcher's thread.
 */
#ifndef STACK_WATCH_H
#define STACK_WATCH_H

#include <jansson.h>

#include "base/error.h"

#define WATCH_BACKOFF_MIN_MS  500
#define WATCH_BACKOFF_MAX_MS  8000
#define WATCH_COALESCE_MS     50
#define WATCH_RESTART_COUNT   5  /* restarts ... */
#define WATCH_RESTART_SECONDS 60 /* ... within this many seconds: a restart loop */
#define WATCH_MAX_RUNS        256
#define WATCH_MAX_CONTAINERS  512
#define WATCH_LOOP_LOG_LINES  5

struct watch;

struct watch_config {
        const char *home; /* STACK_HOME */
        /* SSE: "run" {"id","slug","state","reason","health","restarts"} on every change, "alert" (alert_json());
         * takes data. May be NULL. */
        void (*emit)(void *ctx, const char *event, json_t *data);
        void (*log)(void *ctx, const char *line); /* the daemon's log, one line; may be NULL */
        void *ctx;
};

/* config.json "watch": {"restart_count": N, "restart_seconds": S} (checked by run/policy-limits.c with the rest
 * of the file); the defaults above when it is absent or unreadable. */
void watch_restart_limits(const char *home, unsigned *ret_count, unsigned *ret_seconds);

int watch_start(const struct watch_config *c, struct watch **ret, struct error *err);
void watch_stop(struct watch *w);

#endif
