/* policy-mounts.c - volumes and bind mounts: the Docker socket and host paths need a permission, relative
 * binds of paths the bundle does not ship are redirected into the stack's data dir, a bind source inside a
 * writable one is pinned (the same document) or refused (host-bind), named volumes whose driver_opts mount
 * anything but a tmpfs are host mounts, volume plugins need volume-driver, and volumes and networks are named
 * inside the stack's project.
 */
#include "policy-int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/fsutil.h"

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

        yamltree_show(src, len, buf, sizeof buf);
        if (src[0] == '~') {
                policy_need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        if (policy_path_add(norm, sizeof norm, src, len, true) < 0) {
                policy_need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
                return;
        }
        snprintf(path, sizeof path, "/%s", norm);
        for (i = 0; i < COUNT(harmless); i++)
                if (strcmp(path, harmless[i]) == 0 && read_only)
                        return;
        for (i = 0; i < COUNT(sockets); i++)
                if (strcmp(path, sockets[i]) == 0) {
                        policy_need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s", buf);
                        return;
                }
        base = strrchr(path, '/') + 1;
        for (i = 0; i < COUNT(above); i++)
                if (strcmp(path, above[i]) == 0)
                        base = "docker.sock";
        if (strcmp(base, "docker.sock") == 0 || strcmp(base, "podman.sock") == 0)
                policy_need(f, PERM_DOCKER_SOCKET, who, "volumes: bind of %s (it holds the Docker socket)", buf);
        for (i = 0; i < COUNT(harmless); i++)
                if (strcmp(path, harmless[i]) == 0) {
                        policy_need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path, not read-only: add :ro)",
                                    buf);
                        return;
                }
        policy_need(f, PERM_HOST_BIND, who, "volumes: bind of %s (a host path)", buf);
}

/* A relative bind source (rel: relative to the run dir) for policy_finish_binds(): where it lies ('k' kept in the run
 * dir, 'd' redirected to the data dir) and whether a container may write under it. */
static int record_bind(struct apply *a, const char *rel, bool writable, char where)
{
        char *e = NULL;
        int r;

        if (asprintf(&e, "%c%c:%s", writable ? 'w' : 'r', where, rel) < 0)
                return policy_oom(a->err);
        r = policy_strv_has(&a->binds, e, strlen(e)) ? 0 : policy_strv_add(&a->binds, e, strlen(e));
        if (r == 0 && writable) /* counted per bind, for policy_bind_pinned() */
                r = policy_strv_add(&a->wbinds, e, strlen(e));
        free(e);
        return r < 0 ? policy_oom(a->err) : 0;
}

/* The container path of a volumes entry (short or long syntax), normalised ("/a/b", "/"): false when it is not
 * known (a variable, not absolute, a shape compose would refuse). */
static bool entry_target(const struct yamltree_node *v, char *out, size_t size)
{
        const struct yamltree_node *t = v;
        size_t first = 0, last[2] = {0, 0}, colons, from = 0, to;
        char norm[PATH_MAX] = "";

        if (v->kind == YAMLTREE_MAP) {
                t = yamltree_map_get(v, "target");
                if (!yamltree_is_scalar(t) || policy_is_null(t))
                        return false;
                to = t->len;
        } else if (v->kind == YAMLTREE_SCALAR) {
                colons = policy_split_colons(v->text, v->len, &first, last);
                if (colons > 2)
                        return false;
                from = colons ? first + 1 : 0;
                to = colons == 2 ? last[1] : v->len;
        } else {
                return false;
        }
        if (policy_node_unknown(t) || to <= from || t->text[from] != '/' || memchr(t->text + from, 0, to - from) ||
            policy_path_add(norm, sizeof norm, t->text + from, to - from, true) != 0)
                return false;
        return snprintf(out, size, "/%s", norm) < (int)size;
}

