/* usage.h - what a run uses and how it fares, per container and in total (spec/run.md "Resource use"): CPU %,
 * memory used/limit, network and block I/O, pids (the Engine's stats, run/engine.h), and health, restarts and
 * the limits it runs under (the containers' inspect answers). `stack top`, `stack ps`, GET /runs and the
 * daemon's usage sampler read it here.
 *
 * Calling sequence:
 *   usage_of_run(s, e, id_or_slug, &c, &n, &total, err)   one-shot, for `stack top` and GET /runs/{id}: two
 *                          samples USAGE_CPU_WINDOW_MS apart (the CPU % is the share of the host's CPU time
 *                          between them, as docker stats computes it); usage_containers_free(c, n) after;
 *                          usage_of_row(e, row, ...) the same for a run row in hand
 *   usage_sample(e, row, prev, n_prev, &c, &n, &total, err)   one sample of a run's containers with the CPU %
 *                          since prev (the previous sample's containers, matched by id; NULL the first time:
 *                          CPU 0), for a sampler that keeps its last sample (api/sampler.c)
 *   usage_health(e, row, &total, err)   health, restarts and limits only (no stats: cheap), for `stack ps` and
 *                          GET /runs
 *   usage_json(&total) / usage_limits_json(&total)   the API's "usage" and "limits" objects
 * Containers come sorted by name; only running ones are sampled (stats false for the others). All return 0 or
 * a negative stack_code after error_set() (STACK_ERUNTIME when the Engine fails).
 */
#ifndef STACK_USAGE_H
#define STACK_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "run/engine.h"
#include "run/runs.h"
#include "store/store.h"

#define USAGE_CPU_WINDOW_MS 1000

/* What a container runs under: 0 (cpus 0.0) where it has no limit. */
struct usage_limits {
        double cpus;
        uint64_t memory;
        int64_t pids;
};

struct usage_container {
        const char *id, *name, *service, *state; /* in the Engine's answers below (name, service may be NULL) */
        const char *health;                      /* healthy|unhealthy|starting, NULL without a healthcheck */
        char health_output[256];                 /* unhealthy: the last line the failing check printed ("" when none) */
        json_t *item, *inspect; /* the container's entry in GET /containers/json and its inspect answer */
        unsigned restarts;      /* the Engine's RestartCount */
        bool stats;             /* running: stats below were read */
        struct engine_stats use;
        struct usage_limits limits;
};

struct usage_total {
        struct engine_stats use; /* sums over the containers; mem_limit: the sum when each has a memory limit,
                                  * else the host's memory (the largest any reports) */
        const char *health;      /* the worst: unhealthy, starting, healthy; NULL when none has a check (static) */
        char failing[256];       /* the first unhealthy container's name and health_output, "" when none */
        unsigned restarts;       /* the sum */
        unsigned containers, running;
        struct usage_limits limits; /* the sums when every container has that limit, else 0 */
        bool has_limits[3];         /* cpus, memory, pids: every container has it */
};

int usage_of_run(struct store *s, struct engine *e, const char *id_or_slug, struct usage_container **ret, size_t *ret_n,
                 struct usage_total *ret_total, struct error *err);
int usage_of_row(struct engine *e, const struct run_row *row, struct usage_container **ret, size_t *ret_n,
                 struct usage_total *ret_total, struct error *err);
int usage_sample(struct engine *e, const struct run_row *row, const struct usage_container *prev, size_t n_prev,
                 struct usage_container **ret, size_t *ret_n, struct usage_total *ret_total, struct error *err);
int usage_health(struct engine *e, const struct run_row *row, struct usage_total *ret_total, struct error *err);
void usage_containers_free(struct usage_container *c, size_t n);

/* {"cpu_percent","mem_used","mem_limit","net_rx","net_tx","blk_read","blk_write","pids"}; NULL when out of
 * memory. */
json_t *usage_json(const struct engine_stats *use);
/* {"cpus","memory","pids"}, each null where not every container has the limit. */
json_t *usage_limits_json(const struct usage_total *t);

#endif
