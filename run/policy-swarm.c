/* policy-swarm.c - the swarm file (spec/run.md "Swarm file"): the effective compose file policy_apply() wrote,
 * already judged and sandboxed, rewritten into the compose 3.x form `docker stack deploy` reads (docker CLI
 * 20.10 refuses keys its schema does not have, and silently ignores some it has but swarm cannot do). The output
 * is built as a new tree from what is allowed, so nothing passes that was not looked at: a key of a service, of
 * deploy, or of the top level that is not in the lists is refused. This file: the entry point, the top level
 * (networks, volumes, configs, secrets), the helpers the parts share (policy-swarm-int.h); a service's keys are
 * policy-swarm-service.c's, its deploy section policy-swarm-deploy.c's. Also the other direction:
 * policy_drop_swarm_keys() removes the swarm-only deploy keys from a compose run's effective file.
 */
#include "policy.h"
#include "policy-swarm-int.h"

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

#define SWARM_VERSION "3.8" /* docker CLI 20.10 reads 3.0 .. 3.9; 3.8 has max_replicas_per_node */

int swarm_say(struct sw *s, bool refusal, const char *fmt, ...)
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

int swarm_agg(struct sw *s, enum swarm_agg kind, const struct svc *v)
{
        if (policy_strv_has(&s->agg[kind], v->name, strlen(v->name)))
                return 0;
        return policy_strv_add(&s->agg[kind], v->name, strlen(v->name)) < 0 ? policy_oom(s->err) : 0;
}

const char *swarm_show(const struct yamltree_node *n, char *buf, size_t size)
{
        return yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, size) : yamltree_kind_name(n);
}

/* ---- building the output tree: every helper frees what it was given when it fails (-ENOMEM) ---- */

int swarm_add(struct yamltree_node *parent, struct yamltree_node *n)
{
        if (!n)
                return -ENOMEM;
        if (yamltree_append(parent, n) < 0) {
                yamltree_free(n);
                return -ENOMEM;
        }
        return 0;
}

int swarm_add_text(struct yamltree_node *seq, const char *text, int style)
{
        return swarm_add(seq, yamltree_scalar_new(text, strlen(text), style));
}

int swarm_set_copy(struct yamltree_node *m, const char *key, const struct yamltree_node *v)
{
        return yamltree_map_set(m, key, YAML_PLAIN_SCALAR_STYLE, yamltree_copy(v));
}

/* The value of key in m, creating an empty node of that kind when absent. NULL: out of memory. */
struct yamltree_node *swarm_child(struct yamltree_node *m, const char *key, enum yamltree_kind kind)
{
        struct yamltree_node *n = yamltree_map_get(m, key);

        if (n)
                return n;
        if (yamltree_map_set(m, key, YAML_PLAIN_SCALAR_STYLE, yamltree_node_new(kind)) < 0)
                return NULL;
        return yamltree_map_get(m, key);
}

void swarm_quote_all(struct yamltree_node *n)
{
        if (yamltree_is_scalar(n) && !yamltree_is_null(n) && n->style == YAML_PLAIN_SCALAR_STYLE)
                n->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        for (size_t i = 0; n && (n->kind == YAMLTREE_SEQ || n->kind == YAMLTREE_MAP) && i < n->n; i++)
                if (n->kind == YAMLTREE_SEQ || i % 2) /* values, not keys */
                        swarm_quote_all(n->items[i]);
}

/* A copy of a mapping whose plain scalar values are written quoted: docker CLI 20.10 reads YAML 1.1, where a
 * plain `y`, `on` or `no` is a boolean and a label or environment value must be a string (keys: quote_keys()). */
struct yamltree_node *swarm_copy_quoted(const struct yamltree_node *n)
{
        struct yamltree_node *c = yamltree_copy(n);

        for (size_t i = 1; c && c->kind == YAMLTREE_MAP && i < c->n; i += 2)
                if (yamltree_is_scalar(c->items[i]) && !yamltree_is_null(c->items[i]) &&
                    c->items[i]->style == YAML_PLAIN_SCALAR_STYLE)
                        c->items[i]->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        return c;
}

/* Every mapping key under n that YAML 1.1 (docker CLI 20.10's reader) would not read as the string compose read:
 * a boolean word (y, on, no, off ...), a null, or one that starts like a number. Quoted, it reads the same in
 * both. */
