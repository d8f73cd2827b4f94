/* policy-include.c - files compose reads on the stack's behalf: include and extends.file (other compose
 * files: they must ship in the bundle, are checked with the same policy and get effective copies beside
 * them, written with the main file), and build (contexts inside the run dir, privileged or host builds).
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/fsutil.h"

int policy_pending_add(struct apply *a, char *path, char *data, size_t len, unsigned mode)
{
        size_t i;

        for (i = 0; i < a->n_writes; i++) {
                if (strcmp(a->writes[i].path, path) != 0)
                        continue;
                if (a->writes[i].len != len || memcmp(a->writes[i].data, data, len) != 0) {
                        error_set(a->err, STACK_EREJECT,
                                  "%s would be written twice with different content (a file included from two "
                                  "project directories)",
                                  path);
                        free(path);
                        free(data);
                        return -STACK_EREJECT;
                }
                free(path);
                free(data);
                return 0;
        }
        if (a->n_writes == a->cap_writes) {
                size_t cap = a->cap_writes ? a->cap_writes * 2 : 4;
                struct pending *w = realloc(a->writes, cap * sizeof *w);

                if (!w) {
                        free(path);
                        free(data);
                        return policy_oom(a->err);
                }
                a->writes = w;
                a->cap_writes = cap;
        }
        a->writes[a->n_writes++] = (struct pending){.path = path, .data = data, .len = len, .mode = mode};
        return 0;
}

/* ---- compose v1: include flattened ---- */

/* A relative path written in an included file, as the main file's directory sees it: "./data" in
 * stacks/db/compose.yaml -> "./stacks/db/data". Absolute paths, ~, URLs and variables stay as written. */
static int rebase_text(struct yamltree_node *n, const char *prefix)
{
        const char *t;
        char *out;

        if (!yamltree_is_scalar(n) || policy_is_null(n) || !*prefix)
                return 0;
        t = n->text;
        if (t[0] == '/' || t[0] == '~' || t[0] == '$' || policy_is_url(n))
                return 0;
        while (t[0] == '.' && t[1] == '/')
                t += 2;
        if (strcmp(t, ".") == 0)
                t = "";
        out = policy_concat3(prefix, *t ? "/" : "", *t ? 1 : 0, t);
        if (!out)
                return -ENOMEM;
        yamltree_scalar_replace(n, out, n->style);
        return 0;
}

/* A short volume "src:dst[:mode]": a source that starts with '.' is a path (else a named volume). */
static int rebase_short_volume(struct yamltree_node *n, const char *prefix)
{
        size_t first = 0, last[2], k;
        struct yamltree_node tmp;
        char *src, *out;
        int r;

        if (!yamltree_is_scalar(n) || n->text[0] != '.')
                return 0;
        k = policy_split_colons(n->text, n->len, &first, last);
        if (k == 0)
                return 0;
        src = strndup(n->text, first);
        if (!src)
                return -ENOMEM;
        tmp = (struct yamltree_node){.kind = YAMLTREE_SCALAR, .text = src, .len = first};
        r = rebase_text(&tmp, prefix);
        if (r == 0) {
                out = policy_concat3(tmp.text, n->text + first, n->len - first, "");
                if (!out)
                        r = -ENOMEM;
                else
                        yamltree_scalar_replace(n, out, n->style);
        }
        free(tmp.text);
        return r;
}

