/* policy-security.c - what loosens the sandbox: privileged, the host's network/pid/ipc/uts/cgroup namespaces,
 * capabilities, devices, security_opt (and the no-new-privileges stack adds), networks on the host's stack;
 * and what reaches outside the stack: other containers' namespaces and volumes, networks by name, logging
 * drivers, sysctls, runtimes.
 */
#include "policy-int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

static void need_if_host(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        char buf[80];

        if (yamltree_is_scalar(v) && (yamltree_text_is_ci(v, "host") || policy_node_unknown(v)))
                policy_need(f, bit, who, "%s: %s%s%s%s", key, yamltree_show(v->text, v->len, buf, sizeof buf),
                            policy_node_unknown(v) ? " (" : "", policy_node_unknown(v) ? policy_unknown_why(v) : "",
                            policy_node_unknown(v) ? ")" : "");
}

static void need_if_set(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        const struct yamltree_node *first =
                v && v->kind != YAMLTREE_SCALAR && v->n ? v->items[v->kind == YAMLTREE_MAP ? 1 : 0] : v;
        char buf[80];

        if (!policy_non_empty(v))
                return;
        if (!yamltree_is_scalar(first))
                policy_need(f, bit, who, "%s", key);
        else if (v->kind == YAMLTREE_SCALAR)
                policy_need(f, bit, who, "%s: %s", key, yamltree_show(first->text, first->len, buf, sizeof buf));
        else
                policy_need(f, bit, who, "%s: [%s%s]", key, yamltree_show(first->text, first->len, buf, sizeof buf),
                            v->n > (v->kind == YAMLTREE_MAP ? 2u : 1u) ? ", ..." : "");
}

/* Keys whose value alone asks for a permission: `host` (or a variable) for the namespaces, anything at all for
 * the rest. */
static const struct {
        const char *key;
        unsigned bit;
        bool host; /* need_if_host, else need_if_set */
} sandbox_keys[] = {
        {"userns_mode", PERM_PRIVILEGED, true},
        {"uts", PERM_PRIVILEGED, true},
        {"cgroup", PERM_PRIVILEGED, true},
        {"cgroup_parent", PERM_PRIVILEGED, false},
        {"cap_add", PERM_CAP_ADD, false},
        {"devices", PERM_DEVICES, false},
        {"device_cgroup_rules", PERM_DEVICES, false},
        {"gpus", PERM_DEVICES, false},
};

bool policy_check_sandbox_key(struct file *f, const char *who, const struct yamltree_node *k,
                              const struct yamltree_node *v)
{
        char buf[80];
        size_t i;

        if (yamltree_text_is(k, "privileged")) {
                if (!policy_is_false(v) || policy_node_unknown(v))
                        policy_need(f, PERM_PRIVILEGED, who, "privileged: %s%s%s%s",
                                    yamltree_is_scalar(v) ? yamltree_show(v->text, v->len, buf, sizeof buf)
                                                          : yamltree_kind_name(v),
                                    policy_node_unknown(v) ? " (" : "",
                                    policy_node_unknown(v) ? policy_unknown_why(v) : "",
                                    policy_node_unknown(v) ? ")" : "");
                return true;
        }
        if (yamltree_text_is(k, "deploy")) {
                if (v->kind == YAMLTREE_MAP)
                        need_if_set(f, who, "deploy.resources.reservations.devices",
                                    yamltree_map_get(yamltree_map_get(yamltree_map_get(v, "resources"), "reservations"),
                                                     "devices"),
                                    PERM_DEVICES);
                return true;
        }
        for (i = 0; i < COUNT(sandbox_keys); i++) {
                if (!yamltree_text_is(k, sandbox_keys[i].key))
                        continue;
                if (sandbox_keys[i].host)
                        need_if_host(f, who, sandbox_keys[i].key, v, sandbox_keys[i].bit);
                else
                        need_if_set(f, who, sandbox_keys[i].key, v, sandbox_keys[i].bit);
                return true;
        }
        return false;
}

