/* policy-services.c - one compose document walked key by key: every key first checked against the compose
 * specification's (policy-keys.c), then the top-level sections (services, include, networks, volumes,
 * secrets, configs) and each service's keys, handed to the check that owns them (security, mounts, ports,
 * include/build); then what is added to every service (no-new-privileges, limits, labels).
 */
#include "policy-int.h"

#include <stdio.h>
#include <string.h>

static int check_list(struct file *f, const char *who, const char *key, struct yamltree_node *v,
                      int (*each)(struct file *, const char *, const char *, struct yamltree_node *, size_t),
                      const char *service)
{
        char what[96];
        size_t i;
        int r;

        if (policy_is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ) {
                snprintf(what, sizeof what, "%s must be a list", key);
                return policy_malformed(f, who, what, v);
        }
        for (i = 0; i < v->n; i++) {
                r = each(f, who, service, v, i);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int each_volume(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        int r;

        f->volumes = seq; /* for policy_pin_nested_binds() */
        f->volume = seq->items[i];
        r = policy_check_volume(f, who, service, seq->items[i]);
        f->volumes = NULL;
        f->volume = NULL;
        return r;
}

static int each_port(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        return policy_check_port(f, who, seq, i);
}

static int each_env_file(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        const struct yamltree_node *e = seq->items[i];

        return policy_check_host_path(f, who, "env_file", e->kind == YAMLTREE_MAP ? yamltree_map_get(e, "path") : e);
}

static int each_label_file(struct file *f, const char *who, const char *service, struct yamltree_node *seq, size_t i)
{
        return policy_check_host_path(f, who, "label_file", seq->items[i]);
}

int policy_check_env_file(struct file *f, const char *who, struct yamltree_node *v)
{
        if (yamltree_is_scalar(v))
                return policy_check_host_path(f, who, "env_file", v);
        return check_list(f, who, "env_file", v, each_env_file, NULL);
}

static int check_service(struct file *f, const char *name, struct yamltree_node *svc)
{
        char who[WHO_SIZE];
        struct svc_state st = {0};
        size_t i;
        int r = 0;

        snprintf(who, sizeof who, "%sservice '%s'", f->prefix, name);
        for (i = 0; i + 1 < svc->n && r == 0; i += 2) {
                const struct yamltree_node *k = svc->items[i];
                struct yamltree_node *v = svc->items[i + 1];

                if (policy_check_sandbox_key(f, who, k, v) || policy_check_reach_key(f, who, svc, k, v)) {
                        /* recorded with policy_need() */
                } else if (yamltree_text_is(k, "security_opt")) {
                        r = policy_check_security_opt(f, who, v, &st);
                } else if (yamltree_text_is(k, "volumes")) {
                        r = check_list(f, who, "volumes", v, each_volume, name);
                } else if (yamltree_text_is(k, "ports")) {
                        r = check_list(f, who, "ports", v, each_port, name);
                } else if (yamltree_text_is(k, "env_file")) {
                        r = policy_check_env_file(f, who, v);
                } else if (yamltree_text_is(k, "label_file")) { /* read from the host by compose, as env_file */
                        r = yamltree_is_scalar(v) ? policy_check_host_path(f, who, "label_file", v)
                                                  : check_list(f, who, "label_file", v, each_label_file, NULL);
                } else if (yamltree_text_is(k, "build")) {
                        r = policy_check_build(f, who, v);
                } else if (yamltree_text_is(k, "extends")) {
                        r = policy_check_extends(f, who, v);
                }
        }
        if (r == 0)
                r = policy_drop_swarm_keys(f, who, svc);
        if (r == 0)
                r = policy_apply_security_opt(f, who, svc, &st);
        if (r == 0)
                r = policy_apply_limits(f, who, svc);
        if (r == 0)
                r = policy_apply_routes(f, who, name, svc);
        if (r == 0)
                r = policy_apply_labels(f, who, svc);
        return r;
}

static int check_services(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], name[80];
        size_t i;
        int r;

        snprintf(who, sizeof who, "%sservices", f->prefix);
        if (v->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "'services' must be a mapping", v);
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i];
                struct yamltree_node *svc = v->items[i + 1];

                if (memchr(k->text, 0, k->len) || k->len == 0)
                        return error_set(f->a->err, STACK_EREJECT,
                                         "%s: a service name is empty or holds a NUL (line %zu)", who, k->line);
                yamltree_show(k->text, k->len, name, sizeof name);
                if (svc->kind != YAMLTREE_MAP) {
                        snprintf(who, sizeof who, "%sservice '%s'", f->prefix, name);
                        return policy_malformed(f, who, "a service must be a mapping", svc);
                }
                if (f->list_services && policy_strv_add(&f->a->services, k->text, k->len) < 0)
                        return policy_oom(f->a->err);
                r = check_service(f, name, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_file_definition(struct file *f, const char *who, const struct yamltree_node *key,
                                 struct yamltree_node *def)
{
        int r = policy_check_host_path(f, who, "file", yamltree_map_get(def, "file"));

        return r < 0 ? r : policy_record_file_bind(f, who, yamltree_map_get(def, "file"));
}

/* Top-level volumes, secrets and configs: name -> definition; each definition that is a mapping goes to check,
 * with "<what> '<name>'" to name it. */
static int check_definitions(struct file *f, const struct yamltree_node *v, const char *what,
                             int (*check)(struct file *, const char *, const struct yamltree_node *,
                                          struct yamltree_node *))
{
        char who[WHO_SIZE], buf[80];
        size_t i;
        int r;

        if (policy_is_null(v) || v->kind != YAMLTREE_MAP)
                return 0;
        for (i = 0; i + 1 < v->n; i += 2) {
                const struct yamltree_node *k = v->items[i];
                struct yamltree_node *def = v->items[i + 1];

                if (def->kind != YAMLTREE_MAP)
                        continue;
                snprintf(who, sizeof who, "%s%s '%s'", f->prefix, what,
                         yamltree_show(k->text, k->len, buf, sizeof buf));
                r = check(f, who, k, def);
                if (r < 0)
                        return r;
        }
        return 0;
}

int policy_check_document(struct file *f, struct yamltree_node *root)
{
        bool services = false, include = false;
        size_t i;
        int r, pinned;

        if (root->kind != YAMLTREE_MAP)
                return error_set(f->a->err, STACK_EREJECT,
                                 "%s: the top level is a %s, expected a mapping with 'services'", f->rel,
                                 yamltree_kind_name(root));
        r = policy_check_keys(f, root); /* policy-keys.c: every key known, x- dropped */
        if (r == 0)
                r = policy_scan_vars(f->a, root);
        f->services = yamltree_map_get(root, "services");
        for (i = 0; i + 1 < root->n && r == 0; i += 2) {
                const struct yamltree_node *k = root->items[i];
                struct yamltree_node *v = root->items[i + 1];

                if (yamltree_text_is(k, "services")) {
                        services = true;
                        r = check_services(f, v);
                } else if (yamltree_text_is(k, "include")) {
                        include = true;
                        r = policy_check_includes(f, v);
                } else if (yamltree_text_is(k, "networks")) {
                        r = policy_check_networks(f, v);
                } else if (yamltree_text_is(k, "volumes")) {
                        r = check_definitions(f, v, "volume", policy_check_volume_definition);
                } else if (yamltree_text_is(k, "secrets")) {
                        r = check_definitions(f, v, "secret", check_file_definition);
                } else if (yamltree_text_is(k, "configs")) {
                        r = check_definitions(f, v, "config", check_file_definition);
                }
        }
        if (r == 0 && !services && !include)
                r = error_set(f->a->err, STACK_EREJECT, "%s: no 'services' mapping", f->rel);
        pinned = policy_pin_nested_binds(f, r == 0); /* the document's nested binds, pinned (policy-mounts.c) */
        return r < 0 ? r : pinned;
}
