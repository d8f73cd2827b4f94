/* orch.c - resolve, fetch when missing, run: the order of the parts, kept out of the parts themselves. */
#include "orch.h"

#include "fetch/fetch.h"
#include "store/index.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int orch_resolve(struct store *s, const char *ref, const struct orch_options *o, struct version_info *ret,
                 struct error *err)
{
        struct version_info v = {0};
        double t0 = now_s();
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s || !ref || !o)
                return error_set(err, STACK_EFAIL, "orch_resolve: invalid arguments");
        /* The store first; a fetch only when it lacks the version. */
        r = index_resolve_ref(store_index(s), ref, &v, err);
        if (r == -STACK_ENOTFOUND) {
                struct fetch_options fo = {.catalog = o->catalog,
                                           .insecure = o->insecure,
                                           .warn = o->run.warn,
                                           .warn_ctx = o->run.warn_ctx,
                                           .progress = o->progress,
                                           .progress_ctx = o->progress_ctx};
                struct fetch_result fr;
                if (o->offline) {
                        char msg[sizeof err->msg] = "";
                        if (err) {
                                snprintf(msg, sizeof msg, "%s", err->msg);
                                error_clear(err);
                        }
                        return error_set(err, STACK_ENETWORK, "%s, and --offline forbids fetching it", msg);
                }
                error_clear(err);
                r = fetch_ref(s, ref, &fo, &fr, err);
                if (r < 0)
                        return r;
                v = fr.v;
                memset(&fr.v, 0, sizeof fr.v);
                fetch_result_release(&fr);
                if (o->run.step)
                        o->run.step(o->run.step_ctx, "fetch", now_s() - t0);
        }
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int orch_run(struct store *s, const char *ref, const struct orch_options *o, struct run_info *ret, struct error *err)
{
        struct version_info v = {0};
        int r;

        memset(ret, 0, sizeof *ret);
        if (!s)
                return error_set(err, STACK_EFAIL, "orch_run: invalid arguments");
        /* One shared lock from resolving to running: gc cannot collect the version in between. */
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = orch_resolve(s, ref, o, &v, err);
        if (r == 0)
                r = run_start(s, &v, &o->run, ret, err);
        version_info_release(&v);
        store_unlock(s);
        return r;
}