int policy_check_security_opt(struct file *f, const char *who, const struct yamltree_node *v, struct svc_state *st)
{
        char buf[80];
        size_t i;

        if (policy_is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return policy_malformed(f, who, "security_opt must be a list", v);
        if (yamltree_tag_is(v, "!reset")) { /* compose ignores what it holds */
                st->nnp_reset = true;
                return 0;
        }
        for (i = 0; i < v->n; i++) {
                const struct yamltree_node *o = v->items[i];
                const char *val;

                if (o->kind != YAMLTREE_SCALAR)
                        return policy_malformed(f, who, "a security_opt entry must be a string", o);
                yamltree_show(o->text, o->len, buf, sizeof buf);
                if (!policy_node_unknown(o) && strncmp(o->text, "no-new-privileges", 17) == 0 &&
                    (o->text[17] == 0 || o->text[17] == ':' || o->text[17] == '=')) {
                        val = o->text[17] ? o->text + 18 : "true";
                        if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0) {
                                st->have_nnp = true;
                                continue;
                        }
                        policy_need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
                        if (f->a->in->allow & PERM_PRIVILEGED)
                                st->nnp_off = true;
                        continue;
                }
                /* seccomp / apparmor / label / systempaths and anything else only ever loosen the sandbox */
                policy_need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
        }
        return 0;
}

int policy_apply_security_opt(struct file *f, const char *who, struct yamltree_node *svc, const struct svc_state *st)
{
        struct yamltree_node *v = yamltree_map_get(svc, "security_opt"), *item;

        if (st->have_nnp || st->nnp_off)
                return 0;
        if (policy_is_null(v)) {
                if (yamltree_map_set(svc, "security_opt", YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(YAMLTREE_SEQ)) < 0)
                        return policy_oom(f->a->err);
                v = yamltree_map_get(svc, "security_opt");
        }
        if (policy_prepare_append(v) < 0)
                return policy_oom(f->a->err);
        item = yamltree_scalar_new("no-new-privileges:true", 22, YAML_PLAIN_SCALAR_STYLE);
        if (!item || yamltree_append(v, item) < 0) {
                yamltree_free(item);
                return policy_oom(f->a->err);
        }
        return 0;
}

