/* watch.c - the Engine event watcher (watch.h): the thread, the reconnect loop, the reading of each event, and
 * the judging of a run's containers into its state.
 *
 * Everything here runs on the watcher's thread, except watch_stop() which only sets a flag and waits. Events
 * change small in-memory records (a run's restart times, a container's healthcheck command and first
 * HostConfig) and mark their run dirty; flush() then judges each dirty run from the Engine's inspect answers,
 * so a burst of events for one run costs one judging, and what is written follows what the Engine says now,
 * not the order events arrived in.
 */
#include "watch.h"

#include "alerts.h"
#include "run/engine.h"
#include "run/history.h"
#include "run/policy.h"
#include "run/run.h"
#include "run/runs.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void say(struct watch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct watch *w, const char *fmt, ...)
{
        char line[1024];
        va_list ap;

        if (!w->log)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        w->log(w->ctx, line);
}

static bool stopping(struct watch *w)
{
        bool s;

        pthread_mutex_lock(&w->lock);
        s = w->stopping;
        pthread_mutex_unlock(&w->lock);
        return s;
}

/* ---- config ---- */

void watch_restart_limits(const char *home, unsigned *ret_count, unsigned *ret_seconds)
{
        char path[PATH_MAX];
        json_t *root = NULL, *wj, *v;

        *ret_count = WATCH_RESTART_COUNT;
        *ret_seconds = WATCH_RESTART_SECONDS;
        if (home && snprintf(path, sizeof path, "%s/" POLICY_CONFIG_FILE, home) < (int)sizeof path)
                root = json_load_file(path, 0, NULL);
        wj = json_object_get(root, "watch");
        v = json_object_get(wj, "restart_count");
        if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= MAX_RESTART_TIMES)
                *ret_count = (unsigned)json_integer_value(v);
        v = json_object_get(wj, "restart_seconds");
        if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 86400)
                *ret_seconds = (unsigned)json_integer_value(v);
        json_decref(root);
}

/* ---- the records ---- */

static bool active(enum run_state st)
{
        return st == RUN_RUNNING || st == RUN_UNHEALTHY || st == RUN_RESTARTING;
}

static void wrun_clear(struct wrun *r)
{
        free(r->reason);
        free(r->slug);
        free(r->project);
        free(r->health);
        memset(r, 0, sizeof *r);
}

static void wcont_clear(struct wcont *c)
{
        free(c->probe);
        json_decref(c->host_config);
        memset(c, 0, sizeof *c);
}

/* The run's record, its row read again (NULL when there is no such run). */
static struct wrun *run_get(struct watch *w, const char *id)
{
        struct run_row row = {0};
        struct wrun *r = NULL, *oldest = &w->runs[0];

        if (!id || !id[0] || runs_get(w->s, id, &row, NULL) < 0)
                return NULL;
        if (strcmp(row.id, id)) { /* runs_get falls back to a slug */
                run_row_release(&row);
                return NULL;
        }
        for (size_t i = 0; i < WATCH_MAX_RUNS && !r; i++) {
                if (!strcmp(w->runs[i].id, id))
                        r = &w->runs[i];
                else if (w->runs[i].used_ms < oldest->used_ms)
                        oldest = &w->runs[i];
        }
        if (!r) {
                r = oldest;
                wrun_clear(r);
                snprintf(r->id, sizeof r->id, "%s", id);
                r->restarts = -1;
                r->said = -1;
        }
        if (!r->slug || strcmp(r->slug, row.slug)) {
                free(r->slug);
                r->slug = strdup(row.slug);
        }
        if (!r->project || strcmp(r->project, row.project)) {
                free(r->project);
                r->project = strdup(row.project);
        }
        r->state = row.state;
        free(r->reason);
        r->reason = row.reason ? strdup(row.reason) : NULL;
        if (active(row.state))
                r->was_active = true;
        r->used_ms = now_ms();
        run_row_release(&row);
        if (!r->slug || !r->project) {
                wrun_clear(r);
                return NULL;
        }
        return r;
}

/* The run whose compose project this is (a container created outside stack carries no io.stack.run). */
static struct wrun *run_of_project(struct watch *w, const char *project)
{
        struct run_row *rows = NULL;
        size_t n = 0;
        char id[17] = "";