static void quote_keys(struct yamltree_node *n)
{
        static const char *const words[] = {"y",  "Y",    "yes",  "Yes",  "YES",   "n",     "N",     "no", "No",
                                            "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On",
                                            "ON", "off",  "Off",  "OFF",  "null",  "Null",  "NULL",  "~",  NULL};

        for (size_t i = 0; n && n->kind != YAMLTREE_SCALAR && n->kind != YAMLTREE_ALIAS && i < n->n; i++) {
                struct yamltree_node *k = n->items[i];

                if (n->kind == YAMLTREE_MAP && i % 2 == 0) {
                        char c = k->len ? (char)(k->text[0] | 0x20) : 0; /* lower case for letters */

                        if (k->style == YAML_PLAIN_SCALAR_STYLE &&
                            (swarm_text_in(k, words) || !((c >= 'a' && c <= 'z') || k->text[0] == '_')))
                                k->style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                        continue;
                }
                quote_keys(k);
        }
}

/* ---- values ---- */

/* A whole number <= max, as written (no sign, no fraction). */
bool swarm_uint(const struct yamltree_node *n, uint64_t max, uint64_t *ret)
{
        uint64_t w = 0;
        double fr = 0;

        if (!yamltree_is_scalar(n) || !n->len || memchr(n->text, '.', n->len) ||
            yamltree_parse_decimal(n->text, n->len, &w, &fr) != n->len || w > max)
                return false;
        *ret = w;
        return true;
}

bool swarm_text_in(const struct yamltree_node *n, const char *const *set)
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
char *swarm_absolute(struct sw *s, const char *path)
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

/* path (as swarm_absolute() gives it, `$$` for '$') inside the run dir, lexically and once symlinks are resolved:
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

/* ---- the top level ---- */

