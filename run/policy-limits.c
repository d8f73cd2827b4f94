/* policy-limits.c - what stack adds to every service: the stack's resource limits (cpus, mem_limit,
 * pids_limit, unless the service sets tighter ones) and the labels that tie containers to the run.
 */
#include "policy-int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* A CPU limit > 0 ("0.5", 2). Absent, 0 (no limit), a variable or junk: false. */
static bool parse_cpus(const struct yamltree_node *n, double *ret)
{
        uint64_t whole = 0;
        double frac = 0;

        if (!is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len ||
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

        if (!is_scalar(n) || !(i = yamltree_parse_decimal(n->text, n->len, &whole, &frac)))
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

        if (!is_scalar(n) || !n->len || yamltree_parse_decimal(n->text, n->len, &whole, &frac) != n->len ||
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
        return map_set_text(m, key, buf, YAML_PLAIN_SCALAR_STYLE);
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

        if (parse(map_get(svc, skey), &u) && u < v)
                v = u;
        if (parse(map_get(limits, lkey), &u) && u < v)
                v = u;
        return v;
}

/* Without a stack limit: deploy.resources.limits' lkey moves to the service's skey, unless that is set. */
static int fold_limit(struct yamltree_node *svc, const char *skey, struct yamltree_node *limits, const char *lkey)
{
        if (!limits || !map_get(limits, lkey) || map_get(svc, skey))
                return 0;
        return map_set(svc, skey, YAML_PLAIN_SCALAR_STYLE, map_del(limits, lkey, true));
}

/* The stack's limits on every service, unless the service sets tighter ones. The service-level keys are the
 * ones compose v1 and v2 both honour; deploy.resources.limits (v2 only, and v2 refuses the two when they
 * differ) is folded into them and dropped. */
int apply_limits(struct file *f, struct yamltree_node *svc)
{
        const struct manifest_resources *res = &f->a->in->m->resources;
        struct yamltree_node *deploy, *resources, *limits, *resv, *n;
        char buf[64];
        uint64_t mem = res->memory, pids = res->pids, u, period = 100000;
        double cpus = res->cpus, d;
        int r = 0;

        if (!(cpus > 0) && !mem && !pids)
                return 0;
        deploy = map_get(svc, "deploy");
        resources = deploy && deploy->kind == YAMLTREE_MAP ? map_get(deploy, "resources") : NULL;
        resources = resources && resources->kind == YAMLTREE_MAP ? resources : NULL;
        limits = map_get(resources, "limits");
        limits = limits && limits->kind == YAMLTREE_MAP ? limits : NULL;
        resv = map_get(resources, "reservations");
        resv = resv && resv->kind == YAMLTREE_MAP ? resv : NULL;

        if (cpus > 0) {
                if (parse_cpus(map_get(svc, "cpus"), &d) && d < cpus)
                        cpus = d;
                if (parse_cpus(map_get(limits, "cpus"), &d) && d < cpus)
                        cpus = d;
                /* the Engine refuses a CPU quota next to a CPU count: fold it in */
                n = map_get(svc, "cpu_period");
                if (n && !parse_count(n, &period))
                        period = 0;
                if (period && parse_count(map_get(svc, "cpu_quota"), &u) && (double)u / (double)period < cpus)
                        cpus = (double)u / (double)period;
                map_del(svc, "cpu_quota", false);
                map_del(svc, "cpu_period", false);
                format_cpus(cpus, buf, sizeof buf);
                r = map_set_text(svc, "cpus", buf, YAML_PLAIN_SCALAR_STYLE);
        } else {
                r = fold_limit(svc, "cpus", limits, "cpus");
        }
        if (r == 0 && mem) {
                mem = tightest(mem, svc, "mem_limit", limits, "memory", parse_bytes);
                r = set_number(svc, "mem_limit", "%llu", (unsigned long long)mem);
                /* a reservation above the limit makes the Engine refuse the container */
                if (r == 0 && parse_bytes(map_get(svc, "mem_reservation"), &u) && u > mem)
                        r = set_number(svc, "mem_reservation", "%llu", (unsigned long long)mem);
                if (r == 0 && parse_bytes(map_get(resv, "memory"), &u) && u > mem) {
                        snprintf(buf, sizeof buf, "%llu", (unsigned long long)mem);
                        r = map_set_text(resv, "memory", buf, YAML_SINGLE_QUOTED_SCALAR_STYLE);
                }
        } else if (r == 0) {
                r = fold_limit(svc, "mem_limit", limits, "memory");
        }
        if (r == 0 && pids) {
                pids = tightest(pids, svc, "pids_limit", limits, "pids", parse_count);
                r = set_number(svc, "pids_limit", "%llu", (unsigned long long)pids);
        } else if (r == 0) {
                r = fold_limit(svc, "pids_limit", limits, "pids");
        }
        if (r == 0 && limits) {
                map_del(resources, "limits", false);
                if (resources->n == 0)
                        map_del(deploy, "resources", false);
                if (deploy->n == 0)
                        map_del(svc, "deploy", false);
        }
        return r < 0 ? oom(f->a->err) : 0;
}

int apply_labels(struct file *f, const char *who, struct yamltree_node *svc)
{
        const char *const *l = f->a->in->labels;
        struct yamltree_node *v;
        size_t i, k;
        int r = 0;

        if (!l || !*l)
                return 0;
        v = map_get(svc, "labels");
        if (is_null(v)) {
                if (map_set(svc, "labels", YAML_PLAIN_SCALAR_STYLE, node_new(YAMLTREE_MAP)) < 0)
                        return oom(f->a->err);
                v = map_get(svc, "labels");
        }
        if (v->kind == YAMLTREE_SCALAR)
                return malformed(f, who, "labels must be a mapping or a list", v);
        if (prepare_append(v) < 0)
                return oom(f->a->err);
        for (i = 0; l[i] && r == 0; i++) {
                const char *eq = strchr(l[i], '=');
                size_t klen = eq ? (size_t)(eq - l[i]) : strlen(l[i]);
                char *key = strndup(l[i], klen), *val = escape_dollars(eq ? eq + 1 : ""), *item = NULL;

                if (!key || !val) {
                        r = -ENOMEM;
                } else if (v->kind == YAMLTREE_MAP) {
                        r = map_set(v, key, YAML_DOUBLE_QUOTED_SCALAR_STYLE,
                                    scalar_new(val, strlen(val), YAML_DOUBLE_QUOTED_SCALAR_STYLE));
                } else if (asprintf(&item, "%s=%s", key, val) < 0) {
                        item = NULL;
                        r = -ENOMEM;
                } else {
                        struct yamltree_node *n = NULL;

                        for (k = 0; k < v->n; k++) {
                                struct yamltree_node *e = v->items[k];

                                if (is_scalar(e) && e->len >= klen && memcmp(e->text, key, klen) == 0 &&
                                    (e->len == klen || e->text[klen] == '='))
                                        break;
                        }
                        if (k < v->n) {
                                scalar_replace(v->items[k], item, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                                item = NULL;
                        } else if (!(n = scalar_new(item, strlen(item), YAML_DOUBLE_QUOTED_SCALAR_STYLE)) ||
                                   node_append(v, n) < 0) {
                                yamltree_free(n);
                                r = -ENOMEM;
                        }
                }
                free(item);
                free(key);
                free(val);
        }
        return r < 0 ? oom(f->a->err) : 0;
}