        if (!project || runs_list(w->s, &rows, &n, NULL) < 0)
                return NULL;
        for (size_t i = 0; i < n && !id[0]; i++)
                if (rows[i].project && !strcmp(rows[i].project, project))
                        snprintf(id, sizeof id, "%s", rows[i].id);
        run_rows_free(rows, n);
        return id[0] ? run_get(w, id) : NULL;
}

static struct wcont *cont_get(struct watch *w, const char *id, bool create)
{
        struct wcont *oldest = &w->conts[0];

        for (size_t i = 0; i < WATCH_MAX_CONTAINERS; i++) {
                if (!strcmp(w->conts[i].id, id)) {
                        w->conts[i].used_ms = now_ms();
                        return &w->conts[i];
                }
                if (w->conts[i].used_ms < oldest->used_ms)
                        oldest = &w->conts[i];
        }
        if (!create)
                return NULL;
        wcont_clear(oldest);
        snprintf(oldest->id, sizeof oldest->id, "%s", id);
        oldest->used_ms = now_ms();
        return oldest;
}

/* The command an exec event names for a healthcheck probe: CMD-SHELL runs "/bin/sh -c TEXT", CMD its words. */
static char *probe_of(json_t *inspect)
{
        json_t *test = json_object_get(json_object_get(json_object_get(inspect, "Config"), "Healthcheck"), "Test");
        const char *kind = json_string_value(json_array_get(test, 0));
        char *out = NULL;
        size_t len = 0;
        FILE *f;

        if (!kind || (strcmp(kind, "CMD") && strcmp(kind, "CMD-SHELL")))
                return NULL;
        f = open_memstream(&out, &len);
        if (!f)
                return NULL;
        if (!strcmp(kind, "CMD-SHELL"))
                fputs("/bin/sh -c ", f);
        for (size_t i = 1; i < json_array_size(test); i++)
                fprintf(f, "%s%s", i > 1 ? " " : "", json_string_value(json_array_get(test, i)) ?: "");
        fclose(f);
        return out;
}

/* What was first seen of a container: its healthcheck probe and HostConfig. */
static void cont_learn(struct wcont *c, const char *run, json_t *inspect)
{
        if (run)
                snprintf(c->run, sizeof c->run, "%s", run);
        if (c->learned || !inspect)
                return;
        c->probe = probe_of(inspect);
        c->host_config = json_deep_copy(json_object_get(inspect, "HostConfig"));
        c->learned = true;
}

/* "Memory: 67108864 -> 134217728; ..." for the HostConfig keys that differ (NULL: none). */
static char *host_config_diff(json_t *old, json_t *now)
{
        const char *key;
        json_t *v;
        char *out = NULL;
        size_t len = 0;
        unsigned n = 0;
        FILE *f;

        if (!json_is_object(old) || !json_is_object(now) || json_equal(old, now))
                return NULL;
        f = open_memstream(&out, &len);
        if (!f)
                return NULL;
        json_object_foreach(now, key, v)
        {
                json_t *o = json_object_get(old, key);
                char *a, *b;
                if (o && json_equal(o, v))
                        continue;
                if (n++ == 6) {
                        fputs("; ...", f);
                        break;
                }
                a = o ? json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
                b = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                fprintf(f, "%s%s: %.60s -> %.60s", n > 1 ? "; " : "", key, a ? a : "(none)", b ? b : "?");
                free(a);
                free(b);
        }
        fclose(f);
        if (out && !out[0]) {
                free(out);
                out = NULL;
        }
        return out;
}

/* ---- what it writes ---- */

static void emit_run(struct watch *w, struct wrun *r, const char *reason)
{
        json_t *o;

        if (!w->emit)
                return;
        o = json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "id", r->id, "slug", r->slug, "state", run_state_name(r->state),
                      "reason", reason, "health", r->health);
        if (!o)
                return;
        json_object_set_new(o, "restarts", r->restarts >= 0 ? json_integer(r->restarts) : json_integer(0));
        r->said = (int)r->state;
        w->emit(w->ctx, "run", o);
}