static int convert_networks(struct sw *s, const struct yamltree_node *in, struct yamltree_node *root)
{
        static const char *const keys[] = {"driver", "driver_opts", "internal",   "labels",
                                           "name",   "ipam",        "attachable", NULL};
        struct yamltree_node *out = swarm_child(root, "networks", YAMLTREE_MAP), *def;
        char buf[80], name[80];

        if (!out)
                return policy_oom(s->err);
        if (in->kind != YAMLTREE_MAP)
                return swarm_refuse(s, "networks must be a mapping");
        for (size_t i = 0; i < in->n; i += 2) {
                const struct yamltree_node *d = in->items[i + 1], *drv = yamltree_map_get(d, "driver");

                yamltree_show(in->items[i]->text, in->items[i]->len, name, sizeof name);
                if (!policy_is_null(d) && d->kind != YAMLTREE_MAP)
                        return swarm_refuse(s, "network '%s': must be a mapping", name);
                for (size_t j = 0; d && d->kind == YAMLTREE_MAP && j < d->n; j += 2)
                        if (!swarm_text_in(d->items[j], keys))
                                return swarm_refuse(s, "network '%s': %s is not supported on swarm", name,
                                                    swarm_show(d->items[j], buf, sizeof buf));
                if (!policy_is_null(drv) && !yamltree_text_is(drv, "bridge") && !yamltree_text_is(drv, "overlay"))
                        return swarm_refuse(s, "network '%s': driver %s is not supported on swarm (overlay)", name,
                                            swarm_show(drv, buf, sizeof buf));
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
                                        r = swarm_note(s,
                                                       "network '%s': driver_opts dropped (the network is an overlay)",
                                                       name);
                        } else if (yamltree_text_is(k, "labels")) {
                                r = yamltree_map_set(def, "labels", YAML_PLAIN_SCALAR_STYLE, swarm_copy_quoted(val)) < 0
                                            ? policy_oom(s->err)
                                            : 0;
                        } else if (swarm_set_copy(def, k->text, val) < 0) {
                                r = policy_oom(s->err);
                        }
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* A local volume that binds a relative device: compose v2 makes the device absolute for `driver: local` and
 * `o: bind` exactly (the policy judged it as a path of the run dir then, policy-mounts.c), docker CLI does not:
 * the Engine would read it from its own /. Otherwise the device stays as written, as compose passes it on. */
static int volume_device(struct sw *s, struct yamltree_node *def)
{
        struct yamltree_node *opts = yamltree_map_get(def, "driver_opts"), *dev = yamltree_map_get(opts, "device");
        char *abs;
        int r;

        if (!yamltree_text_is(yamltree_map_get(def, "driver"), "local") ||
            !yamltree_text_is(yamltree_map_get(opts, "o"), "bind") || !yamltree_is_scalar(dev) ||
            yamltree_is_null(dev) || dev->text[0] == '/' || dev->text[0] == '~')
                return 0;
        abs = swarm_absolute(s, dev->text);
        r = abs ? yamltree_map_set_text(opts, "device", abs, YAML_DOUBLE_QUOTED_SCALAR_STYLE) : -ENOMEM;
        free(abs);
        return r < 0 ? policy_oom(s->err) : 0;
}

/* volumes: local ones only (the data stays on the node that holds it); configs and secrets: a file inside the
 * run dir (docker CLI reads it and stores it in the swarm). */
static int convert_definitions(struct sw *s, const char *section, const char *what, const struct yamltree_node *in,
                               struct yamltree_node *root)
{
        static const char *const volume_keys[] = {"driver", "driver_opts", "labels", "name", NULL};
        static const char *const file_keys[] = {"file", "labels", "name", NULL};
        bool volumes = !strcmp(section, "volumes");
        struct yamltree_node *out = swarm_child(root, section, YAMLTREE_MAP), *def;
        char buf[80], name[80];

        if (!out)
                return policy_oom(s->err);
        if (in->kind != YAMLTREE_MAP)
                return swarm_refuse(s, "%s must be a mapping", section);
        for (size_t i = 0; i < in->n; i += 2) {
                const struct yamltree_node *d = in->items[i + 1], *drv = yamltree_map_get(d, "driver"), *file;

                yamltree_show(in->items[i]->text, in->items[i]->len, name, sizeof name);
                if (!policy_is_null(d) && d->kind != YAMLTREE_MAP)
                        return swarm_refuse(s, "%s '%s': must be a mapping", what, name);
                if (!policy_is_false(yamltree_map_get(d, "external")))
                        return swarm_refuse(s, "%s '%s': external is not supported on swarm", what, name);
                for (size_t j = 0; d && d->kind == YAMLTREE_MAP && j < d->n; j += 2)
                        if (!swarm_text_in(d->items[j], volumes ? volume_keys : file_keys) &&
                            !yamltree_text_is(d->items[j], "external"))
                                return swarm_refuse(s, "%s '%s': %s is not supported on swarm", what, name,
                                                    swarm_show(d->items[j], buf, sizeof buf));
                if (volumes && !policy_is_null(drv) && !yamltree_text_is(drv, "local"))
                        return swarm_refuse(s, "volume '%s': driver %s is not supported on swarm (local only)", name,
                                            swarm_show(drv, buf, sizeof buf));
                if (!(def = policy_is_null(d) ? yamltree_node_new(YAMLTREE_MAP) : yamltree_copy(d)) ||
                    yamltree_map_set(out, in->items[i]->text, YAML_PLAIN_SCALAR_STYLE, def) < 0)
                        return policy_oom(s->err);
                yamltree_map_del(def, "external", false);
                if (yamltree_map_get(def, "labels") &&
                    yamltree_map_set(def, "labels", YAML_PLAIN_SCALAR_STYLE,
                                     swarm_copy_quoted(yamltree_map_get(d, "labels"))) < 0)
                        return policy_oom(s->err);
                if (volumes) {
                        int r = volume_device(s, def);

                        if (r < 0)
                                return r;
                        continue;
                }
                file = yamltree_map_get(d, "file");
                if (!yamltree_is_scalar(file) || yamltree_is_null(file))
                        return swarm_refuse(s, "%s '%s': only a file: is supported on swarm", what, name);
                {
                        char *abs = swarm_absolute(s, file->text);

                        if (!abs)
                                return policy_oom(s->err);
                        if (!inside(s, abs)) {
                                free(abs);
                                return swarm_refuse(s, "%s '%s': file %s is outside the run dir", what, name,
                                                    swarm_show(file, buf, sizeof buf));
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
                return swarm_refuse(s, "the effective file has no 'services' mapping");
        if (yamltree_map_set_text(root, "version", SWARM_VERSION, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0 ||
            !(out = swarm_child(root, "services", YAMLTREE_MAP)))
                return policy_oom(s->err);
        for (size_t i = 0; r == 0 && i < in->n; i += 2) {
                const struct yamltree_node *k = in->items[i], *v = in->items[i + 1];

                if (yamltree_text_is(k, "services") || yamltree_text_is(k, "version") || yamltree_text_is(k, "name") ||
                    (yamltree_is_scalar(k) && !strncmp(k->text, "x-", 2)))
                        continue; /* services below; the version is ours; the project is docker stack's argument */
                if (yamltree_text_is(k, "include"))
                        r = swarm_refuse(s, "include: is not supported on swarm");
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
                        r = swarm_refuse(s, "%s is not supported on swarm", swarm_show(k, buf, sizeof buf));
        }
        for (size_t i = 0; r == 0 && i < services->n; i += 2)
                r = swarm_convert_service(s, services->items[i], services->items[i + 1], out);
        if (r == 0)
                r = swarm_agg_notes(s);
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
                quote_keys(out);
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