static int rebase_service(struct yamltree_node *svc, const char *prefix)
{
        struct yamltree_node *v;
        size_t i;
        int r = 0;

        v = yamltree_map_get(svc, "build");
        if (yamltree_is_scalar(v))
                r = rebase_text(v, prefix);
        else if (v && v->kind == YAMLTREE_MAP) {
                if (!yamltree_map_get(v, "context") &&
                    yamltree_map_set_text(v, "context", ".", YAML_PLAIN_SCALAR_STYLE) < 0)
                        return -ENOMEM;
                r = rebase_text(yamltree_map_get(v, "context"), prefix);
        }
        v = yamltree_map_get(svc, "volumes");
        for (i = 0; r == 0 && v && v->kind == YAMLTREE_SEQ && i < v->n; i++) {
                struct yamltree_node *item = v->items[i];

                if (item->kind == YAMLTREE_MAP) {
                        if (yamltree_text_is(yamltree_map_get(item, "type"), "bind"))
                                r = rebase_text(yamltree_map_get(item, "source"), prefix);
                } else {
                        r = rebase_short_volume(item, prefix);
                }
        }
        v = yamltree_map_get(svc, "env_file");
        if (r == 0 && yamltree_is_scalar(v))
                r = rebase_text(v, prefix);
        for (i = 0; r == 0 && v && v->kind == YAMLTREE_SEQ && i < v->n; i++)
                r = rebase_text(v->items[i]->kind == YAMLTREE_MAP ? yamltree_map_get(v->items[i], "path") : v->items[i],
                                prefix);
        v = yamltree_map_get(svc, "extends");
        if (r == 0 && v && v->kind == YAMLTREE_MAP)
                r = rebase_text(yamltree_map_get(v, "file"), prefix);
        return r;
}

/* Every relative path of an included document, rebased from its project dir to the main file's dir. */
static int rebase_document(struct yamltree_node *root, const char *prefix)
{
        static const char *const files[] = {"configs", "secrets"};
        struct yamltree_node *v;
        size_t i, j;
        int r = 0;

        v = yamltree_map_get(root, "services");
        for (i = 0; r == 0 && v && v->kind == YAMLTREE_MAP && i + 1 < v->n; i += 2)
                if (v->items[i + 1]->kind == YAMLTREE_MAP)
                        r = rebase_service(v->items[i + 1], prefix);
        for (j = 0; j < COUNT(files); j++) {
                v = yamltree_map_get(root, files[j]);
                for (i = 0; r == 0 && v && v->kind == YAMLTREE_MAP && i + 1 < v->n; i += 2)
                        r = rebase_text(yamltree_map_get(v->items[i + 1], "file"), prefix);
        }
        return r;
}

/* dir and the main file's dir are relative to the run dir: the way from the main dir to dir. */
static int rebase_prefix(const char *main_base, const char *dir, char *out, size_t size)
{
        size_t o = 0, n = strlen(main_base);

        if (strcmp(main_base, dir) == 0) {
                out[0] = 0;
                return 0;
        }
        if (n && strncmp(dir, main_base, n) == 0 && dir[n] == '/')
                return snprintf(out, size, "./%s", dir + n + 1) >= (int)size ? -ENAMETOOLONG : 0;
        o = (size_t)snprintf(out, size, ".");
        for (const char *p = main_base; *p && o < size; p++)
                if (p == main_base || p[-1] == '/')
                        o += (size_t)snprintf(out + o, size - o, "/..");
        if (o >= size || (*dir && snprintf(out + o, size - o, "/%s", dir) >= (int)(size - o)))
                return -ENAMETOOLONG;
        return 0;
}

static int flatten_add(struct file *f, struct yamltree_node *root, const char *rel, const char *dir)
{
        struct apply *a = f->a;
        char prefix[PATH_MAX], *esc = NULL;
        int r;

        yamltree_map_del(root, "include", false); /* its own includes were added before it */
        r = rebase_prefix(a->main_base, dir, prefix, sizeof prefix);
        if (r == 0) {
                esc = policy_escape_dollars(prefix);
                r = esc ? rebase_document(root, esc) : -ENOMEM;
                free(esc);
        }
        if (r == 0 && a->n_flat == a->cap_flat) {
                size_t cap = a->cap_flat ? a->cap_flat * 2 : 4;
                struct flat *fl = realloc(a->flat, cap * sizeof *fl);

                if (!fl)
                        r = -ENOMEM;
                else {
                        a->flat = fl;
                        a->cap_flat = cap;
                }
        }
        if (r == 0) {
                a->flat[a->n_flat].rel = strdup(rel);
                a->flat[a->n_flat].root = root;
                if (!a->flat[a->n_flat].rel)
                        r = -ENOMEM;
                else
                        a->n_flat++;
        }
        if (r < 0) {
                yamltree_free(root);
                return r == -ENAMETOOLONG ? error_set(a->err, STACK_EREJECT, "%s: path too long", rel)
                                          : policy_oom(a->err);
        }
        return 0;
}