int policy_check_networks(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], buf[80];
        size_t i;

        if (policy_is_null(v))
                return 0;
        if (v->kind != YAMLTREE_MAP) {
                snprintf(who, sizeof who, "%snetworks", f->prefix);
                return policy_malformed(f, who, "'networks' must be a mapping", v);
        }
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i], *driver, *name, *ext;
                const struct yamltree_node *eff = NULL, *ipam, *cfg, *opts;
                struct yamltree_node *def = v->items[i + 1];
                size_t j;
                int r;

                snprintf(who, sizeof who, "%snetwork '%s'", f->prefix, yamltree_show(k->text, k->len, buf, sizeof buf));
                if (def->kind != YAMLTREE_MAP)
                        continue;
                driver = yamltree_map_get(def, "driver");
                if (yamltree_text_is_ci(driver, "host") || yamltree_text_is_ci(driver, "macvlan") ||
                    yamltree_text_is_ci(driver, "ipvlan") || policy_node_unknown(driver))
                        policy_need(f, PERM_HOST_NETWORK, who, "driver: %s",
                                    yamltree_show(driver->text, driver->len, buf, sizeof buf));
                /* Addresses of the bundle's choosing become a route on the host (a subnet of 198.51.100.0/24 takes
                 * the host's own traffic to those addresses into the stack's containers), and the bridge driver's
                 * options name the host's interfaces (com.docker.network.bridge.name: docker0): only the MTU is
                 * the network's own business. */
                ipam = yamltree_map_get(def, "ipam");
                cfg = ipam && ipam->kind == YAMLTREE_MAP ? yamltree_map_get(ipam, "config") : NULL;
                for (j = 0; cfg && j < (cfg->kind == YAMLTREE_SEQ ? cfg->n : 1); j++) {
                        const struct yamltree_node *c = cfg->kind == YAMLTREE_SEQ ? cfg->items[j] : cfg;

                        if (!policy_is_null(c) && !(c->kind == YAMLTREE_MAP && c->n == 0)) {
                                policy_need(f, PERM_HOST_NETWORK, who,
                                            "ipam.config (addresses the host then routes to "
                                            "the stack)");
                                break;
                        }
                }
                driver = ipam && ipam->kind == YAMLTREE_MAP ? yamltree_map_get(ipam, "driver") : NULL;
                if (driver && !policy_is_null(driver) && !yamltree_text_is(driver, "default"))
                        policy_need(f, PERM_HOST_NETWORK, who, "ipam.driver: %s (an address plugin)",
                                    yamltree_is_scalar(driver)
                                            ? yamltree_show(driver->text, driver->len, buf, sizeof buf)
                                            : "?");
                opts = yamltree_map_get(def, "driver_opts");
                for (j = 0; opts && opts->kind == YAMLTREE_MAP && j + 1 < opts->n; j += 2)
                        if (!yamltree_text_is(opts->items[j], "com.docker.network.driver.mtu")) {
                                policy_need(f, PERM_HOST_NETWORK, who,
                                            "driver_opts.%s (a setting of the host's network)",
                                            yamltree_show(opts->items[j]->text, opts->items[j]->len, buf, sizeof buf));
                                break;
                        }
                name = yamltree_map_get(def, "name");
                ext = yamltree_map_get(def, "external");
                if (yamltree_is_scalar(name) && !policy_is_null(name))
                        eff = name;
                else if (ext && ext->kind == YAMLTREE_MAP && yamltree_is_scalar(yamltree_map_get(ext, "name")))
                        eff = yamltree_map_get(ext, "name");
                else if (ext && !policy_is_false(ext))
                        eff = k;
                if (eff && (yamltree_text_is(eff, "host") || policy_node_unknown(eff))) {
                        policy_need(f, PERM_HOST_NETWORK, who, "the network named %s (the host's network)",
                                    yamltree_show(eff->text, eff->len, buf, sizeof buf));
                        if (!policy_node_unknown(eff))
                                continue; /* the host's network: host-network says it all */
                }
                r = policy_check_resource_name(f, who, "network", k, def);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- reach: other containers, other projects, the host's daemons ---- */

/* A service of this stack: one of the document's, or of a file checked before it. */
static bool own_service(const struct file *f, const char *name, size_t len)
{
        const struct yamltree_node *s = f->services;
        size_t i;

        for (i = 0; s && s->kind == YAMLTREE_MAP && i + 1 < s->n; i += 2)
                if (s->items[i]->len == len && memcmp(s->items[i]->text, name, len) == 0)
                        return true;
        return policy_strv_has(&f->a->services, name, len);
}

/* "container:NAME" joins a container compose did not make for this stack (container names are not an
 * injective function of the project: stack-a's service "b-web" and stack-a-b's "web" are both
 * "stack-a-b-web-1", and a container_name may be taken by anyone first): other-containers. "service:NAME"
 * must name a service of the stack. true when v was one of the two forms. */
static bool check_namespace_ref(struct file *f, const char *who, const char *key, const char *s, size_t len)
{
        char buf[80];

        if (len >= 10 && strncmp(s, "container:", 10) == 0) {
                policy_need(f, PERM_OTHER_CONTAINERS, who,
                            "%s: %s (another container's namespace: use service:NAME for "
                            "one of the stack's own)",
                            key, yamltree_show(s, len, buf, sizeof buf));
                return true;
        }
        if (len >= 8 && strncmp(s, "service:", 8) == 0) {
                if (!own_service(f, s + 8, len - 8))
                        policy_need(f, PERM_OTHER_CONTAINERS, who, "%s: %s (no such service in the stack)", key,
                                    yamltree_show(s, len, buf, sizeof buf));
                return true;
        }
        return false;
}

