/* flavor.c - StaticWebsite runs (a checkout the proxy serves, a row, no container) and DockerService runs (an
 * image built from the bundle's Dockerfile, run as a generated one-service compose project) (flavor.h). */
#include "flavor.h"
#include "runner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "run/engine.h"
#include "run/images.h"
#include "run/rundir.h"
#include "store/imagearchive.h"
#include "store/checkout.h"
#include "base/fsutil.h"
#include "base/wallclock.h"
#include "store/index.h"
#include "store/tree.h"

#define STATIC_NAME "StaticWebsite"

#define SERVICE_NAME "DockerService"

const struct runner *runner_of_flavor(const char *flavor)
{
        if (flavor && !strcmp(flavor, STATIC_NAME))
                return &runner_static;
        if (flavor && !strcmp(flavor, SERVICE_NAME))
                return &runner_service;
        return &runner_compose;
}

const struct runner *runner_of_row(struct store *s, const struct run_row *row)
{
        struct version_info v = {0};
        const struct runner *rn = &runner_compose;

        if (swarm_is_run_dir(row->run_dir))
                return &runner_swarm;
        if (index_get_version(store_index(s), row->version_id, &v, NULL) == 0)
                rn = runner_of_flavor(v.flavor);
        version_info_release(&v);
        return rn;
}

static int one_route(struct run_info *ret, const char *slug, const char *run_dir)
{
        ret->routes = calloc(1, sizeof *ret->routes);
        if (!ret->routes)
                return -ENOMEM;
        ret->n_routes = 1;
        ret->routes[0].service = strdup(slug);
        ret->routes[0].root = strdup(run_dir);
        if (asprintf(&ret->routes[0].host, "%s.stack.localhost", slug) < 0)
                ret->routes[0].host = NULL;
        return ret->routes[0].service && ret->routes[0].root && ret->routes[0].host ? 0 : -ENOMEM;
}

/* A name the proxy never serves from a static run dir (proxy.c's file_server "hide": stack.yaml, .env,
 * .stack-*; Caddy matches them against every component of the path it opens). */
static bool hidden_name(const char *c, size_t n)
{
        return (n == 10 && !memcmp(c, "stack.yaml", 10)) || (n == 4 && !memcmp(c, ".env", 4)) ||
               (n >= 7 && !memcmp(c, ".stack-", 7));
}

/* Caddy hides by the name asked for, not by where a symlink leads: a symlink whose target names a hidden file
 * or directory (b.txt -> .env, x -> sub/../stack.yaml) would serve it. Every component of a path the kernel
 * opens comes from the request (hidden by Caddy) or from some symlink's text (refused here), so no chain of
 * links reaches a hidden name. */
static int check_static_links(const struct tree *t, struct error *err)
{
        for (size_t i = 0; i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];
                const char *c = e->target;

                if (e->type != ENTRY_SYMLINK || !c)
                        continue;
                while (*c) {
                        size_t n = strcspn(c, "/");
                        if (hidden_name(c, n))
                                return error_set(err, STACK_EREJECT,
                                                 "%s: a symlink to '%s', which a static site never serves (stack.yaml, "
                                                 ".env, .stack-*)",
                                                 e->path, e->target);
                        c += n;
                        c += strspn(c, "/");
                }
        }
        return 0;
}

