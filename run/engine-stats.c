/* engine-stats.c - a container's resource use from the Engine's stats API (engine_container_stats), computed
 * as `docker stats` computes it (spec/run.md "Engine": "Resource use").
 */
#include "engine.h"
#include "engine-int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ONE_SHOT_MINOR 41 /* the API version that added one-shot=true */
#define STATS_PARALLEL 32 /* stats calls in flight at once (a thread and a connection each) */

static uint64_t u64(json_t *j, const char *key)
{
        json_int_t v = json_integer_value(json_object_get(j, key));

        return v > 0 ? (uint64_t)v : 0;
}

double engine_stats_cpu_percent(const struct engine_stats *prev, const struct engine_stats *cur)
{
        double cpu, sys;

        if (!prev || !cur || cur->cpu_total < prev->cpu_total || cur->cpu_system <= prev->cpu_system)
                return 0.0;
        cpu = (double)(cur->cpu_total - prev->cpu_total);
        sys = (double)(cur->cpu_system - prev->cpu_system);
        return cpu / sys * (cur->online_cpus ? cur->online_cpus : 1) * 100.0;
}

/* cpu_stats or precpu_stats: the container's and the host's CPU time counters, and the CPUs online. */
static void cpu_counters(json_t *cpu, struct engine_stats *st)
{
        json_t *usage = json_object_get(cpu, "cpu_usage");

        st->cpu_total = u64(usage, "total_usage");
        st->cpu_system = u64(cpu, "system_cpu_usage");
        st->online_cpus = (unsigned)u64(cpu, "online_cpus");
        if (!st->online_cpus)
                st->online_cpus = (unsigned)json_array_size(json_object_get(usage, "percpu_usage"));
}

/* Memory as docker stats shows it: usage less the inactive page cache (cgroup v1 total_inactive_file, v2
 * inactive_file). */
static void memory(json_t *mem, struct engine_stats *st)
{
        json_t *s = json_object_get(mem, "stats");
        uint64_t usage = u64(mem, "usage"), cache = 0;

        if (json_object_get(s, "total_inactive_file"))
                cache = u64(s, "total_inactive_file");
        else
                cache = u64(s, "inactive_file");
        st->mem_used = cache < usage ? usage - cache : usage;
        st->mem_limit = u64(mem, "limit");
}

static void io(json_t *j, struct engine_stats *st)
{
        json_t *nets = json_object_get(j, "networks"), *v, *e;
        const char *name;
        size_t i;

        json_object_foreach(nets, name, v)
        {
                st->net_rx += u64(v, "rx_bytes");
                st->net_tx += u64(v, "tx_bytes");
        }
        json_array_foreach(json_object_get(json_object_get(j, "blkio_stats"), "io_service_bytes_recursive"), i, e)
        {
                const char *op = json_string_value(json_object_get(e, "op"));
                if (op && !strcasecmp(op, "read"))
                        st->blk_read += u64(e, "value");
                else if (op && !strcasecmp(op, "write"))
                        st->blk_write += u64(e, "value");
        }
}

int engine_container_stats(struct engine *e, const char *id, struct engine_stats *ret, struct error *err)
{
        char path[512] = "/containers/";
        struct engine_stats st = {0}, pre = {0};
        long status = 0;
        json_t *j = NULL;
        int minor = -1, r;

        if (!e || !id || !ret)
                return error_set(err, STACK_EFAIL, "engine_container_stats: missing argument");
        if (engine_path_append(path, sizeof path, id) < 0)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", id);
        /* one-shot: no wait for a second sample; the CPU % then comes from two calls (engine_stats_cpu_percent) */
        if (sscanf(e->prefix, "/v1.%d", &minor) == 1 && minor >= ONE_SHOT_MINOR)
                strcat(path, "/stats?stream=false&one-shot=true");
        else
                strcat(path, "/stats?stream=false");
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0)
                return r;
        if (!j)
                return error_set(err, STACK_ENOTFOUND, "Docker Engine: no container %s", id);
        cpu_counters(json_object_get(j, "cpu_stats"), &st);
        cpu_counters(json_object_get(j, "precpu_stats"), &pre);
        st.cpu_percent = pre.cpu_system ? engine_stats_cpu_percent(&pre, &st) : 0.0;
        memory(json_object_get(j, "memory_stats"), &st);
        io(j, &st);
        st.pids = (unsigned)u64(json_object_get(j, "pids_stats"), "current");
        json_decref(j);
        *ret = st;
        return 0;
}

/* ---- many at once ---- */

struct stats_call {
        struct engine e; /* a connection of its own: a curl handle is not shared between threads */
        const char *id;
        struct engine_stats *ret;
        bool *ok;
};

static void *stats_thread(void *arg)
{
        struct stats_call *c = arg;
        struct error ignored = ERROR_INIT;

        *c->ok = engine_container_stats(&c->e, c->id, c->ret, &ignored) == 0;
        return NULL;
}

int engine_containers_stats(struct engine *e, const char *const *ids, size_t n, struct engine_stats *rets, bool *oks,
                            struct error *err)
{
        struct stats_call calls[STATS_PARALLEL];
        pthread_t threads[STATS_PARALLEL];

        if (!e || (n && (!ids || !rets || !oks)))
                return error_set(err, STACK_EFAIL, "engine_containers_stats: missing argument");
        for (size_t base = 0; base < n; base += STATS_PARALLEL) {
                size_t batch = n - base < STATS_PARALLEL ? n - base : STATS_PARALLEL, made = 0;
                bool failed = false;
                for (size_t i = 0; i < batch; i++) {
                        struct stats_call *c = &calls[i];
                        memset(c, 0, sizeof *c);
                        c->e.socket = e->socket;
                        memcpy(c->e.prefix, e->prefix, sizeof c->e.prefix);
                        c->e.curl = curl_easy_init();
                        c->id = ids[base + i];
                        c->ret = &rets[base + i];
                        c->ok = &oks[base + i];
                        *c->ok = false;
                        if (!c->e.curl || pthread_create(&threads[i], NULL, stats_thread, c) != 0) {
                                if (c->e.curl)
                                        curl_easy_cleanup(c->e.curl);
                                failed = true;
                                break;
                        }
                        made++;
                }
                for (size_t i = 0; i < made; i++) {
                        pthread_join(threads[i], NULL);
                        curl_easy_cleanup(calls[i].e.curl);
                }
                if (failed)
                        return error_set(err, STACK_EFAIL, "cannot start a thread to read container stats");
        }
        return 0;
}
