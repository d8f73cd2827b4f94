/* watch.c - the Engine event watcher (watch.h): the thread, the reconnect loop and the reading of each event;
 * the records and what is written are watch-records.c's, the judging watch-judge.c's (watch-int.h).
 *
 * Everything here runs on the watcher's thread, except watch_stop() which only sets a flag and waits. Events
 * change small in-memory records (a run's restart times, a container's healthcheck command and first
 * HostConfig) and mark their run dirty; watch_flush() then judges each dirty run from the Engine's inspect answers,
 * so a burst of events for one run costs one judging, and what is written follows what the Engine says now,
 * not the order events arrived in.
 */
#include "watch-int.h"

#include "alerts.h"
#include "base/wallclock.h"
#include "base/worker.h"
#include "run/engine.h"
#include "run/history.h"
#include "run/policy.h"
#include "run/run.h"
#include "run/runs.h"
#include "store/store.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool stopping(struct watch *w)
{
        bool s;

        pthread_mutex_lock(&w->lock);
        s = w->stopping;
        pthread_mutex_unlock(&w->lock);
        return s;
}
/* ---- events ---- */

static bool exec_seen(struct watch *w, const char *exec_id)
{
        if (!exec_id)
                return false;
        for (size_t i = 0; i < EXEC_IDS_KEPT; i++)
                if (!strcmp(w->exec_ids[i], exec_id))
                        return true;
        snprintf(w->exec_ids[w->next_exec], sizeof w->exec_ids[0], "%s", exec_id);
        w->next_exec = (w->next_exec + 1) % EXEC_IDS_KEPT;
        return false;
}

/* The container's record, learned from the Engine when it is new. */
static struct wcont *cont_known(struct watch *w, const char *id, const char *run)
{
        struct wcont *k = watch_cont_get(w, id, true);

        if (!k->learned) {
                json_t *c = NULL;
                if (engine_inspect(w->eq, "containers", id, &c, NULL) == 0 && c)
                        watch_cont_learn(k, run, c);
                json_decref(c);
        }
        if (run)
                snprintf(k->run, sizeof k->run, "%s", run);
        return k;
}

static void restart_seen(struct watch *w, struct wrun *r, const char *container, const char *name)
{
        int64_t t = wallclock_ms(), window = (int64_t)w->restart_seconds * 1000;
        unsigned n = 0;

        r->restart_ms[r->next_restart] = t;
        r->next_restart = (r->next_restart + 1) % MAX_RESTART_TIMES;
        for (size_t i = 0; i < MAX_RESTART_TIMES; i++)
                if (r->restart_ms[i] && t - r->restart_ms[i] <= window)
                        n++;
        r->n_restart_ms = n;
        if (n >= w->restart_count) {
                snprintf(r->loop_container, sizeof r->loop_container, "%s", container);
                snprintf(r->loop_name, sizeof r->loop_name, "%s", name);
                memset(r->restart_ms, 0, sizeof r->restart_ms);
                w->urgent = true;
        }
}

/* The events a restarting or probed container sends again and again; none of them alerts. */
static bool frequent(const char *action)
{
        static const char *const names[] = {"die",     "start",       "health_status", "oom",      "kill",   "stop",
                                            "restart", "exec_create", "exec_start",    "exec_die", "attach", "resize",
                                            NULL};

        for (size_t i = 0; names[i]; i++)
                if (!strcmp(action, names[i]))
                        return true;
        return false;
}

