/* usage.c - a run's resource use, health, restarts and limits from the Engine, per container and in total
 * (spec/run.md "Resource use"). */
#include "usage.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void container_release(struct usage_container *c)
{
        json_decref(c->item);
        json_decref(c->inspect);
        memset(c, 0, sizeof *c);
}

void usage_containers_free(struct usage_container *c, size_t n)
{
        MEM_FREE_ARRAY(c, n, container_release);
}

/* The last non-empty line of the newest health check's output (in line, cut to size), or NULL (line untouched). */
static const char *failing_output(json_t *health, char *line, size_t size)
{
        json_t *log = json_object_get(health, "Log");
        const char *out = json_string_value(json_object_get(json_array_get(log, json_array_size(log) - 1), "Output"));
        const char *end, *start;

        if (!out)
                return NULL;
        end = out + strlen(out);
        while (end > out && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
                end--;
        for (start = end; start > out && start[-1] != '\n'; start--)
                ;
        if (start == end)
                return NULL;
        snprintf(line, size, "%.*s", (int)(end - start), start);
        return line;
}

static void limits_of(json_t *host, struct usage_limits *l)
{
        json_int_t nano = json_integer_value(json_object_get(host, "NanoCpus"));
        json_int_t quota = json_integer_value(json_object_get(host, "CpuQuota"));
        json_int_t period = json_integer_value(json_object_get(host, "CpuPeriod"));
        json_int_t mem = json_integer_value(json_object_get(host, "Memory"));
        json_int_t pids = json_integer_value(json_object_get(host, "PidsLimit"));

        if (nano > 0)
                l->cpus = (double)nano / 1e9;
        else if (quota > 0)
                l->cpus = (double)quota / (double)(period > 0 ? period : 100000);
        l->memory = mem > 0 ? (uint64_t)mem : 0;
        l->pids = pids > 0 ? (int64_t)pids : 0;
}

/* One entry of the project's container list, with what its inspect answer says. */
static int container_of(struct engine *e, json_t *item, struct usage_container *c, bool *ret_gone, struct error *err)
{
        json_t *j = NULL, *state, *health;
        const char *name = json_string_value(json_array_get(json_object_get(item, "Names"), 0)), *h;
        int r;

        c->item = json_incref(item);
        c->id = json_string_value(json_object_get(item, "Id"));
        if (!c->id)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
        r = engine_inspect(e, "containers", c->id, &j, err);
        if (r < 0)
                return r;
        *ret_gone = !j;
        if (!j)
                return 0;
        c->inspect = j;
        state = json_object_get(j, "State");
        health = json_object_get(state, "Health");
        h = json_string_value(json_object_get(health, "Status"));
        c->name = name && *name == '/' ? name + 1 : name;
        c->service = json_string_value(json_object_get(json_object_get(item, "Labels"), "com.docker.compose.service"));
        c->state = json_string_value(json_object_get(state, "Status"));
        c->health = h && *h && strcmp(h, "none") ? h : NULL;
        if (c->health && !strcmp(c->health, "unhealthy"))
                failing_output(health, c->health_output, sizeof c->health_output);
        c->restarts = (unsigned)json_integer_value(json_object_get(j, "RestartCount"));
        limits_of(json_object_get(j, "HostConfig"), &c->limits);
        return 0;
}

static int container_cmp(const void *a, const void *b)
{
        const struct usage_container *x = a, *y = b;

        return strcmp(x->name ? x->name : x->id, y->name ? y->name : y->id);
}

static int health_rank(const char *h)
{
        return !h ? 0 : !strcmp(h, "healthy") ? 1 : !strcmp(h, "starting") ? 2 : 3;
}

static void add_up(const struct usage_container *c, size_t n, struct usage_total *t)
{
        static const char *const names[] = {NULL, "healthy", "starting", "unhealthy"};
        uint64_t host_mem = 0;
        int worst = 0;

        memset(t, 0, sizeof *t);
        t->has_limits[0] = t->has_limits[1] = t->has_limits[2] = n > 0;
        for (size_t i = 0; i < n; i++) {
                t->containers++;
                if (c[i].state && !strcmp(c[i].state, "running"))
                        t->running++;
                t->restarts += c[i].restarts;
                if (health_rank(c[i].health) > worst)
                        worst = health_rank(c[i].health);
                if (c[i].health_output[0] && !t->failing[0])
                        snprintf(t->failing, sizeof t->failing, "%s: %s", c[i].service ? c[i].service : c[i].name,
                                 c[i].health_output);
                t->has_limits[0] &= c[i].limits.cpus > 0;
                t->has_limits[1] &= c[i].limits.memory > 0;
                t->has_limits[2] &= c[i].limits.pids > 0;
                t->limits.cpus += c[i].limits.cpus;
                t->limits.memory += c[i].limits.memory;
                t->limits.pids += c[i].limits.pids;
                if (!c[i].stats)
                        continue;
                t->use.cpu_percent += c[i].use.cpu_percent;
                t->use.mem_used += c[i].use.mem_used;
                t->use.mem_limit += c[i].use.mem_limit;
                if (c[i].use.mem_limit > host_mem)
                        host_mem = c[i].use.mem_limit;
                t->use.net_rx += c[i].use.net_rx;
                t->use.net_tx += c[i].use.net_tx;
                t->use.blk_read += c[i].use.blk_read;
                t->use.blk_write += c[i].use.blk_write;
                t->use.pids += c[i].use.pids;
        }
        if (!t->has_limits[1] && host_mem) /* one without a limit may take all the host has */
                t->use.mem_limit = host_mem;
        if (!t->has_limits[0])
                t->limits.cpus = 0;
        if (!t->has_limits[1])
                t->limits.memory = 0;
        if (!t->has_limits[2])
                t->limits.pids = 0;
        t->health = names[worst];
}

/* Stats of the running ones of v[n] at once (a container that stops meanwhile is simply not sampled), the CPU %
 * since prev where it has the container. */
static int sample(struct engine *e, struct usage_container *v, size_t n, const struct usage_container *prev,
                  size_t n_prev, struct error *err)
{
        const char **ids = calloc(n ? n : 1, sizeof *ids);
        struct engine_stats *use = calloc(n ? n : 1, sizeof *use);
        bool *ok = calloc(n ? n : 1, sizeof *ok);
        size_t m = 0;
        int r = 0;

        if (!ids || !use || !ok) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].state && !strcmp(v[i].state, "running"))
                        ids[m++] = v[i].id;
        r = engine_containers_stats(e, ids, m, use, ok, err);
        for (size_t i = 0, k = 0; r == 0 && i < n; i++) {
                if (!v[i].state || strcmp(v[i].state, "running"))
                        continue;
                v[i].stats = ok[k];
                v[i].use = use[k++];
                for (size_t p = 0; v[i].stats && p < n_prev; p++)
                        if (prev[p].stats && !strcmp(prev[p].id, v[i].id))
                                v[i].use.cpu_percent = engine_stats_cpu_percent(&prev[p].use, &v[i].use);
        }