static int static_start(const struct runner *rn, struct store *s, const struct version_info *v,
                        const struct run_options *o, struct run_info *ret, struct error *err)
{
        struct tree t;
        struct run_row old = {0}, row = {0};
        char run_dir[PATH_MAX], staged[PATH_MAX], aside[PATH_MAX], project[RUN_PROJECT_MAX], suffix[RUNDIR_ID_LEN + 1],
                id[sizeof old.id];
        bool have_old, same, staging = false;
        double t0 = monotonic_s();
        int r;

        tree_init(&t);
        rundir_new_id(suffix);
        if (rundir_path(s, v->slug, NULL, NULL, run_dir, sizeof run_dir) < 0 ||
            rundir_path(s, v->slug, "new", suffix, staged, sizeof staged) < 0 ||
            rundir_path(s, v->slug, "old", suffix, aside, sizeof aside) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        run_project_name(v->slug, project, sizeof project);
        r = index_load_tree(store_index(s), &v->tree, &t, err);
        if (r == 0)
                r = check_static_links(&t, err);
        if (r < 0)
                goto done;
        have_old = runs_get(s, v->slug, &old, NULL) == 0;
        same = have_old && digest_equal(&old.tree, &v->tree);
        snprintf(id, sizeof id, "%s", same ? old.id : "");
        if (!same)
                rundir_new_id(id);
        r = one_route(ret, v->slug, run_dir);
        if (r < 0) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        /* The checkout beside the run dir, while whatever runs keeps running. */
        if (!same || !rundir_marker_ok(run_dir, &v->tree)) {
                staging = true;
                r = rundir_checkout(s, &t, &v->tree, staged, err);
                if (r < 0)
                        goto done;
                if (o->step)
                        o->step(o->step_ctx, "checkout", monotonic_s() - t0);
        } else {
                ret->fast_path = true;
        }
        if (o->routes_check) {
                r = o->routes_check(o->routes_ctx, v->slug, ret->routes, ret->n_routes, err);
                if (r < 0)
                        goto done;
        }
        /* Only now another version goes: a compose one is taken down (its data stays). */
        if (have_old && !same) {
                const struct runner *old_rn = runner_of_row(s, &old);
                if (old_rn == rn)
                        r = runs_delete(s, old.id, err);
                else
                        r = old_rn->remove(s, &old, false, false, NULL, err);
                if (r < 0)
                        goto done;
                have_old = false;
        }
        if (staging) {
                r = rundir_switch(staged, run_dir, aside, err);
                if (r < 0)
                        goto done;
                staging = false;
        }
        snprintf(row.id, sizeof row.id, "%s", id);
        row.slug = v->slug;
        row.version_id = v->id;
        row.tree = v->tree;
        row.state = RUN_STARTING;
        row.project = project;
        row.run_dir = run_dir;
        r = have_old ? runs_set_state(s, id, RUN_STARTING, NULL, err) : runs_insert(s, &row, err);
        if (r == 0)
                r = runs_set_state(s, id, RUN_RUNNING, NULL, err);
        if (r == 0)
                r = runs_get(s, id, &ret->row, err);
done:
        if (staging)
                fs_rm_rf(staged);
        run_row_release(&old);
        tree_release(&t);
        return r;
}

static int static_stop(struct store *s, struct run_row *row, struct error *err)
{
        int r = runs_set_state(s, row->id, RUN_STOPPED, NULL, err);

        if (r == 0)
                row->state = RUN_STOPPED;
        return r;
}

/* The run dir, the data dir with purge, the row: no container, nothing on the Engine. */
static int static_remove(struct store *s, const struct run_row *row, bool purge, bool anyway, char **ret_left,
                         struct error *err)
{
        char data[PATH_MAX];
        int r;

        (void)anyway;
        (void)ret_left;
        r = store_lock_shared(s, err);
        if (r < 0)
                return r;
        r = fs_rm_rf(row->run_dir);
        if (r < 0)
                r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", row->run_dir);
        if (r == 0 && purge) {
                if (fs_path(data, sizeof data, "%s/data/%s", store_home(s), row->slug) < 0)
                        r = error_set(err, STACK_ESTORE, "store path too long");
                else if ((r = fs_rm_rf(data)) < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", data);
        }
        if (r == 0)
                r = runs_delete(s, row->id, err);
        store_unlock(s);
        return r;
}

const struct runner runner_static = {
        .name = STATIC_NAME,
        .containers = false,
        .start = static_start,
        .stop = static_stop,
        .remove = static_remove,
};

/* ---- DockerService ---------------------------------------------------------------------------------- */

int flavor_service_tag(const struct version_info *v, char *buf, size_t size)
{
        char hex[DIGEST_HEX_LEN + 1], name[80];
        size_t o = 0;
        bool sep = false;

        /* a repository name: [a-z0-9] runs joined by single '-' */
        for (const char *p = v->slug; *p && o + 2 < sizeof name; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
                        if (sep && o)
                                name[o++] = '-';
                        name[o++] = *p;
                        sep = false;
                } else {
                        sep = true;
                }
        }
        name[o] = 0;
        digest_to_hex(&v->tree, hex);
        return fs_path(buf, size, "stack-%s:%.12s", name, hex);
}

/* The bytes of a file of the tree (at most max), NUL-terminated. */
static int object_text(struct store *s, const struct tree_entry *e, size_t max, char **ret, struct error *err)
{
        char *text;
        ssize_t n;
        int fd;

        if (e->size > max)
                return error_set(err, STACK_EREJECT, "%s is larger than %zu bytes", e->path, max);
        fd = store_object_open(s, &e->digest);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, fd, "%s's object is unreadable (run stack verify)", e->path);
        text = malloc(e->size + 1);
        n = text ? pread(fd, text, e->size, 0) : -1;
        close(fd);
        if (n != (ssize_t)e->size) {
                free(text);
                return error_set(err, STACK_ESTORE, "%s's object is short (run stack verify)", e->path);
        }
        text[e->size] = 0;
        *ret = text;
        return 0;
}

