/* policy-security.c - what loosens the sandbox: privileged, the host's network/pid/ipc/uts/cgroup namespaces,
 * capabilities, devices, security_opt (and the no-new-privileges stack adds), networks on the host's stack.
 */
#include "policy-int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

static void need_if_host(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        char buf[80];

        if (is_scalar(v) && (text_is_ci(v, "host") || node_unknown(v)))
                need(f, bit, who, "%s: %s%s%s%s", key, show(v->text, v->len, buf, sizeof buf),
                     node_unknown(v) ? " (" : "", node_unknown(v) ? unknown_why(v) : "", node_unknown(v) ? ")" : "");
}

static void need_if_set(struct file *f, const char *who, const char *key, const struct yamltree_node *v, unsigned bit)
{
        const struct yamltree_node *first =
                v && v->kind != YAMLTREE_SCALAR && v->n ? v->items[v->kind == YAMLTREE_MAP ? 1 : 0] : v;
        char buf[80];

        if (!non_empty(v))
                return;
        if (!is_scalar(first))
                need(f, bit, who, "%s", key);
        else if (v->kind == YAMLTREE_SCALAR)
                need(f, bit, who, "%s: %s", key, show(first->text, first->len, buf, sizeof buf));
        else
                need(f, bit, who, "%s: [%s%s]", key, show(first->text, first->len, buf, sizeof buf),
                     v->n > (v->kind == YAMLTREE_MAP ? 2u : 1u) ? ", ..." : "");
}

/* Keys whose value alone asks for a permission: `host` (or a variable) for the namespaces, anything at all for
 * the rest. */
static const struct {
        const char *key;
        unsigned bit;
        bool host; /* need_if_host, else need_if_set */
} sandbox_keys[] = {
        {"network_mode", PERM_HOST_NETWORK, true},
        {"pid", PERM_HOST_PID, true},
        {"ipc", PERM_HOST_IPC, true},
        {"userns_mode", PERM_PRIVILEGED, true},
        {"uts", PERM_PRIVILEGED, true},
        {"cgroup", PERM_PRIVILEGED, true},
        {"cgroup_parent", PERM_PRIVILEGED, false},
        {"cap_add", PERM_CAP_ADD, false},
        {"devices", PERM_DEVICES, false},
        {"device_cgroup_rules", PERM_DEVICES, false},
        {"gpus", PERM_DEVICES, false},
};

bool check_sandbox_key(struct file *f, const char *who, const struct yamltree_node *k, const struct yamltree_node *v)
{
        char buf[80];
        size_t i;

        if (text_is(k, "privileged")) {
                if (!is_false(v) || node_unknown(v))
                        need(f, PERM_PRIVILEGED, who, "privileged: %s%s%s%s",
                             is_scalar(v) ? show(v->text, v->len, buf, sizeof buf) : kind_name(v),
                             node_unknown(v) ? " (" : "", node_unknown(v) ? unknown_why(v) : "",
                             node_unknown(v) ? ")" : "");
                return true;
        }
        if (text_is(k, "deploy")) {
                if (v->kind == YAMLTREE_MAP)
                        need_if_set(f, who, "deploy.resources.reservations.devices",
                                    map_get(map_get(map_get(v, "resources"), "reservations"), "devices"), PERM_DEVICES);
                return true;
        }
        for (i = 0; i < COUNT(sandbox_keys); i++) {
                if (!text_is(k, sandbox_keys[i].key))
                        continue;
                if (sandbox_keys[i].host)
                        need_if_host(f, who, sandbox_keys[i].key, v, sandbox_keys[i].bit);
                else
                        need_if_set(f, who, sandbox_keys[i].key, v, sandbox_keys[i].bit);
                return true;
        }
        return false;
}

int check_security_opt(struct file *f, const char *who, const struct yamltree_node *v, struct svc_state *st)
{
        char buf[80];
        size_t i;

        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return malformed(f, who, "security_opt must be a list", v);
        if (tag_is(v, "!reset")) { /* compose ignores what it holds */
                st->nnp_reset = true;
                return 0;
        }
        for (i = 0; i < v->n; i++) {
                const struct yamltree_node *o = v->items[i];
                const char *val;

                if (o->kind != YAMLTREE_SCALAR)
                        return malformed(f, who, "a security_opt entry must be a string", o);
                show(o->text, o->len, buf, sizeof buf);
                if (!node_unknown(o) && strncmp(o->text, "no-new-privileges", 17) == 0 &&
                    (o->text[17] == 0 || o->text[17] == ':' || o->text[17] == '=')) {
                        val = o->text[17] ? o->text + 18 : "true";
                        if (strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0) {
                                st->have_nnp = true;
                                continue;
                        }
                        need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
                        if (f->a->in->allow & PERM_PRIVILEGED)
                                st->nnp_off = true;
                        continue;
                }
                /* seccomp / apparmor / label / systempaths and anything else only ever loosen the sandbox */
                need(f, PERM_PRIVILEGED, who, "security_opt: %s", buf);
        }
        return 0;
}

int apply_security_opt(struct file *f, const char *who, struct yamltree_node *svc, const struct svc_state *st)
{
        struct yamltree_node *v = map_get(svc, "security_opt"), *item;

        if (st->have_nnp || st->nnp_off)
                return 0;
        if (is_null(v)) {
                if (map_set(svc, "security_opt", YAML_PLAIN_SCALAR_STYLE, node_new(YAMLTREE_SEQ)) < 0)
                        return oom(f->a->err);
                v = map_get(svc, "security_opt");
        }
        if (prepare_append(v) < 0)
                return oom(f->a->err);
        item = scalar_new("no-new-privileges:true", 22, YAML_PLAIN_SCALAR_STYLE);
        if (!item || node_append(v, item) < 0) {
                yamltree_free(item);
                return oom(f->a->err);
        }
        return 0;
}

int check_networks(struct file *f, const struct yamltree_node *v)
{
        char who[WHO_SIZE], buf[80];
        size_t i;

        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_MAP) {
                snprintf(who, sizeof who, "%snetworks", f->prefix);
                return malformed(f, who, "'networks' must be a mapping", v);
        }
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i], *def = v->items[i + 1], *driver, *name, *ext;
                const struct yamltree_node *eff = NULL;

                snprintf(who, sizeof who, "%snetwork '%s'", f->prefix, show(k->text, k->len, buf, sizeof buf));
                if (def->kind != YAMLTREE_MAP)
                        continue;
                driver = map_get(def, "driver");
                if (text_is_ci(driver, "host") || text_is_ci(driver, "macvlan") || text_is_ci(driver, "ipvlan") ||
                    node_unknown(driver))
                        need(f, PERM_HOST_NETWORK, who, "driver: %s", show(driver->text, driver->len, buf, sizeof buf));
                name = map_get(def, "name");
                ext = map_get(def, "external");
                if (is_scalar(name) && !is_null(name))
                        eff = name;
                else if (ext && ext->kind == YAMLTREE_MAP && is_scalar(map_get(ext, "name")))
                        eff = map_get(ext, "name");
                else if (ext && !is_false(ext))
                        eff = k;
                if (eff && (text_is(eff, "host") || node_unknown(eff)))
                        need(f, PERM_HOST_NETWORK, who, "the network named %s (the host's network)",
                             show(eff->text, eff->len, buf, sizeof buf));
        }
        return 0;
}
