/* policy-swarm.c - the swarm file (spec/run.md "Swarm file"): the effective compose file policy_apply() wrote,
 * already judged and sandboxed, rewritten into the compose 3.x form `docker stack deploy` reads (docker CLI
 * 20.10 refuses keys its schema does not have, and silently ignores some it has but swarm cannot do). The output
 * is built as a new tree from what is allowed, so nothing passes that was not looked at: a key of a service, of
 * deploy, or of the top level that is not in the lists below is refused. Also the other direction:
 * policy_drop_swarm_keys() removes the swarm-only deploy keys from a compose run's effective file.
 */
#include "policy.h"
#include "policy-int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/fsutil.h"
#include "base/mem.h"

#define SWARM_VERSION     "3.8" /* docker CLI 20.10 reads 3.0 .. 3.9; 3.8 has max_replicas_per_node */
#define SWARM_MAX_DEFAULT 8
#define SWARM_MAX_SECONDS 600.0 /* delays, monitors and windows */
#define SWARM_MAX_RESTART 100   /* restart_policy.max_attempts */
#define MONITOR_DEFAULT   "10s"

/* What every service of a file may lose, said once with the services' names. */
enum agg {
        AGG_NNP,
        AGG_MEMSWAP,
        AGG_PIDS,
        AGG_DEPENDS,
        AGG_EXPOSE,
        AGG_SHARES,
        AGG_PULL,
        AGG_DEVELOP,
        AGG_COUNT,
};

static const char *const agg_text[AGG_COUNT] = {
        [AGG_NNP] = "no-new-privileges is not available for swarm services on this Engine (Engine API < 1.44)",
        [AGG_MEMSWAP] = "memswap_limit dropped: swarm services have no swap limit (the memory limit stays)",
        [AGG_PIDS] = ("pids_limit is not in the swarm file (the compose 3.x schema of docker CLI 20.10 has no "
                      "deploy.resources.limits.pids); the service label io.stack.pids carries it"),
        [AGG_DEPENDS] = "depends_on dropped: swarm starts services in no order",
        [AGG_EXPOSE] = "expose dropped: services on one network reach each other's ports",
        [AGG_SHARES] = "cpu_shares dropped: swarm services have no CPU weight (the CPU limit stays)",
        [AGG_PULL] = "pull_policy dropped: every node pulls the pushed image by digest",
        [AGG_DEVELOP] = "develop dropped: compose watch does not drive swarm services",
};

struct sw {
        const struct policy_swarm_options *o;
        struct error *err;
        struct strv notes;
        struct strv agg[AGG_COUNT]; /* service names */
        char base[PATH_MAX];        /* the effective file's dir: relative paths resolve against it */
        char run_dir[PATH_MAX];     /* normalised */
        char run_real[PATH_MAX];    /* realpath() of the run dir ("" when it cannot be resolved) */
        unsigned max;
};

/* One service being converted: what goes into its deploy section. */
struct svc {
        char who[HEAD_SIZE]; /* "service 'web'" */
        const char *name;
        const struct yamltree_node *cpus, *mem, *memres, *pids, *restart, *scale, *deploy;
        bool stateful;
};

static int say(struct sw *s, bool refusal, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A refusal (STACK_EREJECT, the first one wins) or a note for the person. */
static int say(struct sw *s, bool refusal, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (refusal)
                return error_set(s->err, STACK_EREJECT, "%s", msg);
        return policy_strv_add(&s->notes, msg, strlen(msg)) < 0 ? policy_oom(s->err) : 0;
}

#define refuse(s, ...) say(s, true, __VA_ARGS__)
#define note(s, ...)   say(s, false, __VA_ARGS__)

static int agg(struct sw *s, enum agg kind, const struct svc *v)
{
        if (policy_strv_has(&s->agg[kind], v->name, strlen(v->name)))
                return 0;
        return policy_strv_add(&s->agg[kind], v->name, strlen(v->name)) < 0 ? policy_oom(s->err) : 0;
}

static const char *show(const struct yamltree_node *n, char *buf, size_t size)
{
        return yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, size) : yamltree_kind_name(n);
}

/* ---- building the output tree: every helper frees what it was given when it fails (-ENOMEM) ---- */

static int add(struct yamltree_node *parent, struct yamltree_node *n)
{
        if (!n)
                return -ENOMEM;
        if (yamltree_append(parent, n) < 0) {
                yamltree_free(n);
                return -ENOMEM;
        }
        return 0;
}

static int add_text(struct yamltree_node *seq, const char *text, int style)
{
        return add(seq, yamltree_scalar_new(text, strlen(text), style));
}

static int set_copy(struct yamltree_node *m, const char *key, const struct yamltree_node *v)
{
        return yamltree_map_set(m, key, YAML_PLAIN_SCALAR_STYLE, yamltree_copy(v));
}

/* The value of key in m, creating an empty node of that kind when absent. NULL: out of memory. */
static struct yamltree_node *child(struct yamltree_node *m, const char *key, enum yamltree_kind kind)
{
        struct yamltree_node *n = yamltree_map_get(m, key);

        if (n)
                return n;
        if (yamltree_map_set(m, key, YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(kind)) < 0)
                return NULL;
        return yamltree_map_get(m, key);
}

/* A copy of a mapping whose plain scalar values are written quoted: docker CLI 20.10 reads YAML 1.1, where a
 * plain `y`, `on` or `no` is a boolean and a label or environment value must be a string. */