done:
        free(ids);
        free(use);
        free(ok);
        return r;
}

/* The project's containers, inspected; with stats, each running one sampled (CPU % since prev). */
static int containers_of(struct engine *e, const struct run_row *row, bool stats, const struct usage_container *prev,
                         size_t n_prev, struct usage_container **ret, size_t *ret_n, struct usage_total *ret_total,
                         struct error *err)
{
        char label[512];
        json_t *list = NULL, *item;
        struct usage_container *v = NULL;
        size_t n = 0, i;
        int r;

        if (!e || !row || !row->project || !ret_total)
                return error_set(err, STACK_EFAIL, "usage: missing argument");
        snprintf(label, sizeof label, "com.docker.compose.project=%s", row->project);
        r = engine_containers_json(e, "label", label, &list, err);
        if (r < 0)
                return r;
        if (json_array_size(list) && !(v = calloc(json_array_size(list), sizeof *v))) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        json_array_foreach(list, i, item)
        {
                bool gone = false;
                r = container_of(e, item, &v[n++], &gone, err);
                if (r < 0)
                        goto fail;
                if (gone)
                        container_release(&v[--n]);
        }
        if (stats) {
                r = sample(e, v, n, prev, n_prev, err);
                if (r < 0)
                        goto fail;
        }
        if (n > 1)
                qsort(v, n, sizeof *v, container_cmp);
        add_up(v, n, ret_total);
        if (ret) { /* handed over whole: nothing here to free but the list */
                json_decref(list);
                *ret = v;
                *ret_n = n;
                return 0;
        }
fail:
        usage_containers_free(v, n);
        json_decref(list);
        return r;
}

