/* watch-records.c - the watcher's records, config.json "watch", and what the watcher writes (watch-int.h). */
#include "watch-int.h"

#include "alerts.h"
#include "base/wallclock.h"
#include "run/history.h"
#include "run/policy.h"
#include "store/store.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void watch_say(struct watch *w, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_vsay(w->log, w->ctx, fmt, ap);
        va_end(ap);
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

bool watch_active(enum run_state st)
{
        return st == RUN_RUNNING || st == RUN_UNHEALTHY || st == RUN_RESTARTING;
}

void watch_run_clear(struct wrun *r)
{
        free(r->reason);
        free(r->slug);
        free(r->project);
        free(r->health);
        memset(r, 0, sizeof *r);
}

void watch_cont_clear(struct wcont *c)
{
        free(c->probe);
        json_decref(c->host_config);
        memset(c, 0, sizeof *c);
}

/* The run's record, its row read again (NULL when there is no such run). */
struct wrun *watch_run_recent(struct watch *w, const char *id)
{
        int64_t t = wallclock_ms();

        for (size_t i = 0; id && i < WATCH_MAX_RUNS; i++)
                if (!strcmp(w->runs[i].id, id) && t - w->runs[i].used_ms < WATCH_FRESH_MS)
                        return &w->runs[i];
        return watch_run_get(w, id);
}

struct wrun *watch_run_get(struct watch *w, const char *id)
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
                watch_run_clear(r);
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
        if (watch_active(row.state))
                r->was_active = true;
        r->used_ms = wallclock_ms();
        run_row_release(&row);
        if (!r->slug || !r->project) {
                watch_run_clear(r);
                return NULL;
        }
        return r;
}

/* The run whose compose project this is (a container created outside stack carries no io.stack.run). */
struct wrun *watch_run_of_project(struct watch *w, const char *project)
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
        return id[0] ? watch_run_get(w, id) : NULL;
}

struct wcont *watch_cont_get(struct watch *w, const char *id, bool create)
{
        struct wcont *oldest = &w->conts[0];

        for (size_t i = 0; i < WATCH_MAX_CONTAINERS; i++) {
                if (!strcmp(w->conts[i].id, id)) {
                        w->conts[i].used_ms = wallclock_ms();
                        return &w->conts[i];
                }
                if (w->conts[i].used_ms < oldest->used_ms)
                        oldest = &w->conts[i];
        }
        if (!create)
                return NULL;
        watch_cont_clear(oldest);
        snprintf(oldest->id, sizeof oldest->id, "%s", id);
        oldest->used_ms = wallclock_ms();
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
void watch_cont_learn(struct wcont *c, const char *run, json_t *inspect)
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
char *watch_host_config_diff(json_t *old, json_t *now)
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

void watch_emit_run(struct watch *w, struct wrun *r, const char *reason)
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

void watch_alert(struct watch *w, struct wrun *r, const char *kind, const char *container, const char *fmt, ...)
{
        struct alert a = {.slug = r->slug, .run_id = r->id, .kind = (char *)kind, .container = (char *)container};
        struct error err = ERROR_INIT;
        char detail[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        a.detail = detail;
        a.at_ms = wallclock_ms();
        if (alerts_add(w->s, &a, a.id, &err) < 0) {
                watch_say(w, "watch: cannot record the %s alert of %s: %s", kind, r->slug, err.msg);
                return;
        }
        watch_say(w, "watch: alert %s on %s%s%s: %s", kind, r->slug, container ? " container " : "",
                  container ? container : "", detail);
        if (w->emit)
                w->emit(w->ctx, "alert", alert_json(&a));
}

/* The run's new state, written with its history and said over SSE (only when it changed: true). */
bool watch_set_state(struct watch *w, struct wrun *r, enum run_state st, const char *reason, const char *container)
{
        struct run_row row = {0};
        bool same;

        if (runs_get(w->s, r->id, &row, NULL) < 0)
                return false;
        same = row.state == st && ((!row.reason && !reason) || (row.reason && reason && !strcmp(row.reason, reason)));
        if (!watch_active(row.state) || same) {
                r->state = row.state;
                run_row_release(&row);
                return false;
        }
        run_row_release(&row);
        if (runs_set_state(w->s, r->id, st, reason, NULL) < 0)
                return false;
        history_add(w->s, r->id, st, reason, container, NULL);
        r->state = st;
        watch_say(w, "watch: %s is %s%s%s", r->slug, run_state_name(st), reason ? ": " : "", reason ? reason : "");
        watch_emit_run(w, r, reason);
        return true;
}