/* network_mode, pid, ipc: the host's namespace, another container's, or (network_mode) a network by name. */
static void check_namespace(struct file *f, const char *who, const char *key, const struct yamltree_node *v)
{
        static const char *const ipc_ok[] = {"none", "private", "shareable"};
        char buf[80];
        unsigned bit = key[0] == 'n' ? PERM_HOST_NETWORK : key[0] == 'p' ? PERM_HOST_PID : PERM_HOST_IPC;
        size_t i;

        if (policy_is_null(v))
                return;
        if (!yamltree_is_scalar(v)) {
                policy_need(f, bit, who, "%s: %s", key, yamltree_kind_name(v));
                return;
        }
        yamltree_show(v->text, v->len, buf, sizeof buf);
        if (policy_node_unknown(v) || yamltree_text_is_ci(v, "host")) {
                policy_need(f, bit, who, "%s: %s%s%s%s", key, buf, policy_node_unknown(v) ? " (" : "",
                            policy_node_unknown(v) ? policy_unknown_why(v) : "", policy_node_unknown(v) ? ")" : "");
                return;
        }
        if (check_namespace_ref(f, who, key, v->text, v->len) || v->len == 0)
                return;
        if (bit == PERM_HOST_NETWORK) {
                /* none; bridge / default: the Engine's default bridge, where `docker run` puts containers */
                if (!yamltree_text_is(v, "none") && !yamltree_text_is(v, "bridge") && !yamltree_text_is(v, "default"))
                        policy_need(f, PERM_EXTERNAL, who, "network_mode: %s (a network outside the stack)", buf);
                return;
        }
        for (i = 0; bit == PERM_HOST_IPC && i < COUNT(ipc_ok); i++)
                if (yamltree_text_is(v, ipc_ok[i]))
                        return;
        policy_need(f, bit, who, "%s: %s (not a mode the policy knows)", key, buf);
}

/* The sysctls Docker lets a container set in its own namespaces: net.* (its network namespace), the IPC
 * ones. Anything else is the host's kernel. */