int usage_sample(struct engine *e, const struct run_row *row, const struct usage_container *prev, size_t n_prev,
                 struct usage_container **ret, size_t *ret_n, struct usage_total *ret_total, struct error *err)
{
        if (!ret || !ret_n)
                return error_set(err, STACK_EFAIL, "usage_sample: missing argument");
        return containers_of(e, row, true, prev, n_prev, ret, ret_n, ret_total, err);
}

int usage_health(struct engine *e, const struct run_row *row, struct usage_total *ret_total, struct error *err)
{
        return containers_of(e, row, false, NULL, 0, NULL, NULL, ret_total, err);
}

int usage_of_row(struct engine *e, const struct run_row *row, struct usage_container **ret, size_t *ret_n,
                 struct usage_total *ret_total, struct error *err)
{
        struct usage_container *first = NULL;
        size_t n_first = 0;
        struct timespec wait = {USAGE_CPU_WINDOW_MS / 1000, (USAGE_CPU_WINDOW_MS % 1000) * 1000000L};
        int r = usage_sample(e, row, NULL, 0, &first, &n_first, ret_total, err);

        if (r == 0 && ret_total->running) {
                nanosleep(&wait, NULL);
                r = usage_sample(e, row, first, n_first, ret, ret_n, ret_total, err);
        } else if (r == 0) {
                *ret = first;
                *ret_n = n_first;
                first = NULL;
                n_first = 0;
        }
        usage_containers_free(first, n_first);
        return r;
}

int usage_of_run(struct store *s, struct engine *e, const char *id_or_slug, struct usage_container **ret, size_t *ret_n,
                 struct usage_total *ret_total, struct error *err)
{
        struct run_row row = {0};
        int r = runs_get(s, id_or_slug, &row, err);

        if (r == 0)
                r = usage_of_row(e, &row, ret, ret_n, ret_total, err);
        run_row_release(&row);
        return r;
}

json_t *usage_json(const struct engine_stats *u)
{
        return json_pack("{s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "cpu_percent", u->cpu_percent, "mem_used",
                         (json_int_t)u->mem_used, "mem_limit", (json_int_t)u->mem_limit, "net_rx",
                         (json_int_t)u->net_rx, "net_tx", (json_int_t)u->net_tx, "blk_read", (json_int_t)u->blk_read,
                         "blk_write", (json_int_t)u->blk_write, "pids", (json_int_t)u->pids);
}

json_t *usage_limits_json(const struct usage_total *t)
{
        json_t *o = json_object();

        if (!o)
                return NULL;
        json_object_set_new(o, "cpus", t->has_limits[0] ? json_real(t->limits.cpus) : json_null());
        json_object_set_new(o, "memory", t->has_limits[1] ? json_integer((json_int_t)t->limits.memory) : json_null());
        json_object_set_new(o, "pids", t->has_limits[2] ? json_integer((json_int_t)t->limits.pids) : json_null());
        return o;
}