/* A relative service bind of the document being checked (f->volume, in f->volumes), for policy_pin_nested_binds(). */
static int note_doc_bind(struct file *f, const char *rel, bool writable, char where)
{
        char target[PATH_MAX];
        struct doc_bind *d;

        if (!f->volumes || !f->volume)
                return 0; /* not a service's bind: never pinned, policy_finish_binds() judges it */
        if (f->n_doc_binds == f->cap_doc_binds) {
                size_t cap = f->cap_doc_binds ? f->cap_doc_binds * 2 : 8;

                d = realloc(f->doc_binds, cap * sizeof *d);
                if (!d)
                        return policy_oom(f->a->err);
                f->doc_binds = d;
                f->cap_doc_binds = cap;
        }
        d = &f->doc_binds[f->n_doc_binds];
        *d = (struct doc_bind){.volumes = f->volumes, .where = where, .writable = writable};
        d->rel = strdup(rel);
        d->target = entry_target(f->volume, target, sizeof target) ? strdup(target) : NULL;
        if (!d->rel || (!d->target && entry_target(f->volume, target, sizeof target))) {
                free(d->rel);
                free(d->target);
                return policy_oom(f->a->err);
        }
        f->n_doc_binds++;
        return 0;
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
        if (memchr(src, '\\', len)) {
                /* docker-compose 1.29 with COMPOSE_CONVERT_WINDOWS_PATHS (which Docker Desktop's guides have people
                 * set) turns every backslash into '/': `.\..\..\etc`, a name inside the run dir, becomes a path
                 * that climbs out of it. */
                yamltree_show(src, len, buf, sizeof buf);
                policy_need(f, PERM_HOST_BIND, who,
                            "volumes: bind of %s (a '\\' is a path separator to compose on Windows "
                            "settings)",
                            buf);
                return 0;
        }
        tmp.text = (char *)src; /* classify the source part of a short-syntax string */
        tmp.len = len;
        r = policy_classify_path(f, who, &tmp, rel, sizeof rel, &kind);
        if (r < 0)
                return r;
        yamltree_show(src, len, buf, sizeof buf);
        switch (kind) {
        case PATH_VAR:
                policy_need(f, PERM_HOST_BIND, who, "volumes: bind of '%s' (%s)", buf, policy_unknown_why(n));
                return 0;
        case PATH_HOST: check_host_bind(f, who, src, len, read_only); return 0;
        case PATH_ESCAPE:
                policy_need(f, PERM_HOST_BIND, who, "volumes: bind of %s (outside the run dir)", buf);
                return 0;
        case PATH_INSIDE: break;
        }
        if (policy_shipped(a, rel)) {
                r = record_bind(a, rel, !read_only, 'k');
                return r < 0 ? r : note_doc_bind(f, rel, !read_only, 'k');
        }
        if (!strcmp(rel, "stack.env") || !strncmp(rel, "stack.env/", 10)) {
                /* redirected, it would be $STACK_HOME/data/<slug>/stack.env: the person's remembered --env values,
                 * which the next run hands to the compose process (a DOCKER_HOST written there was obeyed) */
                policy_need(f, PERM_HOST_BIND, who,
                            "volumes: bind of %s (in the data dir it is stack's own stack.env, the "
                            "remembered --env values)",
                            buf);
                return 0;
        }
        if (short_syntax && strchr(a->in->data_dir, ':'))
                return error_set(a->err, STACK_EFAIL, "the data dir %s has a ':' in its path: compose cannot bind it",
                                 a->in->data_dir);
        if (fs_path(target, sizeof target, "%s/%s", a->in->data_dir, rel) < 0)
                return error_set(a->err, STACK_EREJECT, "%s: volumes: %s: path too long", who, buf);
        if (asprintf(&line, "%s: %.*s -> %s", service, (int)len, src, target) < 0)
                return policy_oom(a->err);
        r = policy_strv_add(&a->redirected, line, strlen(line));
        free(line);
        if (r == 0)
                r = policy_strv_add(&a->dirs, rel, strlen(rel));
        if (r == 0)
                r = record_bind(a, rel, !read_only, 'd');
        if (r == 0)
                r = note_doc_bind(f, rel, !read_only, 'd');
        if (r == 0 && !(*ret_new = policy_escape_dollars(target)))
                r = -ENOMEM;
        return r < 0 ? policy_oom(a->err) : 0;
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

int policy_check_volume(struct file *f, const char *who, const char *service, struct yamltree_node *v)
{
        static const char *const sourceless[] = {"volume", "tmpfs", "image", "cluster"};
        struct yamltree_node *type, *src;
        size_t first = 0, last[2] = {0, 0}, i, colons;
        char *new_src = NULL, *text, *tail = NULL, buf[80];
        const struct yamltree_node *ro;
        bool resolved = v->mark & MARK_RESOLVED;
        int r;

        if (v->kind == YAMLTREE_SCALAR) {
                colons = policy_split_colons(v->text, v->len, &first, last);
                if (colons == 0) {
                        /* an anonymous volume, unless a variable makes it "SRC:DST" */
                        if (policy_node_unknown(v))
                                policy_need(f, PERM_HOST_BIND, who, "volumes: '%s' (%s)",
                                            yamltree_show(v->text, v->len, buf, sizeof buf), policy_unknown_why(v));
                        return 0;
                }
                if (first == 0)
                        return 0;
                /* a named volume: a resolved one is one whatever its variables were */
                if (v->text[0] && !strchr("/.~", v->text[0]) && (resolved || !policy_has_var(v->text, first)))
                        return 0;
                r = check_bind_source(f, who, service, v, v->text, first, true,
                                      short_read_only(v->text, v->len, first, last, colons), &new_src);
                if (r < 0 || !new_src)
                        return r;
                if (resolved && interp_escape(v->text + first, &tail) < 0) {
                        free(new_src);
                        return policy_oom(f->a->err);
                }
                /* keep ":DST[:MODE]" */
                text = tail ? policy_concat3(new_src, tail, strlen(tail), "")
                            : policy_concat3(new_src, v->text + first, v->len - first, "");
                free(new_src);
                free(tail);
                if (!text)
                        return policy_oom(f->a->err);
                yamltree_scalar_replace(v, text, v->style);
                return 0;
        }
        if (v->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "a volumes entry must be a string or a mapping", v);
        type = yamltree_map_get(v, "type");
        if (yamltree_is_scalar(type) && !policy_node_unknown(type))
                for (i = 0; i < COUNT(sourceless); i++)
                        if (yamltree_text_is(type, sourceless[i]))
                                return 0;
        src = yamltree_map_get(v, "source");
        if (policy_is_null(src))
                return 0;
        if (src->kind != YAMLTREE_SCALAR)
                return policy_malformed(f, who, "volumes: source must be a path", src);
        ro = yamltree_map_get(v, "read_only");
        r = check_bind_source(f, who, service, src, src->text, src->len, false,
                              yamltree_is_scalar(ro) && !policy_is_false(ro) && !policy_node_unknown(ro), &new_src);
        if (r < 0 || !new_src)
                return r;
        yamltree_scalar_replace(src, new_src, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return 0;
}

/* A volume binding a directory of the run dir (o: bind, device inside it: compose v2 made it absolute) is a
 * writable bind kept in the run dir, for policy_finish_binds(). */
static int record_device_bind(struct file *f, const char *who, const struct yamltree_node *dev)
{
        char rel[PATH_MAX];
        enum path_kind kind = PATH_VAR;
        int r;

        r = policy_classify_path(f, who, dev, rel, sizeof rel, &kind);
        if (r < 0 || kind != PATH_INSIDE)
                return r;
        return record_bind(f->a, rel, true, 'k');
}

int policy_record_file_bind(struct file *f, const char *who, const struct yamltree_node *file)
{
        char rel[PATH_MAX];
        enum path_kind kind = PATH_VAR;
        int r;

        if (!yamltree_is_scalar(file) || policy_is_null(file))
                return 0;
        r = policy_classify_path(f, who, file, rel, sizeof rel, &kind);
        if (r < 0 || kind != PATH_INSIDE)
                return r;
        return record_bind(f->a, rel, false, 'k');
}

/* Options of a tmpfs mount that change nothing but its size, ownership and flags. */
static bool tmpfs_options(const struct yamltree_node *o)
{
        static const char *const keys[] = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"};
        static const char *const flags[] = {"noexec", "nosuid", "nodev", "ro", "rw", "exec", "suid"};
        const char *p, *end;
        size_t i, n, k;
        bool ok;

        if (policy_is_null(o))
                return true;
        if (!yamltree_is_scalar(o) || policy_node_unknown(o) || memchr(o->text, 0, o->len))
                return false;
        for (p = o->text, end = o->text + o->len; p < end; p += n + 1) {
                n = strcspn(p, ",");
                if (n == 0)
                        continue;
                ok = false;
                for (i = 0; i < COUNT(keys) && !ok; i++) {
                        k = strlen(keys[i]);
                        ok = n > k && p[k] == '=' && strncmp(p, keys[i], k) == 0 &&
                             strspn(p + k + 1, "0123456789kmgKMG%") >= n - k - 1;
                }
                for (i = 0; i < COUNT(flags) && !ok; i++)
                        ok = n == strlen(flags[i]) && strncmp(p, flags[i], n) == 0;
                if (!ok)
                        return false;
        }
        return true;
}

/* A top-level volume definition: a driver other than local is a plugin with its own reach (volume-driver); the
 * local driver with driver_opts mounts what they say: a tmpfs is harmless, o=bind (or type none) binds its
 * device (a path: host-bind unless it stays in the run dir), anything else (proc, overlay, ext4 on a device,
 * nfs ...) is a host mount (host-bind). Then the volume's name. */
int policy_check_volume_definition(struct file *f, const char *who, const struct yamltree_node *key,
                                   struct yamltree_node *def)
{
        const struct yamltree_node *driver = yamltree_map_get(def, "driver"),
                                   *opts = yamltree_map_get(def, "driver_opts"), *o, *type, *dev;
        char buf[80], tbuf[80];
        size_t i;

        if (!policy_is_null(driver) &&
            !(yamltree_is_scalar(driver) && !policy_node_unknown(driver) && yamltree_text_is(driver, "local")))
                policy_need(f, PERM_VOLUME_DRIVER, who, "driver: %s%s",
                            yamltree_is_scalar(driver) ? yamltree_show(driver->text, driver->len, buf, sizeof buf)
                                                       : yamltree_kind_name(driver),
                            policy_node_unknown(driver) ? " (a variable in it is unset)" : "");
        if (!policy_is_null(opts) && opts->kind != YAMLTREE_MAP)
                return policy_malformed(f, who, "driver_opts must be a mapping", opts);
        if (!policy_is_null(opts) && opts->n) {
                o = yamltree_map_get(opts, "o");
                type = yamltree_map_get(opts, "type");
                dev = yamltree_map_get(opts, "device");
                for (i = 0; i + 1 < opts->n; i += 2) {
                        const struct yamltree_node *k = opts->items[i];

                        if (!yamltree_text_is(k, "o") && !yamltree_text_is(k, "type") &&
                            !yamltree_text_is(k, "device") && !yamltree_text_is(k, "size"))
                                policy_need(f, PERM_HOST_BIND, who,
                                            "driver_opts.%s (an option of the local driver's mount)",
                                            yamltree_show(k->text, k->len, buf, sizeof buf));
                }
                if (yamltree_is_scalar(type) && !policy_node_unknown(type) && yamltree_text_is(type, "tmpfs") &&
                    tmpfs_options(o) && (policy_is_null(dev) || yamltree_text_is(dev, "tmpfs"))) {
                        /* a tmpfs: memory, nothing of the host's */
                } else if ((yamltree_is_scalar(o) && (strstr(o->text, "bind") || policy_node_unknown(o))) ||
                           yamltree_text_is(type, "none") || policy_node_unknown(type)) {
                        /* A bind of its device (the fstype does not count with MS_BIND). compose v2 makes a
                         * relative device absolute only for `driver: local` written out and `o: bind` exactly
                         * (compose-go volumeDriverOpts), v1 never: otherwise the Engine reads it from its own /. */
                        int r = 0;

                        if (yamltree_is_scalar(dev) && !policy_is_null(dev) && !policy_node_unknown(dev) &&
                            dev->text[0] != '/' && dev->text[0] != '~' &&
                            (f->a->in->compose_v1 || !yamltree_text_is(driver, "local") ||
                             !yamltree_text_is(o, "bind")))
                                policy_need(f, PERM_HOST_BIND, who,
                                            "driver_opts.device '%s' (compose passes it on as written: a path from the "
                                            "Engine's /)",
                                            yamltree_show(dev->text, dev->len, buf, sizeof buf));
                        else if (!policy_is_null(dev))
                                r = policy_check_host_path(f, who, "driver_opts.device", dev);
                        if (r == 0 && yamltree_is_scalar(dev) && !policy_is_null(dev))
                                r = record_device_bind(f, who, dev);
                        if (r < 0)
                                return r;
                } else {
                        policy_need(f, PERM_HOST_BIND, who, "driver_opts type: %s, device: %s (a host mount)",
                                    yamltree_is_scalar(type) ? yamltree_show(type->text, type->len, tbuf, sizeof tbuf)
                                                             : "(none)",
                                    yamltree_is_scalar(dev) ? yamltree_show(dev->text, dev->len, buf, sizeof buf)
                                                            : "(none)");
                }
        }
        return policy_check_resource_name(f, who, "volume", key, def);
}

const char *policy_own_project(const struct apply *a, char *buf, size_t size)
{
        if (a->in->project && *a->in->project)
                return a->in->project;
        snprintf(buf, size, "stack-%s", a->in->m && a->in->m->slug ? a->in->m->slug : "");
        return buf;
}

/* "<project>_..." is the stack's own: compose names its volumes and networks so, and a project name holds no
 * '_' (run.c), so no other project's names start that way. */
static bool own_name(const struct apply *a, const char *name, size_t len)
{
        char buf[160];
        const char *p = policy_own_project(a, buf, sizeof buf);
        size_t n = strlen(p);

        return len > n + 1 && strncmp(name, p, n) == 0 && name[n] == '_';
}

int policy_check_resource_name(struct file *f, const char *who, const char *what, const struct yamltree_node *key,
                               struct yamltree_node *def)
{
        struct apply *a = f->a;
        const struct yamltree_node *ext = def ? yamltree_map_get(def, "external") : NULL, *name = NULL;
        bool external = ext && ext->kind == YAMLTREE_MAP ? true : !policy_is_false(ext) || policy_node_unknown(ext);
        char buf[80], pbuf[160], *joined = NULL, *esc;
        const char *project = policy_own_project(a, pbuf, sizeof pbuf);
        size_t plen = strlen(project);

        if (ext && ext->kind == YAMLTREE_MAP && !policy_is_null(yamltree_map_get(ext, "name")))
                name = yamltree_map_get(ext, "name");
        if (def && !policy_is_null(yamltree_map_get(def, "name")))
                name = yamltree_map_get(def, "name");
        if (!name && !external)
                return 0; /* compose names it "<project>_<key>" */
        if (!name)
                name = key;
        if (!yamltree_is_scalar(name) || name->kind != YAMLTREE_SCALAR)
                return policy_malformed(f, who, "name must be a string", name);
        yamltree_show(name->text, name->len, buf, sizeof buf);
        if (policy_node_unknown(name)) {
                policy_need(f, PERM_EXTERNAL, who, "the %s named '%s' (%s)", what, buf, policy_unknown_why(name));
                return 0;
        }
        if (own_name(a, name->text, name->len))
                return 0;
        if (name->len >= 6 && strncmp(name->text, "stack-", 6) == 0) {
                policy_need(f, PERM_EXTERNAL, who, "the %s named %s (it belongs to another stack, not to %.*s)", what,
                            buf, (int)plen, project);
                return 0;
        }
        if (external) {
                policy_need(f, PERM_EXTERNAL, who, "the external %s %s (outside the stack)", what, buf);
                return 0;
        }
        /* a name of the bundle's choosing: kept only when granted, else made the project's own */
        a->needed |= PERM_EXTERNAL;
        if (a->in->allow & PERM_EXTERNAL)
                return 0;
        if (asprintf(&joined, "%s_%.*s", project, (int)name->len, name->text) < 0)
                return policy_oom(a->err);
        esc = policy_escape_dollars(joined);
        free(joined);
        if (!esc || yamltree_map_set_text(def, "name", esc, YAML_DOUBLE_QUOTED_SCALAR_STYLE) < 0) {
                free(esc);
                return policy_oom(a->err);
        }
        free(esc);
        return 0;
}

/* a is strictly under b ("x/y" under "x"; everything under "") */
static bool under(const char *a, const char *b)
{
        size_t n = strlen(b);

        if (n == 0)
                return *a != 0;
        return strncmp(a, b, n) == 0 && a[n] == '/';
}

/* dir (relative to the run dir) is, or is above, the main compose file's directory (its effective file, .env and
 * the run's .stack-* records) or a file the policy writes (the effective copies of included files, configs). */
static bool holds_stacks_files(const struct apply *a, const char *dir)
{
        size_t i, n = strlen(a->in->run_dir);

        if (!strcmp(a->main_base, dir) || under(a->main_base, dir))
                return true;
        for (i = 0; i < a->n_writes; i++) {
                const char *p = a->writes[i].path;

                if (strncmp(p, a->in->run_dir, n) == 0 && p[n] == '/' && under(p + n + 1, dir))
                        return true;
        }
        return false;
}

void policy_finish_binds(struct apply *a)
{
        struct file f = {.a = a, .rel = "", .base = ""};
        size_t i, j;

        for (i = 0; i < a->binds.n; i++) {
                const char *w = a->binds.v[i];

                if (w[0] != 'w')
                        continue;
                for (j = 0; j < a->binds.n; j++) {
                        const char *b = a->binds.v[j];

                        if (b[1] != w[1] || !under(b + 3, w + 3) || policy_bind_pinned(a, w, b))
                                continue;
                        policy_need(
                                &f, PERM_HOST_BIND, "volumes",
                                "bind of ./%s inside the writable bind ./%s (a container could turn a directory on its "
                                "path into a symlink, and the next start would follow it)",
                                b + 3, *(w + 3) ? w + 3 : ".");
                        return;
                }
        }
        for (i = 0; i < a->binds.n; i++) {
                const char *w = a->binds.v[i];

                if (w[0] == 'w' && w[1] == 'k' && holds_stacks_files(a, w + 3)) {
                        policy_need(
                                &f, PERM_HOST_BIND, "volumes",
                                "writable bind of %s%s, which holds the effective compose file and the run's .env (a "
                                "container could rewrite what the next run starts)",
                                *(w + 3) ? "./" : ".", w + 3);
                        return;
                }
        }
}

bool policy_bind_pinned(const struct apply *a, const char *w, const char *b)
{
        char *key = NULL;
        size_t i, uses = 0, pins = 0;

        if (asprintf(&key, "%c:%s\t%s", w[1], w + 3, b + 3) < 0)
                return false;
        for (i = 0; i < a->wbinds.n; i++)
                uses += strcmp(a->wbinds.v[i], w) == 0;
        for (i = 0; i < a->pins.n; i++)
                pins += strcmp(a->pins.v[i], key) == 0;
        free(key);
        return uses > 0 && pins == uses;
}

/* The volumes list already mounts something at target. */
static bool mounts_at(const struct yamltree_node *volumes, const char *target)
{
        char t[PATH_MAX];
        size_t i;

        for (i = 0; i < volumes->n; i++)
                if (entry_target(volumes->items[i], t, sizeof t) && strcmp(t, target) == 0)
                        return true;
        return false;
}

/* A source as a pin writes it: kept, relative to the compose file's dir (base) as compose resolves it;
 * redirected, the absolute path in the data dir. '$' doubled. */
static char *pin_source(struct file *f, const char *q, char where)
{
        const char *base = f->base;
        size_t n = strlen(base);
        char *s = NULL, *e;
        int r;

        if (where == 'd')
                r = asprintf(&s, "%s/%s", f->a->in->data_dir, q);
        else if (n == 0)
                r = asprintf(&s, "./%s", q);
        else if (strncmp(q, base, n) == 0 && q[n] == '/')
                r = asprintf(&s, "./%s", q + n + 1);
        else {
                /* up from base to the run dir, then down */
                size_t ups = 1, i, o;

                for (i = 0; i < n; i++)
                        ups += base[i] == '/';
                s = malloc(ups * 3 + strlen(q) + 2);
                if (!s)
                        return NULL;
                o = 0;
                s[o++] = '.';
                for (i = 0; i < ups; i++) {
                        memcpy(s + o, "/..", 3);
                        o += 3;
                }
                r = sprintf(s + o, "/%s", q);
        }
        if (r < 0)
                return NULL;
        e = policy_escape_dollars(s);
        free(s);
        return e;
}

/* Pin every directory from outer's source down to inner's (a source strictly inside it) in outer's service. */
static int pin_one(struct file *f, const struct doc_bind *outer, const char *inner)
{
        size_t olen = strlen(outer->rel), at = olen ? olen + 1 : 0;
        char tgt[PATH_MAX * 2], *src, *text;
        struct yamltree_node *n;
        int r;

        while (inner[at]) {
                size_t end = at + strcspn(inner + at, "/");
                const char *rest = inner + (olen ? olen + 1 : 0);
                size_t rlen = end - (size_t)(rest - inner);

                if (snprintf(tgt, sizeof tgt, "%s%s%.*s", outer->target, strcmp(outer->target, "/") ? "/" : "",
                             (int)rlen, rest) >= (int)sizeof tgt)
                        return error_set(f->a->err, STACK_EREJECT, "volumes: bind of ./%s: path too long", inner);
                if (!mounts_at(outer->volumes, tgt)) {
                        char q[PATH_MAX];

                        snprintf(q, sizeof q, "%.*s", (int)end, inner);
                        src = pin_source(f, q, outer->where);
                        text = src ? policy_concat3(src, ":", 1, tgt) : NULL;
                        free(src);
                        if (!text)
                                return policy_oom(f->a->err);
                        n = yamltree_scalar_new(text, strlen(text), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
                        free(text);
                        if (!n)
                                return policy_oom(f->a->err);
                        r = yamltree_append(outer->volumes, n);
                        if (r < 0)
                                return policy_oom(f->a->err);
                }
                at = inner[end] ? end + 1 : end;
        }
        return 0;
}

int policy_pin_nested_binds(struct file *f, bool ok)
{
        struct apply *a = f->a;
        size_t i, j, k;
        char *key = NULL;
        int r = 0;

        for (i = 0; ok && r == 0 && i < f->n_doc_binds; i++) {
                const struct doc_bind *o = &f->doc_binds[i];

                if (!o->writable || !o->target || o->volumes->kind != YAMLTREE_SEQ)
                        continue; /* read-only outers need nothing; an unknown target cannot be pinned */
                for (j = 0; r == 0 && j < f->n_doc_binds; j++) {
                        const struct doc_bind *b = &f->doc_binds[j];

                        if (b->where != o->where || !under(b->rel, o->rel))
                                continue;
                        for (k = 0; k < j; k++) /* the same inner source once per outer bind */
                                if (f->doc_binds[k].where == b->where && strcmp(f->doc_binds[k].rel, b->rel) == 0)
                                        break;
                        if (k < j)
                                continue;
                        r = pin_one(f, o, b->rel);
                        if (r == 0 && asprintf(&key, "%c:%s\t%s", o->where, o->rel, b->rel) < 0)
                                r = policy_oom(a->err);
                        if (r == 0 && policy_strv_add(&a->pins, key, strlen(key)) < 0)
                                r = policy_oom(a->err);
                        free(key);
                        key = NULL;
                }
        }
        for (i = 0; i < f->n_doc_binds; i++) {
                free(f->doc_binds[i].rel);
                free(f->doc_binds[i].target);
        }
        free(f->doc_binds);
        f->doc_binds = NULL;
        f->n_doc_binds = f->cap_doc_binds = 0;
        return r;
}
