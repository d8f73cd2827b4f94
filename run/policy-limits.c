/* policy-limits.c - what stack adds to every service: the person's resource limits (cpus, mem_limit,
 * memswap_limit, pids_limit; lowered by stack.yaml and the service, never raised), the bounds on replicas,
 * cpu_shares, ulimits and the OOM killer, and the labels that tie containers to the run; and the person's
 * configuration of those limits ($STACK_HOME/config.json).
 */
#include "policy-int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <unistd.h>
#include <yaml.h>

#include "base/ports.h"

/* A CPU limit > 0 ("0.5", 2). Absent, 0 (no limit), a variable or junk: false. */
static bool parse_cpus(const struct yamltree_node *n, double *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!yamltree_is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len ||
            whole + frac <= 0)
                return false;
        *ret = (double)whole + frac;
        return true;
}

/* Bytes > 0 as the Engine's RAMInBytes reads them: 512m, 1g, 1.5GiB, 1048576 (binary units). */
static bool parse_bytes(const struct yamltree_node *n, uint64_t *ret)
{
        static const char units[] = "kmgtp";
        uint64_t whole, mult = 1, bytes;
        double frac;
        const char *u;
        size_t i;

        if (!yamltree_is_scalar(n) || !(i = yamltree_parse_decimal(n->text, n->len, &whole, &frac)))
                return false;
        if (i < n->len && n->text[i] == ' ')
                i++;
        if (i < n->len && (u = memchr(units, n->text[i] | 0x20, 5))) {
                for (size_t k = 0; k <= (size_t)(u - units); k++)
                        mult *= 1024;
                i++;
        }
        if (i < n->len && (n->text[i] | 0x20) == 'i')
                i++;
        if (i < n->len && (n->text[i] | 0x20) == 'b')
                i++;
        if (i != n->len || whole > UINT64_MAX / mult)
                return false;
        bytes = whole * mult + (uint64_t)(frac * (double)mult);
        if (bytes < whole * mult || bytes == 0)
                return false;
        *ret = bytes;
        return true;
}

/* A count > 0 (pids_limit, cpu_quota). -1 and 0 mean no limit: false. */
static bool parse_count(const struct yamltree_node *n, uint64_t *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!yamltree_is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len ||
            whole == 0 || memchr(n->text, '.', n->len))
                return false;
        *ret = whole;
        return true;
}

static int set_number(struct yamltree_node *m, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int set_number(struct yamltree_node *m, const char *key, const char *fmt, ...)
{
        char buf[64];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        return yamltree_map_set_text(m, key, buf, YAML_PLAIN_SCALAR_STYLE);
}

static void format_cpus(double v, char *buf, size_t size)
{
        size_t n;

        if (v < MIN_CPUS)
                v = MIN_CPUS;
        snprintf(buf, size, "%.6f", v);
        n = strlen(buf);
        while (n > 1 && buf[n - 1] == '0')
                buf[--n] = 0;
        if (n > 1 && buf[n - 1] == '.')
                buf[--n] = 0;
}

/* The tightest of v and what the service (skey) and its deploy.resources.limits (lkey) set. */
static uint64_t tightest(uint64_t v, const struct yamltree_node *svc, const char *skey,
                         const struct yamltree_node *limits, const char *lkey,
                         bool (*parse)(const struct yamltree_node *, uint64_t *))
{
        uint64_t u;

        if (parse(yamltree_map_get(svc, skey), &u) && u < v)
                v = u;
        if (parse(yamltree_map_get(limits, lkey), &u) && u < v)
                v = u;
        return v;
}

/* A count >= 0 as written (scale: 0 is a count); false for anything else (a variable, -1, junk). */
static bool parse_count0(const struct yamltree_node *n, uint64_t *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!yamltree_is_scalar(n) || !n->len || policy_node_unknown(n) ||
            yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len || memchr(n->text, '.', n->len))
                return false;
        *ret = whole;
        return true;
}

