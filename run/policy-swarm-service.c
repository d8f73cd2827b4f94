/* policy-swarm-service.c - one service of the swarm file (spec/run.md "Swarm file"): each key of the effective
 * file's service kept, converted (image by digest, binds absolute, tmpfs as mounts, routed ports in host mode,
 * env files absolute), dropped with a note (no-new-privileges, depends_on ...) or refused; what goes into deploy
 * (limits, restart, replicas) collected for policy-swarm-deploy.c. A key not in service_keys is refused.
 */
#include "policy-swarm-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

/* ---- a service's keys ---- */

static int convert_image(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *n)
{
        char buf[80];

        if (!yamltree_is_scalar(n) || yamltree_is_null(n))
                return swarm_refuse(s, "%s: image must be a string", v->who);
        for (size_t i = 0; s->o->images && s->o->images[i] && s->o->images[i + 1]; i += 2)
                if (!strcmp(s->o->images[i], n->text))
                        return yamltree_map_set_text(out, "image", s->o->images[i + 1],
                                                     YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0
                                       ? policy_oom(s->err)
                                       : 0;
        return swarm_refuse(s, "%s: image %s was not pushed to the swarm's registry", v->who,
                            yamltree_show(n->text, n->len, buf, sizeof buf));
}

/* The routed ports of the service, whatever its `ports` says, as host-mode ports the node picks. */
static int add_routed_ports(struct sw *s, struct svc *v, struct yamltree_node *out)
{
        struct yamltree_node *ports = NULL, *p;
        char num[16];

        for (size_t i = 0; i < s->o->n_routes; i++) {
                bool seen = false;

                if (strcmp(s->o->routes[i].service, v->name))
                        continue;
                for (size_t j = 0; j < i; j++)
                        seen |= !strcmp(s->o->routes[j].service, v->name) &&
                                s->o->routes[j].port == s->o->routes[i].port;
                if (seen)
                        continue;
                if (!ports && !(ports = swarm_child(out, "ports", YAMLTREE_SEQ)))
                        return policy_oom(s->err);
                p = yamltree_node_new(YAMLTREE_MAP);
                snprintf(num, sizeof num, "%d", s->o->routes[i].port);
                if (!p || yamltree_map_set_text(p, "target", num, YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set_text(p, "mode", "host", YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set_text(p, "protocol", "tcp", YAML_PLAIN_SCALAR_STYLE) < 0) {
                        yamltree_free(p);
                        return policy_oom(s->err);
                }
                if (swarm_add(ports, p) < 0)
                        return policy_oom(s->err);
        }
        return 0;
}

static bool routed(const struct sw *s, const struct svc *v, unsigned long port)
{
        for (size_t i = 0; i < s->o->n_routes; i++)
                if (!strcmp(s->o->routes[i].service, v->name) && (unsigned long)s->o->routes[i].port == port)
                        return true;
        return false;
}

/* Every published port must be a routed one (tcp): it is published by add_routed_ports(). */
static int check_ports(struct sw *s, struct svc *v, const struct yamltree_node *ports)
{
        char buf[80], *end;

        if (policy_is_null(ports))
                return 0;
        if (ports->kind != YAMLTREE_SEQ)
                return swarm_refuse(s, "%s: ports must be a list", v->who);
        for (size_t i = 0; i < ports->n; i++) {
                const struct yamltree_node *p = ports->items[i], *proto = NULL;
                char target[32] = "";
                unsigned long port = 0;

                if (p->kind == YAMLTREE_MAP) {
                        const struct yamltree_node *t = yamltree_map_get(p, "target");

                        proto = yamltree_map_get(p, "protocol");
                        if (yamltree_is_scalar(t))
                                snprintf(target, sizeof target, "%.*s", (int)(t->len < 31 ? t->len : 31), t->text);
                } else if (yamltree_is_scalar(p)) {
                        size_t first = 0, last[2] = {0, 0}, at, len;
                        const char *slash;

                        at = policy_split_colons(p->text, p->len, &first, last) ? last[1] + 1 : 0;
                        len = p->len - at;
                        slash = memchr(p->text + at, '/', len);
                        if (slash && strcmp(slash, "/tcp"))
                                proto = p; /* not tcp */
                        if (slash)
                                len = (size_t)(slash - (p->text + at));
                        snprintf(target, sizeof target, "%.*s", (int)(len < 31 ? len : 31), p->text + at);
                }
                port = strtoul(target, &end, 10);
                if (!target[0] || *end || (proto && !yamltree_text_is(proto, "tcp")) || !routed(s, v, port))
                        return swarm_refuse(
                                s,
                                "%s: ports: %s is published; on swarm only the front door's routed ports are "
                                "(host mode, tcp)",
                                v->who, swarm_show(p, buf, sizeof buf));
        }
        return 0;
}

/* One entry of volumes: binds made absolute; binds and volumes make the service stateful. */
static int convert_volume(struct sw *s, struct svc *v, struct yamltree_node *vols, const struct yamltree_node *e)
{
        static const char *const keys[] = {"type", "source", "target", "read_only", "consistency",
                                           "bind", "volume", "tmpfs",  NULL};
        static const char *const sub[] = {"bind", "propagation", "volume", "nocopy", "tmpfs", "size", NULL};
        const struct yamltree_node *type, *source;
        struct yamltree_node *c;
        char buf[80], *src;

        if (yamltree_is_scalar(e) && !yamltree_is_null(e)) {
                size_t first = 0, last[2];
                size_t n = policy_split_colons(e->text, e->len, &first, last);
                char *text;

                v->stateful = true; /* a bind, a named volume or an anonymous one: data on this node */
                if (n == 0 || e->text[0] != '.')
                        return swarm_add(vols, yamltree_copy(e));
                text = strndup(e->text, first);
                src = text ? swarm_absolute(s, text) : NULL;
                free(text);
                text = src ? policy_concat3(src, e->text + first, e->len - first, "") : NULL;
                free(src);
                if (!text)
                        return -ENOMEM;
                c = yamltree_scalar_new(text, strlen(text), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                free(text);
                return swarm_add(vols, c);
        }
        if (e->kind != YAMLTREE_MAP)
                return swarm_refuse(s, "%s: volumes: %s is not a volume", v->who, swarm_show(e, buf, sizeof buf));
        for (size_t i = 0; i < e->n; i += 2) {
                const struct yamltree_node *k = e->items[i], *val = e->items[i + 1];

                if (!swarm_text_in(k, keys))
                        return swarm_refuse(s, "%s: volumes: %s is not supported on swarm", v->who,
                                            swarm_show(k, buf, sizeof buf));
                for (size_t j = 0; sub[j]; j += 2)
                        if (yamltree_text_is(k, sub[j]) && val->kind == YAMLTREE_MAP)
                                for (size_t m = 0; m < val->n; m += 2)
                                        if (!yamltree_text_is(val->items[m], sub[j + 1]))
                                                return swarm_refuse(s, "%s: volumes: %s.%s is not supported on swarm",
                                                                    v->who, sub[j],
                                                                    swarm_show(val->items[m], buf, sizeof buf));
        }
        type = yamltree_map_get(e, "type");
        source = yamltree_map_get(e, "source");
        if (!yamltree_text_is(type, "tmpfs"))
                v->stateful = true;
        c = yamltree_copy(e);
        if (!c)
                return -ENOMEM;
        if (yamltree_text_is(type, "bind") && yamltree_is_scalar(source)) {
                src = swarm_absolute(s, source->text);
                if (!src || yamltree_map_set_text(c, "source", src, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) {
                        free(src);
                        yamltree_free(c);
                        return -ENOMEM;
                }
                free(src);
        }
        return swarm_add(vols, c);
}

/* Service-level tmpfs ("/run", "/run:size=64m"): docker CLI 20.10 ignores the key on swarm, so each becomes a
 * tmpfs mount. */
static int convert_tmpfs(struct sw *s, struct svc *v, struct yamltree_node *vols, const struct yamltree_node *n)
{
        char buf[80], size[32];

        if (yamltree_is_scalar(n) && !yamltree_is_null(n)) {
                struct yamltree_node one = {.kind = YAMLTREE_SEQ, .items = (struct yamltree_node **)&n, .n = 1};

                return convert_tmpfs(s, v, vols, &one);
        }
        if (n->kind != YAMLTREE_SEQ)
                return swarm_refuse(s, "%s: tmpfs must be a path or a list", v->who);
        for (size_t i = 0; i < n->n; i++) {
                const struct yamltree_node *e = n->items[i];
                const char *colon;
                struct yamltree_node *m, *t;
                uint64_t w = 0, mult = 1;
                double fr = 0;
                size_t k = 0;

                if (!yamltree_is_scalar(e) || !e->len)
                        return swarm_refuse(s, "%s: tmpfs: %s is not a path", v->who, swarm_show(e, buf, sizeof buf));
                colon = memchr(e->text, ':', e->len);
                if (colon) { /* only size=N[kmg]: swarm's tmpfs mounts have a size and a mode, 3.x only a size */
                        const char *o = colon + 1;
                        size_t ol = e->len - (size_t)(o - e->text);

                        if (ol > 5 && !memcmp(o, "size=", 5))
                                k = yamltree_parse_decimal(o + 5, ol - 5, &w, &fr);
                        if (k && k + 6 == ol && strchr("kKmMgG", o[ol - 1]))
                                mult = (o[ol - 1] | 0x20) == 'k' ? 1024 : (o[ol - 1] | 0x20) == 'm' ? 1 << 20 : 1 << 30;
                        else if (!k || k + 5 != ol)
                                return swarm_refuse(s, "%s: tmpfs: %s: only a size=... option is supported on swarm",
                                                    v->who, swarm_show(e, buf, sizeof buf));
                }
                m = yamltree_node_new(YAMLTREE_MAP);
                if (!m)
                        return -ENOMEM;
                snprintf(size, sizeof size, "%llu", (unsigned long long)(((double)w + fr) * (double)mult));
                t = yamltree_scalar_new(e->text, colon ? (size_t)(colon - e->text) : e->len,
                                        YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                if (yamltree_map_set_text(m, "type", "tmpfs", YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set(m, "target", YAML_PLAIN_SCALAR_STYLE, t) < 0 ||
                    (colon &&
                     yamltree_map_set(m, "tmpfs", YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(YAMLTREE_MAP)) < 0) ||
                    (colon &&
                     yamltree_map_set_text(yamltree_map_get(m, "tmpfs"), "size", size, YAML_PLAIN_SCALAR_STYLE) < 0)) {
                        yamltree_free(m);
                        return -ENOMEM;
                }
                if (swarm_add(vols, m) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int convert_volumes(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *n,
                           bool tmpfs)
{
        struct yamltree_node *vols;
        int r = 0;

        if (policy_is_null(n))
                return 0;
        vols = swarm_child(out, "volumes", YAMLTREE_SEQ);
        if (!vols)
                return policy_oom(s->err);
        if (tmpfs)
                r = convert_tmpfs(s, v, vols, n);
        else if (n->kind != YAMLTREE_SEQ)
                r = swarm_refuse(s, "%s: volumes must be a list", v->who);
        for (size_t i = 0; !tmpfs && r == 0 && n->kind == YAMLTREE_SEQ && i < n->n; i++)
                r = convert_volume(s, v, vols, n->items[i]);
        return r == -ENOMEM ? policy_oom(s->err) : r;
}

/* security_opt: no-new-privileges is all the effective file may hold without a permission; swarm (Engine API
 * 1.41) has no field for it. Anything else (an AppArmor or seccomp profile, SELinux labels) is refused. */
static int convert_security_opt(struct sw *s, struct svc *v, const struct yamltree_node *n)
{
        char buf[80];

        if (policy_is_null(n))
                return 0;
        if (n->kind != YAMLTREE_SEQ)
                return swarm_refuse(s, "%s: security_opt must be a list", v->who);
        for (size_t i = 0; i < n->n; i++)
                if (!yamltree_is_scalar(n->items[i]) || strncmp(n->items[i]->text, "no-new-privileges", 17))
                        return swarm_refuse(s, "%s: security_opt %s is not supported on swarm", v->who,
                                            swarm_show(n->items[i], buf, sizeof buf));
        return swarm_agg(s, AGG_NNP, v);
}

/* env_file: each file an absolute path (docker CLI reads them when it deploys). */
static int convert_env_file(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *n)
{
        struct yamltree_node *list;
        char buf[80];

        if (policy_is_null(n))
                return 0;
        if (yamltree_is_scalar(n)) {
                struct yamltree_node one = {.kind = YAMLTREE_SEQ, .items = (struct yamltree_node **)&n, .n = 1};

                return convert_env_file(s, v, out, &one);
        }
        if (n->kind != YAMLTREE_SEQ)
                return swarm_refuse(s, "%s: env_file must be a path or a list", v->who);
        list = swarm_child(out, "env_file", YAMLTREE_SEQ);
        for (size_t i = 0; list && i < n->n; i++) {
                const struct yamltree_node *e = n->items[i], *path = e;
                char *abs;
                int r;

                if (e->kind == YAMLTREE_MAP) {
                        path = yamltree_map_get(e, "path");
                        if (policy_is_false(yamltree_map_get(e, "required")) && yamltree_map_get(e, "required") &&
                            yamltree_is_scalar(path)) {
                                char *p = swarm_absolute(s, path->text);
                                bool there = p && access(p, F_OK) == 0;

                                free(p);
                                if (!there)
                                        continue; /* optional and absent: compose v2 skips it too */
                        }
                }
                if (!yamltree_is_scalar(path) || yamltree_is_null(path))
                        return swarm_refuse(s, "%s: env_file: %s is not a path", v->who,
                                            swarm_show(e, buf, sizeof buf));
                abs = swarm_absolute(s, path->text);
                r = abs ? swarm_add_text(list, abs, YAML_DOUBLE_QUOTED_SCALAR_STYLE) : -ENOMEM;
                free(abs);
                if (r < 0)
                        return policy_oom(s->err);
        }
        return list ? 0 : policy_oom(s->err);
}

/* A mapping whose keys must all be in keys (healthcheck, logging, a network attachment, a config reference). */
static int check_keys(struct sw *s, struct svc *v, const char *what, const struct yamltree_node *n,
                      const char *const *keys)
{
        char buf[80];

        for (size_t i = 0; n && n->kind == YAMLTREE_MAP && i < n->n; i += 2)
                if (!swarm_text_in(n->items[i], keys))
                        return swarm_refuse(s, "%s: %s.%s is not supported on swarm", v->who, what,
                                            swarm_show(n->items[i], buf, sizeof buf));
        return 0;
}

static int check_service_networks(struct sw *s, struct svc *v, const struct yamltree_node *n)
{
        static const char *const keys[] = {"aliases", NULL};
        int r = 0;

        for (size_t i = 1; n && n->kind == YAMLTREE_MAP && r == 0 && i < n->n; i += 2)
                r = check_keys(s, v, "networks", n->items[i], keys);
        return r;
}

static int check_refs(struct sw *s, struct svc *v, const char *what, const struct yamltree_node *n)
{
        static const char *const keys[] = {"source", "target", "uid", "gid", "mode", NULL};
        int r = 0;

        for (size_t i = 0; n && n->kind == YAMLTREE_SEQ && r == 0 && i < n->n; i++)
                r = check_keys(s, v, what, n->items[i], keys);
        return r;
}

/* ---- one service ---- */

/* What every service may lose, said once with the services' names: the service key dropped (NULL: what the
 * key's conversion drops) and why. */
static const struct {
        const char *key;
        const char *text;
} aggs[AGG_COUNT] = {
        [AGG_NNP] = {NULL, "no-new-privileges is not available for swarm services on this Engine (Engine API < 1.44)"},
        [AGG_MEMSWAP] = {"memswap_limit",
                         "memswap_limit dropped: swarm services have no swap limit (the memory limit stays)"},
        [AGG_PIDS] = {NULL, ("pids_limit is not in the swarm file (the compose 3.x schema of docker CLI 20.10 has no "
                             "deploy.resources.limits.pids); the service label io.stack.pids carries it")},
        [AGG_DEPENDS] = {"depends_on", "depends_on dropped: swarm starts services in no order"},
        [AGG_EXPOSE] = {"expose", "expose dropped: services on one network reach each other's ports"},
        [AGG_SHARES] = {"cpu_shares", "cpu_shares dropped: swarm services have no CPU weight (the CPU limit stays)"},
        [AGG_PULL] = {"pull_policy", "pull_policy dropped: every node pulls the pushed image by digest"},
        [AGG_DEVELOP] = {"develop", "develop dropped: compose watch does not drive swarm services"},
};

enum act {
        A_COPY,     /* as it is */
        A_STRINGS,  /* strings in the 3.x schema: every value quoted */
        A_QUOTED,   /* a mapping whose values are written quoted (environment, labels) */
        A_IMAGE,    /* by digest */
        A_VOLUMES,  /* binds absolute */
        A_TMPFS,    /* tmpfs mounts */
        A_PORTS,    /* routed ones only */
        A_ENV_FILE, /* absolute */
        A_SECOPT,   /* no-new-privileges dropped */
        A_HEALTH,   /* known keys */
        A_LOGGING,  /* known keys */
        A_NETWORKS, /* aliases only */
        A_REFS,     /* configs, secrets */
        A_KEEP,     /* read into struct svc for deploy */
        A_COUNT,    /* none of them: refused */
};

/* A service's keys swarm has (or stack converts), by what becomes of them; a key in none of these lists nor
 * in aggs is refused. */
static const char *const *const service_keys[A_COUNT] = {
        [A_COPY] = (const char *const[]){"read_only", "init", "ulimits", "tty", "stdin_open", NULL},
        [A_STRINGS] =
                (const char *const[]){"command", "entrypoint", "user", "working_dir", "cap_add", "cap_drop", "hostname",
                                      "stop_grace_period", "stop_signal", "dns", "dns_search", "extra_hosts", NULL},
        [A_QUOTED] = (const char *const[]){"environment", "labels", "sysctls", NULL},
        [A_IMAGE] = (const char *const[]){"image", NULL},
        [A_VOLUMES] = (const char *const[]){"volumes", NULL},
        [A_TMPFS] = (const char *const[]){"tmpfs", NULL},
        [A_PORTS] = (const char *const[]){"ports", NULL},
        [A_ENV_FILE] = (const char *const[]){"env_file", NULL},
        [A_SECOPT] = (const char *const[]){"security_opt", NULL},
        [A_HEALTH] = (const char *const[]){"healthcheck", NULL},
        [A_LOGGING] = (const char *const[]){"logging", NULL},
        [A_NETWORKS] = (const char *const[]){"networks", NULL},
        [A_REFS] = (const char *const[]){"configs", "secrets", NULL},
        [A_KEEP] = (const char *const[]){"cpus", "mem_limit", "mem_reservation", "pids_limit", "restart", "scale",
                                         "deploy", NULL},
};

/* k: n copied into out with every value quoted (swarm_quote_all()). */
static int copy_strings(struct sw *s, struct yamltree_node *out, const struct yamltree_node *k,
                        const struct yamltree_node *n)
{
        if (swarm_set_copy(out, k->text, n) < 0)
                return policy_oom(s->err);
        swarm_quote_all(yamltree_map_get(out, k->text));
        return 0;
}

static int convert_key(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *k,
                       const struct yamltree_node *n)
{
        static const char *const health[] = {"test", "interval", "timeout", "retries", "start_period", "disable", NULL};
        static const char *const logging[] = {"driver", "options", NULL};
        static const char *const health_strings[] = {"test", "interval", "timeout", "start_period", NULL};
        char buf[80];
        size_t i;

        for (i = 0; i < COUNT(aggs); i++)
                if (aggs[i].key && yamltree_text_is(k, aggs[i].key))
                        return policy_is_null(n) ? 0 : swarm_agg(s, (enum swarm_agg)i, v);
        for (i = 0; i < A_COUNT && !swarm_text_in(k, service_keys[i]); i++)
                ;
        switch ((enum act)i) {
        case A_IMAGE: return convert_image(s, v, out, n);
        case A_VOLUMES: return convert_volumes(s, v, out, n, false);
        case A_TMPFS: return convert_volumes(s, v, out, n, true);
        case A_PORTS: return check_ports(s, v, n);
        case A_ENV_FILE: return convert_env_file(s, v, out, n);
        case A_SECOPT: return convert_security_opt(s, v, n);
        case A_KEEP:
                if (yamltree_text_is(k, "cpus"))
                        v->cpus = n;
                else if (yamltree_text_is(k, "mem_limit"))
                        v->mem = n;
                else if (yamltree_text_is(k, "mem_reservation"))
                        v->memres = n;
                else if (yamltree_text_is(k, "pids_limit"))
                        v->pids = n;
                else if (yamltree_text_is(k, "restart"))
                        v->restart = n;
                else if (yamltree_text_is(k, "scale"))
                        v->scale = n;
                else
                        v->deploy = n;
                return 0;
        case A_HEALTH:
                if (check_keys(s, v, "healthcheck", n, health) < 0)
                        return -STACK_EREJECT;
                if (swarm_set_copy(out, k->text, n) < 0)
                        return policy_oom(s->err);
                for (size_t j = 0; health_strings[j]; j++)
                        swarm_quote_all(yamltree_map_get(yamltree_map_get(out, k->text), health_strings[j]));
                return 0;
        case A_LOGGING:
                if (check_keys(s, v, "logging", n, logging) < 0)
                        return -STACK_EREJECT;
                return copy_strings(s, out, k, n); /* the driver and the options are strings */
        case A_STRINGS: return copy_strings(s, out, k, n);
        case A_NETWORKS:
                if (check_service_networks(s, v, n) < 0)
                        return -STACK_EREJECT;
                break;
        case A_REFS:
                if (check_refs(s, v, k->text, n) < 0)
                        return -STACK_EREJECT;
                break;
        case A_QUOTED:
                return yamltree_map_set(out, k->text, YAML_PLAIN_SCALAR_STYLE, swarm_copy_quoted(n)) < 0
                               ? policy_oom(s->err)
                               : 0;
        case A_COPY: break;
        case A_COUNT:
                return swarm_refuse(s, "%s: %s is not supported on swarm", v->who, swarm_show(k, buf, sizeof buf));
        }
        return swarm_set_copy(out, k->text, n) < 0 ? policy_oom(s->err) : 0;
}

int swarm_convert_service(struct sw *s, const struct yamltree_node *key, const struct yamltree_node *in,
                          struct yamltree_node *services)
{
        struct svc v = {.name = key->text};
        struct yamltree_node *out;
        char buf[80];
        int r = 0;

        snprintf(v.who, sizeof v.who, "service '%s'", yamltree_show(key->text, key->len, buf, sizeof buf));
        if (in->kind != YAMLTREE_MAP)
                return swarm_refuse(s, "%s: a service must be a mapping", v.who);
        if (!yamltree_map_get(in, "image"))
                return swarm_refuse(s, "%s: no image (swarm runs images, it builds none)", v.who);
        if (!(out = yamltree_node_new(YAMLTREE_MAP)) ||
            yamltree_map_set(services, key->text, YAML_PLAIN_SCALAR_STYLE, out) < 0)
                return policy_oom(s->err);
        for (size_t i = 0; r == 0 && i < in->n; i += 2)
                r = convert_key(s, &v, out, in->items[i], in->items[i + 1]);
        if (r == 0)
                r = add_routed_ports(s, &v, out);
        if (r == 0 && v.pids)
                r = swarm_agg(s, AGG_PIDS, &v);
        if (r == 0)
                r = swarm_convert_deploy(s, &v, out);
        return r;
}

int swarm_agg_notes(struct sw *s)
{
        char buf[80];
        int r = 0;

        for (size_t a = 0; r == 0 && a < AGG_COUNT; a++) {
                char list[512] = "";
                size_t len = 0;

                for (size_t i = 0; i < s->agg[a].n && len < sizeof list; i++)
                        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                                yamltree_show(s->agg[a].v[i], strlen(s->agg[a].v[i]), buf, sizeof buf));
                if (s->agg[a].n)
                        r = swarm_note(s, "%s (service%s %s)", aggs[a].text, s->agg[a].n > 1 ? "s" : "", list);
        }
        return r;
}
