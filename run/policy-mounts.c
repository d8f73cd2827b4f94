/* policy-mounts.c - volumes and bind mounts: the Docker socket and host paths need a permission, relative
 * binds of paths the bundle does not ship are redirected into the stack's data dir, named volumes whose
 * driver_opts bind a device are host binds.
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "store/fsutil.h"

/* Host files a container may read without a grant (spec/run.md "Harmless host files"): bound read-only they
 * say what time it is or give randomness, nothing more. */
static const char *const harmless[] = {"/etc/localtime", "/etc/timezone", "/dev/urandom", "/dev/random"};

/* An absolute bind source: the Docker socket, a harmless host file read-only, or a host path. */
static void check_host_bind(struct file *f, const char *who, const char *src, size_t len, bool read_only)
{
        static const char *const sockets[] = {"/var/run/docker.sock", "/run/docker.sock"};
        static const char *const above[] = {"/", "/run", "/var", "/var/run"};
        char norm[PATH_MAX] = "", path[PATH_MAX + 1], buf[80];
        const char *base;
        size_t i;

        show(src, len, buf, sizeof buf);
        if (src[0] == '~') {
                need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        if (path_add(norm, sizeof norm, src, len, true) < 0) {
                need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        snprintf(path, sizeof path, "/%s", norm);
        for (i = 0; i < COUNT(harmless); i++)
                if (strcmp(path, harmless[i]) == 0 && read_only)
                        return;
        for (i = 0; i < COUNT(sockets); i++)
                if (strcmp(path, sockets[i]) == 0) {
                        need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s", buf);
                        return;
                }
        base = strrchr(path, '/') + 1;
        for (i = 0; i < COUNT(above); i++)
                if (strcmp(path, above[i]) == 0)
                        base = "docker.sock";
        if (strcmp(base, "docker.sock") == 0 || strcmp(base, "podman.sock") == 0)
                need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s (it holds the Docker socket)", buf);
        for (i = 0; i < COUNT(harmless); i++)
                if (strcmp(path, harmless[i]) == 0) {
                        need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path, not read-only: add :ro)", buf);
                        return;
                }
        need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
}

/* A bind mount's source as written: refused, kept, or (a path the bundle does not ship) redirected into the
 * data dir. *ret_new is then the new source (absolute, '$' doubled). */
static int check_bind_source(struct file *f, const char *who, const char *service, const struct yamltree_node *n,
                             const char *src, size_t len, bool short_syntax, bool read_only, char **ret_new)
{
        struct apply *a = f->a;
        char rel[PATH_MAX], target[PATH_MAX], buf[80], *line = NULL;
        struct yamltree_node tmp = *n;
        enum path_kind kind = PATH_VAR;
        int r;

        *ret_new = NULL;
        tmp.text = (char *)src; /* classify the source part of a short-syntax string */
        tmp.len = len;
        r = classify_path(f, who, &tmp, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        show(src, len, buf, sizeof buf);
        switch (kind) {
        case PATH_VAR: need(f, PERM_HOST_BIND, who, "volumes: bind of '%s' (%s)", buf, unknown_why(n)); return 0;
        case PATH_HOST: check_host_bind(f, who, src, len, read_only); return 0;
        case PATH_ESCAPE: need(f, PERM_HOST_BIND, who, "volumes: bind of %s (outside the run dir)", buf); return 0;
        case PATH_INSIDE: break;
        }
        if (shipped(a, rel))
                return 0;
        if (short_syntax && strchr(a->in->data_dir, ':'))
                return error_set(a->err, STACK_EFAIL, "the data dir %s has a ':' in its path: compose cannot bind it",
                                 a->in->data_dir);
        if (fs_path(target, sizeof target, "%s/%s", a->in->data_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: volumes: %s: path too long", who, buf);
        if (asprintf(&line, "%s: %.*s -> %s", service, (int)len, src, target) < 0)
                return oom(a->err);
        r = strv_add(&a->redirected, line, strlen(line));
        free(line);
        if (r == 0)
                r = strv_add(&a->dirs, rel, strlen(rel));
        if (r == 0 && !(*ret_new = escape_dollars(target)))
                r = -ENOMEM;
        return r < 0 ? oom(a->err) : 0;
}

/* The mode of "SRC:DST:MODE" (comma-separated options) says ro. */
static bool short_read_only(const char *s, size_t len, size_t first, const size_t last[2], size_t colons)
{
        const char *mode;
        size_t at = last[1], n;

        if (colons < 2 || at <= first)
                return false;
        for (mode = s + at + 1; mode < s + len; mode += n + 1) {
                n = strcspn(mode, ",");
                if (n == 2 && !strncmp(mode, "ro", 2))
                        return true;
        }
        return false;
}

int check_volume(struct file *f, const char *who, const char *service, struct yamltree_node *v)
{
        static const char *const sourceless[] = {"volume", "tmpfs", "image", "cluster"};
        struct yamltree_node *type, *src;
        size_t first = 0, last[2] = {0, 0}, i, colons;
        char *new_src = NULL, *text, *tail = NULL, buf[80];
        const struct yamltree_node *ro;
        bool resolved = v->mark & MARK_RESOLVED;
        int r;

        if (v->kind == YAMLTREE_SCALAR) {
                colons = split_colons(v->text, v->len, &first, last);
                if (colons == 0) {
                        /* an anonymous volume, unless a variable makes it "SRC:DST" */
                        if (node_unknown(v))
                                need(f, PERM_HOST_BIND, who, "volumes: '%s' (%s)",
                                     show(v->text, v->len, buf, sizeof buf), unknown_why(v));
                        return 0;
                }
                if (first == 0)
                        return 0;
                /* a named volume: a resolved one is one whatever its variables were */
                if (v->text[0] && !strchr("/.~", v->text[0]) && (resolved || !has_var(v->text, first)))
                        return 0;
                r = check_bind_source(f, who, service, v, v->text, first, true,
                                      short_read_only(v->text, v->len, first, last, colons), &new_src);
                if (r < 0 || !new_src)
                        return r;
                if (resolved && interp_escape(v->text + first, &tail) < 0) {
                        free(new_src);
                        return oom(f->a->err);
                }
                /* keep ":DST[:MODE]" */
                text = tail ? concat3(new_src, tail, strlen(tail), "")
                            : concat3(new_src, v->text + first, v->len - first, "");
                free(new_src);
                free(tail);
                if (!text)
                        return oom(f->a->err);
                scalar_replace(v, text, v->style);
                return 0;
        }
        if (v->kind != YAMLTREE_MAP)
                return malformed(f, who, "a volumes entry must be a string or a mapping", v);
        type = map_get(v, "type");
        if (is_scalar(type) && !node_unknown(type))
                for (i = 0; i < COUNT(sourceless); i++)
                        if (text_is(type, sourceless[i]))
                                return 0;
        src = map_get(v, "source");
        if (is_null(src))
                return 0;
        if (src->kind != YAMLTREE_SCALAR)
                return malformed(f, who, "volumes: source must be a path", src);
        ro = map_get(v, "read_only");
        r = check_bind_source(f, who, service, src, src->text, src->len, false,
                              is_scalar(ro) && !is_false(ro) && !node_unknown(ro), &new_src);
        if (r < 0 || !new_src)
                return r;
        scalar_replace(src, new_src, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
}

/* A top-level volume definition: the local driver with o=bind (or type none) is a bind mount of its device. */
int check_volume_definition(struct file *f, const char *who, const struct yamltree_node *def)
{
        const struct yamltree_node *opts = map_get(def, "driver_opts"), *o, *type, *dev;

        if (!opts || opts->kind != YAMLTREE_MAP)
                return 0;
        o = map_get(opts, "o");
        type = map_get(opts, "type");
        dev = map_get(opts, "device");
        if (is_null(dev))
                return 0;
        if ((is_scalar(o) && (strstr(o->text, "bind") || node_unknown(o))) || text_is(type, "none") ||
            node_unknown(type))
                return check_host_path(f, who, "driver_opts.device", dev);
        return 0;
}
