/* sampler.c - the usage sampler thread of stack serve: while someone reads /events, every run that is up is
 * sampled every SAMPLER_INTERVAL_MS and its total use sent as an SSE "usage" event (spec/api.md). */
#include "sampler.h"

#include "base/wallclock.h"
#include "base/worker.h"
#include "jobs.h"
#include "orch/usage.h"
#include "run/runs.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

struct sample { /* one run's last sample */
        char id[17];
        struct usage_container *c;
        size_t n;
        struct engine_stats total;
        bool cpu; /* a sample before it: the CPU % is real (the first one of a run says 0 and is not shown) */
};

struct sampler {
        pthread_mutex_t lock; /* guards samples, n_samples, stopping */
        pthread_cond_t cond;  /* stopping */
        bool stopping, thread_made;
        pthread_t thread;
        char *home;
        struct jobs *jobs;
        struct store *store;   /* the thread's own, opened on first use */
        struct engine *engine; /* the thread's own; dropped when it fails, opened again next round */
        bool engine_said;      /* "the Engine does not answer" said once until it answers again */
        struct sample *samples;
        size_t n_samples;
};

static void samples_free(struct sample *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                usage_containers_free(v[i].c, v[i].n);
        free(v);
}

/* A run whose containers should be up: not stopped, failed, pending or gone. */
static bool is_up(enum run_state s)
{
        return s != RUN_STOPPED && s != RUN_FAILED && s != RUN_PENDING && s != RUN_STOPPING && s != RUN_UNKNOWN &&
               s != RUN_REMOVED;
}

static const struct sample *find(const struct sample *v, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].id, id))
                        return &v[i];
        return NULL;
}

static bool engine_ready(struct sampler *sp)
{
        struct error err = ERROR_INIT;

        if (sp->engine)
                return true;
        if (engine_open(&sp->engine, &err) == 0) {
                sp->engine_said = false;
                return true;
        }
        if (!sp->engine_said)
                fprintf(stderr, "stack serve: usage: %s\n", err.msg);
        sp->engine_said = true;
        return false;
}

/* One round: every run that is up, sampled with the CPU % since the last round. */
static void sample_round(struct sampler *sp)
{
        struct error err = ERROR_INIT;
        struct run_row *rows = NULL;
        struct sample *next = NULL, *prev;
        size_t n_rows = 0, n = 0, n_prev;

        if (!sp->store && store_open(sp->home, &sp->store, &err) < 0) {
                fprintf(stderr, "stack serve: usage: %s\n", err.msg);
                return;
        }
        if (!engine_ready(sp) || runs_list(sp->store, &rows, &n_rows, &err) < 0)
                goto done;
        next = calloc(n_rows ? n_rows : 1, sizeof *next);
        if (!next)
                goto done;
        pthread_mutex_lock(&sp->lock); /* only this thread changes samples: reading them unlocked is fine here */
        prev = sp->samples;
        n_prev = sp->n_samples;
        pthread_mutex_unlock(&sp->lock);
        for (size_t i = 0; i < n_rows; i++) {
                const struct sample *p = find(prev, n_prev, rows[i].id);
                struct sample *s = &next[n];
                struct usage_total t;
                struct error e = ERROR_INIT;
                if (!is_up(rows[i].state))
                        continue;
                if (usage_sample(sp->engine, &rows[i], p ? p->c : NULL, p ? p->n : 0, &s->c, &s->n, &t, &e) < 0) {
                        if (e.code == STACK_ERUNTIME) { /* the Engine went away: a new client next round */
                                engine_free(sp->engine);
                                sp->engine = NULL;
                                break;
                        }
                        continue;
                }
                memcpy(s->id, rows[i].id, sizeof s->id);
                s->total = t.use;
                s->cpu = p != NULL;
                n++;
                if (s->cpu)
                        jobs_event_json(sp->jobs, "usage",
                                        json_pack("{s:s, s:I, s:f, s:I, s:I}", "id", s->id, "t",
                                                  (json_int_t)wallclock_ms(), "cpu_percent", t.use.cpu_percent,
                                                  "mem_used", (json_int_t)t.use.mem_used, "mem_limit",
                                                  (json_int_t)t.use.mem_limit));
        }
        pthread_mutex_lock(&sp->lock);
        sp->samples = next;
        sp->n_samples = n;
        pthread_mutex_unlock(&sp->lock);
        samples_free(prev, n_prev);
done:
        run_rows_free(rows, n_rows);
}

static void forget(struct sampler *sp)
{
        struct sample *v;
        size_t n;

        pthread_mutex_lock(&sp->lock);
        v = sp->samples;
        n = sp->n_samples;
        sp->samples = NULL;
        sp->n_samples = 0;
        pthread_mutex_unlock(&sp->lock);
        samples_free(v, n);
}

static void *sampler_thread(void *arg)
{
        struct sampler *sp = arg;

        pthread_mutex_lock(&sp->lock);
        while (!sp->stopping) {
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t); /* every interval from the start of a round, however long it took */
                pthread_mutex_unlock(&sp->lock);
                if (jobs_readers(sp->jobs) > 0)
                        sample_round(sp);
                else
                        forget(sp);
                pthread_mutex_lock(&sp->lock);
                worker_add_ms(&t, SAMPLER_INTERVAL_MS);
                worker_sleep_locked(&sp->lock, &sp->cond, &sp->stopping, &t);
        }
        pthread_mutex_unlock(&sp->lock);
        return NULL;
}

int sampler_new(const char *home, struct jobs *jobs, struct sampler **ret, struct error *err)
{
        struct sampler *sp = calloc(1, sizeof *sp);
        int r;

        if (!sp)
                return error_set(err, STACK_EFAIL, "out of memory");
        pthread_mutex_init(&sp->lock, NULL);
        pthread_cond_init(&sp->cond, NULL);
        sp->jobs = jobs;
        sp->home = home ? strdup(home) : NULL;
        if (home && !sp->home) {
                sampler_free(sp);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        r = worker_start(&sp->thread, sampler_thread, sp, "usage sampler", err);
        if (r < 0) {
                sampler_free(sp);
                return r;
        }
        sp->thread_made = true;
        *ret = sp;
        return 0;
}

bool sampler_last(struct sampler *sp, const char *run_id, struct engine_stats *ret)
{
        const struct sample *s;
        bool found = false;

        if (!sp || !run_id)
                return false;
        pthread_mutex_lock(&sp->lock);
        s = find(sp->samples, sp->n_samples, run_id);
        if (s && s->cpu) {
                *ret = s->total;
                found = true;
        }
        pthread_mutex_unlock(&sp->lock);
        return found;
}

void sampler_free(struct sampler *sp)
{
        if (!sp)
                return;
        worker_stop(&sp->lock, &sp->cond, &sp->stopping);
        if (sp->thread_made)
                pthread_join(sp->thread, NULL);
        samples_free(sp->samples, sp->n_samples);
        engine_free(sp->engine);
        store_free(sp->store);
        free(sp->home);
        pthread_cond_destroy(&sp->cond);
        pthread_mutex_destroy(&sp->lock);
        free(sp);
}
