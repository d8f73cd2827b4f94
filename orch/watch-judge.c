/* watch-judge.c - a dirty run judged again from its containers' inspect answers into its state (watch-int.h,
 * spec/run.md "Watching": the verdict, worst first), and a restart loop stopped. */
#include "watch-int.h"

#include "base/wallclock.h"
#include "run/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- judging a run from its containers ---- */

/* The last non-empty line of text, at most size - 1 bytes, into out, control characters made blanks. */
static void last_line(const char *text, char *out, size_t size)
{
        error_last_line(text, out, size);
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
                watch_say(w, "watch: cannot stop %s after its restart loop: %s", r->slug, err.msg);
        watch_set_state(w, r, RUN_FAILED, reason, r->loop_name);
        watch_alert(w, r, "restart-loop", r->loop_name, "%u restarts within %u s: stack stopped the stack", count,
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

        if (!watch_run_get(w, r->id)) {
                watch_run_clear(r); /* the run is gone */
                return true;
        }
        if (!watch_active(r->state)) {
                /* changed by someone else (GET /runs and stack ps reconcile too): said all the same */
                if (r->was_active && r->said != (int)r->state)
                        watch_emit_run(w, r, r->reason);
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
                k = watch_cont_get(w, id, true);
                watch_cont_learn(k, r->id, c);
                judge_one(&v, c);
                json_decref(c);
        }
        json_decref(list);
        r->dirty = false;
        if (!any) {
                watch_set_state(w, r, RUN_FAILED, "its containers were removed outside stack", NULL);
                return true;
        }
        health_changed = (v.health == NULL) != (r->health == NULL) || (v.health && strcmp(v.health, r->health)) ||
                         v.restarts != r->restarts;
        free(r->health);
        r->health = v.health ? strdup(v.health) : NULL;
        r->restarts = v.restarts;
        if (v.oom && (v.state == RUN_FAILED || v.state == RUN_RESTARTING) && r->state != v.state)
                watch_alert(w, r, "oom", v.container, "container %s was killed: out of memory", v.container);
        if (v.state == RUN_STOPPED)
                snprintf(v.reason, sizeof v.reason, "its containers stopped outside stack");
        if (!watch_set_state(w, r, v.state, v.state == RUN_RUNNING ? NULL : v.reason,
                             v.container[0] ? v.container : NULL) &&
            health_changed)
                watch_emit_run(w, r, v.state == RUN_RUNNING ? NULL : v.reason);
        return true;
}

void watch_flush(struct watch *w)
{
        struct engine *fresh = NULL;

        w->last_flush_ms = wallclock_ms();
        w->urgent = false;
        w->dirty_ms = 0;
        /* An Engine told to stop closes its socket first, then stops its containers, answering still on the
         * connections it had: their exits must not read as theirs. Asked on a new connection, an Engine that is
         * going does not answer, and the dirty runs wait for the reconcile after the reconnect. */
        if (engine_open(&fresh, NULL) < 0)
                return;
        engine_free(w->eq);
        w->eq = fresh;
        for (size_t i = 0; i < WATCH_MAX_RUNS; i++)
                if (w->runs[i].dirty && w->runs[i].id[0])
                        judge_run(w, &w->runs[i]);
}