static bool main_defines(struct apply *a, const char *section, const char *name)
{
        char key[PATH_MAX];
        int n = snprintf(key, sizeof key, "%s/%s", section, name);

        return n < (int)sizeof key && policy_strv_has(&a->main_names, key, (size_t)n);
}

/* A name merged in from an included file: a later file including it again finds it as its own. */
static int main_note(struct apply *a, const char *section, const char *name)
{
        char key[PATH_MAX];
        int n = snprintf(key, sizeof key, "%s/%s", section, name);

        return n < (int)sizeof key ? policy_strv_add(&a->main_names, key, (size_t)n) : 0;
}

int policy_flatten_includes(struct file *f, struct yamltree_node *root)
{
        static const char *const sections[] = {"services", "volumes", "networks", "configs", "secrets"};
        struct apply *a = f->a;
        const char *singular[] = {"service", "volume", "network", "config", "secret"};
        char buf[80];
        size_t i, j, s, k;

        for (i = 0; i < a->n_flat; i++)
                for (s = 0; s < COUNT(sections); s++) {
                        struct yamltree_node *sec = yamltree_map_get(a->flat[i].root, sections[s]);

                        for (k = 0; sec && sec->kind == YAMLTREE_MAP && k + 1 < sec->n; k += 2) {
                                const struct yamltree_node *key = sec->items[k], *def = sec->items[k + 1], *other;
                                const char *where = NULL;

                                /* the main file, then the files included before this one */
                                other = main_defines(a, sections[s], key->text)
                                                ? yamltree_map_get(yamltree_map_get(root, sections[s]), key->text)
                                                : NULL;
                                if (other)
                                        where = f->rel;
                                for (j = 0; !other && j < i; j++)
                                        if ((other = yamltree_map_get(yamltree_map_get(a->flat[j].root, sections[s]),
                                                                      key->text)))
                                                where = a->flat[j].rel;
                                if (other && !yamltree_equal(other, def))
                                        return error_set(a->err, STACK_EREJECT,
                                                         "%s '%s' is defined in both %s and %s, differently",
                                                         singular[s],
                                                         yamltree_show(key->text, key->len, buf, sizeof buf), where,
                                                         a->flat[i].rel);
                        }
                }
        for (i = 0; i < a->n_flat; i++)
                for (s = 0; s < COUNT(sections); s++) {
                        struct yamltree_node *sec = yamltree_map_get(a->flat[i].root, sections[s]), *dst;

                        if (!sec || sec->kind != YAMLTREE_MAP || !sec->n)
                                continue;
                        dst = yamltree_map_get(root, sections[s]);
                        if (!dst || dst->kind != YAMLTREE_MAP) {
                                dst = yamltree_node_new(YAMLTREE_MAP);
                                if (!dst || yamltree_map_set(root, sections[s], YAML_PLAIN_SCALAR_STYLE, dst) < 0)
                                        return policy_oom(a->err);
                        }
                        for (k = 0; k + 1 < sec->n; k += 2) {
                                const struct yamltree_node *key = sec->items[k];

                                struct yamltree_node *have = yamltree_map_get(dst, key->text), *def;

                                if (have && main_defines(a, sections[s], key->text))
                                        continue; /* the same definition, seen already */
                                def = yamltree_copy(sec->items[k + 1]);
                                /* only the override names it: the override applies to the included one */
                                if (!def || (have && policy_merge_definition(def, have, s == 0) < 0) ||
                                    yamltree_map_set(dst, key->text, key->style, def) < 0)
                                        return policy_oom(a->err);
                                if (!have && main_note(a, sections[s], key->text) < 0)
                                        return policy_oom(a->err);
                        }
                }
        yamltree_map_del(root, "include", false);
        return 0;
}