static struct yamltree_node *copy_quoted(const struct yamltree_node *n)
{
        struct yamltree_node *c = yamltree_copy(n);

        for (size_t i = 1; c && c->kind == YAMLTREE_MAP && i < c->n; i += 2)
                if (yamltree_is_scalar(c->items[i]) && !yamltree_is_null(c->items[i]) &&
                    c->items[i]->style == YAML_PLAIN_SCALAR_STYLE)
                        c->items[i]->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        return c;
}

/* ---- values ---- */

/* A whole number <= max, as written (no sign, no fraction). */
static bool get_uint(const struct yamltree_node *n, uint64_t max, uint64_t *ret)
{
        uint64_t w = 0;
        double fr = 0;

        if (!yamltree_is_scalar(n) || !n->len || memchr(n->text, '.', n->len) ||
            yamltree_parse_decimal(n->text, n->len, &w, &fr) != n->len || w > max)
                return false;
        *ret = w;
        return true;
}

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

static bool text_in(const struct yamltree_node *n, const char *const *set)
{
        for (; *set; set++)
                if (yamltree_text_is(n, *set))
                        return true;
        return false;
}

/* ---- paths ---- */

/* A host path of the file as an absolute one: relative ones resolve against the effective file's dir (as
 * docker CLI would, against the swarm file's dir, which may be elsewhere). Returns a new string ('$' of ours
 * doubled) or NULL. */
static char *absolute(struct sw *s, const char *path)
{
        char *base, *out;

        if (path[0] == '/' || path[0] == '~')
                return strdup(path);
        while (path[0] == '.' && path[1] == '/')
                path += 2;
        if (!strcmp(path, "."))
                path = "";
        base = policy_escape_dollars(s->base);
        if (!base)
                return NULL;
        out = policy_concat3(base, "/", *path ? 1 : 0, path);
        free(base);
        return out;
}

/* path (as absolute() gives it, `$$` for '$') inside the run dir, lexically and once symlinks are resolved:
 * docker CLI reads the file and hands its bytes to the swarm, so a symlink to /etc/shadow must not pass. */
static bool inside(const struct sw *s, const char *path)
{
        char norm[PATH_MAX] = "", real[PATH_MAX], *un;
        size_t n = strlen(s->run_dir), rn = strlen(s->run_real);
        bool ok;

        un = strdup(path);
        if (!un)
                return false;
        for (char *r = un, *w = un; (*w = *r); r++, w++) /* "$$" back to '$' */
                if (r[0] == '$' && r[1] == '$')
                        r++;
        /* policy_path_add() writes a relative path: the root is "" */
        ok = policy_path_add(norm, sizeof norm, un, strlen(un), true) == 0 &&
             (n == 0 || (!strncmp(norm, s->run_dir, n) && (norm[n] == 0 || norm[n] == '/')));
        if (ok && realpath(un, real)) /* a file that is not there: docker CLI says so */
                ok = rn && !strncmp(real, s->run_real, rn) && (real[rn] == 0 || real[rn] == '/' || rn == 1);
        free(un);
        return ok;
}

/* ---- a service's keys ---- */