static int on_event(void *ctx, const struct engine_event *ev)
{
        struct watch *w = ctx;
        const char *a = ev->action, *who = ev->name ? ev->name : ev->id;
        struct wrun *r;
        struct wcont *k;

        if (ev->time_ns && ev->time_ns <= w->last_ns)
                return 0; /* replayed after a reconnect: seen already */
        if (ev->time_ns)
                w->last_ns = ev->time_ns;
        if (!ev->run && !(ev->project && !strncmp(ev->project, "stack-", 6)))
                return 0; /* not a stack's */
        if (!ev->run)
                r = watch_run_of_project(w, ev->project);
        else if (frequent(a)) /* a flood is made of these: its row is not read again for each */
                r = watch_run_recent(w, ev->run);
        else
                r = watch_run_get(w, ev->run);
        if (!r)
                return 0;
        if (!strcmp(a, "create") || (!strcmp(a, "start") && !ev->run && !watch_cont_get(w, ev->id, false))) {
                k = watch_cont_get(w, ev->id, true);
                if (watch_active(r->state) && !k->alerted) {
                        k->alerted = true;
                        watch_alert(w, r, "foreign-container", who, "container %s (image %s) %s outside stack", who,
                                    json_string_value(json_object_get(ev->attributes, "image")) ?: "?",
                                    !strcmp(a, "create") ? "created" : "started");
                }
                return 0;
        }
        if (!strcmp(a, "exec_create") || !strcmp(a, "exec_start")) {
                k = cont_known(w, ev->id, r->id);
                if (k->probe && ev->detail && !strcmp(k->probe, ev->detail))
                        return 0;            /* the Engine's own healthcheck probe */
                r = watch_run_get(w, r->id); /* an alert follows: the row as it is now */
                if (!r || r->state == RUN_STOPPED || r->state == RUN_STOPPING || exec_seen(w, ev->exec_id))
                        return 0;
                watch_alert(w, r, "exec", who, "docker exec into %s: %s", who, ev->detail ? ev->detail : "?");
                return 0;
        }
        if (!strcmp(a, "update")) {
                json_t *c = NULL;
                char *diff = NULL;
                k = cont_known(w, ev->id, r->id);
                if (engine_inspect(w->eq, "containers", ev->id, &c, NULL) == 0 && c) {
                        diff = watch_host_config_diff(k->host_config, json_object_get(c, "HostConfig"));
                        json_decref(k->host_config);
                        k->host_config = json_deep_copy(json_object_get(c, "HostConfig"));
                }
                json_decref(c);
                watch_alert(w, r, "update", who, "docker update on %s: %s", who,
                            diff ? diff : "no HostConfig change seen");
                free(diff);
                r->dirty = true;
                return 0;
        }
        if (!strcmp(a, "destroy")) {
                k = watch_cont_get(w, ev->id, false);
                if (k)
                        watch_cont_clear(k);
                if (watch_active(r->state))
                        watch_set_state(w, r, RUN_FAILED, "a container was removed outside stack", who);
                return 0;
        }
        if (!strcmp(a, "die")) {
                k = watch_cont_get(w, ev->id, true);
                k->died = true;
                r->dirty = w->urgent = true;
                return 0;
        }
        if (!strcmp(a, "start")) {
                k = watch_cont_get(w, ev->id, true);
                if (k->died && watch_active(r->state))
                        restart_seen(w, r, ev->id, who);
                k->died = false;
                r->dirty = w->urgent = true;
                return 0;
        }
        if (!strcmp(a, "health_status")) {
                r->dirty = w->urgent = true;
                return 0;
        }
        if (!strcmp(a, "oom") || !strcmp(a, "kill") || !strcmp(a, "stop") || !strcmp(a, "restart"))
                r->dirty = true;
        return 0;
}

static void on_bad(void *ctx, const char *why)
{
        struct watch *w = ctx;

        if (!w->bad_said)
                watch_say(w, "watch: %s (said once; the watcher goes on)", why);
        w->bad_said = true;
}

static int on_tick(void *ctx)
{
        struct watch *w = ctx;
        int64_t t = wallclock_ms();
        bool any = false;

        if (stopping(w))
                return 1;
        if (w->out && t - w->stream_start_ms >= STABLE_MS) {
                w->out = false;
                watch_say(w, "watch: the Engine's event stream is back");
        }
        for (size_t i = 0; i < WATCH_MAX_RUNS && !any; i++)
                any = w->runs[i].dirty;
        if (any && !w->dirty_ms)
                w->dirty_ms = t;
        /* A die, start, health_status: at once (at most every WATCH_COALESCE_MS); anything else (an oom comes
         * just before its die, a kill before its die) waits a second for what follows. */
        if (any && ((w->urgent && t - w->last_flush_ms >= WATCH_COALESCE_MS) || t - w->dirty_ms >= 1000))
                watch_flush(w);
        return 0;
}

/* Every active run judged again (what the stream could not say while it was away), and its containers'
 * HostConfig compared with what was first seen. */