/* An integer, signed (oom_score_adj, ulimits). */
static bool parse_int(const struct yamltree_node *n, long long *ret)
{
        char buf[32], *end;

        if (!yamltree_is_scalar(n) || !n->len || n->len >= sizeof buf || policy_node_unknown(n))
                return false;
        memcpy(buf, n->text, n->len);
        buf[n->len] = 0;
        errno = 0;
        *ret = strtoll(buf, &end, 10);
        return !errno && *end == 0 && end != buf;
}

/* scale / deploy.replicas: at most limits->replicas containers; no permission raises it. */
static int check_replicas(struct file *f, const char *who, const char *key, const struct yamltree_node *n)
{
        unsigned max = f->a->limits->replicas;
        char buf[80];
        uint64_t u;

        if (policy_is_null(n))
                return 0;
        if (!parse_count0(n, &u))
                return error_set(
                        f->a->err, STACK_EREJECT, "%s: %s: '%s' is not a number of containers (line %zu)", who, key,
                        yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, sizeof buf) : yamltree_kind_name(n),
                        n->line);
        if (u > max)
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: %s: %llu containers is above the %u a service may run (\"limits\": "
                                 "{\"replicas\"} in $STACK_HOME/" POLICY_CONFIG_FILE ")",
                                 who, key, (unsigned long long)u, max);
        return 0;
}

/* One ulimit: nofile up to POLICY_MAX_NOFILE and nproc up to the pids limit need nothing; anything else (other
 * names, -1, a variable) needs 'ulimits'. */
static void check_ulimit(struct file *f, const char *who, const struct yamltree_node *k, const struct yamltree_node *v)
{
        long long max = yamltree_text_is(k, "nofile") ? POLICY_MAX_NOFILE : 0, x;
        const struct yamltree_node *parts[2] = {v, NULL};
        char buf[80];
        bool ok = max > 0;

        /* memlock: locked memory is charged to the container's memory limit, which every stack has; nproc: the
         * pids limit, which every stack has, bounds the container's processes whatever RLIMIT_NPROC says. Any
         * value (-1: unlimited) gives nothing beyond those limits (Elasticsearch, OpenSearch and ClickHouse in
         * the public catalog ask for them). */
        if (yamltree_text_is(k, "memlock") || yamltree_text_is(k, "nproc"))
                return;

        if (v && v->kind == YAMLTREE_MAP) {
                parts[0] = yamltree_map_get(v, "soft");
                parts[1] = yamltree_map_get(v, "hard");
                ok = ok && parts[0] && parts[1] && v->n == 4;
        }
        for (size_t i = 0; i < 2 && ok; i++)
                if (parts[i] && (!parse_int(parts[i], &x) || x < 0 || x > max))
                        ok = false;
        if (!ok)
                policy_need(f, PERM_ULIMITS, who, "ulimits: %s beyond the default",
                            yamltree_show(k->text, k->len, buf, sizeof buf));
}

/* The person's limits on every service, lowered by stack.yaml `resources` and by what the service sets itself,
 * never raised or removed; memswap_limit is the memory limit (no swap). The service-level keys are the ones
 * compose v1 and v2 both honour; deploy.resources.limits (v2 only, and v2 refuses the two when they differ) is
 * folded into them and dropped. Then what no bundle gets without a permission: ulimits, oom_score_adj < 0,
 * oom_kill_disable; and what none gets at all: more replicas than the person allows, cpu_shares above the
 * default weight (lowered to it). */