static void alert(struct watch *w, struct wrun *r, const char *kind, const char *container, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static void alert(struct watch *w, struct wrun *r, const char *kind, const char *container, const char *fmt, ...)
{
        struct alert a = {.slug = r->slug, .run_id = r->id, .kind = (char *)kind, .container = (char *)container};
        struct error err = ERROR_INIT;
        char detail[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        a.detail = detail;
        a.at_ms = now_ms();
        if (alerts_add(w->s, &a, a.id, &err) < 0) {
                say(w, "watch: cannot record the %s alert of %s: %s", kind, r->slug, err.msg);
                return;
        }
        say(w, "watch: alert %s on %s%s%s: %s", kind, r->slug, container ? " container " : "",
            container ? container : "", detail);
        if (w->emit)
                w->emit(w->ctx, "alert", alert_json(&a));
}

/* The run's new state, written with its history and said over SSE (only when it changed: true). */
static bool set_state(struct watch *w, struct wrun *r, enum run_state st, const char *reason, const char *container)
{
        struct run_row row = {0};
        bool same;

        if (runs_get(w->s, r->id, &row, NULL) < 0)
                return false;
        same = row.state == st && ((!row.reason && !reason) || (row.reason && reason && !strcmp(row.reason, reason)));
        if (!active(row.state) || same) {
                r->state = row.state;
                run_row_release(&row);
                return false;
        }
        run_row_release(&row);
        if (runs_set_state(w->s, r->id, st, reason, NULL) < 0)
                return false;
        history_add(w->s, r->id, st, reason, container, NULL);
        r->state = st;
        say(w, "watch: %s is %s%s%s", r->slug, run_state_name(st), reason ? ": " : "", reason ? reason : "");
        emit_run(w, r, reason);
        return true;
}

/* ---- judging a run from its containers ---- */

/* The last non-empty line of text, at most size - 1 bytes, into out. */
static void last_line(const char *text, char *out, size_t size)
{
        const char *end, *start;

        out[0] = 0;
        if (!text)
                return;
        end = text + strlen(text);
        while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        start = end;
        while (start > text && start[-1] != '\n')
                start--;
        snprintf(out, size, "%.*s", (int)(end - start), start);
        for (char *p = out; *p; p++)
                if ((unsigned char)*p < 0x20)
                        *p = ' ';
}

/* The run's restart loop: stop it, keep the last log lines. */
static void stop_loop(struct watch *w, struct wrun *r)
{
        struct error err = ERROR_INIT;
        char *logs = NULL, reason[1024], lines[768] = "";
        size_t o = 0;
        unsigned n = 0, count = r->n_restart_ms;

        engine_container_logs(w->eq, r->loop_container, WATCH_LOOP_LOG_LINES, &logs, NULL);
        for (char *p = logs, *nl; p && *p && o + 4 < sizeof lines; p = nl ? nl + 1 : NULL) {
                nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (!len)
                        continue;
                o += (size_t)snprintf(lines + o, sizeof lines - o, "%s%.*s", n++ ? " | " : "", (int)len, p);
        }
        if (o >= sizeof lines)
                lines[sizeof lines - 1] = 0;
        for (char *p = lines; *p; p++)
                if ((unsigned char)*p < 0x20)
                        *p = ' ';
        free(logs);
        snprintf(reason, sizeof reason, "restart loop: %u restarts in %u s; last log lines: %s", count,
                 w->restart_seconds, lines[0] ? lines : "(none)");
        if (engine_project_stop(w->eq, r->project, NULL, &err) < 0)
                say(w, "watch: cannot stop %s after its restart loop: %s", r->slug, err.msg);
        set_state(w, r, RUN_FAILED, reason, r->loop_name);
        alert(w, r, "restart-loop", r->loop_name, "%u restarts within %u s: stack stopped the stack", count,
              w->restart_seconds);
        r->loop_container[0] = 0;
        r->n_restart_ms = 0;
}

struct verdict {
        enum run_state state;
        char reason[512];
        char container[128];
        const char *health; /* worst: unhealthy > starting > healthy; NULL none */
        long restarts;
        bool oom;
};

static const char *const health_names[] = {NULL, "healthy", "starting", "unhealthy"};

static int health_rank(const char *h)
{
        return !h ? 0 : !strcmp(h, "healthy") ? 1 : !strcmp(h, "starting") ? 2 : !strcmp(h, "unhealthy") ? 3 : 0;
}

/* One container's inspect answer into the verdict (failed > restarting > unhealthy > running). */
static void judge_one(struct verdict *v, json_t *c)
{
        json_t *st = json_object_get(c, "State"), *health = json_object_get(st, "Health");
        json_t *log = json_object_get(health, "Log");
        const char *status = json_string_value(json_object_get(st, "Status")) ?: "";
        const char *hs = json_string_value(json_object_get(health, "Status"));
        const char *name = json_string_value(json_object_get(c, "Name")) ?: "?";
        int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        bool oom = json_is_true(json_object_get(st, "OOMKilled"));
        char line[256];

        if (*name == '/')
                name++;
        v->restarts += (long)json_integer_value(json_object_get(c, "RestartCount"));
        if (!strcmp(status, "running") && health_rank(hs) > health_rank(v->health))
                v->health = health_names[health_rank(hs)]; /* not hs: c is freed before the verdict is used */
        if (!strcmp(status, "exited") || !strcmp(status, "dead")) {
                if ((oom || code != 0) && v->state != RUN_FAILED) {
                        v->state = RUN_FAILED;
                        v->oom = oom;
                        snprintf(v->container, sizeof v->container, "%s", name);
                        if (oom)
                                snprintf(v->reason, sizeof v->reason, "oom-killed");
                        else
                                snprintf(v->reason, sizeof v->reason, "exited %d", code);
                }
                return;
        }
        if (v->state == RUN_FAILED)
                return;
        if (!strcmp(status, "restarting")) {
                if (v->state != RUN_RESTARTING) {
                        v->state = RUN_RESTARTING;
                        v->oom = oom;
                        snprintf(v->container, sizeof v->container, "%s", name);
                        snprintf(v->reason, sizeof v->reason, "%s restarting (%s)", name,
                                 oom    ? "oom-killed"
                                 : code ? "exited"
                                        : "exited 0");
                        if (!oom && code)
                                snprintf(v->reason, sizeof v->reason, "%s restarting (exited %d)", name, code);
                }
                return;
        }
        if (v->state == RUN_RESTARTING)
                return;
        if (!strcmp(status, "running") && hs && !strcmp(hs, "unhealthy")) {
                if (v->state != RUN_UNHEALTHY) {
                        json_t *last = json_array_get(log, json_array_size(log) ? json_array_size(log) - 1 : 0);
                        last_line(json_string_value(json_object_get(last, "Output")), line, sizeof line);
                        v->state = RUN_UNHEALTHY;
                        snprintf(v->container, sizeof v->container, "%s", name);
                        snprintf(v->reason, sizeof v->reason, "healthcheck failed: %s", line[0] ? line : "(no output)");
                }
                return;
        }
        if (!strcmp(status, "running") && v->state != RUN_UNHEALTHY)
                v->state = RUN_RUNNING;
}

/* Judge one dirty run again from the Engine. false: the Engine could not be asked (the run stays dirty). */
static bool judge_run(struct watch *w, struct wrun *r)
{
        char label[64];
        json_t *list = NULL;
        struct verdict v = {.state = RUN_STOPPED};
        bool any = false, health_changed;

        if (!run_get(w, r->id)) {
                wrun_clear(r); /* the run is gone */
                return true;
        }
        if (!active(r->state)) {
                /* changed by someone else (GET /runs and stack ps reconcile too): said all the same */
                if (r->was_active && r->said != (int)r->state)
                        emit_run(w, r, r->reason);
                r->was_active = false;
                r->dirty = false;
                r->n_restart_ms = 0;
                r->loop_container[0] = 0;
                return true;
        }
        if (r->loop_container[0]) {
                stop_loop(w, r);
                r->dirty = false;
                return true;
        }
        snprintf(label, sizeof label, "io.stack.run=%s", r->id);
        if (engine_containers_json(w->eq, "label", label, &list, NULL) < 0)
                return false;
        for (size_t i = 0; i < json_array_size(list); i++) {
                const char *id = json_string_value(json_object_get(json_array_get(list, i), "Id"));
                json_t *c = NULL;
                struct wcont *k;
                if (!id || engine_inspect(w->eq, "containers", id, &c, NULL) < 0) {
                        json_decref(list);
                        return false;
                }
                if (!c)
                        continue; /* gone meanwhile: its destroy event says so */
                any = true;
                k = cont_get(w, id, true);
                cont_learn(k, r->id, c);
                judge_one(&v, c);
                json_decref(c);
        }
        json_decref(list);
        r->dirty = false;
        if (!any) {
                set_state(w, r, RUN_FAILED, "its containers were removed outside stack", NULL);
                return true;
        }
        health_changed = (v.health == NULL) != (r->health == NULL) || (v.health && strcmp(v.health, r->health)) ||
                         v.restarts != r->restarts;
        free(r->health);
        r->health = v.health ? strdup(v.health) : NULL;
        r->restarts = v.restarts;
        if (v.oom && (v.state == RUN_FAILED || v.state == RUN_RESTARTING) && r->state != v.state)
                alert(w, r, "oom", v.container, "container %s was killed: out of memory", v.container);
        if (v.state == RUN_STOPPED)
                snprintf(v.reason, sizeof v.reason, "its containers stopped outside stack");
        if (!set_state(w, r, v.state, v.state == RUN_RUNNING ? NULL : v.reason, v.container[0] ? v.container : NULL) &&
            health_changed)
                emit_run(w, r, v.state == RUN_RUNNING ? NULL : v.reason);
        return true;
}

static void flush(struct watch *w)
{
        w->last_flush_ms = now_ms();
        w->urgent = false;
        w->dirty_ms = 0;
        for (size_t i = 0; i < WATCH_MAX_RUNS; i++)
                if (w->runs[i].dirty && w->runs[i].id[0])
                        judge_run(w, &w->runs[i]);
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
        struct wcont *k = cont_get(w, id, true);

        if (!k->learned) {
                json_t *c = NULL;
                if (engine_inspect(w->eq, "containers", id, &c, NULL) == 0 && c)
                        cont_learn(k, run, c);
                json_decref(c);
        }
        if (run)
                snprintf(k->run, sizeof k->run, "%s", run);
        return k;
}

static void restart_seen(struct watch *w, struct wrun *r, const char *container, const char *name)
{
        int64_t t = now_ms(), window = (int64_t)w->restart_seconds * 1000;
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
        r = ev->run ? run_get(w, ev->run) : run_of_project(w, ev->project);
        if (!r)
                return 0;
        if (!strcmp(a, "create") || (!strcmp(a, "start") && !ev->run && !cont_get(w, ev->id, false))) {
                k = cont_get(w, ev->id, true);
                if (active(r->state) && !k->alerted) {
                        k->alerted = true;
                        alert(w, r, "foreign-container", who, "container %s (image %s) %s outside stack", who,
                              json_string_value(json_object_get(ev->attributes, "image")) ?: "?",
                              !strcmp(a, "create") ? "created" : "started");
                }
                return 0;
        }
        if (!strcmp(a, "exec_create") || !strcmp(a, "exec_start")) {
                if (r->state == RUN_STOPPED || r->state == RUN_STOPPING || exec_seen(w, ev->exec_id))
                        return 0;
                k = cont_known(w, ev->id, r->id);
                if (k->probe && ev->detail && !strcmp(k->probe, ev->detail))
                        return 0; /* the Engine's own healthcheck probe */
                alert(w, r, "exec", who, "docker exec into %s: %s", who, ev->detail ? ev->detail : "?");
                return 0;
        }
        if (!strcmp(a, "update")) {
                json_t *c = NULL;
                char *diff = NULL;
                k = cont_known(w, ev->id, r->id);
                if (engine_inspect(w->eq, "containers", ev->id, &c, NULL) == 0 && c) {
                        diff = host_config_diff(k->host_config, json_object_get(c, "HostConfig"));
                        json_decref(k->host_config);
                        k->host_config = json_deep_copy(json_object_get(c, "HostConfig"));
                }
                json_decref(c);
                alert(w, r, "update", who, "docker update on %s: %s", who, diff ? diff : "no HostConfig change seen");
                free(diff);
                r->dirty = true;
                return 0;
        }
        if (!strcmp(a, "destroy")) {
                k = cont_get(w, ev->id, false);
                if (k)
                        wcont_clear(k);
                if (active(r->state))
                        set_state(w, r, RUN_FAILED, "a container was removed outside stack", who);
                return 0;
        }
        if (!strcmp(a, "die")) {
                k = cont_get(w, ev->id, true);
                k->died = true;
                r->dirty = w->urgent = true;
                return 0;
        }
        if (!strcmp(a, "start")) {
                k = cont_get(w, ev->id, true);
                if (k->died && active(r->state))
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
                say(w, "watch: %s (said once; the watcher goes on)", why);
        w->bad_said = true;
}

static int on_tick(void *ctx)
{
        struct watch *w = ctx;
        int64_t t = now_ms();
        bool any = false;

        if (stopping(w))
                return 1;
        if (w->out && t - w->stream_start_ms >= STABLE_MS) {
                w->out = false;
                say(w, "watch: the Engine's event stream is back");
        }
        for (size_t i = 0; i < WATCH_MAX_RUNS && !any; i++)
                any = w->runs[i].dirty;
        if (any && !w->dirty_ms)
                w->dirty_ms = t;
        /* A die, start, health_status: at once (at most every WATCH_COALESCE_MS); anything else (an oom comes
         * just before its die, a kill before its die) waits a second for what follows. */
        if (any && ((w->urgent && t - w->last_flush_ms >= WATCH_COALESCE_MS) || t - w->dirty_ms >= 1000))
                flush(w);
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
                if (!active(rows[i].state) || !(r = run_get(w, rows[i].id)))
                        continue;
                r->dirty = true;
                snprintf(label, sizeof label, "io.stack.run=%s", r->id);
                if (engine_containers_json(w->eq, "label", label, &list, NULL) < 0)
                        continue;
                for (size_t j = 0; j < json_array_size(list); j++) {
                        const char *id = json_string_value(json_object_get(json_array_get(list, j), "Id"));
                        struct wcont *k = id ? cont_get(w, id, true) : NULL;
                        json_t *c = NULL;
                        char *diff;
                        if (!k || engine_inspect(w->eq, "containers", id, &c, NULL) < 0 || !c)
                                continue;
                        diff = k->learned ? host_config_diff(k->host_config, json_object_get(c, "HostConfig")) : NULL;
                        if (diff) {
                                const char *name = json_string_value(json_object_get(c, "Name")) ?: id;
                                alert(w, r, "config-drift", *name == '/' ? name + 1 : name,
                                      "configuration changed while the watcher was away: %s", diff);
                                json_decref(k->host_config);
                                k->host_config = json_deep_copy(json_object_get(c, "HostConfig"));
                        }
                        free(diff);
                        cont_learn(k, r->id, c);
                        json_decref(c);
                }
                json_decref(list);
        }
        run_rows_free(rows, n);
        flush(w);
}

/* ---- the thread ---- */

static void nap(struct watch *w, unsigned ms)
{
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ms / 1000;
        until.tv_nsec += (long)(ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&w->lock);
        while (!w->stopping && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
                ;
        pthread_mutex_unlock(&w->lock);
}

static void outage(struct watch *w, const char *why)
{
        if (!w->out)
                say(w, "watch: %s; reconnecting (the runs keep their states meanwhile)", why);
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
                w->stream_start_ms = now_ms();
                r = engine_events(es, w->last_ns, &h, &err);
                if (stopping(w))
                        goto again;
                if (now_ms() - w->stream_start_ms >= STABLE_MS)
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
        r = store_open(w->home, &w->s, err);
        if (r < 0) {
                free(w->home);
                free(w);
                return r;
        }
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
                pthread_cond_destroy(&w->cond);
                pthread_mutex_destroy(&w->lock);
                store_free(w->s);
                free(w->home);
                free(w);
                return error_set(err, STACK_EFAIL, "cannot start the watcher thread");
        }
        *ret = w;
        return 0;
}

void watch_stop(struct watch *w)
{
        if (!w)
                return;
        pthread_mutex_lock(&w->lock);
        w->stopping = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        for (size_t i = 0; i < WATCH_MAX_RUNS; i++)
                wrun_clear(&w->runs[i]);
        for (size_t i = 0; i < WATCH_MAX_CONTAINERS; i++)
                wcont_clear(&w->conts[i]);
        engine_free(w->eq);
        store_free(w->s);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w->home);
        free(w);
}