static void reconcile(struct watch *w)
{
        struct run_row *rows = NULL;
        size_t n = 0;

        if (runs_list(w->s, &rows, &n, NULL) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                struct wrun *r;
                char label[64];
                json_t *list = NULL;
                if (!watch_active(rows[i].state) || !(r = watch_run_get(w, rows[i].id)))
                        continue;
                r->dirty = true;
                snprintf(label, sizeof label, "io.stack.run=%s", r->id);
                if (engine_containers_json(w->eq, "label", label, &list, NULL) < 0)
                        continue;
                for (size_t j = 0; j < json_array_size(list); j++) {
                        const char *id = json_string_value(json_object_get(json_array_get(list, j), "Id"));
                        struct wcont *k = id ? watch_cont_get(w, id, true) : NULL;
                        json_t *c = NULL;
                        char *diff;
                        if (!k || engine_inspect(w->eq, "containers", id, &c, NULL) < 0 || !c)
                                continue;
                        diff = k->learned ? watch_host_config_diff(k->host_config, json_object_get(c, "HostConfig"))
                                          : NULL;
                        if (diff) {
                                const char *name = json_string_value(json_object_get(c, "Name")) ?: id;
                                watch_alert(w, r, "config-drift", *name == '/' ? name + 1 : name,
                                            "configuration changed while the watcher was away: %s", diff);
                                json_decref(k->host_config);
                                k->host_config = json_deep_copy(json_object_get(c, "HostConfig"));
                        }
                        free(diff);
                        watch_cont_learn(k, r->id, c);
                        json_decref(c);
                }
                json_decref(list);
        }
        run_rows_free(rows, n);
        watch_flush(w);
}

/* ---- the thread ---- */

static void nap(struct watch *w, unsigned ms)
{
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        worker_add_ms(&until, ms);
        pthread_mutex_lock(&w->lock);
        worker_sleep_locked(&w->lock, &w->cond, &w->stopping, &until);
        pthread_mutex_unlock(&w->lock);
}

static void outage(struct watch *w, const char *why)
{
        if (!w->out)
                watch_say(w, "watch: %s; reconnecting (the runs keep their states meanwhile)", why);
        w->out = true;
}

static void *watch_main(void *arg)
{
        struct watch *w = arg;
        struct engine_events_handler h = {.event = on_event, .bad = on_bad, .tick = on_tick, .ctx = w};
        unsigned backoff = WATCH_BACKOFF_MIN_MS;

        while (!stopping(w)) {
                struct engine *es = NULL;
                struct error err = ERROR_INIT;
                int r = engine_open(&es, &err);

                if (r == 0)
                        r = engine_open(&w->eq, &err);
                if (r < 0) {
                        outage(w, err.msg);
                        goto again;
                }
                if (!w->last_ns)
                        w->last_ns = now_ns(); /* the first stream starts now; the next ones where the last ended */
                reconcile(w);
                w->stream_start_ms = wallclock_ms();
                r = engine_events(es, w->last_ns, &h, &err);
                if (stopping(w))
                        goto again;
                if (wallclock_ms() - w->stream_start_ms >= STABLE_MS)
                        backoff = WATCH_BACKOFF_MIN_MS;
                outage(w, r < 0 ? err.msg : "the Engine ended the event stream");
        again:
                engine_free(es);
                engine_free(w->eq);
                w->eq = NULL;
                if (stopping(w))
                        break;
                nap(w, backoff);
                backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
        }
        return NULL;
}

int watch_start(const struct watch_config *c, struct watch **ret, struct error *err)
{
        struct watch *w;
        int r;

        if (!c || !c->home || !ret)
                return error_set(err, STACK_EFAIL, "watch_start: invalid arguments");
        w = calloc(1, sizeof *w);
        if (!w || !(w->home = strdup(c->home))) {
                free(w);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        w->emit = c->emit;
        w->log = c->log;
        w->ctx = c->ctx;
        for (size_t i = 0; i < WATCH_MAX_RUNS; i++) {
                w->runs[i].restarts = -1;
                w->runs[i].said = -1;
        }
        watch_restart_limits(w->home, &w->restart_count, &w->restart_seconds);
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        r = store_open(w->home, &w->s, err);
        if (r == 0)
                r = worker_start(&w->thread, watch_main, w, "watcher", err);
        if (r < 0) {
                pthread_cond_destroy(&w->cond);
                pthread_mutex_destroy(&w->lock);
                store_free(w->s);
                free(w->home);
                free(w);
                return r;
        }
        *ret = w;
        return 0;
}

void watch_stop(struct watch *w)
{
        if (!w)
                return;
        worker_stop(&w->lock, &w->cond, &w->stopping);
        pthread_join(w->thread, NULL);
        for (size_t i = 0; i < WATCH_MAX_RUNS; i++)
                watch_run_clear(&w->runs[i]);
        for (size_t i = 0; i < WATCH_MAX_CONTAINERS; i++)
                watch_cont_clear(&w->conts[i]);
        engine_free(w->eq);
        store_free(w->s);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w->home);
        free(w);
}