int policy_apply_limits(struct file *f, const char *who, struct yamltree_node *svc)
{
        const struct policy_limits *lim = f->a->limits;
        const struct manifest_resources *res = f->a->in->m ? &f->a->in->m->resources : NULL;
        struct yamltree_node *deploy, *resources, *limits, *resv, *n;
        char buf[64];
        uint64_t mem = lim->memory, pids = lim->pids, u, period = 100000;
        double cpus = lim->cpus, d;
        long long x;
        int r = 0;

        if (res && res->cpus > 0 && res->cpus < cpus)
                cpus = res->cpus;
        if (res && res->memory && res->memory < mem)
                mem = res->memory;
        if (res && res->pids && res->pids < pids)
                pids = res->pids;
        deploy = yamltree_map_get(svc, "deploy");
        deploy = deploy && deploy->kind == YAMLTREE_MAP ? deploy : NULL;
        resources = deploy ? yamltree_map_get(deploy, "resources") : NULL;
        resources = resources && resources->kind == YAMLTREE_MAP ? resources : NULL;
        limits = yamltree_map_get(resources, "limits");
        limits = limits && limits->kind == YAMLTREE_MAP ? limits : NULL;
        resv = yamltree_map_get(resources, "reservations");
        resv = resv && resv->kind == YAMLTREE_MAP ? resv : NULL;

        r = check_replicas(f, who, "scale", yamltree_map_get(svc, "scale"));
        if (r == 0 && deploy)
                r = check_replicas(f, who, "deploy.replicas", yamltree_map_get(deploy, "replicas"));
        if (r < 0)
                return r;
        n = yamltree_map_get(svc, "ulimits");
        if (!policy_is_null(n) && n->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "ulimits must be a mapping", n);
        for (size_t i = 0; n && n->kind == YAMLTREE_MAP && i + 1 < n->n; i += 2)
                check_ulimit(f, who, n->items[i], n->items[i + 1]);
        n = yamltree_map_get(svc, "oom_score_adj");
        if (!policy_is_null(n) && (!parse_int(n, &x) || x < 0))
                policy_need(f, PERM_OOM, who, "oom_score_adj: %s",
                            yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, sizeof buf) : "?");
        if (!policy_is_false(yamltree_map_get(svc, "oom_kill_disable")))
                policy_need(f, PERM_OOM, who, "oom_kill_disable");

        if (parse_cpus(yamltree_map_get(svc, "cpus"), &d) && d < cpus)
                cpus = d;
        if (parse_cpus(yamltree_map_get(limits, "cpus"), &d) && d < cpus)
                cpus = d;
        /* the Engine refuses a CPU quota next to a CPU count: fold it in */
        n = yamltree_map_get(svc, "cpu_period");
        if (n && !parse_count(n, &period))
                period = 0;
        if (period && parse_count(yamltree_map_get(svc, "cpu_quota"), &u) && (double)u / (double)period < cpus)
                cpus = (double)u / (double)period;
        yamltree_map_del(svc, "cpu_quota", false);
        yamltree_map_del(svc, "cpu_period", false);
        format_cpus(cpus, buf, sizeof buf);
        r = yamltree_map_set_text(svc, "cpus", buf, YAML_PLAIN_SCALAR_STYLE);
        /* a weight above the default takes CPU from every other stack's containers */
        n = yamltree_map_get(svc, "cpu_shares");
        if (r == 0 && n && (!parse_count(n, &u) || u > POLICY_MAX_CPU_SHARES))
                r = set_number(svc, "cpu_shares", "%u", (unsigned)POLICY_MAX_CPU_SHARES);
        if (r == 0) {
                mem = tightest(mem, svc, "mem_limit", limits, "memory", parse_bytes);
                r = set_number(svc, "mem_limit", "%llu", (unsigned long long)mem);
        }
        /* memory + swap = memory: no swap, whatever the file said (-1 is unlimited swap) */
        if (r == 0)
                r = set_number(svc, "memswap_limit", "%llu", (unsigned long long)mem);
        /* a reservation above the limit makes the Engine refuse the container */
        if (r == 0 && parse_bytes(yamltree_map_get(svc, "mem_reservation"), &u) && u > mem)
                r = set_number(svc, "mem_reservation", "%llu", (unsigned long long)mem);
        if (r == 0 && parse_bytes(yamltree_map_get(resv, "memory"), &u) && u > mem) {
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)mem);
                r = yamltree_map_set_text(resv, "memory", buf, YAML_SINGLE_QUOTED_SCALAR_STYLE);
        }
        if (r == 0) {
                pids = tightest(pids, svc, "pids_limit", limits, "pids", parse_count);
                r = set_number(svc, "pids_limit", "%llu", (unsigned long long)pids);
        }
        if (r == 0 && limits) {
                yamltree_map_del(resources, "limits", false);
                if (resources->n == 0)
                        yamltree_map_del(deploy, "resources", false);
                if (deploy->n == 0)
                        yamltree_map_del(svc, "deploy", false);
        }
        return r < 0 ? policy_oom(f->a->err) : 0;
}

