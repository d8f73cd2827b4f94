/* policy-swarm-deploy.c - a service's deploy section in the swarm file (spec/run.md "Swarm file"): every
 * service at replicas 0 with its desired count in the label io.stack.replicas, endpoint_mode dnsrr, the limits as
 * deploy.resources, `restart` as the restart policy, the data node's placement constraint for a service that
 * keeps data, and the swarm-only keys bounded (placement, update_config, rollback_config, restart_policy);
 * anything else under deploy is refused.
 */
#include "policy-swarm-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define SWARM_MAX_SECONDS 600.0 /* delays, monitors and windows */
#define SWARM_MAX_RESTART 100   /* restart_policy.max_attempts */
#define MONITOR_DEFAULT   "10s"

/* A Go duration ("10s", "1m30s", "500ms", "0") of at most max seconds. */
static bool get_duration(const struct yamltree_node *n, double max)
{
        static const struct {
                const char *unit;
                double seconds;
        } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
        const char *p, *e;
        double total = 0;

        if (!yamltree_is_scalar(n) || !n->len)
                return false;
        p = n->text;
        e = p + n->len;
        if (n->len == 1 && *p == '0')
                return true;
        while (p < e) {
                uint64_t w;
                double fr;
                size_t k = yamltree_parse_decimal(p, (size_t)(e - p), &w, &fr), i, best = COUNT(units), blen = 0;

                if (!k)
                        return false;
                p += k;
                for (i = 0; i < COUNT(units); i++) {
                        size_t ul = strlen(units[i].unit);

                        if ((size_t)(e - p) >= ul && !memcmp(p, units[i].unit, ul) && ul > blen) {
                                best = i;
                                blen = ul;
                        }
                }
                if (best == COUNT(units))
                        return false;
                p += blen;
                total += ((double)w + fr) * units[best].seconds;
        }
        return total <= max;
}

