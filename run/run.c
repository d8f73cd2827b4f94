/* run.c - stacks on the Engine, from the store (run.h): the entry points, dispatched to the runner of the
 * version's or the recorded run's flavor (runner.h); project names; reconciling the recorded states with the
 * Engine. */
#include "run.h"
#include "engine.h"
#include "rundir.h"
#include "runner.h"
#include "runs.h"

#include "base/mem.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void run_project_name(const char *slug, char *out, size_t size)
{
        bool plain = slug[0] != 0;
        size_t o;

        for (const char *p = slug; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        plain = false;
        if (plain) {
                snprintf(out, size, "stack-%s", slug);
                return;
        }
        o = (size_t)snprintf(out, size, "stack--");
        for (const char *p = slug; *p && o + 3 < size; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
                        out[o++] = *p;
                        continue;
                }
                out[o++] = '-';
                out[o++] = *p == '-' ? 'h' : *p == '.' ? 'd' : *p == '_' ? 'u' : 'x';
        }
        out[o < size ? o : size - 1] = 0;
}

void run_project_of(struct store *s, const char *slug, char *out, size_t size)
{
        struct run_row row = {0};

        if (s && runs_get(s, slug, &row, NULL) == 0 && row.project && row.project[0] && !strcmp(row.slug, slug))
                snprintf(out, size, "%s", row.project);
        else
                run_project_name(slug, out, size);
        if (s)
                run_row_release(&row);
}

static void route_release(struct run_route *r)
{
        free(r->service);
        free(r->host);
        free(r->root);
        free(r->upstream);
}

static void address_release(struct run_address *a)
{
        free(a->service);
        free(a->label);
        free(a->url);
}

void run_info_release(struct run_info *i)
{
        if (!i)
                return;
        MEM_FREE_ARRAY(i->routes, i->n_routes, route_release);
        free(i->relaunch_why);
        free(i->swarm);
        run_row_release(&i->row);
        free(i->ports);
        MEM_FREE_ARRAY(i->addresses, i->n_addresses, address_release);
        memset(i, 0, sizeof *i);
}

void run_infos_free(struct run_info *v, size_t n)
{
        MEM_FREE_ARRAY(v, n, run_info_release);
}

int run_start(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
              struct error *err)
{
        static const struct run_options no_options = {0};
        const struct runner *rn;
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s || !v || !v->slug)
                return error_set(err, STACK_EFAIL, "run_start: invalid arguments");
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        rn = runner_of_flavor(v->flavor);
        r = rn->start(rn, s, v, o ? o : &no_options, ret, err);
        store_unlock(s);
        return r;
}

int run_list(struct store *s, struct run_info **ret, size_t *ret_n, struct error *err)
{
        struct run_row *rows = NULL;
        struct run_info *v;
        struct engine *e = NULL;
        struct error eerr = ERROR_INIT;
        size_t n = 0;
        int r = runs_list(s, &rows, &n, err);

        if (r < 0)
                return r;
        engine_open(&e, &eerr); /* no Engine: state "unknown" (the recorded one in the reason) */
        v = calloc(n + 1, sizeof *v);
        if (!v) {
                run_rows_free(rows, n);
                engine_free(e);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                enum run_state state = RUN_UNKNOWN;
                char reason[512];
                const struct runner *rn = runner_of_row(s, &rows[i]);
                bool ask = rows[i].state != RUN_PENDING && rn->status; /* a StaticWebsite has no container */
                reason[0] = 0;
                if (ask && e)
                        rn->status(e, &rows[i], &state, reason, sizeof reason, &v[i].ports);
                if (ask && e && rn == &runner_swarm) {
                        v[i].swarm = swarm_services_json(e, &rows[i]);
                        if (state == RUN_RUNNING) /* where its tasks run now: the front door follows them */
                                swarm_run_routes(s, e, &rows[i], &v[i]);
                }
                if (ask && state == RUN_UNKNOWN) {
                        /* The Engine could not be asked: what is recorded may be stale, so it is not shown as
                         * the state (nothing is written). */
                        char *why = NULL;
                        if (asprintf(&why, "recorded %s%s%s%s; the Engine could not be asked: %s",
                                     run_state_name(rows[i].state), rows[i].reason ? " (" : "",
                                     rows[i].reason ? rows[i].reason : "", rows[i].reason ? ")" : "",
                                     e ? reason : eerr.msg) < 0)
                                why = NULL;
                        rows[i].state = RUN_UNKNOWN;
                        free(rows[i].reason);
                        rows[i].reason = why;
                        v[i].row = rows[i];
                        continue;
                }
                /* Only states a container can contradict are corrected: a stopped run stays stopped. */
                if (state != RUN_UNKNOWN && state != rows[i].state &&
                    (rows[i].state == RUN_RUNNING || rows[i].state == RUN_STARTING || rows[i].state == RUN_STOPPING ||
                     rows[i].state == RUN_UNHEALTHY || rows[i].state == RUN_RESTARTING || state == RUN_RUNNING)) {
                        runs_set_state(s, rows[i].id, state, reason[0] ? reason : NULL, NULL);
                        rows[i].state = state;
                        free(rows[i].reason);
                        rows[i].reason = reason[0] ? strdup(reason) : NULL;
                }
                v[i].row = rows[i];
        }
        free(rows);
        engine_free(e);
        *ret = v;
        *ret_n = n;
        return 0;
}

int run_stop(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err)
{
        int r = runs_get(s, id_or_slug, ret, err);

        return r < 0 ? r : runner_of_row(s, ret)->stop(s, ret, err);
}

/* A stack with no run row whose run dir is still there (a crash, an older stack that left one): removable as
 * if it had a row, so that rm never leaves a stack half-gone. */
static int orphan_row(struct store *s, const char *slug, struct run_row *row)
{
        char project[RUN_PROJECT_MAX], run_dir[PATH_MAX];
        struct stat st;

        if (!slug[0] || strchr(slug, '/') || slug[0] == '.' ||
            rundir_path(s, slug, NULL, NULL, run_dir, sizeof run_dir) < 0 || lstat(run_dir, &st) < 0)
                return -STACK_ENOTFOUND;
        run_project_name(slug, project, sizeof project);
        memset(row, 0, sizeof *row);
        row->slug = strdup(slug);
        row->project = strdup(project);
        row->run_dir = strdup(run_dir);
        row->state = RUN_REMOVED;
        row->version = strdup("?");
        return row->slug && row->project && row->run_dir && row->version ? 0 : -STACK_EFAIL;
}

/* The run (or a run dir left without one), removed by its runner. */
static int remove_run(struct store *s, const char *id_or_slug, bool purge, bool anyway, struct run_row *ret,
                      char **ret_left, struct error *err)
{
        int r;

        if (ret_left)
                *ret_left = NULL;
        r = runs_get(s, id_or_slug, ret, err);
        if (r == -STACK_ENOTFOUND && orphan_row(s, id_or_slug, ret) == 0) {
                error_clear(err);
                r = 0;
        }
        return r < 0 ? r : runner_of_row(s, ret)->remove(s, ret, purge, anyway, ret_left, err);
}

int run_remove(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, struct error *err)
{
        return remove_run(s, id_or_slug, purge, false, ret, NULL, err);
}

int run_remove_anyway(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, char **ret_left,
                      struct error *err)
{
        return remove_run(s, id_or_slug, purge, true, ret, ret_left, err);
}