unsigned flavor_dockerfile_port(const char *text, unsigned *ret_n)
{
        unsigned port = 0, n = 0;
        const char *p = text;

        while (p && *p) {
                const char *eol = p;
                /* one instruction: lines joined where they end in a backslash */
                while (*eol && !(*eol == '\n' && (eol == p || eol[-1] != '\\')))
                        eol++;
                while (p < eol && (*p == ' ' || *p == '\t'))
                        p++;
                if (eol - p > 7 && !strncasecmp(p, "EXPOSE", 6) && (p[6] == ' ' || p[6] == '\t')) {
                        const char *q = p + 6;
                        while (q < eol) {
                                char *end;
                                unsigned long v;
                                while (q < eol && strchr(" \t\\\r\n", *q))
                                        q++;
                                if (q >= eol)
                                        break;
                                v = strtoul(q, &end, 10);
                                if (end > q && v >= 1 && v <= 65535 && (end >= eol || strchr(" \t\\\r\n/", *end))) {
                                        if (v != port)
                                                n++;
                                        port = (unsigned)v;
                                }
                                while (q < eol && !strchr(" \t\\\r\n", *q))
                                        q++;
                        }
                }
                p = *eol ? eol + 1 : eol;
        }
        if (ret_n)
                *ret_n = n;
        return n == 1 ? port : 0;
}