static void check_sysctls(struct file *f, const char *who, const struct yamltree_node *svc,
                          const struct yamltree_node *v)
{
        static const char *const ipc[] = {"kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue."};
        const struct yamltree_node *nm = yamltree_map_get(svc, "network_mode"), *im = yamltree_map_get(svc, "ipc");
        char buf[80];
        size_t i, k, n;

        if (policy_is_null(v))
                return;
        if (v->kind == YAMLTREE_SCALAR) {
                policy_need(f, PERM_PRIVILEGED, who, "sysctls: %s", yamltree_show(v->text, v->len, buf, sizeof buf));
                return;
        }
        for (i = 0; i < v->n; i += v->kind == YAMLTREE_MAP ? 2 : 1) {
                const struct yamltree_node *e = v->items[i];
                bool ok = false;

                if (!yamltree_is_scalar(e) || policy_node_unknown(e)) {
                        policy_need(f, PERM_PRIVILEGED, who, "sysctls: %s",
                                    yamltree_is_scalar(e) ? yamltree_show(e->text, e->len, buf, sizeof buf)
                                                          : yamltree_kind_name(e));
                        continue;
                }
                n = v->kind == YAMLTREE_MAP ? e->len : strcspn(e->text, "=");
                yamltree_show(e->text, n, buf, sizeof buf);
                if (strspn(e->text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") < n) {
                        policy_need(f, PERM_PRIVILEGED, who, "sysctls: %s (not a sysctl name)", buf);
                        continue;
                }
                if (n > 4 && strncmp(e->text, "net.", 4) == 0) {
                        if (yamltree_is_scalar(nm) && (yamltree_text_is_ci(nm, "host") || policy_node_unknown(nm)))
                                policy_need(f, PERM_HOST_NETWORK, who,
                                            "sysctls: %s (with network_mode: host, the host's)", buf);
                        continue;
                }
                for (k = 0; k < COUNT(ipc) && !ok; k++)
                        ok = n > strlen(ipc[k]) - 1 && strncmp(e->text, ipc[k], strlen(ipc[k])) == 0;
                if (ok) {
                        if (yamltree_is_scalar(im) && (yamltree_text_is_ci(im, "host") || policy_node_unknown(im)))
                                policy_need(f, PERM_HOST_IPC, who, "sysctls: %s (with ipc: host, the host's)", buf);
                        continue;
                }
                policy_need(f, PERM_PRIVILEGED, who, "sysctls: %s (not in the container's own namespaces)", buf);
        }
}

static void check_logging(struct file *f, const char *who, const struct yamltree_node *v)
{
        static const char *const drivers[] = {"json-file", "local", "none"};
        const struct yamltree_node *d;
        char buf[80];
        size_t i;

        if (policy_is_null(v))
                return;
        if (v->kind != YAMLTREE_MAP) {
                policy_need(f, PERM_LOGGING, who, "logging: %s", yamltree_kind_name(v));
                return;
        }
        d = yamltree_map_get(v, "driver");
        if (policy_is_null(d)) {
                /* the daemon's default driver is the person's choice, but options the bundle writes for it
                 * (syslog-address, fluentd-address, gelf-address ...) would say where it sends the logs */
                static const char *const local_opts[] = {
                        "max-size", "max-file",  "compress", "labels", "labels-regex",
                        "env",      "env-regex", "tag",      "mode",   "max-buffer-size"};
                const struct yamltree_node *o = yamltree_map_get(v, "options");
                size_t j;

                for (i = 0; o && o->kind == YAMLTREE_MAP && i + 1 < o->n; i += 2) {
                        for (j = 0; j < COUNT(local_opts) && !yamltree_text_is(o->items[i], local_opts[j]); j++)
                                ;
                        if (j == COUNT(local_opts)) {
                                policy_need(
                                        f, PERM_LOGGING, who,
                                        "logging.options.%s without a driver (an option of the daemon's default driver "
                                        "that may say where it sends the logs)",
                                        yamltree_show(o->items[i]->text, o->items[i]->len, buf, sizeof buf));
                                break;
                        }
                }
                return;
        }
        for (i = 0; yamltree_is_scalar(d) && !policy_node_unknown(d) && i < COUNT(drivers); i++)
                if (yamltree_text_is(d, drivers[i]))
                        return;
        policy_need(f, PERM_LOGGING, who, "logging.driver: %s (the daemon sends the logs there)",
                    yamltree_is_scalar(d) ? yamltree_show(d->text, d->len, buf, sizeof buf) : yamltree_kind_name(d));
}

/* A list of strings, each handed to each() (volumes_from, external_links). */
static void each_string(struct file *f, const char *who, const char *key, const struct yamltree_node *v,
                        void (*each)(struct file *, const char *, const char *, const struct yamltree_node *))
{
        size_t i;

        if (policy_is_null(v))
                return;
        if (v->kind != YAMLTREE_SEQ) {
                policy_need(f, PERM_OTHER_CONTAINERS, who, "%s: %s", key, yamltree_kind_name(v));
                return;
        }
        for (i = 0; i < v->n; i++)
                each(f, who, key, v->items[i]);
}

static void volumes_from_entry(struct file *f, const char *who, const char *key, const struct yamltree_node *e)
{
        char buf[80];

        if (!yamltree_is_scalar(e) || policy_node_unknown(e)) {
                policy_need(f, PERM_OTHER_CONTAINERS, who, "%s: %s", key,
                            yamltree_is_scalar(e) ? yamltree_show(e->text, e->len, buf, sizeof buf)
                                                  : yamltree_kind_name(e));
                return;
        }
        /* "service[:ro|rw]": compose refuses a name that is not one of the project's services */
        check_namespace_ref(f, who, key, e->text, e->len);
}

static void external_link(struct file *f, const char *who, const char *key, const struct yamltree_node *e)
{
        char buf[80];

        policy_need(f, PERM_OTHER_CONTAINERS, who, "%s: %s (a container outside the stack)", key,
                    yamltree_is_scalar(e) ? yamltree_show(e->text, e->len, buf, sizeof buf) : yamltree_kind_name(e));
}

/* A scalar key whose only harmless values are listed (NULL-terminated); anything else needs bit. */
static void need_unless(struct file *f, const char *who, const char *key, const struct yamltree_node *v,
                        const char *const *ok, unsigned bit)
{
        char buf[80];

        if (policy_is_null(v))
                return;
        for (; yamltree_is_scalar(v) && !policy_node_unknown(v) && *ok; ok++)
                if (yamltree_text_is(v, *ok))
                        return;
        policy_need(f, bit, who, "%s: %s", key,
                    yamltree_is_scalar(v) ? yamltree_show(v->text, v->len, buf, sizeof buf) : yamltree_kind_name(v));
}

bool policy_check_reach_key(struct file *f, const char *who, const struct yamltree_node *svc,
                            const struct yamltree_node *k, const struct yamltree_node *v)
{
        static const char *const runtimes[] = {"runc", "io.containerd.runc.v2", NULL};
        static const char *const isolation[] = {"default", NULL};
        static const char *const local[] = {"local", NULL};
        char buf[80], pbuf[160];
        size_t i;

        if (yamltree_text_is(k, "network_mode") || yamltree_text_is(k, "pid") || yamltree_text_is(k, "ipc")) {
                check_namespace(f, who, k->text, v);
        } else if (yamltree_text_is(k, "volumes_from")) {
                each_string(f, who, "volumes_from", v, volumes_from_entry);
        } else if (yamltree_text_is(k, "external_links")) {
                each_string(f, who, "external_links", v, external_link);
        } else if (yamltree_text_is(k, "container_name")) {
                const char *project = policy_own_project(f->a, pbuf, sizeof pbuf);
                size_t n = strlen(project);

                if (yamltree_is_scalar(v) && !policy_is_null(v) &&
                    (policy_node_unknown(v) ||
                     (v->len >= 6 && strncmp(v->text, "stack-", 6) == 0 &&
                      !(v->len > n + 1 && strncmp(v->text, project, n) == 0 && v->text[n] == '_'))))
                        policy_need(f, PERM_OTHER_CONTAINERS, who, "container_name: %s (%s)",
                                    yamltree_show(v->text, v->len, buf, sizeof buf),
                                    policy_node_unknown(v) ? policy_unknown_why(v)
                                                           : "how stack names other stacks' containers");
        } else if (yamltree_text_is(k, "logging")) {
                check_logging(f, who, v);
        } else if (yamltree_text_is(k, "sysctls")) {
                check_sysctls(f, who, svc, v);
        } else if (yamltree_text_is(k, "runtime")) {
                need_unless(f, who, "runtime", v, runtimes, PERM_PRIVILEGED);
        } else if (yamltree_text_is(k, "isolation")) {
                need_unless(f, who, "isolation", v, isolation, PERM_PRIVILEGED);
        } else if (yamltree_text_is(k, "volume_driver")) {
                need_unless(f, who, "volume_driver", v, local, PERM_VOLUME_DRIVER);
        } else if (yamltree_text_is(k, "storage_opt")) {
                for (i = 0; v && v->kind == YAMLTREE_MAP && i + 1 < v->n; i += 2)
                        if (!yamltree_text_is(v->items[i], "size"))
                                policy_need(f, PERM_PRIVILEGED, who, "storage_opt.%s",
                                            yamltree_show(v->items[i]->text, v->items[i]->len, buf, sizeof buf));
                if (!policy_is_null(v) && v->kind != YAMLTREE_MAP)
                        policy_need(f, PERM_PRIVILEGED, who, "storage_opt: %s", yamltree_kind_name(v));
        } else {
                return false;
        }
        return true;
}