/* `restart:` as deploy.restart_policy (used when deploy says none). */
static int convert_restart(struct sw *s, struct svc *v, struct yamltree_node *rp)
{
        const struct yamltree_node *n = v->restart;
        const char *cond = NULL;
        char buf[80];

        if (policy_is_null(n))
                return 0;
        if (!yamltree_is_scalar(n))
                return swarm_refuse(s, "%s: restart must be a string", v->who);
        if (yamltree_text_is(n, "no") || yamltree_text_is(n, "false"))
                cond = "none";
        else if (yamltree_text_is(n, "always") || yamltree_text_is(n, "unless-stopped"))
                cond = "any";
        else if (!strncmp(n->text, "on-failure", 10) && (n->text[10] == 0 || n->text[10] == ':'))
                cond = "on-failure";
        if (!cond)
                return swarm_refuse(s, "%s: restart: %s is not a restart policy", v->who,
                                    swarm_show(n, buf, sizeof buf));
        if (yamltree_map_set_text(rp, "condition", cond, YAML_PLAIN_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        if (!strcmp(cond, "on-failure") && n->text[10] == ':') { /* "on-failure" is 10 bytes */
                struct yamltree_node t = {.kind = YAMLTREE_SCALAR, .text = n->text + 11, .len = n->len - 11};
                uint64_t u;

                if (!swarm_uint(&t, SWARM_MAX_RESTART, &u))
                        return swarm_refuse(s, "%s: restart: %s: at most %d attempts", v->who,
                                            swarm_show(n, buf, sizeof buf), SWARM_MAX_RESTART);
                if (yamltree_map_set_text(rp, "max_attempts", t.text, YAML_PLAIN_SCALAR_STYLE) < 0)
                        return policy_oom(s->err);
        }
        return 0;
}

/* ---- deploy ---- */

static int bad_value(struct sw *s, struct svc *v, const char *key, const struct yamltree_node *n, const char *want)
{
        char buf[80];

        return swarm_refuse(s, "%s: deploy.%s: %s is not %s", v->who, key, swarm_show(n, buf, sizeof buf), want);
}

/* restart_policy, update_config, rollback_config: each key bounded, then copied. */
static int convert_policy(struct sw *s, struct svc *v, const char *key, const struct yamltree_node *in,
                          struct yamltree_node *out)
{
        static const char *const conditions[] = {"none", "on-failure", "any", NULL};
        static const char *const update_actions[] = {"continue", "pause", "rollback", NULL};
        static const char *const rollback_actions[] = {"continue", "pause", NULL};
        static const char *const orders[] = {"stop-first", "start-first", NULL};
        static const char *const durations[] = {"delay", "monitor", "window", NULL};
        bool restart = !strcmp(key, "restart_policy"), rollback = !strcmp(key, "rollback_config");
        char path[64], buf[80];
        uint64_t u, w;
        double fr;

        if (policy_is_null(in))
                return 0;
        if (in->kind != YAMLTREE_MAP)
                return bad_value(s, v, key, in, "a mapping");
        for (size_t i = 0; i < in->n; i += 2) {
                const struct yamltree_node *k = in->items[i], *n = in->items[i + 1];
                bool ok;

                snprintf(path, sizeof path, "%s.%s", key, swarm_show(k, buf, sizeof buf));
                if (restart && yamltree_text_is(k, "condition"))
                        ok = swarm_text_in(n, conditions) ||
                             (bad_value(s, v, path, n, "none, on-failure or any"), false);
                else if (restart && yamltree_text_is(k, "max_attempts"))
                        ok = swarm_uint(n, SWARM_MAX_RESTART, &u) || (bad_value(s, v, path, n, "0 .. 100"), false);
                else if (yamltree_text_is(k, "delay") || (restart && yamltree_text_is(k, "window")) ||
                         (!restart && yamltree_text_is(k, "monitor")))
                        ok = get_duration(n, SWARM_MAX_SECONDS) ||
                             (bad_value(s, v, path, n, "a duration of at most 10m"), false);
                else if (!restart && yamltree_text_is(k, "parallelism"))
                        ok = swarm_uint(n, s->max, &u) ||
                             (bad_value(s, v, path, n, "a count up to the replicas bound"), false);
                else if (!restart && yamltree_text_is(k, "failure_action"))
                        ok = swarm_text_in(n, rollback ? rollback_actions : update_actions) ||
                             (bad_value(s, v, path, n, rollback ? "continue or pause" : "continue, pause or rollback"),
                              false);
                else if (!restart && yamltree_text_is(k, "max_failure_ratio"))
                        ok = (yamltree_is_scalar(n) && n->len &&
                              yamltree_parse_decimal(n->text, n->len, &w, &fr) == n->len && (double)w + fr <= 1) ||
                             (bad_value(s, v, path, n, "a ratio 0 .. 1"), false);
                else if (!restart && yamltree_text_is(k, "order"))
                        ok = swarm_text_in(n, orders) || (bad_value(s, v, path, n, "stop-first or start-first"), false);
                else
                        return swarm_refuse(s, "%s: deploy.%s is not supported on swarm", v->who, path);
                if (!ok)
                        return -STACK_EREJECT;
                if (yamltree_map_set(out, k->text, YAML_PLAIN_SCALAR_STYLE, yamltree_copy(n)) < 0)
                        return policy_oom(s->err);
                if (swarm_text_in(k, durations)) /* `delay: 0` is a number to YAML, a duration must be a string */
                        swarm_quote_all(yamltree_map_get(out, k->text));
        }
        return 0;
}

/* One placement constraint "node.<attr> ==|!= value" of the forms stack knows; a stateful service's may not
 * name a node other than the data node. */
static int check_constraint(struct sw *s, struct svc *v, const struct yamltree_node *n)
{
        char buf[80], lhs[128], rhs[256];
        const char *op, *t;
        size_t ll;
        bool eq;

        if (!yamltree_is_scalar(n) || !(op = strstr(n->text, "==") ? strstr(n->text, "==") : strstr(n->text, "!=")))
                return bad_value(s, v, "placement.constraints", n,
                                 "node.id, node.hostname, node.role or "
                                 "node.labels.* with == or !=");
        eq = op[0] == '=';
        for (t = n->text; *t == ' '; t++)
                ;
        for (ll = (size_t)(op - t); ll && t[ll - 1] == ' '; ll--)
                ;
        snprintf(lhs, sizeof lhs, "%.*s", (int)ll, t);
        for (t = op + 2; *t == ' '; t++)
                ;
        snprintf(rhs, sizeof rhs, "%s", t);
        for (ll = strlen(rhs); ll && rhs[ll - 1] == ' '; ll--)
                rhs[ll - 1] = 0;
        if (!rhs[0] || strchr(rhs, '=') ||
            (strcmp(lhs, "node.id") && strcmp(lhs, "node.hostname") && strcmp(lhs, "node.role") &&
             (strncmp(lhs, "node.labels.", 12) || !lhs[12])))
                return bad_value(s, v, "placement.constraints", n,
                                 "node.id, node.hostname, node.role or "
                                 "node.labels.* with == or !=");
        if (!v->stateful)
                return 0;
        if ((!strcmp(lhs, "node.id") && (eq != (s->o->data_node && !strcmp(rhs, s->o->data_node)))) ||
            (!strcmp(lhs, "node.hostname") &&
             (eq != (s->o->data_hostname && !strcmp(rhs, s->o->data_hostname)) || !s->o->data_hostname)))
                return swarm_refuse(s, "%s keeps its data on node %s; its placement names node %s", v->who,
                                    s->o->data_node ? s->o->data_node : "?",
                                    yamltree_show(rhs, strlen(rhs), buf, sizeof buf));
        return 0;
}

static int convert_placement(struct sw *s, struct svc *v, const struct yamltree_node *in, struct yamltree_node *dep)
{
        const struct yamltree_node *cons = yamltree_map_get(in, "constraints"),
                                   *mx = yamltree_map_get(in, "max_replicas_per_node");
        struct yamltree_node *out, *list;
        char want[256];
        uint64_t u;
        int r;

        if (!policy_is_null(in) && in->kind != YAMLTREE_MAP)
                return bad_value(s, v, "placement", in, "a mapping");
        for (size_t i = 0; in && in->kind == YAMLTREE_MAP && i < in->n; i += 2)
                if (!yamltree_text_is(in->items[i], "constraints") &&
                    !yamltree_text_is(in->items[i], "max_replicas_per_node"))
                        return swarm_refuse(s, "%s: deploy.placement.%s is not supported on swarm", v->who,
                                            swarm_show(in->items[i], want, sizeof want));
        if (!policy_is_null(cons) && cons->kind != YAMLTREE_SEQ)
                return bad_value(s, v, "placement.constraints", cons, "a list");
        if (v->stateful && !s->o->data_node)
                return error_set(s->err, STACK_EFAIL, "policy_swarm_file: %s keeps data and no data node was given",
                                 v->who);
        if (policy_is_null(cons) && policy_is_null(mx) && !v->stateful)
                return 0;
        if (!(out = swarm_child(dep, "placement", YAMLTREE_MAP)))
                return policy_oom(s->err);
        if (!policy_is_null(mx)) {
                if (!swarm_uint(mx, s->max, &u))
                        return bad_value(s, v, "placement.max_replicas_per_node", mx,
                                         "a count up to the replicas bound");
                if (swarm_set_copy(out, "max_replicas_per_node", mx) < 0)
                        return policy_oom(s->err);
        }
        if (!(list = swarm_child(out, "constraints", YAMLTREE_SEQ)))
                return policy_oom(s->err);
        snprintf(want, sizeof want, "node.id==%s", s->o->data_node ? s->o->data_node : "");
        for (size_t i = 0; cons && cons->kind == YAMLTREE_SEQ && i < cons->n; i++) {
                r = check_constraint(s, v, cons->items[i]);
                if (r < 0)
                        return r;
                if (v->stateful && yamltree_text_is(cons->items[i], want))
                        continue;
                if (swarm_add(list, yamltree_copy(cons->items[i])) < 0)
                        return policy_oom(s->err);
        }
        if (v->stateful && swarm_add_text(list, want, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        if (!list->n)
                yamltree_map_del(out, "constraints", false);
        return 0;
}

/* deploy.labels ("k=v" list or mapping) as a mapping, with stack's io.stack.replicas and io.stack.pids. */
static int convert_deploy_labels(struct sw *s, struct svc *v, const struct yamltree_node *in, struct yamltree_node *dep,
                                 uint64_t replicas)
{
        struct yamltree_node *out = yamltree_node_new(YAMLTREE_MAP);
        char num[32];
        int r = 0;

        if (!out || yamltree_map_set(dep, "labels", YAML_PLAIN_SCALAR_STYLE, out) < 0)
                return policy_oom(s->err);
        if (!policy_is_null(in) && in->kind == YAMLTREE_MAP) {
                for (size_t i = 0; r == 0 && i < in->n; i += 2)
                        r = yamltree_map_set(out, in->items[i]->text, YAML_PLAIN_SCALAR_STYLE,
                                             yamltree_copy(in->items[i + 1]));
                for (size_t i = 1; r == 0 && i < out->n; i += 2) /* strings, as swarm_copy_quoted() writes them */
                        if (yamltree_is_scalar(out->items[i]) && !yamltree_is_null(out->items[i]))
                                out->items[i]->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        } else if (!policy_is_null(in) && in->kind == YAMLTREE_SEQ) {
                for (size_t i = 0; r == 0 && i < in->n; i++) {
                        const struct yamltree_node *e = in->items[i];
                        const char *eq = yamltree_is_scalar(e) ? memchr(e->text, '=', e->len) : NULL;
                        char *key =
                                yamltree_is_scalar(e) ? strndup(e->text, eq ? (size_t)(eq - e->text) : e->len) : NULL;

                        if (!yamltree_is_scalar(e)) {
                                r = bad_value(s, v, "labels", e, "a label");
                                break;
                        }
                        r = key ? yamltree_map_set_text(out, key, eq ? eq + 1 : "", YAML_DOUBLE_QUOTED_SCALAR_STYLE)
                                : -ENOMEM;
                        free(key);
                }
        } else if (!policy_is_null(in)) {
                r = bad_value(s, v, "labels", in, "a mapping or a list");
        }
        if (r < 0)
                return r == -ENOMEM ? policy_oom(s->err) : r;
        snprintf(num, sizeof num, "%llu", (unsigned long long)replicas);
        if (yamltree_map_set_text(out, "io.stack.replicas", num, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        if (yamltree_is_scalar(v->pids) &&
            yamltree_map_set_text(out, "io.stack.pids", v->pids->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        return 0;
}

/* deploy.resources: the effective file's service-level limits (cpus, mem_limit) as limits; mem_reservation and
 * deploy's own reservations (cpus, memory) as reservations. */
static int convert_resources(struct sw *s, struct svc *v, const struct yamltree_node *in, struct yamltree_node *dep)
{
        static const char *const resv_keys[] = {"cpus", "memory", NULL};
        const struct yamltree_node *resv = yamltree_map_get(in, "reservations");
        struct yamltree_node *res, *lim, *out;
        char buf[80];

        for (size_t i = 0; in && in->kind == YAMLTREE_MAP && i < in->n; i += 2)
                if (!yamltree_text_is(in->items[i], "reservations"))
                        return swarm_refuse(s, "%s: deploy.resources.%s is not supported on swarm", v->who,
                                            swarm_show(in->items[i], buf, sizeof buf));
        for (size_t i = 0; resv && resv->kind == YAMLTREE_MAP && i < resv->n; i += 2)
                if (!swarm_text_in(resv->items[i], resv_keys))
                        return swarm_refuse(s, "%s: deploy.resources.reservations.%s is not supported on swarm", v->who,
                                            swarm_show(resv->items[i], buf, sizeof buf));
        if (!(res = swarm_child(dep, "resources", YAMLTREE_MAP)))
                return policy_oom(s->err);
        if (yamltree_is_scalar(v->cpus) || yamltree_is_scalar(v->mem)) {
                if (!(lim = swarm_child(res, "limits", YAMLTREE_MAP)) ||
                    (yamltree_is_scalar(v->cpus) &&
                     yamltree_map_set_text(lim, "cpus", v->cpus->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) ||
                    (yamltree_is_scalar(v->mem) &&
                     yamltree_map_set_text(lim, "memory", v->mem->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0))
                        return policy_oom(s->err);
        }
        if (yamltree_is_scalar(v->memres) || (resv && resv->kind == YAMLTREE_MAP && resv->n)) {
                if (!(out = swarm_child(res, "reservations", YAMLTREE_MAP)))
                        return policy_oom(s->err);
                for (size_t i = 0; resv && resv->kind == YAMLTREE_MAP && i < resv->n; i += 2)
                        if (yamltree_is_scalar(resv->items[i + 1]) &&
                            yamltree_map_set_text(out, resv->items[i]->text, resv->items[i + 1]->text,
                                                  YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
                                return policy_oom(s->err);
                if (yamltree_is_scalar(v->memres) && !yamltree_map_get(out, "memory") &&
                    yamltree_map_set_text(out, "memory", v->memres->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
                        return policy_oom(s->err);
        }
        if (!res->n)
                yamltree_map_del(dep, "resources", false);
        return 0;
}

int swarm_convert_deploy(struct sw *s, struct svc *v, struct yamltree_node *svc_out)
{
        static const char *const keys[] = {"replicas",        "mode",      "endpoint_mode",  "labels",
                                           "placement",       "resources", "restart_policy", "update_config",
                                           "rollback_config", NULL};
        const struct yamltree_node *in = v->deploy, *n;
        struct yamltree_node *dep, *p;
        uint64_t replicas = 1;
        char buf[80];
        int r;

        if (!policy_is_null(in) && in->kind != YAMLTREE_MAP)
                return swarm_refuse(s, "%s: deploy must be a mapping", v->who);
        in = policy_is_null(in) ? NULL : in;
        for (size_t i = 0; in && i < in->n; i += 2)
                if (!swarm_text_in(in->items[i], keys))
                        return swarm_refuse(s, "%s: deploy.%s is not supported on swarm", v->who,
                                            swarm_show(in->items[i], buf, sizeof buf));
        n = yamltree_map_get(in, "mode");
        if (!policy_is_null(n) && !yamltree_text_is(n, "replicated"))
                return swarm_refuse(s, "%s: deploy.mode: %s is not supported on swarm (stack runs replicated services)",
                                    v->who, swarm_show(n, buf, sizeof buf));
        n = yamltree_map_get(in, "replicas");
        if (policy_is_null(n))
                n = v->scale;
        if (!policy_is_null(n) && !swarm_uint(n, UINT64_MAX, &replicas))
                return bad_value(s, v, "replicas", n, "a number of replicas");
        if (replicas > s->max)
                return swarm_refuse(s, "%s: %llu replicas is above the %u a swarm service may run", v->who,
                                    (unsigned long long)replicas, s->max);
        n = yamltree_map_get(in, "endpoint_mode");
        if (!policy_is_null(n) && !yamltree_text_is(n, "dnsrr")) {
                r = swarm_note(s, "%s: deploy.endpoint_mode %s replaced by dnsrr (service virtual IPs need IPVS)",
                               v->who, swarm_show(n, buf, sizeof buf));
                if (r < 0)
                        return r;
        }
        if (!(dep = yamltree_node_new(YAMLTREE_MAP)) ||
            yamltree_map_set(svc_out, "deploy", YAML_PLAIN_SCALAR_STYLE, dep) < 0)
                return policy_oom(s->err);
        if (yamltree_map_set_text(dep, "replicas", "0", YAML_PLAIN_SCALAR_STYLE) < 0 ||
            yamltree_map_set_text(dep, "endpoint_mode", "dnsrr", YAML_PLAIN_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        r = convert_deploy_labels(s, v, yamltree_map_get(in, "labels"), dep, replicas);
        if (r == 0)
                r = convert_resources(s, v, yamltree_map_get(in, "resources"), dep);
        if (r == 0 && !(p = swarm_child(dep, "restart_policy", YAMLTREE_MAP)))
                r = policy_oom(s->err);
        if (r == 0 && !policy_is_null(yamltree_map_get(in, "restart_policy")))
                r = convert_policy(s, v, "restart_policy", yamltree_map_get(in, "restart_policy"), p);
        else if (r == 0)
                r = convert_restart(s, v, p);
        if (r == 0 && !p->n)
                yamltree_map_del(dep, "restart_policy", false);
        if (r == 0)
                r = convert_placement(s, v, yamltree_map_get(in, "placement"), dep);
        /* stack's upgrade relies on swarm rolling back a failed update */
        if (r == 0 && !(p = swarm_child(dep, "update_config", YAMLTREE_MAP)))
                r = policy_oom(s->err);
        if (r == 0)
                r = convert_policy(s, v, "update_config", yamltree_map_get(in, "update_config"), p);
        if (r == 0 && ((!yamltree_map_get(p, "failure_action") &&
                        yamltree_map_set_text(p, "failure_action", "rollback", YAML_PLAIN_SCALAR_STYLE) < 0) ||
                       (!yamltree_map_get(p, "monitor") &&
                        yamltree_map_set_text(p, "monitor", MONITOR_DEFAULT, YAML_PLAIN_SCALAR_STYLE) < 0)))
                r = policy_oom(s->err);
        if (r == 0 && !policy_is_null(yamltree_map_get(in, "rollback_config"))) {
                if (!(p = swarm_child(dep, "rollback_config", YAMLTREE_MAP)))
                        return policy_oom(s->err);
                r = convert_policy(s, v, "rollback_config", yamltree_map_get(in, "rollback_config"), p);
        }
        return r;
}