unsigned policy_reserved_port(const struct apply *a, const char *s, size_t len)
{
        char buf[32], *end;
        unsigned long lo, hi;

        if (len == 0 || len >= sizeof buf)
                return 0;
        memcpy(buf, s, len);
        buf[len] = 0;
        lo = strtoul(buf, &end, 10);
        if (end == buf)
                return 0;
        hi = lo;
        if (*end == '-') {
                char *p = end + 1;
                hi = strtoul(p, &end, 10);
                if (end == p)
                        return 0;
        }
        for (size_t i = 0; i < a->limits->n_reserved; i++)
                if (a->limits->reserved[i] >= lo && a->limits->reserved[i] <= hi)
                        return a->limits->reserved[i];
        return 0;
}

static void reserve(struct policy_limits *l, int port)
{
        if (port <= 0 || l->n_reserved >= POLICY_MAX_RESERVED)
                return;
        for (size_t i = 0; i < l->n_reserved; i++)
                if (l->reserved[i] == (unsigned)port)
                        return;
        l->reserved[l->n_reserved++] = (unsigned)port;
}

void policy_limits_default(struct policy_limits *l)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        memset(l, 0, sizeof *l);
        l->cpus = n > 0 ? (double)n : 1;
        l->memory = POLICY_DEFAULT_MEMORY;
        l->pids = POLICY_DEFAULT_PIDS;
        l->replicas = POLICY_DEFAULT_REPLICAS;
        reserve(l, PORTS_API_DEFAULT);
        reserve(l, ports_front_https()); /* 443, or STACK_PROXY_PORT */
        reserve(l, ports_front_http());  /* 80 unless STACK_PROXY_PORT is set, or STACK_PROXY_HTTP_PORT */
}

static int config_bad(struct error *err, const char *path, const char *key, const char *want)
{
        return error_set(err, STACK_EUSAGE, "%s: \"%s\" must be %s", path, key, want);
}

/* "images": {"keep": bool, "stacks": {"SLUG": bool}} (spec/store.md "Registry images"). */
static int check_images(struct error *err, const char *path, json_t *v)
{
        const char *k, *slug;
        json_t *x, *b;

        if (!json_is_object(v))
                return config_bad(err, path, "images", "an object");
        json_object_foreach(v, k, x)
        {
                if (!strcmp(k, "keep") && !json_is_boolean(x))
                        return config_bad(err, path, "images.keep", "true or false");
                if (!strcmp(k, "stacks")) {
                        if (!json_is_object(x))
                                return config_bad(err, path, "images.stacks", "an object of SLUG: true|false");
                        json_object_foreach(x, slug, b) if (!json_is_boolean(b)) return config_bad(
                                err, path, "images.stacks", "an object of SLUG: true|false");
                } else if (strcmp(k, "keep")) {
                        return error_set(err, STACK_EUSAGE, "%s: unknown key \"images.%s\" (known: keep, stacks)", path,
                                         k);
                }
        }
        return 0;
}