/* Another compose file named by this one (include, extends.file): it must ship in the bundle; it is checked
 * with the same policy, its effective copy goes next to it, and the reference is rewritten to the copy.
 * project_dir (relative to the run dir, or NULL: the file's own dir) is what its relative paths resolve
 * against. */
static int check_subfile(struct file *f, const char *who, struct yamltree_node *n, const char *project_dir,
                         bool list_services, bool flatten)
{
        struct yamltree_node *sub = NULL;
        struct apply *a = f->a;
        char rel[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], buf[80], *data = NULL, *out = NULL, *text;
        const struct tree_entry *e;
        enum path_kind kind = PATH_VAR;
        size_t len = 0;
        int r;

        if (n->kind != YAMLTREE_SCALAR || policy_is_null(n))
                return policy_malformed(f, who, "a compose file path must be a string", n);
        r = policy_classify_path(f, who, n, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        yamltree_show(n->text, n->len, buf, sizeof buf);
        if (kind != PATH_INSIDE)
                return error_set(a->err, STACK_EREJECT,
                                 "%s: compose file '%s' is %s: included compose files must ship in the bundle", who,
                                 buf, kind == PATH_VAR ? "set by a variable" : "outside the run dir");
        e = tree_find(a->in->tree, rel);
        if (!e || e->type == ENTRY_DIR)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' is not a file in the bundle", who, buf);
        if (policy_strv_has(&a->visiting, rel, strlen(rel)))
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' includes itself", who, buf);
        if (a->visiting.n >= POLICY_MAX_NESTING || ++a->n_files > POLICY_MAX_FILES)
                return error_set(a->err, STACK_EREJECT, "%s: more than %d compose files, or nested deeper than %d", who,
                                 POLICY_MAX_FILES, POLICY_MAX_NESTING);
        if (project_dir)
                snprintf(dir, sizeof dir, "%s", project_dir);
        else
                policy_path_dirname(rel, dir, sizeof dir);
        if (fs_path(path, sizeof path, "%s/%s", a->in->run_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s': path too long", who, buf);
        if (flatten) { /* compose v1: the checked document is merged into the main one */
                r = policy_check_file(a, path, rel, dir, list_services, NULL, NULL, &sub);
                if (r < 0 || a->refused) {
                        yamltree_free(sub);
                        return r;
                }
                return flatten_add(f, sub, rel, dir);
        }
        r = policy_check_file(a, path, rel, dir, list_services, &data, &len, NULL);
        if (r < 0 || a->refused)
                return r;
        out = policy_effective_name(path, strlen(path));
        text = policy_effective_name(n->text, n->len);
        if (!out || !text) {
                free(out);
                free(text);
                free(data);
                return policy_oom(a->err);
        }
        yamltree_scalar_replace(n, text, n->style);
        return policy_pending_add(a, out, data, len, 0600);
}

int policy_check_includes(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], rel[PATH_MAX], first_dir[PATH_MAX], buf[80];
        struct yamltree_node *item, *path, *pd, *env;
        enum path_kind kind = PATH_VAR;
        bool v1 = f->a->in->compose_v1;
        size_t i, j;
        int r = 0;

        snprintf(who, sizeof who, "%sinclude", f->prefix);
        if (policy_is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return policy_malformed(f, who, "include must be a list", v);
        for (i = 0; i < v->n && r == 0; i++) {
                const char *project = NULL;

                item = v->items[i];
                if (item->kind == YAMLTREE_SCALAR) {
                        r = check_subfile(f, who, item, NULL, true, v1);
                        continue;
                }
                if (item->kind != YAMLTREE_MAP)
                        return policy_malformed(f, who, "an include entry must be a path or a mapping", item);
                path = yamltree_map_get(item, "path");
                pd = yamltree_map_get(item, "project_directory");
                env = yamltree_map_get(item, "env_file");
                if (!path || policy_is_null(path))
                        return error_set(f->a->err, STACK_EREJECT, "%s: entry without a path (line %zu)", who,
                                         item->line);
                if (pd && !policy_is_null(pd)) {
                        if (pd->kind != YAMLTREE_SCALAR)
                                return policy_malformed(f, who, "project_directory must be a path", pd);
                        r = policy_classify_path(f, who, pd, rel, sizeof rel, &kind);
                        if (r < 0)
                                return r;
                        if (kind != PATH_INSIDE)
                                return error_set(f->a->err, STACK_EREJECT,
                                                 "%s: project_directory '%s' is outside the run dir", who,
                                                 yamltree_show(pd->text, pd->len, buf, sizeof buf));
                        project = rel;
                } else {
                        /* compose: the directory of the first file in path */
                        struct yamltree_node *p0 = path->kind == YAMLTREE_SEQ && path->n ? path->items[0] : path;

                        if (yamltree_is_scalar(p0) &&
                            policy_classify_path(f, who, p0, first_dir, sizeof first_dir, &kind) == 0 &&
                            kind == PATH_INSIDE) {
                                char *slash = strrchr(first_dir, '/');

                                if (slash)
                                        *slash = 0;
                                else
                                        first_dir[0] = 0;
                                project = first_dir;
                        }
                }
                r = policy_check_env_file(f, who, env);
                if (r == 0 && path->kind == YAMLTREE_SEQ)
                        for (j = 0; j < path->n && r == 0; j++)
                                r = check_subfile(f, who, path->items[j], project, true, v1);
                else if (r == 0)
                        r = check_subfile(f, who, path, project, true, v1);
        }
        return r;
}

int policy_check_extends(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *file;

        if (v->kind != YAMLTREE_MAP)
                return 0; /* a service of this file */
        file = yamltree_map_get(v, "file");
        if (policy_is_null(file))
                return 0;
        return check_subfile(f, who, file, NULL, false, false);
}

/* A URL on a public code host, fetched over https on its default port: its name resolves to the host's own
 * addresses, never to the Engine's loopback or the person's network, so the builder reaches nothing of
 * theirs. "https://github.com@evil/" or "https://github.com:57404/" do not match (the host must end at '/'). */
static bool public_code_host(const struct yamltree_node *n)
{
        static const char *const hosts[] = {"https://github.com/", "https://gitlab.com/", "https://codeberg.org/",
                                            "https://bitbucket.org/", "github.com/"};
        size_t i;

        for (i = 0; i < COUNT(hosts); i++)
                if (strncmp(n->text, hosts[i], strlen(hosts[i])) == 0)
                        return true;
        return false;
}

/* A build context, as compose decides what it is: a URL the builder fetches (remote-build unless it is on a
 * public code host), a path that
 * must stay in the run dir, or (holding "://" without being a URL) something compose v1 reads as a path and
 * compose v2 hands to the builder as written: refused as a host path. *ret_rel: the context's directory
 * relative to the run dir when it is a local one inside it, else "". */
static int check_context(struct file *f, const char *who, const char *key, const struct yamltree_node *n, char *ret_rel,
                         size_t size, bool *ret_local)
{
        enum path_kind kind = PATH_VAR;
        char buf[80];
        int r;

        *ret_local = false;
        ret_rel[0] = 0;
        if (policy_is_null(n)) {
                snprintf(ret_rel, size, "%s", f->base);
                *ret_local = true;
                return 0;
        }
        if (n->kind != YAMLTREE_SCALAR)
                return policy_malformed(f, who, "a build context must be a path or a URL", n);
        yamltree_show(n->text, n->len, buf, sizeof buf);
        if (policy_is_url(n)) {
                if (!public_code_host(n))
                        policy_need(f, PERM_REMOTE_BUILD, who,
                                    "%s: %s (fetched by the builder from the host's network)", key, buf);
                return 0;
        }
        if (!policy_node_unknown(n) && memmem(n->text, n->len, "://", 3)) {
                policy_need(f, PERM_HOST_BIND, who,
                            "%s '%s' (not a URL compose fetches, nor a path inside the run dir)", key, buf);
                return 0;
        }
        r = policy_check_host_path(f, who, key, n);
        if (r < 0)
                return r;
        r = policy_classify_path(f, who, n, ret_rel, size, &kind);
        if (r < 0)
                return r;
        *ret_local = kind == PATH_INSIDE;
        if (!*ret_local)
                ret_rel[0] = 0;
        return 0;
}

/* build.dockerfile: read from the host relative to the context, so it must stay in the run dir too. */
static int check_dockerfile(struct file *f, const char *who, const struct yamltree_node *n, const char *ctx, bool local)
{
        struct file g = *f;

        if (policy_is_null(n))
                return 0;
        if (!local && yamltree_is_scalar(n) && !policy_node_unknown(n) && n->text[0] != '/' && n->text[0] != '~')
                return 0; /* relative to a remote context (or to one already refused) */
        g.base = ctx;
        return policy_check_host_path(&g, who, "build.dockerfile", n);
}

/* One build.additional_contexts value. */
static int check_additional_context(struct file *f, const char *who, const struct yamltree_node *c)
{
        static const char *const kept[] = {"service:", "target:", "docker-image://"};
        struct yamltree_node tmp = *c;
        char buf[80];
        size_t i;

        if (!yamltree_is_scalar(c))
                return policy_malformed(f, who, "a build.additional_contexts entry must be a string", c);
        for (i = 0; !policy_node_unknown(c) && i < COUNT(kept); i++)
                if (strncmp(c->text, kept[i], strlen(kept[i])) == 0)
                        return 0; /* another service's image, a stage, an image */
        if (!policy_node_unknown(c) && strncmp(c->text, "oci-layout://", 13) == 0) {
                tmp.text = c->text + 13;
                tmp.len = c->len - 13;
                return policy_check_host_path(f, who, "build.additional_contexts", &tmp);
        }
        if (policy_is_url(c)) {
                if (!public_code_host(c))
                        policy_need(f, PERM_REMOTE_BUILD, who,
                                    "build.additional_contexts: %s (fetched by the builder from the host's network)",
                                    yamltree_show(c->text, c->len, buf, sizeof buf));
                return 0;
        }
        if (!policy_node_unknown(c) && memmem(c->text, c->len, "://", 3)) {
                policy_need(f, PERM_HOST_BIND, who,
                            "build.additional_contexts '%s' (not a URL compose fetches, nor a path inside the run dir)",
                            yamltree_show(c->text, c->len, buf, sizeof buf));
                return 0;
        }
        return policy_check_host_path(f, who, "build.additional_contexts", c);
}

int policy_check_build(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *n;
        char buf[80], ctx[PATH_MAX];
        bool local;
        size_t i;
        int r;

        if (policy_is_null(v))
                return 0;
        if (v->kind == YAMLTREE_SCALAR)
                return check_context(f, who, "build", v, ctx, sizeof ctx, &local);
        if (v->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "build must be a path or a mapping", v);
        r = check_context(f, who, "build.context", yamltree_map_get(v, "context"), ctx, sizeof ctx, &local);
        if (r == 0)
                r = check_dockerfile(f, who, yamltree_map_get(v, "dockerfile"), ctx, local);
        if (r < 0)
                return r;
        n = yamltree_map_get(v, "privileged");
        if (!policy_is_false(n))
                policy_need(f, PERM_PRIVILEGED, who, "build.privileged: %s",
                            yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, sizeof buf)
                                                  : yamltree_kind_name(n));
        n = yamltree_map_get(v, "network");
        if (yamltree_is_scalar(n) && (yamltree_text_is_ci(n, "host") || policy_node_has_var(n)))
                policy_need(f, PERM_HOST_NETWORK, who, "build.network: %s",
                            yamltree_show(n->text, n->len, buf, sizeof buf));
        else if (yamltree_is_scalar(n) && (!strncmp(n->text, "container:", 10) || !strncmp(n->text, "service:", 8)))
                policy_need(f, PERM_OTHER_CONTAINERS, who, "build.network: %s (another container's network)",
                            yamltree_show(n->text, n->len, buf, sizeof buf));
        else if (!policy_is_null(n) && !yamltree_text_is(n, "none") && !yamltree_text_is(n, "default") &&
                 !yamltree_text_is(n, "bridge"))
                /* the builder's RUN steps join the network named: another stack's reaches its unpublished
                 * services */
                policy_need(f, PERM_EXTERNAL, who, "build.network: %s (a network outside the stack)",
                            yamltree_is_scalar(n) ? yamltree_show(n->text, n->len, buf, sizeof buf)
                                                  : yamltree_kind_name(n));
        n = yamltree_map_get(v, "entitlements");
        for (i = 0; n && n->kind == YAMLTREE_SEQ && i < n->n; i++) {
                const struct yamltree_node *e = n->items[i];

                if (yamltree_text_is(e, "network.host"))
                        policy_need(f, PERM_HOST_NETWORK, who, "build.entitlements: network.host");
                else
                        policy_need(f, PERM_PRIVILEGED, who, "build.entitlements: %s",
                                    yamltree_is_scalar(e) ? yamltree_show(e->text, e->len, buf, sizeof buf)
                                                          : yamltree_kind_name(e));
        }
        if (n && !policy_is_null(n) && n->kind != YAMLTREE_SEQ)
                policy_need(f, PERM_PRIVILEGED, who, "build.entitlements: %s", yamltree_kind_name(n));
        for (const char *const *key = (const char *const[]){"cache_from", "cache_to", NULL}; *key; key++) {
                /* buildx (compose v2) reads `type=local,src=/etc` from, and writes `dest=` to, the host */
                n = yamltree_map_get(v, *key);
                for (i = 0; n && n->kind == YAMLTREE_SEQ && i < n->n; i++)
                        if (yamltree_is_scalar(n->items[i]) &&
                            (strstr(n->items[i]->text, "src=") || strstr(n->items[i]->text, "dest=") ||
                             strcasestr(n->items[i]->text, "type=local"))) {
                                policy_need(f, PERM_HOST_BIND, who, "build.%s: %s (a host path)", *key,
                                            yamltree_show(n->items[i]->text, n->items[i]->len, buf, sizeof buf));
                                break;
                        }
        }
        n = yamltree_map_get(v, "ssh");
        if (policy_non_empty(n))
                policy_need(f, PERM_HOST_BIND, who, "build.ssh (the host's SSH agent or keys)");
        n = yamltree_map_get(v, "additional_contexts");
        if (policy_is_null(n))
                return 0;
        if (n->kind == YAMLTREE_SCALAR)
                return policy_malformed(f, who, "build.additional_contexts must be a mapping or a list", n);
        for (i = 0; i < n->n; i++) {
                const struct yamltree_node *c = n->kind == YAMLTREE_MAP ? (i % 2 ? n->items[i] : NULL) : n->items[i];
                struct yamltree_node tmp;
                const char *eq;

                if (!c)
                        continue;
                tmp = *c;
                if (n->kind == YAMLTREE_SEQ && yamltree_is_scalar(c) &&
                    (eq = memchr(c->text, '=', c->len))) { /* "name=path" */
                        tmp.text = (char *)eq + 1;
                        tmp.len = c->len - (size_t)(eq + 1 - c->text);
                }
                r = check_additional_context(f, who, &tmp);
                if (r < 0)
                        return r;
        }
        return 0;
}
