/* policy-v1.c - the effective file for docker-compose 1.29 (the compose Debian 12 ships): what only compose v2
 * reads, rewritten into what v1 runs with the same meaning (spec/run.md "Compose v1 rewrites"), and a refusal
 * naming the key for what v1 cannot express, before anything starts. Runs on the checked document, after the
 * override merge and the include flattening, so every service is reached once.
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "base/fsutil.h"

#define CONFIGS_DIR ".stack-configs"

static int refuse_v1(struct file *f, const char *who, const char *key)
{
        return error_set(
                f->a->err, STACK_EREJECT,
                "%s: %s cannot be expressed for docker-compose 1.29 (compose v2 runs it: STACK_RUNTIME='docker "
                "compose')",
                who, key);
}

/* Scalar v becomes text[0..len) double-quoted: the string both compose versions read. -ENOMEM. */
static int quote_as(struct yamltree_node *v, const char *text, size_t len)
{
        char *copy = strndup(text, len);

        if (!copy)
                return -ENOMEM;
        yamltree_scalar_replace(v, copy, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
}

/* v2 reads a plain true/1/yes in these mappings as the string it writes ("true" for any spelling of true);
 * v1 refuses a boolean in environment and writes "True" for one in labels. */
static int stringify_values(struct yamltree_node *m)
{
        size_t i;

        if (!m || m->kind != YAMLTREE_MAP)
                return 0;
        for (i = 0; i + 1 < m->n; i += 2) {
                struct yamltree_node *v = m->items[i + 1];
                int r;

                if (v->kind != YAMLTREE_SCALAR || v->style != YAML_PLAIN_SCALAR_STYLE || policy_is_null(v))
                        continue;
                if (yamltree_text_is_ci(v, "true"))
                        r = quote_as(v, "true", 4);
                else if (yamltree_text_is_ci(v, "false"))
                        r = quote_as(v, "false", 5);
                else
                        r = quote_as(v, v->text, v->len);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* PyYAML (v1, and podman-compose) reads YAML 1.1, where a plain yes/no/on/off is a boolean; compose v2 reads
 * YAML 1.2, where it is the string. Written quoted, it is the string for both. */
static bool yaml11_only_bool(const struct yamltree_node *v)
{
        static const char *const words[] = {"yes", "Yes", "YES", "no",  "No",  "NO",
                                            "on",  "On",  "ON",  "off", "Off", "OFF"};

        if (!v || v->kind != YAMLTREE_SCALAR || v->style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        for (size_t i = 0; i < COUNT(words); i++)
                if (yamltree_text_is(v, words[i]))
                        return true;
        return false;
}

/* A command, entrypoint or healthcheck test: each yes/no/on/off quoted (the string v2 reads). */
static int quote_yaml11_bools(struct yamltree_node *v)
{
        size_t n = v && v->kind == YAMLTREE_SEQ ? v->n : 1;

        for (size_t i = 0; v && i < n; i++) {
                struct yamltree_node *w = v->kind == YAMLTREE_SEQ ? v->items[i] : v;

                if (yaml11_only_bool(w) && quote_as(w, w->text, w->len) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A plain scalar YAML 1.2 reads as no string (null, a boolean, a number): compose v2 refuses it as a version
 * too, so it is left for both tools to refuse. */
static bool plain_non_string(const struct yamltree_node *v)
{
        char buf[64], *end;

        if (v->style != YAML_PLAIN_SCALAR_STYLE)
                return false;
        if (policy_is_null(v) || yamltree_text_is_ci(v, "true") || yamltree_text_is_ci(v, "false"))
                return true;
        if (v->len == 0 || v->len >= sizeof buf)
                return false;
        memcpy(buf, v->text, v->len);
        buf[v->len] = 0;
        strtod(buf, &end);
        return *end == 0;
}

/* A port's protocol in lowercase: compose v2 lowercases `/UDP` (and the Engine knows only tcp, udp, sctp);
 * docker-compose 1.29 refuses "127.0.0.1:51413:51413/UDP", which the policy writes for a long-syntax port with
 * `protocol: UDP`. */
static void lowercase_protocols(struct yamltree_node *ports)
{
        for (size_t i = 0; ports && ports->kind == YAMLTREE_SEQ && i < ports->n; i++) {
                struct yamltree_node *p = ports->items[i], *proto = p;
                size_t from = 0;

                if (p->kind == YAMLTREE_MAP)
                        proto = yamltree_map_get(p, "protocol");
                else if (p->kind == YAMLTREE_SCALAR)
                        for (size_t j = 0; j < p->len; j++)
                                if (p->text[j] == '/')
                                        from = j + 1;
                if (!proto || proto->kind != YAMLTREE_SCALAR || (p == proto && from == 0))
                        continue;
                for (size_t j = from; j < proto->len; j++)
                        if (proto->text[j] >= 'A' && proto->text[j] <= 'Z')
                                proto->text[j] = (char)(proto->text[j] - 'A' + 'a');
        }
}

/* A top-level version v1 knows: "", "2", "3", "2.N", "3.N" (v1 refuses any other string; v2 ignores it). */
static bool v1_version(const struct yamltree_node *v)
{
        size_t i = 1;

        if (v->len == 0)
                return true;
        if (v->text[0] != '2' && v->text[0] != '3')
                return false;
        if (i < v->len && v->text[i] == '.' && i + 1 < v->len)
                for (i++; i < v->len && v->text[i] >= '0' && v->text[i] <= '9'; i++)
                        ;
        return i == v->len;
}

static bool starts_variable(const char *s, size_t len)
{
        return len && (s[0] == '{' || s[0] == '_' || ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'));
}

/* v2 keeps a `$` that starts no variable ("a$ b", "$1"); v1 refuses it as an invalid interpolation. */
static int escape_lone_dollars(struct yamltree_node *n)
{
        size_t i, o, extra = 0;
        char *out;

        if (n->kind != YAMLTREE_SCALAR) { /* values only: compose does not interpolate keys */
                for (i = n->kind == YAMLTREE_MAP; i < n->n; i += 1 + (n->kind == YAMLTREE_MAP))
                        if (escape_lone_dollars(n->items[i]) < 0)
                                return -ENOMEM;
                return 0;
        }
        for (i = 0; i < n->len; i++) {
                if (n->text[i] != '$')
                        continue;
                if (i + 1 < n->len && (n->text[i + 1] == '$')) {
                        i++;
                        continue;
                }
                if (starts_variable(n->text + i + 1, n->len - i - 1))
                        continue;
                extra++;
        }
        if (!extra)
                return 0;
        out = malloc(n->len + extra + 1);
        if (!out)
                return -ENOMEM;
        for (i = 0, o = 0; i < n->len; i++) {
                out[o++] = n->text[i];
                if (n->text[i] != '$')
                        continue;
                if (i + 1 < n->len && n->text[i + 1] == '$') {
                        out[o++] = n->text[++i];
                        continue;
                }
                if (starts_variable(n->text + i + 1, n->len - i - 1))
                        continue;
                out[o++] = '$';
        }
        out[o] = 0;
        free(n->text);
        n->text = out;
        n->len = o;
        return 0;
}

/* env_file: [{path, required}] -> [path]; a file that is not required and is not there is dropped (v1 would
 * refuse to start without it). */
static int rewrite_env_file(struct file *f, struct yamltree_node *svc)
{
        struct yamltree_node *v = yamltree_map_get(svc, "env_file");
        char path[PATH_MAX];
        size_t i = 0;

        if (!v || v->kind != YAMLTREE_SEQ)
                return 0;
        while (i < v->n) {
                struct yamltree_node *e = v->items[i], *p, *req;
                bool keep = true;

                if (e->kind != YAMLTREE_MAP) {
                        i++;
                        continue;
                }
                p = yamltree_map_get(e, "path");
                req = yamltree_map_get(e, "required");
                if (!yamltree_is_scalar(p))
                        return policy_malformed(f, "env_file", "an env_file entry needs a path", e);
                if (req && policy_is_false(req) && !policy_is_null(req) && !policy_has_var(p->text, p->len)) {
                        if (p->text[0] == '/')
                                keep = access(p->text, F_OK) == 0;
                        else if (fs_path(path, sizeof path, "%s/%s%s%s", f->a->in->run_dir, f->a->main_base,
                                         *f->a->main_base ? "/" : "", p->text) == 0)
                                keep = access(path, F_OK) == 0;
                }
                if (!keep) {
                        yamltree_free(e);
                        memmove(v->items + i, v->items + i + 1, (v->n - i - 1) * sizeof *v->items);
                        v->n--;
                        continue;
                }
                p = yamltree_copy(p);
                if (!p)
                        return -ENOMEM;
                yamltree_free(e);
                v->items[i++] = p;
        }
        if (v->n == 0)
                yamltree_map_del(svc, "env_file", false);
        return 0;
}

static bool has_subpath(const struct yamltree_node *vol)
{
        const struct yamltree_node *o = yamltree_map_get(vol, "volume");

        return o && o->kind == YAMLTREE_MAP && yamltree_map_get(o, "subpath");
}

static int rewrite_service(struct file *f, const char *name, struct yamltree_node *svc)
{
        char who[WHO_SIZE];
        struct yamltree_node *v, *h, *b;
        size_t i;
        int r;

        snprintf(who, sizeof who, "service '%s'", name);
        v = yamltree_map_get(svc, "volumes");
        for (i = 0; v && v->kind == YAMLTREE_SEQ && i < v->n; i++) {
                struct yamltree_node *bind = yamltree_map_get(v->items[i], "bind");

                if (has_subpath(v->items[i]))
                        return refuse_v1(f, who, "volumes: volume.subpath");
                if (bind && bind->kind == YAMLTREE_MAP) /* the policy made the data dirs already */
                        yamltree_map_del(bind, "create_host_path", false);
        }
        if (stringify_values(yamltree_map_get(svc, "environment")) < 0 ||
            stringify_values(yamltree_map_get(svc, "labels")) < 0 ||
            stringify_values(yamltree_map_get(svc, "extra_hosts")) < 0 ||
            stringify_values(yamltree_map_get(svc, "sysctls")) < 0)
                return -ENOMEM;
        v = yamltree_map_get(svc, "restart");
        if (v && v->kind == YAMLTREE_SCALAR && v->style == YAML_PLAIN_SCALAR_STYLE && !policy_is_null(v)) {
                bool no = policy_is_false(v);

                if (quote_as(v, no ? "no" : v->text, no ? 2 : v->len) < 0)
                        return -ENOMEM;
        }
        r = rewrite_env_file(f, svc);
        if (r < 0)
                return r;
        h = yamltree_map_get(svc, "healthcheck");
        if (h && h->kind == YAMLTREE_MAP) {
                yamltree_map_del(h, "start_interval", false);
                if (quote_yaml11_bools(yamltree_map_get(h, "test")) < 0)
                        return -ENOMEM;
        }
        lowercase_protocols(yamltree_map_get(svc, "ports"));
        /* `command: null` is unset for v2; v1 refuses a null there */
        for (i = 0; i < 2; i++) {
                const char *key = i ? "entrypoint" : "command";

                v = yamltree_map_get(svc, key);
                if (v && policy_is_null(v))
                        yamltree_map_del(svc, key, false);
                else if (quote_yaml11_bools(v) < 0)
                        return -ENOMEM;
        }
        b = yamltree_map_get(svc, "build");
        if (b && b->kind == YAMLTREE_MAP) {
                if (!yamltree_map_get(b, "context") &&
                    yamltree_map_set_text(b, "context", ".", YAML_PLAIN_SCALAR_STYLE) < 0)
                        return -ENOMEM;
                if (stringify_values(yamltree_map_get(b, "args")) < 0 ||
                    stringify_values(yamltree_map_get(b, "labels")) < 0)
                        return -ENOMEM;
        }
        v = yamltree_map_get(svc, "depends_on");
        for (i = 0; v && v->kind == YAMLTREE_MAP && i + 1 < v->n; i += 2) {
                yamltree_map_del(v->items[i + 1], "restart", false);
                yamltree_map_del(v->items[i + 1], "required", false);
        }
        /* watch mode and log attachment: nothing a detached `up` does */
        yamltree_map_del(svc, "develop", false);
        yamltree_map_del(svc, "attach", false);
        return 0;
}

/* configs.<name>.content -> a file in the run dir, named by the config, and `file:` pointing at it. */
static int rewrite_configs(struct file *f, struct yamltree_node *configs)
{
        struct apply *a = f->a;
        char path[PATH_MAX], ref[PATH_MAX], up[PATH_MAX] = "", buf[80], *out, *data;
        size_t i;
        int r;

        for (const char *p = f->base; *p; p++)
                if (p == f->base || p[-1] == '/')
                        if (strlen(up) + 4 < sizeof up)
                                strcat(up, "../");
        for (i = 0; configs && configs->kind == YAMLTREE_MAP && i + 1 < configs->n; i += 2) {
                const struct yamltree_node *k = configs->items[i];
                struct yamltree_node *def = configs->items[i + 1], *c;

                if (def->kind != YAMLTREE_MAP)
                        continue;
                yamltree_show(k->text, k->len, buf, sizeof buf);
                if (yamltree_map_get(def, "environment")) {
                        snprintf(path, sizeof path, "config '%s'", buf);
                        return refuse_v1(f, path, "environment");
                }
                c = yamltree_map_get(def, "content");
                if (!c)
                        continue;
                if (c->kind != YAMLTREE_SCALAR)
                        return policy_malformed(f, "configs", "content must be a string", c);
                if (k->len == 0 || k->len > NAME_MAX || k->text[0] == '.' ||
                    strspn(k->text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != k->len)
                        return error_set(a->err, STACK_EREJECT,
                                         "config '%s': a name of letters, digits, '.', '_' and '-' is needed to "
                                         "write its content to a file for docker-compose 1.29",
                                         buf);
                if (tree_find(a->in->tree, CONFIGS_DIR))
                        return error_set(a->err, STACK_EREJECT,
                                         "the bundle ships %s/, where stack writes configs' content", CONFIGS_DIR);
                if (fs_path(path, sizeof path, "%s/%s/%s", a->in->run_dir, CONFIGS_DIR, k->text) < 0 ||
                    fs_path(ref, sizeof ref, "./%s%s/%s", up, CONFIGS_DIR, k->text) < 0)
                        return error_set(a->err, STACK_EREJECT, "config '%s': path too long", buf);
                /* The content is already interpolated (check_document resolved every value, as compose v2
                 * does) and not yet escaped: the file is mounted as it is, compose never reads it. Readable
                 * by the container's user, like compose v2's config files. */
                out = strdup(path);
                data = malloc(c->len + 1);
                if (!out || !data) {
                        free(out);
                        free(data);
                        return -ENOMEM;
                }
                memcpy(data, c->text, c->len);
                r = policy_pending_add(a, out, data, c->len, 0644);
                if (r < 0)
                        return r;
                a->configs_dir = true;
                yamltree_map_del(def, "content", false);
                r = yamltree_map_set_text(def, "file", ref, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* docker-compose 1.29 ignores configs outside a swarm ("use docker stack deploy"): each service's configs
 * become read-only binds of the config's file at the config's target (default /<name>, as v2 mounts it). */
static int configs_to_binds(struct file *f, const char *who, struct yamltree_node *svc,
                            const struct yamltree_node *configs)
{
        struct yamltree_node *v = yamltree_map_get(svc, "configs"), *vols;
        char buf[80];
        size_t i;
        int r;

        if (!v)
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return policy_malformed(f, who, "configs must be a list", v);
        vols = yamltree_map_get(svc, "volumes");
        if (!vols) {
                vols = yamltree_node_new(YAMLTREE_SEQ);
                if (!vols || yamltree_map_set(svc, "volumes", YAML_PLAIN_SCALAR_STYLE, vols) < 0)
                        return -ENOMEM;
        }
        if (vols->kind != YAMLTREE_SEQ)
                return policy_malformed(f, who, "volumes must be a list", vols);
        for (i = 0; i < v->n; i++) {
                const struct yamltree_node *it = v->items[i], *src = it, *tgt = NULL, *def, *file;
                struct yamltree_node *m;
                char *target;

                if (it->kind == YAMLTREE_MAP) {
                        src = yamltree_map_get(it, "source");
                        tgt = yamltree_map_get(it, "target");
                }
                if (!yamltree_is_scalar(src))
                        return policy_malformed(f, who, "a config needs a source", it);
                yamltree_show(src->text, src->len, buf, sizeof buf);
                def = yamltree_map_get(configs, src->text);
                file = yamltree_map_get(def, "file");
                if (!yamltree_is_scalar(file))
                        return error_set(f->a->err, STACK_EREJECT,
                                         "%s: config '%s' is not a file or content defined in the compose file, which "
                                         "docker-compose 1.29 cannot mount (compose v2 runs it: STACK_RUNTIME='docker "
                                         "compose')",
                                         who, buf);
                if (yamltree_is_scalar(tgt) && tgt->text[0] == '/')
                        target = strndup(tgt->text, tgt->len);
                else if (yamltree_is_scalar(tgt))
                        target = policy_concat3("/", tgt->text, tgt->len, "");
                else
                        target = policy_concat3("/", src->text, src->len, "");
                m = yamltree_node_new(YAMLTREE_MAP);
                r = target && m ? 0 : -ENOMEM;
                if (r == 0)
                        r = yamltree_map_set_text(m, "type", "bind", YAML_PLAIN_SCALAR_STYLE);
                if (r == 0)
                        r = yamltree_map_set(m, "source", YAML_PLAIN_SCALAR_STYLE, yamltree_copy(file));
                if (r == 0)
                        r = yamltree_map_set_text(m, "target", target, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                if (r == 0)
                        r = yamltree_map_set_text(m, "read_only", "true", YAML_PLAIN_SCALAR_STYLE);
                free(target);
                if (r == 0 && yamltree_append(vols, m) < 0)
                        r = -ENOMEM;
                if (r < 0) {
                        yamltree_free(m);
                        return r;
                }
        }
        yamltree_map_del(svc, "configs", false);
        return 0;
}

/* depends_on as a mapping (a list's names get `condition: service_started`, what v2 reads the list as); a copy. */
static struct yamltree_node *depends_map(const struct yamltree_node *d)
{
        struct yamltree_node *m, *c;

        if (d->kind != YAMLTREE_SEQ)
                return yamltree_copy(d);
        m = yamltree_node_new(YAMLTREE_MAP);
        for (size_t i = 0; m && i < d->n; i++) {
                if (!yamltree_is_scalar(d->items[i]) || !(c = yamltree_node_new(YAMLTREE_MAP)) ||
                    yamltree_map_set_text(c, "condition", "service_started", YAML_PLAIN_SCALAR_STYLE) < 0 ||
                    yamltree_map_set(m, d->items[i]->text, YAML_PLAIN_SCALAR_STYLE, c) < 0) {
                        yamltree_free(m);
                        return NULL;
                }
        }
        return m;
}

/* The extending service inherits the base's depends_on (v2 merges it; the extender's own entries win). */
static int inherit_depends(struct yamltree_node *svc, const struct yamltree_node *base_dep)
{
        struct yamltree_node *own = yamltree_map_get(svc, "depends_on"), *merged, *add;

        if (!own || policy_is_null(own)) {
                add = yamltree_copy(base_dep);
                if (!add)
                        return -ENOMEM;
                yamltree_map_del(svc, "depends_on", false);
                return yamltree_map_set(svc, "depends_on", YAML_PLAIN_SCALAR_STYLE, add);
        }
        if (base_dep->kind == YAMLTREE_SEQ && own->kind == YAMLTREE_SEQ)
                return policy_merge_append(own, base_dep);
        merged = depends_map(own);
        add = depends_map(base_dep);
        for (size_t i = 0; merged && add && i + 1 < add->n; i += 2)
                if (!yamltree_map_get(merged, add->items[i]->text) &&
                    yamltree_map_set(merged, add->items[i]->text, YAML_PLAIN_SCALAR_STYLE,
                                     yamltree_copy(add->items[i + 1])) < 0)
                        break;
        yamltree_free(add);
        if (!merged)
                return -ENOMEM;
        yamltree_map_del(svc, "depends_on", false);
        return yamltree_map_set(svc, "depends_on", YAML_PLAIN_SCALAR_STYLE, merged);
}

/* Services that extend a service of another file (`extends.file`, whose effective copy is already queued),
 * made to merge as compose merges them:
 * - both tools append the base's security_opt to the extending service's, and compose v2 (2.26) then refuses
 *   a duplicate ("security_opt array items[0,1] must be unique"): the policy adds no-new-privileges:true to
 *   both. An entry the base has is taken out of the extending service's own list; the merged service still has
 *   it (from the base). Not when the list carries a tag (!reset, !override: the base's list is not merged).
 * - with compose v1: 1.29 refuses to extend a service that has depends_on ("services with 'depends_on' cannot
 *   be extended"); v2 merges the base's depends_on into the extending service. It is moved into each extending
 *   service here and taken out of the base in the copy (compose v1 reads that copy only as an extends file:
 *   includes are flattened, never written as copies).
 * An extended service of the same file is left as it is (1.29 refuses one with depends_on, as it says). */
int policy_extends_bases(struct file *f, struct yamltree_node *root)
{
        struct apply *a = f->a;
        struct yamltree_node **roots = calloc(a->n_writes + 1, sizeof *roots),
                             *services = yamltree_map_get(root, "services");
        bool *dirty = calloc(a->n_writes + 1, sizeof *dirty);
        int r = roots && dirty ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && services && services->kind == YAMLTREE_MAP && i + 1 < services->n; i += 2) {
                struct yamltree_node *svc = services->items[i + 1], *ext = yamltree_map_get(svc, "extends"), *file,
                                     *name, *base, *dep, *opts, *own;
                char rel[PATH_MAX], path[PATH_MAX];
                size_t w;

                file = yamltree_map_get(ext, "file");
                name = yamltree_map_get(ext, "service");
                if (!ext || ext->kind != YAMLTREE_MAP || !yamltree_is_scalar(file) || policy_is_null(file) ||
                    !yamltree_is_scalar(name))
                        continue;
                snprintf(rel, sizeof rel, "%s", f->base);
                if (policy_path_add(rel, sizeof rel, file->text, file->len, false) != 0 ||
                    fs_path(path, sizeof path, "%s/%s", a->in->run_dir, rel) < 0)
                        continue;
                for (w = 0; w < a->n_writes && strcmp(a->writes[w].path, path); w++)
                        ;
                if (w == a->n_writes)
                        continue;
                if (!roots[w] && policy_parse_yaml(rel, a->writes[w].data, a->writes[w].len, &roots[w], a->err) < 0) {
                        r = -STACK_EREJECT;
                        break;
                }
                base = yamltree_map_get(yamltree_map_get(roots[w], "services"), name->text);
                dep = yamltree_map_get(base, "depends_on");
                if (a->in->compose_v1 && dep && !policy_is_null(dep)) {
                        r = inherit_depends(svc, dep);
                        yamltree_map_del(base, "depends_on", false);
                        dirty[w] = true;
                }
                opts = yamltree_map_get(base, "security_opt");
                own = yamltree_map_get(svc, "security_opt");
                if (!opts || opts->kind != YAMLTREE_SEQ || !own || own->kind != YAMLTREE_SEQ || own->tag)
                        continue; /* (a tag: !reset / !override drops the base's list in the merge) */
                for (size_t k = 0; k < own->n;) {
                        bool in_base = false;

                        for (size_t j = 0; j < opts->n && !in_base; j++)
                                in_base = yamltree_equal(own->items[k], opts->items[j]);
                        if (!in_base) {
                                k++;
                                continue;
                        }
                        yamltree_free(own->items[k]);
                        memmove(own->items + k, own->items + k + 1, (own->n - k - 1) * sizeof *own->items);
                        own->n--;
                }
                if (own->n == 0)
                        yamltree_map_del(svc, "security_opt", false);
        }
        for (size_t w = 0; r == 0 && w < a->n_writes; w++) {
                char *data = NULL;
                size_t len = 0;

                if (!dirty[w])
                        continue;
                r = policy_emit_yaml(a->writes[w].path, roots[w], &data, &len, a->err);
                if (r == 0) {
                        free(a->writes[w].data);
                        a->writes[w].data = data;
                        a->writes[w].len = len;
                }
        }
        for (size_t w = 0; roots && w < a->n_writes; w++)
                yamltree_free(roots[w]);
        free(roots);
        free(dirty);
        return r == -ENOMEM ? policy_oom(a->err) : r;
}

/* Whether service `name` is named by another service (depends_on, links, extends, volumes_from,
 * network_mode: service:NAME). */
static bool referenced(const struct yamltree_node *services, const struct yamltree_node *name)
{
        for (size_t i = 0; i + 1 < services->n; i += 2) {
                const struct yamltree_node *svc = services->items[i + 1], *v;

                if (services->items[i] == name || svc->kind != YAMLTREE_MAP)
                        continue;
                v = yamltree_map_get(svc, "depends_on");
                if (v && v->kind == YAMLTREE_MAP && yamltree_map_get(v, name->text))
                        return true;
                for (int k = 0; k < 3; k++) {
                        v = yamltree_map_get(svc, k == 0 ? "depends_on" : k == 1 ? "links" : "volumes_from");
                        for (size_t j = 0; v && v->kind == YAMLTREE_SEQ && j < v->n; j++)
                                if (yamltree_is_scalar(v->items[j]) &&
                                    !strncmp(v->items[j]->text, name->text, name->len) &&
                                    (v->items[j]->len == name->len || v->items[j]->text[name->len] == ':'))
                                        return true;
                }
                v = yamltree_map_get(svc, "extends");
                if (yamltree_text_is(v, name->text) || yamltree_text_is(yamltree_map_get(v, "service"), name->text))
                        return true;
                v = yamltree_map_get(svc, "network_mode");
                if (yamltree_is_scalar(v) && v->len == name->len + 8 && !strncmp(v->text, "service:", 8) &&
                    !strcmp(v->text + 8, name->text))
                        return true;
        }
        return false;
}

/* Whether one of the service's profiles is active (COMPOSE_PROFILES as compose will see it, "*" for all). */
static bool profile_active(struct file *f, const struct yamltree_node *profiles)
{
        const char *env = f->a->in->lookup ? f->a->in->lookup(f->a->in->lookup_ctx, "COMPOSE_PROFILES") : NULL;

        for (size_t i = 0; env && profiles->kind == YAMLTREE_SEQ && i < profiles->n; i++)
                for (const char *p = env; *p;) {
                        size_t len = strcspn(p, ",");
                        if ((len == 1 && *p == '*') ||
                            (yamltree_is_scalar(profiles->items[i]) && len == profiles->items[i]->len &&
                             !strncmp(p, profiles->items[i]->text, len)))
                                return true;
                        p += len + (p[len] == ',');
                }
        return false;
}

/* A service none of whose profiles is active and that no other service names is not started by compose v2's
 * `up` and is not even read; docker-compose 1.29 still checks it (a build directory the bundle does not ship
 * fails the whole file). It is left out of the v1 file. */
static void drop_inactive_profiles(struct file *f, struct yamltree_node *services)
{
        size_t i = 0;

        while (services && services->kind == YAMLTREE_MAP && i + 1 < services->n) {
                const struct yamltree_node *profiles = yamltree_map_get(services->items[i + 1], "profiles");

                if (profiles && profiles->kind == YAMLTREE_SEQ && profiles->n > 0 && !profile_active(f, profiles) &&
                    !referenced(services, services->items[i])) {
                        yamltree_free(services->items[i]);
                        yamltree_free(services->items[i + 1]);
                        memmove(services->items + i, services->items + i + 2,
                                (services->n - i - 2) * sizeof *services->items);
                        services->n -= 2;
                        continue;
                }
                i += 2;
        }
}

int policy_rewrite_v1(struct file *f, struct yamltree_node *root)
{
        struct yamltree_node *services = yamltree_map_get(root, "services"), *v;
        char name[80];
        size_t i;
        int r;

        r = rewrite_configs(f, yamltree_map_get(root, "configs"));
        if (r < 0)
                return r == -ENOMEM ? policy_oom(f->a->err) : r;
        drop_inactive_profiles(f, services);
        for (i = 0; services && services->kind == YAMLTREE_MAP && i + 1 < services->n; i += 2) {
                char who[WHO_SIZE];

                yamltree_show(services->items[i]->text, services->items[i]->len, name, sizeof name);
                snprintf(who, sizeof who, "service '%s'", name);
                r = rewrite_service(f, name, services->items[i + 1]);
                if (r == 0)
                        r = configs_to_binds(f, who, services->items[i + 1], yamltree_map_get(root, "configs"));
                if (r < 0)
                        return r == -ENOMEM ? policy_oom(f->a->err) : r;
        }
        yamltree_map_del(root, "configs", false); /* mounted as binds above */
        v = yamltree_map_get(root, "secrets");
        for (i = 0; v && v->kind == YAMLTREE_MAP && i + 1 < v->n; i += 2)
                if (yamltree_map_get(v->items[i + 1], "environment")) {
                        yamltree_show(v->items[i]->text, v->items[i]->len, name, sizeof name);
                        char who[WHO_SIZE];

                        snprintf(who, sizeof who, "secret '%s'", name);
                        return refuse_v1(f, who, "environment");
                }
        yamltree_map_del(root, "name", false); /* v1 refuses it; the project name is -p */
        /* a version string v1 does not know ("3.8-custom", "latest"): v2 ignores it, v1 refuses the file */
        v = yamltree_map_get(root, "version");
        if (v && v->kind == YAMLTREE_SCALAR && !plain_non_string(v) && !v1_version(v))
                yamltree_map_del(root, "version", false);
        if (escape_lone_dollars(root) < 0)
                return policy_oom(f->a->err);
        return 0;
}
