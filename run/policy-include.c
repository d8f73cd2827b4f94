/* policy-include.c - files compose reads on the stack's behalf: include and extends.file (other compose
 * files: they must ship in the bundle, are checked with the same policy and get effective copies beside
 * them, written with the main file), and build (contexts inside the run dir, privileged or host builds).
 */
#include "policy-int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fsutil.h"

int pending_add(struct apply *a, char *path, char *data, size_t len)
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
                        return oom(a->err);
                }
                a->writes = w;
                a->cap_writes = cap;
        }
        a->writes[a->n_writes++] = (struct pending){.path = path, .data = data, .len = len};
        return 0;
}

/* Another compose file named by this one (include, extends.file): it must ship in the bundle; it is checked
 * with the same policy, its effective copy goes next to it, and the reference is rewritten to the copy.
 * project_dir (relative to the run dir, or NULL: the file's own dir) is what its relative paths resolve
 * against. */
static int check_subfile(struct file *f, const char *who, struct yamltree_node *n, const char *project_dir,
                         bool list_services)
{
        struct apply *a = f->a;
        char rel[PATH_MAX], dir[PATH_MAX], path[PATH_MAX], buf[80], *data = NULL, *out = NULL, *text;
        const struct tree_entry *e;
        enum path_kind kind = PATH_VAR;
        size_t len = 0;
        int r;

        if (n->kind != YAMLTREE_SCALAR || is_null(n))
                return malformed(f, who, "a compose file path must be a string", n);
        r = classify_path(f, who, n, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        show(n->text, n->len, buf, sizeof buf);
        if (kind != PATH_INSIDE)
                return error_set(a->err, STACK_EREJECT,
                                 "%s: compose file '%s' is %s: included compose files must ship in the bundle", who,
                                 buf, kind == PATH_VAR ? "set by a variable" : "outside the run dir");
        e = tree_find(a->in->tree, rel);
        if (!e || e->type == ENTRY_DIR)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' is not a file in the bundle", who, buf);
        if (strv_has(&a->visiting, rel, strlen(rel)))
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s' includes itself", who, buf);
        if (a->visiting.n >= POLICY_MAX_NESTING || ++a->n_files > POLICY_MAX_FILES)
                return error_set(a->err, STACK_EREJECT, "%s: more than %d compose files, or nested deeper than %d", who,
                                 POLICY_MAX_FILES, POLICY_MAX_NESTING);
        if (project_dir)
                snprintf(dir, sizeof dir, "%s", project_dir);
        else
                path_dirname(rel, dir, sizeof dir);
        if (fs_path(path, sizeof path, "%s/%s", a->in->run_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: compose file '%s': path too long", who, buf);
        r = check_file(a, path, rel, dir, list_services, &data, &len);
        if (r < 0 || a->refused)
                return r;
        out = effective_name(path, strlen(path));
        text = effective_name(n->text, n->len);
        if (!out || !text) {
                free(out);
                free(text);
                free(data);
                return oom(a->err);
        }
        scalar_replace(n, text, n->style);
        return pending_add(a, out, data, len);
}

int check_includes(struct file *f, struct yamltree_node *v)
{
        char who[WHO_SIZE], rel[PATH_MAX], first_dir[PATH_MAX], buf[80];
        struct yamltree_node *item, *path, *pd, *env;
        enum path_kind kind = PATH_VAR;
        size_t i, j;
        int r = 0;

        snprintf(who, sizeof who, "%sinclude", f->prefix);
        if (is_null(v))
                return 0;
        if (v->kind != YAMLTREE_SEQ)
                return malformed(f, who, "include must be a list", v);
        for (i = 0; i < v->n && r == 0; i++) {
                const char *project = NULL;

                item = v->items[i];
                if (item->kind == YAMLTREE_SCALAR) {
                        r = check_subfile(f, who, item, NULL, true);
                        continue;
                }
                if (item->kind != YAMLTREE_MAP)
                        return malformed(f, who, "an include entry must be a path or a mapping", item);
                path = map_get(item, "path");
                pd = map_get(item, "project_directory");
                env = map_get(item, "env_file");
                if (!path || is_null(path))
                        return error_set(f->a->err, STACK_EREJECT, "%s: entry without a path (line %zu)", who,
                                         item->line);
                if (pd && !is_null(pd)) {
                        if (pd->kind != YAMLTREE_SCALAR)
                                return malformed(f, who, "project_directory must be a path", pd);
                        r = classify_path(f, who, pd, rel, sizeof rel, &kind);
                        if (r < 0)
                                return r;
                        if (kind != PATH_INSIDE)
                                return error_set(f->a->err, STACK_EREJECT,
                                                 "%s: project_directory '%s' is outside the run dir", who,
                                                 show(pd->text, pd->len, buf, sizeof buf));
                        project = rel;
                } else {
                        /* compose: the directory of the first file in path */
                        struct yamltree_node *p0 = path->kind == YAMLTREE_SEQ && path->n ? path->items[0] : path;

                        if (is_scalar(p0) && classify_path(f, who, p0, first_dir, sizeof first_dir, &kind) == 0 &&
                            kind == PATH_INSIDE) {
                                char *slash = strrchr(first_dir, '/');

                                if (slash)
                                        *slash = 0;
                                else
                                        first_dir[0] = 0;
                                project = first_dir;
                        }
                }
                r = check_env_file(f, who, env);
                if (r == 0 && path->kind == YAMLTREE_SEQ)
                        for (j = 0; j < path->n && r == 0; j++)
                                r = check_subfile(f, who, path->items[j], project, true);
                else if (r == 0)
                        r = check_subfile(f, who, path, project, true);
        }
        return r;
}

int check_extends(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *file;

        if (v->kind != YAMLTREE_MAP)
                return 0; /* a service of this file */
        file = map_get(v, "file");
        if (is_null(file))
                return 0;
        return check_subfile(f, who, file, NULL, false);
}

int check_build(struct file *f, const char *who, struct yamltree_node *v)
{
        struct yamltree_node *n, *ctx;
        char buf[80];
        size_t i;
        int r;

        if (is_null(v))
                return 0;
        if (v->kind == YAMLTREE_SCALAR)
                return is_url(v) ? 0 : check_host_path(f, who, "build", v);
        if (v->kind != YAMLTREE_MAP)
                return malformed(f, who, "build must be a path or a mapping", v);
        ctx = map_get(v, "context");
        if (!is_url(ctx)) {
                r = check_host_path(f, who, "build.context", ctx);
                if (r < 0)
                        return r;
        }
        n = map_get(v, "privileged");
        if (!is_false(n))
                need(f, PERM_PRIVILEGED, who, "build.privileged: %s",
                     is_scalar(n) ? show(n->text, n->len, buf, sizeof buf) : kind_name(n));
        n = map_get(v, "network");
        if (is_scalar(n) && (text_is_ci(n, "host") || node_has_var(n)))
                need(f, PERM_HOST_NETWORK, who, "build.network: %s", show(n->text, n->len, buf, sizeof buf));
        n = map_get(v, "entitlements");
        for (i = 0; n && n->kind == YAMLTREE_SEQ && i < n->n; i++) {
                const struct yamltree_node *e = n->items[i];

                if (text_is(e, "network.host"))
                        need(f, PERM_HOST_NETWORK, who, "build.entitlements: network.host");
                else
                        need(f, PERM_PRIVILEGED, who, "build.entitlements: %s",
                             is_scalar(e) ? show(e->text, e->len, buf, sizeof buf) : kind_name(e));
        }
        if (n && !is_null(n) && n->kind != YAMLTREE_SEQ)
                need(f, PERM_PRIVILEGED, who, "build.entitlements: %s", kind_name(n));
        n = map_get(v, "ssh");
        if (non_empty(n))
                need(f, PERM_HOST_BIND, who, "build.ssh (the host's SSH agent or keys)");
        n = map_get(v, "additional_contexts");
        for (i = 0; n && n->kind != YAMLTREE_SCALAR && i < n->n; i++) {
                const struct yamltree_node *c = n->kind == YAMLTREE_MAP ? (i % 2 ? n->items[i] : NULL) : n->items[i];
                struct yamltree_node tmp;
                const char *eq;

                if (!is_scalar(c) || is_url(c) || strncmp(c->text, "service:", 8) == 0 ||
                    strncmp(c->text, "target:", 7) == 0)
                        continue;
                tmp = *c;
                if (n->kind == YAMLTREE_SEQ && (eq = memchr(c->text, '=', c->len))) { /* "name=path" */
                        tmp.text = (char *)eq + 1;
                        tmp.len = c->len - (size_t)(eq + 1 - c->text);
                        if (strstr(tmp.text, "://") || strncmp(tmp.text, "service:", 8) == 0)
                                continue;
                }
                r = check_host_path(f, who, "build.additional_contexts", &tmp);
                if (r < 0)
                        return r;
        }
        return 0;
}
