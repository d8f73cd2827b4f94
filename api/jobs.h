/* jobs.h - the daemon's POST /run requests in flight: a worker thread per request, the lines it says, the
 * connections that stream them, and the server-sent event stream of every request and run (spec/api.md).
 *
 * Calling sequence:
 *   jobs_new(&config, &j, err)          before the HTTP server starts; config.home is the store's root
 *   jobs_start(j, &spec, conn, &resp, err)  a request row exists (requests.h); starts its worker: wait for
 *                                       the decision (poll the row every JOBS_POLL_MS, expire it at its time),
 *                                       then orch_run() on the worker's own store connection. With ret_stream
 *                                       (else NULL) *ret_stream is a text/plain response streaming the job's
 *                                       lines, one per event, ending after the last (running: / failed: /
 *                                       denied: / expired)
 *   jobs_events(j, conn)                a text/event-stream response: every job's lines and state changes
 *   jobs_event_state(j, ...)            a state change made elsewhere (POST /runs/{id}/stop)
 *   jobs_event_json(j, event, data)     any other event ("usage": api/sampler.c; the watcher's, orch/watch.h),
 *                                       from any thread; data stolen
 *   jobs_readers(j)                     how many /events readers are connected now (the sampler runs only
 *                                       while there is one)
 *   jobs_shutdown(j)                    before MHD_stop_daemon: ends every stream, resumes suspended
 *                                       connections, tells waiting workers to give up
 *   jobs_free(j)                        after MHD_stop_daemon: waits for the workers (a run being started
 *                                       finishes first), frees; safe with NULL
 *
 * A streaming response's reader suspends its connection (MHD_suspend_connection) while no line is ready; the
 * worker that adds a line resumes it. Suspended connections do not time out, so a stream that waits ten
 * minutes for approval is not cut by the server's idle timeout.
 */
#ifndef STACK_JOBS_H
#define STACK_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define JOBS_MAX         32  /* requests in flight (waiting or starting) at once; more: 503 */
#define JOBS_POLL_MS     200 /* how often a waiting worker reads its row */
#define JOBS_KEEPALIVE_S 15  /* a comment on /events this often */
#define JOBS_MAX_LINES   512 /* progress lines kept per job (the last line always fits) */
#define JOBS_EVENTS_KEPT 256 /* events a slow /events reader may lag behind before it skips */

struct jobs;
struct MHD_Connection;
struct MHD_Response;
struct json_t;

struct jobs_config {
        const char *home;    /* STACK_HOME: each worker opens its own store there */
        const char *catalog; /* base URL for fetching; NULL: $STACK_CATALOG */
        bool auto_approve;   /* tests: approve every request at once (logged loudly) */
};

struct job_spec {
        const char *id, *slug, *ref; /* the request row's id, its stack and slug@version */
        bool wait;                   /* wait for a decision (else approved already) */
        int64_t expires_at;
};

int jobs_new(const struct jobs_config *c, struct jobs **ret, struct error *err);
/* STACK_EFAIL "busy" when JOBS_MAX are in flight. */
int jobs_start(struct jobs *j, const struct job_spec *spec, struct MHD_Connection *conn,
               struct MHD_Response **ret_stream, struct error *err);
struct MHD_Response *jobs_events(struct jobs *j, struct MHD_Connection *conn);
/* Any other event of /events: "event: <event>\ndata: <data as compact JSON>" (the watcher's "run" and "alert",
 * orch/watch.h). Takes data (NULL: nothing is sent). */
void jobs_event_json(struct jobs *j, const char *event, struct json_t *data);
/* A desktop notification (notify-send, when it is on PATH; nothing waits for it). */
void jobs_notify(const char *title, const char *body);
/* request_id, run_id, reason may be NULL. */
void jobs_event_state(struct jobs *j, const char *request_id, const char *slug, const char *state, const char *run_id,
                      const char *reason);
/* "event: <event>\ndata: <data as compact JSON>"; takes data (NULL: nothing). */
struct json_t;
void jobs_event_json(struct jobs *j, const char *event, struct json_t *data);
unsigned jobs_readers(struct jobs *j);
void jobs_shutdown(struct jobs *j);
void jobs_free(struct jobs *j);

#endif
