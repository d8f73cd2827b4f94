/* watch-int.h - what the parts of the watcher share (orch/watch*.c); not an interface outside them.
 *
 * watch.c holds the thread, the reconnect loop and the reading of each event; watch-records.c the in-memory
 * records (a run's, a container's: fixed tables, the oldest reused), config.json "watch", and what the
 * watcher writes (a run's state with its history and "run" event, an alert with its "alert" event);
 * watch-judge.c the judging of a dirty run from its containers' inspect answers (watch_flush()).
 * Everything runs on the watcher's thread (w->s and w->eq are its own), except watch_stop()'s flag.
 */
#ifndef STACK_WATCH_INT_H
#define STACK_WATCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "watch.h"
#include "run/runs.h"

struct engine;
struct store;

#define MAX_RESTART_TIMES 64 /* the largest restart_count honoured */
#define EXEC_IDS_KEPT     64
#define STABLE_MS         10000 /* a stream that lasted this long ends an outage */

struct wrun {
        char id[17];
        char *slug, *project;
        enum run_state state; /* as the row said when last read */
        char *reason;         /* ditto */
        bool was_active;      /* the row said running, unhealthy or restarting when last read */
        int said;             /* the state last sent as a "run" event, -1: none */
        char *health;         /* last emitted, NULL: none */
        long restarts;        /* last emitted sum of RestartCount, -1: never */
        int64_t restart_ms[MAX_RESTART_TIMES];
        unsigned n_restart_ms, next_restart;
        char loop_container[65]; /* a restart loop was seen: the container, judged at the next flush */
        char loop_name[128];     /* its name */
        bool dirty;
        int64_t used_ms;
};

struct wcont {
        char id[65];
        char run[17];
        bool died, alerted;
        char *probe;         /* the healthcheck command as exec events spell it, NULL: none */
        json_t *host_config; /* as first seen */
        bool learned;
        int64_t used_ms;
};

struct watch {
        char *home;
        void (*emit)(void *ctx, const char *event, json_t *data);
        void (*log)(void *ctx, const char *line);
        void *ctx;
        unsigned restart_count, restart_seconds;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping;
        /* the thread's own, below */
        struct store *s;
        struct engine *eq; /* for questions while the stream holds its own handle */
        struct wrun runs[WATCH_MAX_RUNS];
        struct wcont conts[WATCH_MAX_CONTAINERS];
        char exec_ids[EXEC_IDS_KEPT][65];
        unsigned next_exec;
        int64_t last_ns, last_flush_ms, stream_start_ms;
        int64_t dirty_ms; /* when a run was first marked dirty since the last flush (0: none) */
        bool urgent, out, bad_said;
};

void watch_say(struct watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* running, unhealthy or restarting: what the watcher may change */
bool watch_active(enum run_state st);

/* The records. watch_run_get(): the run's record with its row read again (NULL when there is no such run);
 * watch_run_of_project(): the run of a compose project (a container created outside stack carries no
 * io.stack.run); watch_cont_get(): a container's record (created when asked, NULL otherwise); watch_cont_learn():
 * what was first seen of a container (its healthcheck probe as exec events spell it, its HostConfig). */
void watch_run_clear(struct wrun *r);
void watch_cont_clear(struct wcont *c);
struct wrun *watch_run_get(struct watch *w, const char *id);
/* The same without reading the row again when it was read less than WATCH_FRESH_MS ago (the events of a
 * flood; what an alert or a change depends on is read again before it is written). */
#define WATCH_FRESH_MS 200
struct wrun *watch_run_recent(struct watch *w, const char *id);
struct wrun *watch_run_of_project(struct watch *w, const char *project);
struct wcont *watch_cont_get(struct watch *w, const char *id, bool create);
void watch_cont_learn(struct wcont *c, const char *run, json_t *inspect);
/* "Memory: 67108864 -> 134217728; ..." for the HostConfig keys that differ (NULL: none; free()). */
char *watch_host_config_diff(json_t *old, json_t *now);

/* What it writes. watch_set_state(): the run's new state, written with its history and sent (true), when its
 * row is still active and the state or reason changed; watch_emit_run(): the "run" event; watch_alert(): an
 * alert recorded, logged and sent. */
void watch_emit_run(struct watch *w, struct wrun *r, const char *reason);
void watch_alert(struct watch *w, struct wrun *r, const char *kind, const char *container, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
bool watch_set_state(struct watch *w, struct wrun *r, enum run_state st, const char *reason, const char *container);

/* watch-judge.c: every dirty run judged again (a restart loop first: the stack stopped and failed), on a new
 * connection to the Engine (w->eq renewed); when the Engine takes none (it is going), they stay dirty. */
void watch_flush(struct watch *w);

#endif