/* "watch": {"restart_count": N, "restart_seconds": S} (spec/run.md "Watching"; read by orch/watch.c). */
static int check_watch(struct error *err, const char *path, json_t *v)
{
        const char *k;
        json_t *x;

        if (!json_is_object(v))
                return config_bad(err, path, "watch", "an object");
        json_object_foreach(v, k, x)
        {
                if (!strcmp(k, "restart_count")) {
                        if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > 64)
                                return config_bad(err, path, "watch.restart_count", "a count (1-64)");
                } else if (!strcmp(k, "restart_seconds")) {
                        if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > 86400)
                                return config_bad(err, path, "watch.restart_seconds", "seconds (1-86400)");
                } else {
                        return error_set(err, STACK_EUSAGE,
                                         "%s: unknown key \"watch.%s\" (known: restart_count, restart_seconds)", path,
                                         k);
                }
        }
        return 0;
}

/* "swarm": {"default": bool, "engines": {"<node>": "unix:///path"}, and the registry's keys, which
 * run/swarm-registry.c checks when a deploy reads them} (spec/run.md "Swarm"). */
static int check_swarm(struct error *err, const char *path, json_t *v)
{
        json_t *x = json_object_get(v, "default"), *engines = json_object_get(v, "engines"), *e;
        const char *k;

        if (!json_is_object(v))
                return config_bad(err, path, "swarm", "an object");
        if (x && !json_is_boolean(x))
                return config_bad(err, path, "swarm.default", "true or false");
        if (engines && !json_is_object(engines))
                return config_bad(err, path, "swarm.engines", "an object of node names and unix:// sockets");
        json_object_foreach(engines, k, e)
        {
                const char *sock = json_string_value(e);
                if (!sock || strncmp(sock, "unix:///", 8) != 0)
                        return error_set(err, STACK_EUSAGE,
                                         "%s: \"swarm.engines.%s\": expected an Engine socket \"unix:///path\"", path,
                                         k);
        }
        return 0;
}

int policy_limits_load(const char *home, struct policy_limits *l, struct error *err)
{
        char path[PATH_MAX];
        json_error_t je;
        json_t *root, *limits, *v;
        const char *key;
        int r = 0;

        policy_limits_default(l);
        if (!home || snprintf(path, sizeof path, "%s/" POLICY_CONFIG_FILE, home) >= (int)sizeof path)
                return 0;
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                if (access(path, F_OK) != 0 && errno == ENOENT)
                        return 0;
                return error_set(err, STACK_EUSAGE, "%s: %s (line %d)", path, je.text, je.line);
        }
        if (!json_is_object(root)) {
                json_decref(root);
                return error_set(err, STACK_EUSAGE, "%s: expected a JSON object", path);
        }
        json_object_foreach(root, key, v)
        {
                if (r < 0)
                        break;
                if (!strcmp(key, "api_port")) {
                        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
                                r = config_bad(err, path, key, "a port (1-65535)");
                        else
                                reserve(l, (int)json_integer_value(v));
                } else if (!strcmp(key, "images")) { /* read by run/regimages.c: checked here with the rest */
                        r = check_images(err, path, v);
                } else if (!strcmp(key, "watch")) { /* read by orch/watch.c */
                        r = check_watch(err, path, v);
                } else if (!strcmp(key, "swarm")) { /* read by run/runner-swarm.c, run/swarm-registry.c, orch/swarm.c */
                        r = check_swarm(err, path, v);
                } else if (strcmp(key, "limits") != 0) {
                        r = error_set(err, STACK_EUSAGE,
                                      "%s: unknown key \"%s\" (known: limits, api_port, images, watch, swarm)", path,
                                      key);
                }
        }
        limits = json_object_get(root, "limits");
        if (r == 0 && limits && !json_is_object(limits))
                r = config_bad(err, path, "limits", "an object");
        json_object_foreach(limits, key, v)
        {
                if (r < 0)
                        break;
                if (!strcmp(key, "cpus")) {
                        if (!json_is_number(v) || !(json_number_value(v) >= MIN_CPUS))
                                r = config_bad(err, path, "limits.cpus", "a number of CPUs (at least 0.01)");
                        else
                                l->cpus = json_number_value(v);
                } else if (!strcmp(key, "memory")) {
                        struct yamltree_node n = {.kind = YAMLTREE_SCALAR};
                        uint64_t b;

                        if (json_is_string(v)) {
                                n.text = (char *)json_string_value(v);
                                n.len = json_string_length(v);
                        }
                        if (json_is_integer(v) && json_integer_value(v) > 0)
                                l->memory = (uint64_t)json_integer_value(v);
                        else if (n.text && parse_bytes(&n, &b) && b >= 6 * 1024 * 1024)
                                l->memory = b;
                        else
                                r = config_bad(err, path, "limits.memory", "bytes (\"4g\", \"512m\", at least 6m)");
                } else if (!strcmp(key, "pids") || !strcmp(key, "replicas")) {
                        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000)
                                r = config_bad(err, path, key, "a count (1-1000000)");
                        else if (!strcmp(key, "pids"))
                                l->pids = (unsigned)json_integer_value(v);
                        else
                                l->replicas = (unsigned)json_integer_value(v);
                } else {
                        r = error_set(err, STACK_EUSAGE,
                                      "%s: unknown key \"limits.%s\" (known: cpus, memory, pids, replicas)", path, key);
                }
        }
        json_decref(root);
        return r;
}