int flavor_service_compose(struct store *s, const struct version_info *v, const struct tree *t,
                           const char *compose_path, manifest_warn_fn warn, void *warn_ctx, struct error *err)
{
        const struct tree_entry *df = tree_find(t, "Dockerfile");
        char tag[128], *text = NULL, *yaml = NULL, line[256];
        unsigned port, n = 0;
        int r, len;

        if (!df || df->type != ENTRY_FILE)
                return error_set(err, STACK_ESTORE, "the stored DockerService version has no Dockerfile");
        r = object_text(s, df, 1 << 20, &text, err);
        if (r < 0)
                return r;
        port = flavor_dockerfile_port(text, &n);
        free(text);
        if (flavor_service_tag(v, tag, sizeof tag) < 0)
                return error_set(err, STACK_EFAIL, "slug too long for an image tag");
        if (!port && warn) {
                snprintf(line, sizeof line,
                         "%s: the Dockerfile EXPOSEs %s port: the service is not routed (it needs exactly one)",
                         v->slug, n ? "more than one" : "no");
                warn(warn_ctx, line);
        }
        /* One service, named after the stack; routed like a hub stack by its own labels. */
        if (port)
                len = asprintf(&yaml,
                               "# generated by stack for the DockerService %s: the image is built from its Dockerfile\n"
                               "services:\n  \"%s\":\n    image: \"%s\"\n    expose:\n      - \"%u\"\n    labels:\n"
                               "      traefik.enable: \"true\"\n"
                               "      traefik.http.routers.service.rule: \"Host(`%s.stack.localhost`)\"\n"
                               "      traefik.http.services.service.loadbalancer.server.port: \"%u\"\n",
                               v->slug, v->slug, tag, port, v->slug, port);
        else
                len = asprintf(&yaml,
                               "# generated by stack for the DockerService %s: the image is built from its Dockerfile\n"
                               "services:\n  \"%s\":\n    image: \"%s\"\n",
                               v->slug, v->slug, tag);
        if (len < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = fs_write_atomic(compose_path, yaml, (size_t)len, 0644);
        free(yaml);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", compose_path) : 0;
}

static int context_write(void *ctx, const void *buf, size_t n, struct error *err)
{
        struct archive *a = ctx;

        return archive_write_data(a, buf, n) == (la_ssize_t)n
                       ? 0
                       : error_set(err, STACK_EFAIL, "cannot write the build context: %s", archive_error_string(a));
}

/* The tree as a tar (the build context) in an anonymous temp file; its fd and size. Each file's bytes come from
 * the store whichever way it keeps them (ia_file_stream: an image archive the bundle ships is assembled from its
 * parts). */
static int context_tar(struct store *s, const struct tree *t, int *ret_fd, uint64_t *ret_size, struct error *err)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();
        FILE *f = tmpfile();
        int fd = -1, r = 0;
        struct stat st;

        if (!a || !ae || !f) {
                r = error_set(err, STACK_EFAIL, "cannot make a build context (%s)",
                              f ? "out of memory" : strerror(errno));
                goto done;
        }
        fd = dup(fileno(f));
        if (fd < 0 || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fileno(f)) != ARCHIVE_OK) {
                r = error_set(err, STACK_EFAIL, "cannot write the build context: %s", archive_error_string(a));
                goto done;
        }
        for (size_t i = 0; r == 0 && i < t->n; i++) {
                const struct tree_entry *e = &t->v[i];

                archive_entry_clear(ae);
                archive_entry_set_pathname(ae, e->path);
                archive_entry_set_mode(ae, (e->type == ENTRY_FILE  ? AE_IFREG
                                            : e->type == ENTRY_DIR ? AE_IFDIR
                                                                   : AE_IFLNK) |
                                                   (e->mode & 0777));
                archive_entry_set_size(ae, e->type == ENTRY_FILE ? (la_int64_t)e->size : 0);
                if (e->type == ENTRY_SYMLINK)
                        archive_entry_set_symlink(ae, e->target);
                if (archive_write_header(a, ae) != ARCHIVE_OK) {
                        r = error_set(err, STACK_EFAIL, "build context %s: %s", e->path, archive_error_string(a));
                        break;
                }
                if (e->type != ENTRY_FILE)
                        continue;
                r = ia_file_stream(s, e, context_write, a, err);
        }
        if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
                r = error_set(err, STACK_EFAIL, "cannot write the build context: %s", archive_error_string(a));
        if (r == 0 && (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0))
                r = error_errno(err, STACK_EFAIL, -errno, "build context");
        if (r == 0) {
                *ret_fd = fd;
                *ret_size = (uint64_t)st.st_size;
                fd = -1;
        }
done:
        if (a)
                archive_write_free(a);
        archive_entry_free(ae);
        if (fd >= 0)
                close(fd);
        if (f)
                fclose(f);
        return r;
}

int flavor_service_build(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                         const struct run_options *o, struct error *err)
{
        char tag[128];
        bool have = false;
        uint64_t size = 0;
        double t0 = monotonic_s();
        int fd = -1, r;

        if (flavor_service_tag(v, tag, sizeof tag) < 0)
                return error_set(err, STACK_EFAIL, "slug too long for an image tag");
        r = engine_image_exists(e, tag, &have, err);
        if (r < 0 || have)
                return r; /* built before: the tag names the tree */
        r = context_tar(s, t, &fd, &size, err);
        if (r == 0)
                r = engine_build(e, fd, size, tag, err);
        if (fd >= 0)
                close(fd);
        if (r == 0) {
                /* for gc --images: recorded against the version's stack.yaml object, so the image goes with the
                 * last version that holds it */
                const struct tree_entry *y = tree_find(t, "stack.yaml");
                char *refs[] = {tag, NULL};
                if (y && y->type == ENTRY_FILE)
                        images_record(s, &y->digest, refs, NULL);
        }
        if (r == 0 && o && o->step)
                o->step(o->step_ctx, "build", monotonic_s() - t0);
        return r;
}