static int convert_image(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *n)
{
        char buf[80];

        if (!yamltree_is_scalar(n) || yamltree_is_null(n))
                return refuse(s, "%s: image must be a string", v->who);
        for (size_t i = 0; s->o->images && s->o->images[i] && s->o->images[i + 1]; i += 2)
                if (!strcmp(s->o->images[i], n->text))
                        return yamltree_map_set_text(out, "image", s->o->images[i + 1],
                                                     YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0
                                       ? policy_oom(s->err)
                                       : 0;
        return refuse(s, "%s: image %s was not pushed to the swarm's registry", v->who,
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
                if (!ports && !(ports = child(out, "ports", YAMLTREE_SEQ)))
                        return policy_oom(s->err);
                p = yamltree_node_new(YAMLTREE_MAP);
                snprintf(num, sizeof num, "%d", s->o->routes[i].port);
                if (!p || yamltree_map_set_text(p, "target", num, YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set_text(p, "mode", "host", YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set_text(p, "protocol", "tcp", YAML_PLAIN_SCALAR_STYLE) < 0) {
                        yamltree_free(p);
                        return policy_oom(s->err);
                }
                if (add(ports, p) < 0)
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
                return refuse(s, "%s: ports must be a list", v->who);
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
                        return refuse(s,
                                      "%s: ports: %s is published; on swarm only the front door's routed ports are "
                                      "(host mode, tcp)",
                                      v->who, show(p, buf, sizeof buf));
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
                        return add(vols, yamltree_copy(e));
                text = strndup(e->text, first);
                src = text ? absolute(s, text) : NULL;
                free(text);
                text = src ? policy_concat3(src, e->text + first, e->len - first, "") : NULL;
                free(src);
                if (!text)
                        return -ENOMEM;
                c = yamltree_scalar_new(text, strlen(text), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                free(text);
                return add(vols, c);
        }
        if (e->kind != YAMLTREE_MAP)
                return refuse(s, "%s: volumes: %s is not a volume", v->who, show(e, buf, sizeof buf));
        for (size_t i = 0; i < e->n; i += 2) {
                const struct yamltree_node *k = e->items[i], *val = e->items[i + 1];

                if (!text_in(k, keys))
                        return refuse(s, "%s: volumes: %s is not supported on swarm", v->who, show(k, buf, sizeof buf));
                for (size_t j = 0; sub[j]; j += 2)
                        if (yamltree_text_is(k, sub[j]) && val->kind == YAMLTREE_MAP)
                                for (size_t m = 0; m < val->n; m += 2)
                                        if (!yamltree_text_is(val->items[m], sub[j + 1]))
                                                return refuse(s, "%s: volumes: %s.%s is not supported on swarm", v->who,
                                                              sub[j], show(val->items[m], buf, sizeof buf));
        }
        type = yamltree_map_get(e, "type");
        source = yamltree_map_get(e, "source");
        if (!yamltree_text_is(type, "tmpfs"))
                v->stateful = true;
        c = yamltree_copy(e);
        if (!c)
                return -ENOMEM;
        if (yamltree_text_is(type, "bind") && yamltree_is_scalar(source)) {
                src = absolute(s, source->text);
                if (!src || yamltree_map_set_text(c, "source", src, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) {
                        free(src);
                        yamltree_free(c);
                        return -ENOMEM;
                }
                free(src);
        }
        return add(vols, c);
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
                return refuse(s, "%s: tmpfs must be a path or a list", v->who);
        for (size_t i = 0; i < n->n; i++) {
                const struct yamltree_node *e = n->items[i];
                const char *colon;
                struct yamltree_node *m, *t;
                uint64_t w = 0, mult = 1;
                double fr = 0;
                size_t k = 0;

                if (!yamltree_is_scalar(e) || !e->len)
                        return refuse(s, "%s: tmpfs: %s is not a path", v->who, show(e, buf, sizeof buf));
                colon = memchr(e->text, ':', e->len);
                if (colon) { /* only size=N[kmg]: swarm's tmpfs mounts have a size and a mode, 3.x only a size */
                        const char *o = colon + 1;
                        size_t ol = e->len - (size_t)(o - e->text);

                        if (ol > 5 && !memcmp(o, "size=", 5))
                                k = yamltree_parse_decimal(o + 5, ol - 5, &w, &fr);
                        if (k && k + 6 == ol && strchr("kKmMgG", o[ol - 1]))
                                mult = (o[ol - 1] | 0x20) == 'k' ? 1024 : (o[ol - 1] | 0x20) == 'm' ? 1 << 20 : 1 << 30;
                        else if (!k || k + 5 != ol)
                                return refuse(s, "%s: tmpfs: %s: only a size=... option is supported on swarm", v->who,
                                              show(e, buf, sizeof buf));
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
                if (add(vols, m) < 0)
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
        vols = child(out, "volumes", YAMLTREE_SEQ);
        if (!vols)
                return policy_oom(s->err);
        if (tmpfs)
                r = convert_tmpfs(s, v, vols, n);
        else if (n->kind != YAMLTREE_SEQ)
                r = refuse(s, "%s: volumes must be a list", v->who);
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
                return refuse(s, "%s: security_opt must be a list", v->who);
        for (size_t i = 0; i < n->n; i++)
                if (!yamltree_is_scalar(n->items[i]) || strncmp(n->items[i]->text, "no-new-privileges", 17))
                        return refuse(s, "%s: security_opt %s is not supported on swarm", v->who,
                                      show(n->items[i], buf, sizeof buf));
        return agg(s, AGG_NNP, v);
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
                return refuse(s, "%s: env_file must be a path or a list", v->who);
        list = child(out, "env_file", YAMLTREE_SEQ);
        for (size_t i = 0; list && i < n->n; i++) {
                const struct yamltree_node *e = n->items[i], *path = e;
                char *abs;
                int r;

                if (e->kind == YAMLTREE_MAP) {
                        path = yamltree_map_get(e, "path");
                        if (policy_is_false(yamltree_map_get(e, "required")) && yamltree_map_get(e, "required") &&
                            yamltree_is_scalar(path)) {
                                char *p = absolute(s, path->text);
                                bool there = p && access(p, F_OK) == 0;

                                free(p);
                                if (!there)
                                        continue; /* optional and absent: compose v2 skips it too */
                        }
                }
                if (!yamltree_is_scalar(path) || yamltree_is_null(path))
                        return refuse(s, "%s: env_file: %s is not a path", v->who, show(e, buf, sizeof buf));
                abs = absolute(s, path->text);
                r = abs ? add_text(list, abs, YAML_DOUBLE_QUOTED_SCALAR_STYLE) : -ENOMEM;
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
                if (!text_in(n->items[i], keys))
                        return refuse(s, "%s: %s.%s is not supported on swarm", v->who, what,
                                      show(n->items[i], buf, sizeof buf));
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

/* `restart:` as deploy.restart_policy (used when deploy says none). */
static int convert_restart(struct sw *s, struct svc *v, struct yamltree_node *rp)
{
        const struct yamltree_node *n = v->restart;
        const char *cond = NULL;
        char buf[80];

        if (policy_is_null(n))
                return 0;
        if (!yamltree_is_scalar(n))
                return refuse(s, "%s: restart must be a string", v->who);
        if (yamltree_text_is(n, "no") || yamltree_text_is(n, "false"))
                cond = "none";
        else if (yamltree_text_is(n, "always") || yamltree_text_is(n, "unless-stopped"))
                cond = "any";
        else if (!strncmp(n->text, "on-failure", 10) && (n->text[10] == 0 || n->text[10] == ':'))
                cond = "on-failure";
        if (!cond)
                return refuse(s, "%s: restart: %s is not a restart policy", v->who, show(n, buf, sizeof buf));
        if (yamltree_map_set_text(rp, "condition", cond, YAML_PLAIN_SCALAR_STYLE) < 0)
                return policy_oom(s->err);
        if (n->text[10] == ':' && !strcmp(cond, "on-failure")) {
                struct yamltree_node t = {.kind = YAMLTREE_SCALAR, .text = n->text + 11, .len = n->len - 11};
                uint64_t u;

                if (!get_uint(&t, SWARM_MAX_RESTART, &u))
                        return refuse(s, "%s: restart: %s: at most %d attempts", v->who, show(n, buf, sizeof buf),
                                      SWARM_MAX_RESTART);
                if (yamltree_map_set_text(rp, "max_attempts", t.text, YAML_PLAIN_SCALAR_STYLE) < 0)
                        return policy_oom(s->err);
        }
        return 0;
}

/* ---- deploy ---- */

static int bad_value(struct sw *s, struct svc *v, const char *key, const struct yamltree_node *n, const char *want)
{
        char buf[80];

        return refuse(s, "%s: deploy.%s: %s is not %s", v->who, key, show(n, buf, sizeof buf), want);
}

/* restart_policy, update_config, rollback_config: each key bounded, then copied. */
static int convert_policy(struct sw *s, struct svc *v, const char *key, const struct yamltree_node *in,
                          struct yamltree_node *out)
{
        static const char *const conditions[] = {"none", "on-failure", "any", NULL};
        static const char *const update_actions[] = {"continue", "pause", "rollback", NULL};
        static const char *const rollback_actions[] = {"continue", "pause", NULL};
        static const char *const orders[] = {"stop-first", "start-first", NULL};
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

                snprintf(path, sizeof path, "%s.%s", key, show(k, buf, sizeof buf));
                if (restart && yamltree_text_is(k, "condition"))
                        ok = text_in(n, conditions) || (bad_value(s, v, path, n, "none, on-failure or any"), false);
                else if (restart && yamltree_text_is(k, "max_attempts"))
                        ok = get_uint(n, SWARM_MAX_RESTART, &u) || (bad_value(s, v, path, n, "0 .. 100"), false);
                else if (yamltree_text_is(k, "delay") || (restart && yamltree_text_is(k, "window")) ||
                         (!restart && yamltree_text_is(k, "monitor")))
                        ok = get_duration(n, SWARM_MAX_SECONDS) ||
                             (bad_value(s, v, path, n, "a duration of at most 10m"), false);
                else if (!restart && yamltree_text_is(k, "parallelism"))
                        ok = get_uint(n, s->max, &u) ||
                             (bad_value(s, v, path, n, "a count up to the replicas bound"), false);
                else if (!restart && yamltree_text_is(k, "failure_action"))
                        ok = text_in(n, rollback ? rollback_actions : update_actions) ||
                             (bad_value(s, v, path, n, rollback ? "continue or pause" : "continue, pause or rollback"),
                              false);
                else if (!restart && yamltree_text_is(k, "max_failure_ratio"))
                        ok = (yamltree_is_scalar(n) && n->len &&
                              yamltree_parse_decimal(n->text, n->len, &w, &fr) == n->len && (double)w + fr <= 1) ||
                             (bad_value(s, v, path, n, "a ratio 0 .. 1"), false);
                else if (!restart && yamltree_text_is(k, "order"))
                        ok = text_in(n, orders) || (bad_value(s, v, path, n, "stop-first or start-first"), false);
                else
                        return refuse(s, "%s: deploy.%s is not supported on swarm", v->who, path);
                if (!ok)
                        return -STACK_EREJECT;
                if (yamltree_map_set(out, k->text, YAML_PLAIN_SCALAR_STYLE, yamltree_copy(n)) < 0)
                        return policy_oom(s->err);
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
                return refuse(s, "%s keeps its data on node %s; its placement names node %s", v->who,
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
                        return refuse(s, "%s: deploy.placement.%s is not supported on swarm", v->who,
                                      show(in->items[i], want, sizeof want));
        if (!policy_is_null(cons) && cons->kind != YAMLTREE_SEQ)
                return bad_value(s, v, "placement.constraints", cons, "a list");
        if (v->stateful && !s->o->data_node)
                return error_set(s->err, STACK_EFAIL, "policy_swarm_file: %s keeps data and no data node was given",
                                 v->who);
        if (policy_is_null(cons) && policy_is_null(mx) && !v->stateful)
                return 0;
        if (!(out = child(dep, "placement", YAMLTREE_MAP)))
                return policy_oom(s->err);
        if (!policy_is_null(mx)) {
                if (!get_uint(mx, s->max, &u))
                        return bad_value(s, v, "placement.max_replicas_per_node", mx,
                                         "a count up to the replicas bound");
                if (set_copy(out, "max_replicas_per_node", mx) < 0)
                        return policy_oom(s->err);
        }
        if (!(list = child(out, "constraints", YAMLTREE_SEQ)))
                return policy_oom(s->err);
        snprintf(want, sizeof want, "node.id==%s", s->o->data_node ? s->o->data_node : "");
        for (size_t i = 0; cons && cons->kind == YAMLTREE_SEQ && i < cons->n; i++) {
                r = check_constraint(s, v, cons->items[i]);
                if (r < 0)
                        return r;
                if (v->stateful && yamltree_text_is(cons->items[i], want))
                        continue;
                if (add(list, yamltree_copy(cons->items[i])) < 0)
                        return policy_oom(s->err);
        }
        if (v->stateful && add_text(list, want, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0)
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
                for (size_t i = 1; r == 0 && i < out->n; i += 2) /* strings, as copy_quoted() writes them */
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
                        return refuse(s, "%s: deploy.resources.%s is not supported on swarm", v->who,
                                      show(in->items[i], buf, sizeof buf));
        for (size_t i = 0; resv && resv->kind == YAMLTREE_MAP && i < resv->n; i += 2)
                if (!text_in(resv->items[i], resv_keys))
                        return refuse(s, "%s: deploy.resources.reservations.%s is not supported on swarm", v->who,
                                      show(resv->items[i], buf, sizeof buf));
        if (!(res = child(dep, "resources", YAMLTREE_MAP)))
                return policy_oom(s->err);
        if (yamltree_is_scalar(v->cpus) || yamltree_is_scalar(v->mem)) {
                if (!(lim = child(res, "limits", YAMLTREE_MAP)) ||
                    (yamltree_is_scalar(v->cpus) &&
                     yamltree_map_set_text(lim, "cpus", v->cpus->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) ||
                    (yamltree_is_scalar(v->mem) &&
                     yamltree_map_set_text(lim, "memory", v->mem->text, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0))
                        return policy_oom(s->err);
        }
        if (yamltree_is_scalar(v->memres) || (resv && resv->kind == YAMLTREE_MAP && resv->n)) {
                if (!(out = child(res, "reservations", YAMLTREE_MAP)))
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

static int convert_deploy(struct sw *s, struct svc *v, struct yamltree_node *svc_out)
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
                return refuse(s, "%s: deploy must be a mapping", v->who);
        in = policy_is_null(in) ? NULL : in;
        for (size_t i = 0; in && i < in->n; i += 2)
                if (!text_in(in->items[i], keys))
                        return refuse(s, "%s: deploy.%s is not supported on swarm", v->who,
                                      show(in->items[i], buf, sizeof buf));
        n = yamltree_map_get(in, "mode");
        if (!policy_is_null(n) && !yamltree_text_is(n, "replicated"))
                return refuse(s, "%s: deploy.mode: %s is not supported on swarm (stack runs replicated services)",
                              v->who, show(n, buf, sizeof buf));
        n = yamltree_map_get(in, "replicas");
        if (policy_is_null(n))
                n = v->scale;
        if (!policy_is_null(n) && !get_uint(n, UINT64_MAX, &replicas))
                return bad_value(s, v, "replicas", n, "a number of replicas");
        if (replicas > s->max)
                return refuse(s, "%s: %llu replicas is above the %u a swarm service may run", v->who,
                              (unsigned long long)replicas, s->max);
        n = yamltree_map_get(in, "endpoint_mode");
        if (!policy_is_null(n) && !yamltree_text_is(n, "dnsrr")) {
                r = note(s, "%s: deploy.endpoint_mode %s replaced by dnsrr (service virtual IPs need IPVS)", v->who,
                         show(n, buf, sizeof buf));
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
        if (r == 0 && !(p = child(dep, "restart_policy", YAMLTREE_MAP)))
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
        if (r == 0 && !(p = child(dep, "update_config", YAMLTREE_MAP)))
                r = policy_oom(s->err);
        if (r == 0)
                r = convert_policy(s, v, "update_config", yamltree_map_get(in, "update_config"), p);
        if (r == 0 && ((!yamltree_map_get(p, "failure_action") &&
                        yamltree_map_set_text(p, "failure_action", "rollback", YAML_PLAIN_SCALAR_STYLE) < 0) ||
                       (!yamltree_map_get(p, "monitor") &&
                        yamltree_map_set_text(p, "monitor", MONITOR_DEFAULT, YAML_PLAIN_SCALAR_STYLE) < 0)))
                r = policy_oom(s->err);
        if (r == 0 && !policy_is_null(yamltree_map_get(in, "rollback_config"))) {
                if (!(p = child(dep, "rollback_config", YAMLTREE_MAP)))
                        return policy_oom(s->err);
                r = convert_policy(s, v, "rollback_config", yamltree_map_get(in, "rollback_config"), p);
        }
        return r;
}

/* ---- one service ---- */

enum act {
        A_COPY,     /* as it is */
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
        A_AGG,      /* dropped, said once for all services */
};

static const struct {
        const char *key;
        enum act act;
        enum agg agg; /* A_AGG */
} service_keys[] = {
        {"image", A_IMAGE, 0},
        {"command", A_COPY, 0},
        {"entrypoint", A_COPY, 0},
        {"environment", A_QUOTED, 0},
        {"env_file", A_ENV_FILE, 0},
        {"labels", A_QUOTED, 0},
        {"volumes", A_VOLUMES, 0},
        {"tmpfs", A_TMPFS, 0},
        {"networks", A_NETWORKS, 0},
        {"healthcheck", A_HEALTH, 0},
        {"user", A_COPY, 0},
        {"working_dir", A_COPY, 0},
        {"cap_add", A_COPY, 0},
        {"cap_drop", A_COPY, 0},
        {"read_only", A_COPY, 0},
        {"init", A_COPY, 0},
        {"hostname", A_COPY, 0},
        {"stop_grace_period", A_COPY, 0},
        {"stop_signal", A_COPY, 0},
        {"logging", A_LOGGING, 0},
        {"ulimits", A_COPY, 0},
        {"sysctls", A_QUOTED, 0},
        {"configs", A_REFS, 0},
        {"secrets", A_REFS, 0},
        {"dns", A_COPY, 0},
        {"dns_search", A_COPY, 0},
        {"extra_hosts", A_COPY, 0},
        {"tty", A_COPY, 0},
        {"stdin_open", A_COPY, 0},
        {"ports", A_PORTS, 0},
        {"security_opt", A_SECOPT, 0},
        {"cpus", A_KEEP, 0},
        {"mem_limit", A_KEEP, 0},
        {"mem_reservation", A_KEEP, 0},
        {"pids_limit", A_KEEP, 0},
        {"restart", A_KEEP, 0},
        {"scale", A_KEEP, 0},
        {"deploy", A_KEEP, 0},
        {"memswap_limit", A_AGG, AGG_MEMSWAP},
        {"depends_on", A_AGG, AGG_DEPENDS},
        {"expose", A_AGG, AGG_EXPOSE},
        {"cpu_shares", A_AGG, AGG_SHARES},
        {"pull_policy", A_AGG, AGG_PULL},
        {"develop", A_AGG, AGG_DEVELOP},
};

static int convert_key(struct sw *s, struct svc *v, struct yamltree_node *out, const struct yamltree_node *k,
                       const struct yamltree_node *n)
{
        static const char *const health[] = {"test", "interval", "timeout", "retries", "start_period", "disable", NULL};
        static const char *const logging[] = {"driver", "options", NULL};
        char buf[80];
        size_t i;

        for (i = 0; i < COUNT(service_keys) && !yamltree_text_is(k, service_keys[i].key); i++)
                ;
        if (i == COUNT(service_keys))
                return refuse(s, "%s: %s is not supported on swarm", v->who, show(k, buf, sizeof buf));
        switch (service_keys[i].act) {
        case A_IMAGE: return convert_image(s, v, out, n);
        case A_VOLUMES: return convert_volumes(s, v, out, n, false);
        case A_TMPFS: return convert_volumes(s, v, out, n, true);
        case A_PORTS: return check_ports(s, v, n);
        case A_ENV_FILE: return convert_env_file(s, v, out, n);
        case A_SECOPT: return convert_security_opt(s, v, n);
        case A_AGG: return policy_is_null(n) ? 0 : agg(s, service_keys[i].agg, v);
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
                break;
        case A_LOGGING:
                if (check_keys(s, v, "logging", n, logging) < 0)
                        return -STACK_EREJECT;
                break;
        case A_NETWORKS:
                if (check_service_networks(s, v, n) < 0)
                        return -STACK_EREJECT;
                break;
        case A_REFS:
                if (check_refs(s, v, k->text, n) < 0)
                        return -STACK_EREJECT;
                break;
        case A_QUOTED:
                return yamltree_map_set(out, k->text, YAML_PLAIN_SCALAR_STYLE, copy_quoted(n)) < 0 ? policy_oom(s->err)
                                                                                                   : 0;
        case A_COPY: break;
        }
        return set_copy(out, k->text, n) < 0 ? policy_oom(s->err) : 0;
}

static int convert_service(struct sw *s, const struct yamltree_node *key, const struct yamltree_node *in,
                           struct yamltree_node *services)
{
        struct svc v = {.name = key->text};
        struct yamltree_node *out;
        char buf[80];
        int r = 0;

        snprintf(v.who, sizeof v.who, "service '%s'", yamltree_show(key->text, key->len, buf, sizeof buf));
        if (in->kind != YAMLTREE_MAP)
                return refuse(s, "%s: a service must be a mapping", v.who);
        if (!yamltree_map_get(in, "image"))
                return refuse(s, "%s: no image (swarm runs images, it builds none)", v.who);
        if (!(out = yamltree_node_new(YAMLTREE_MAP)) ||
            yamltree_map_set(services, key->text, YAML_PLAIN_SCALAR_STYLE, out) < 0)
                return policy_oom(s->err);
        for (size_t i = 0; r == 0 && i < in->n; i += 2)
                r = convert_key(s, &v, out, in->items[i], in->items[i + 1]);
        if (r == 0)
                r = add_routed_ports(s, &v, out);
        if (r == 0 && v.pids)
                r = agg(s, AGG_PIDS, &v);
        if (r == 0)
                r = convert_deploy(s, &v, out);
        return r;
}

/* ---- the top level ---- */

static int convert_networks(struct sw *s, const struct yamltree_node *in, struct yamltree_node *root)
{
        static const char *const keys[] = {"driver", "driver_opts", "internal",   "labels",
                                           "name",   "ipam",        "attachable", NULL};
        struct yamltree_node *out = child(root, "networks", YAMLTREE_MAP), *def;
        char buf[80], name[80];

        if (!out)
                return policy_oom(s->err);
        for (size_t i = 0; in->kind == YAMLTREE_MAP && i < in->n; i += 2) {
                const struct yamltree_node *d = in->items[i + 1], *drv = yamltree_map_get(d, "driver");

                yamltree_show(in->items[i]->text, in->items[i]->len, name, sizeof name);
                if (!policy_is_null(d) && d->kind != YAMLTREE_MAP)
                        return refuse(s, "network '%s': must be a mapping", name);
                for (size_t j = 0; d && d->kind == YAMLTREE_MAP && j < d->n; j += 2)
                        if (!text_in(d->items[j], keys))
                                return refuse(s, "network '%s': %s is not supported on swarm", name,
                                              show(d->items[j], buf, sizeof buf));
                if (!policy_is_null(drv) && !yamltree_text_is(drv, "bridge") && !yamltree_text_is(drv, "overlay"))
                        return refuse(s, "network '%s': driver %s is not supported on swarm (overlay)", name,
                                      show(drv, buf, sizeof buf));
                if (!(def = yamltree_node_new(YAMLTREE_MAP)) ||
                    yamltree_map_set(out, in->items[i]->text, YAML_PLAIN_SCALAR_STYLE, def) < 0)
                        return policy_oom(s->err);
                if (yamltree_map_set_text(def, "driver", "overlay", YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set_text(def, "attachable", "false", YAML_PLAIN_SCALAR_STYLE) < 0)
                        return policy_oom(s->err);
                for (size_t j = 0; d && d->kind == YAMLTREE_MAP && j < d->n; j += 2) {
                        const struct yamltree_node *k = d->items[j], *val = d->items[j + 1];
                        int r = 0;

                        if (yamltree_text_is(k, "driver") || yamltree_text_is(k, "attachable"))
                                continue;
                        if (yamltree_text_is(k, "driver_opts")) {
                                if (policy_non_empty(val))
                                        r = note(s, "network '%s': driver_opts dropped (the network is an overlay)",
                                                 name);
                        } else if (yamltree_text_is(k, "labels")) {
                                r = yamltree_map_set(def, "labels", YAML_PLAIN_SCALAR_STYLE, copy_quoted(val)) < 0
                                            ? policy_oom(s->err)
                                            : 0;
                        } else if (set_copy(def, k->text, val) < 0) {
                                r = policy_oom(s->err);
                        }
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* volumes: local ones only (the data stays on the node that holds it); configs and secrets: a file inside the
 * run dir (docker CLI reads it and stores it in the swarm). */
static int convert_definitions(struct sw *s, const char *section, const char *what, const struct yamltree_node *in,
                               struct yamltree_node *root)
{
        static const char *const volume_keys[] = {"driver", "driver_opts", "labels", "name", NULL};
        static const char *const file_keys[] = {"file", "labels", "name", NULL};
        bool volumes = !strcmp(section, "volumes");
        struct yamltree_node *out = child(root, section, YAMLTREE_MAP), *def;
        char buf[80], name[80];

        if (!out)
                return policy_oom(s->err);
        if (in->kind != YAMLTREE_MAP)
                return refuse(s, "%s must be a mapping", section);
        for (size_t i = 0; i < in->n; i += 2) {
                const struct yamltree_node *d = in->items[i + 1], *drv = yamltree_map_get(d, "driver"), *file;

                yamltree_show(in->items[i]->text, in->items[i]->len, name, sizeof name);
                if (!policy_is_null(d) && d->kind != YAMLTREE_MAP)
                        return refuse(s, "%s '%s': must be a mapping", what, name);
                if (!policy_is_false(yamltree_map_get(d, "external")))
                        return refuse(s, "%s '%s': external is not supported on swarm", what, name);
                for (size_t j = 0; d && d->kind == YAMLTREE_MAP && j < d->n; j += 2)
                        if (!text_in(d->items[j], volumes ? volume_keys : file_keys) &&
                            !yamltree_text_is(d->items[j], "external"))
                                return refuse(s, "%s '%s': %s is not supported on swarm", what, name,
                                              show(d->items[j], buf, sizeof buf));
                if (volumes && !policy_is_null(drv) && !yamltree_text_is(drv, "local"))
                        return refuse(s, "volume '%s': driver %s is not supported on swarm (local only)", name,
                                      show(drv, buf, sizeof buf));
                if (!(def = policy_is_null(d) ? yamltree_node_new(YAMLTREE_MAP) : yamltree_copy(d)) ||
                    yamltree_map_set(out, in->items[i]->text, YAML_PLAIN_SCALAR_STYLE, def) < 0)
                        return policy_oom(s->err);
                yamltree_map_del(def, "external", false);
                if (yamltree_map_get(def, "labels") && yamltree_map_set(def, "labels", YAML_PLAIN_SCALAR_STYLE,
                                                                        copy_quoted(yamltree_map_get(d, "labels"))) < 0)
                        return policy_oom(s->err);
                if (volumes)
                        continue;
                file = yamltree_map_get(d, "file");
                if (!yamltree_is_scalar(file) || yamltree_is_null(file))
                        return refuse(s, "%s '%s': only a file: is supported on swarm", what, name);
                {
                        char *abs = absolute(s, file->text);

                        if (!abs)
                                return policy_oom(s->err);
                        if (!inside(s, abs)) {
                                free(abs);
                                return refuse(s, "%s '%s': file %s is outside the run dir", what, name,
                                              show(file, buf, sizeof buf));
                        }
                        if (yamltree_map_set_text(def, "file", abs, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) {
                                free(abs);
                                return policy_oom(s->err);
                        }
                        free(abs);
                }
        }
        return 0;
}

static int convert_document(struct sw *s, const struct yamltree_node *in, struct yamltree_node *root)
{
        const struct yamltree_node *services = yamltree_map_get(in, "services");
        struct yamltree_node *out;
        char buf[80];
        int r = 0;

        if (in->kind != YAMLTREE_MAP || !services || services->kind != YAMLTREE_MAP)
                return refuse(s, "the effective file has no 'services' mapping");
        if (yamltree_map_set_text(root, "version", SWARM_VERSION, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0 ||
            !(out = child(root, "services", YAMLTREE_MAP)))
                return policy_oom(s->err);
        for (size_t i = 0; r == 0 && i < in->n; i += 2) {
                const struct yamltree_node *k = in->items[i], *v = in->items[i + 1];

                if (yamltree_text_is(k, "services") || yamltree_text_is(k, "version") || yamltree_text_is(k, "name") ||
                    (yamltree_is_scalar(k) && !strncmp(k->text, "x-", 2)))
                        continue; /* services below; the version is ours; the project is docker stack's argument */
                if (yamltree_text_is(k, "include"))
                        r = refuse(s, "include: is not supported on swarm");
                else if (policy_is_null(v))
                        continue;
                else if (yamltree_text_is(k, "networks"))
                        r = convert_networks(s, v, root);
                else if (yamltree_text_is(k, "volumes"))
                        r = convert_definitions(s, "volumes", "volume", v, root);
                else if (yamltree_text_is(k, "configs"))
                        r = convert_definitions(s, "configs", "config", v, root);
                else if (yamltree_text_is(k, "secrets"))
                        r = convert_definitions(s, "secrets", "secret", v, root);
                else
                        r = refuse(s, "%s is not supported on swarm", show(k, buf, sizeof buf));
        }
        for (size_t i = 0; r == 0 && i < services->n; i += 2)
                r = convert_service(s, services->items[i], services->items[i + 1], out);
        for (size_t a = 0; r == 0 && a < AGG_COUNT; a++) {
                char list[512] = "";
                size_t len = 0;

                for (size_t i = 0; i < s->agg[a].n && len < sizeof list; i++)
                        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                                yamltree_show(s->agg[a].v[i], strlen(s->agg[a].v[i]), buf, sizeof buf));
                if (s->agg[a].n)
                        r = note(s, "%s (service%s %s)", agg_text[a], s->agg[a].n > 1 ? "s" : "", list);
        }
        return r;
}

int policy_swarm_file(const char *effective_path, const char *out_path, const struct policy_swarm_options *o,
                      char ***ret_notes, struct error *err)
{
        struct sw s = {.o = o, .err = err};
        struct yamltree_node *in = NULL, *out = NULL;
        char *data = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (!effective_path || !out_path || !o || !ret_notes || effective_path[0] != '/')
                return error_set(err, STACK_EFAIL, "policy_swarm_file: invalid argument");
        s.max = o->max_replicas ? o->max_replicas : SWARM_MAX_DEFAULT;
        policy_path_dirname(effective_path, s.base, sizeof s.base);
        if (policy_path_add(s.run_dir, sizeof s.run_dir, o->run_dir ? o->run_dir : s.base,
                            strlen(o->run_dir ? o->run_dir : s.base), true) < 0)
                return error_set(err, STACK_EFAIL, "policy_swarm_file: path too long");
        if (!realpath(o->run_dir ? o->run_dir : s.base, s.run_real))
                s.run_real[0] = 0;
        r = fs_read_file(effective_path, POLICY_MAX_SIZE, &data, &len);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot read %s", effective_path);
        r = policy_parse_yaml(effective_path, data, len, &in, err);
        free(data);
        if (r == 0 && !(out = yamltree_node_new(YAMLTREE_MAP)))
                r = policy_oom(err);
        if (r == 0)
                r = convert_document(&s, in, out);
        if (r == 0)
                r = policy_emit_yaml(out_path, out, &text, &len, err);
        if (r == 0 && (r = fs_write_atomic(out_path, text, len, 0600)) < 0)
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", out_path);
        if (r == 0 && !(*ret_notes = policy_strv_steal(&s.notes)))
                r = policy_oom(err);
        free(text);
        yamltree_free(in);
        yamltree_free(out);
        policy_strv_release(&s.notes);
        for (size_t a = 0; a < AGG_COUNT; a++)
                policy_strv_release(&s.agg[a]);
        return r;
}

/* ---- a compose run: the swarm-only keys go ---- */

int policy_drop_swarm_keys(struct file *f, const char *who, struct yamltree_node *svc)
{
        static const char *const keys[] = {"placement", "update_config", "rollback_config", "endpoint_mode", "mode"};
        struct yamltree_node *deploy = yamltree_map_get(svc, "deploy");
        char text[WHO_SIZE + 128];

        if (f->a->in->swarm || !deploy || deploy->kind != YAMLTREE_MAP)
                return 0;
        for (size_t i = 0; i < COUNT(keys); i++) {
                if (!yamltree_map_get(deploy, keys[i]))
                        continue;
                yamltree_map_del(deploy, keys[i], false);
                snprintf(text, sizeof text, "%s: deploy.%s is a swarm key; ignored as compose ignores it", who,
                         keys[i]);
                if (policy_strv_add(&f->a->warnings, text, strlen(text)) < 0)
                        return policy_oom(f->a->err);
        }
        if (!deploy->n)
                yamltree_map_del(svc, "deploy", false);
        return 0;
}