int policy_apply_labels(struct file *f, const char *who, struct yamltree_node *svc)
{
        const char *const *l = f->a->in->labels;
        struct yamltree_node *v;
        size_t i, k;
        int r = 0;

        if (!l || !*l)
                return 0;
        v = yamltree_map_get(svc, "labels");
        if (policy_is_null(v)) {
                if (yamltree_map_set(svc, "labels", YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(YAMLTREE_MAP)) < 0)
                        return policy_oom(f->a->err);
                v = yamltree_map_get(svc, "labels");
        }
        if (v->kind == YAMLTREE_SCALAR)
                return policy_malformed(f, who, "labels must be a mapping or a list", v);
        if (policy_prepare_append(v) < 0)
                return policy_oom(f->a->err);
        for (i = 0; l[i] && r == 0; i++) {
                const char *eq = strchr(l[i], '=');
                size_t klen = eq ? (size_t)(eq - l[i]) : strlen(l[i]);
                char *key = strndup(l[i], klen), *val = policy_escape_dollars(eq ? eq + 1 : ""), *item = NULL;

                if (!key || !val) {
                        r = -ENOMEM;
                } else if (v->kind == YAMLTREE_MAP) {
                        r = yamltree_map_set(v, key, YAML_DOUBLE_QUOTED_SCALAR_STYLE,
                                             yamltree_scalar_new(val, strlen(val), YAML_DOUBLE_QUOTED_SCALAR_STYLE));
                } else if (asprintf(&item, "%s=%s", key, val) < 0) {
                        item = NULL;
                        r = -ENOMEM;
                } else {
                        struct yamltree_node *n = NULL;

                        for (k = 0; k < v->n; k++) {
                                struct yamltree_node *e = v->items[k];

                                if (yamltree_is_scalar(e) && e->len >= klen && memcmp(e->text, key, klen) == 0 &&
                                    (e->len == klen || e->text[klen] == '='))
                                        break;
                        }
                        if (k < v->n) {
                                yamltree_scalar_replace(v->items[k], item, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                                item = NULL;
                        } else if (!(n = yamltree_scalar_new(item, strlen(item), YAML_DOUBLE_QUOTED_SCALAR_STYLE)) ||
                                   yamltree_append(v, n) < 0) {
                                yamltree_free(n);
                                r = -ENOMEM;
                        }
                }
                free(item);
                free(key);
                free(val);
        }
        return r < 0 ? policy_oom(f->a->err) : 0;
}
