/* sampler.h - the daemon's usage sampler (spec/api.md "GET /events": "usage"): a thread that, only while at least
 * one /events reader is connected (jobs_readers, jobs.h), samples the containers of every run that is up every
 * SAMPLER_INTERVAL_MS (orch/usage.h: the CPU % is the share since the previous sample) and emits the SSE event
 * "usage" {"id", "t", "cpu_percent", "mem_used", "mem_limit"} per run; GET /runs shows the last sample. A run's
 * first sample only starts its CPU count: it is neither sent nor shown. With no reader it samples nothing and
 * forgets what it had.
 *
 * Calling sequence: sampler_new(home, jobs, &sp, err) once jobs exist (it opens its own store at home and its own
 * Engine client when it first samples); sampler_last(sp, run_id, &use) from any thread; sampler_free(sp) before
 * jobs_free() (it stops and joins the thread; safe with NULL).
 */
#ifndef STACK_SAMPLER_H
#define STACK_SAMPLER_H

#include <stdbool.h>

#include "base/error.h"
#include "run/engine.h"

#define SAMPLER_INTERVAL_MS 2000

struct jobs;
struct sampler;

int sampler_new(const char *home, struct jobs *jobs, struct sampler **ret, struct error *err);
/* The run's last sampled total, while the sampler runs; false when there is none. */
bool sampler_last(struct sampler *sp, const char *run_id, struct engine_stats *ret);
void sampler_free(struct sampler *sp);

#endif
