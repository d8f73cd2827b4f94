/* policy.c - what a stack's compose file may ask for, and the effective compose file (spec/run.md "Policy and
 * the effective compose file"): the entry points, the permission names, how a refusal is recorded, one
 * compose file from disk to its effective text, and the data dirs made once everything passed.
 *
 * The compose file is read with the bounded loader (base/yamltree.h, YAMLTREE_ALIAS_COPY): nodes and aliases
 * are counted as they arrive, and an alias is expanded into a copy at the event that names it, with the copy
 * counted against the same node budget, so a billion-laughs file stops at the limit instead of growing. Merge
 * keys (`<<` and any `!!merge`-tagged key) are resolved the way PyYAML (compose v1) and go-yaml (compose v2)
 * resolve them, YAML tags beyond the core schema are refused and the others resolved, and every key must be one
 * of the compose specification's (policy-tags.c, policy-keys.c).
 * What is checked is therefore exactly what compose will see, and the effective file is emitted without
 * anchors, aliases or merge keys: a change made to one service can never leak into another through a shared
 * anchor.
 *
 * Checks never stop at the first refusal: every permission the file asks for is collected (result->needed),
 * the first refusal in document order is the message. Nothing touches the disk until every file (the compose
 * file and what it includes) passed: then the data dirs are made and the effective files written.
 *
 * The parts (private interface: policy-int.h):
 *   policy-yaml.c      the document as compose reads it: predicates, string lists, parsing and emitting
 *                      (the tree and its edits: base/yamltree.h)
 *   policy-tags.c      YAML tags beyond the core schema are refused, the others resolved
 *   policy-keys.c      the compose specification's keys (table: policy-keytable.c): unknown ones are refused
 *   policy-paths.c     paths: lexical normalisation, where a path leads, host files compose reads
 *   policy-services.c  a document's top-level keys and each service's keys, dispatched to the checks below
 *   policy-security.c  privileged, host namespaces, capabilities, devices, security_opt, networks, other
 *                      containers, logging, sysctls
 *   policy-mounts.c    volumes and bind mounts: the Docker socket, host paths, data-dir redirects, nesting,
 *                      volume drivers, names inside the project
 *   policy-ports.c     published ports bound to 127.0.0.1
 *   policy-limits.c    resource limits and labels
 *   policy-routes.c    the front door: routes from traefik labels, their ports published on loopback
 *   policy-include.c   build, extends and include: files compose reads on the stack's behalf
 *   policy-vars.c      variables the file requires (${VAR:?msg})
 *   policy-override.c  compose.override.yaml merged into the main document before it is checked
 *   policy-v1.c        compose v1: v2-only syntax rewritten, or refused when v1 cannot express it
 *   policy-swarm.c     the swarm file docker stack deploy reads (policy_swarm_file(); its parts
 *                      policy-swarm-service.c, policy-swarm-deploy.c, policy-swarm-int.h), and the swarm-only keys
 *                      a compose run drops
 */
#include "policy.h"
#include "policy-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/mem.h"

static const struct {
        unsigned bit;
        const char *name;
} perm_names[] = {
        {PERM_PRIVILEGED, "privileged"},
        {PERM_HOST_NETWORK, "host-network"},
        {PERM_HOST_PID, "host-pid"},
        {PERM_HOST_IPC, "host-ipc"},
        {PERM_CAP_ADD, "cap-add"},
        {PERM_DEVICES, "devices"},
        {PERM_DOCKER_SOCKET, "docker-socket"},
        {PERM_HOST_BIND, "host-bind"},
        {PERM_LISTEN, "listen"},
        {PERM_VOLUME_DRIVER, "volume-driver"},
        {PERM_EXTERNAL, "external"},
        {PERM_OTHER_CONTAINERS, "other-containers"},
        {PERM_REMOTE_BUILD, "remote-build"},
        {PERM_LOGGING, "logging"},
        {PERM_ULIMITS, "ulimits"},
        {PERM_OOM, "oom"},
        {PERM_ROUTE, "route"},
};

unsigned policy_perm_from_name(const char *name)
{
        size_t i;

        for (i = 0; name && i < COUNT(perm_names); i++)
                if (strcmp(name, perm_names[i].name) == 0)
                        return perm_names[i].bit;
        return 0;
}

const char *policy_perm_name(unsigned bit)
{
        size_t i;

        for (i = 0; i < COUNT(perm_names); i++)
                if (perm_names[i].bit == bit)
                        return perm_names[i].name;
        return NULL;
}

/* The file asks for bit: record it; refuse (first refusal wins, checking goes on) unless it is granted. */
void policy_need(struct file *f, unsigned bit, const char *who, const char *fmt, ...)
{
        struct apply *a = f->a;
        const char *name = policy_perm_name(bit);
        char what[512];
        va_list ap;

        a->needed |= bit;
        if (a->in->allow & bit)
                return;
        a->missing |= bit;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        if (!a->refused)
                error_set(a->err, STACK_EREJECT, "%s: %s is not allowed (needs permission '%s')", who, what, name);
        a->refused = true;
}

/* The first refusal's message, then every permission that is missing and the command that grants them all. */
static void refusal_message(const struct apply *a)
{
        const char *slug = a->in->m && a->in->m->slug ? a->in->m->slug : "SLUG";
        char msg[sizeof a->err->msg];
        size_t len;

        len = (size_t)snprintf(msg, sizeof msg, "%s; grant what %s needs with: stack run %s", a->err->msg, slug, slug);
        for (unsigned bit = 1; bit && len < sizeof msg; bit <<= 1)
                if (a->missing & bit)
                        len += (size_t)snprintf(msg + len, sizeof msg - len, " --allow %s", policy_perm_name(bit));
        error_clear(a->err);
        error_set(a->err, STACK_EREJECT, "%s", msg);
}

int policy_malformed(struct file *f, const char *who, const char *what, const struct yamltree_node *n)
{
        return error_set(f->a->err, STACK_EREJECT, "%s: %s, not a %s (line %zu)", who, what, yamltree_kind_name(n),
                         n->line);
}

int policy_check_file(struct apply *a, const char *path, const char *rel, const char *base, bool list_services,
                      char **ret, size_t *ret_len, struct yamltree_node **ret_root)
{
        struct file f = {.a = a, .rel = rel, .base = base, .list_services = list_services};
        struct yamltree_node *root = NULL;
        bool main_file = a->visiting.n == 0;
        char *data = NULL;
        size_t len = 0;
        int r;

        if (!main_file) /* an included file: say which in every message */
                snprintf(f.prefix, sizeof f.prefix, "%s: ", rel);
        r = fs_read_file(path, POLICY_MAX_SIZE, &data, &len);
        if (r == -EFBIG)
                return error_set(a->err, STACK_EREJECT, "%s: larger than %d bytes", rel, POLICY_MAX_SIZE);
        if (r < 0)
                return error_errno(a->err, STACK_EFAIL, r, "cannot read %s", path);
        r = policy_parse_yaml(rel, data, len, &root, a->err);
        free(data);
        if (r < 0)
                return r;
        if (main_file) /* checked as one document with the main file */
                r = policy_merge_override(a, rel, root);
        if (r == 0)
                r = policy_strv_add(&a->visiting, rel, strlen(rel)) < 0 ? policy_oom(a->err) : 0;
        if (r == 0) {
                r = policy_check_document(&f, root);
                free(a->visiting.v[--a->visiting.n]);
                a->visiting.v[a->visiting.n] = NULL;
        }
        if (r == 0 && !a->refused && ret_root) {
                *ret_root = root;
                return 0;
        }
        if (r == 0 && !a->refused && main_file && a->in->compose_v1)
                r = policy_flatten_includes(&f, root);
        if (r == 0 && !a->refused)
                r = policy_extends_bases(&f, root);
        if (r == 0 && !a->refused && a->in->compose_v1)
                r = policy_rewrite_v1(&f, root);
        if (r == 0 && !a->refused)
                r = policy_escape_resolved(root, a->err);
        if (r == 0 && !a->refused)
                r = policy_emit_yaml(rel, root, ret, ret_len, a->err);
        yamltree_free(root);
        return r;
}

/* data_dir/rel as a directory, one component at a time without following symlinks: a container that
 * replaced a directory of its data with a symlink to / must not get the host bound on the next run. An
 * existing regular file at the end is kept (a file bind). */
static int make_data_dir(struct apply *a, const char *rel)
{
        char comp[NAME_MAX + 1];
        const char *p = rel;
        struct stat st;
        int dfd, fd, r;

        dfd = open(a->in->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return error_errno(a->err, STACK_EFAIL, errno, "cannot open the data dir %s", a->in->data_dir);
        while (*p) {
                size_t n = strcspn(p, "/");
                bool last = p[n] == 0;

                if (n > NAME_MAX) {
                        close(dfd);
                        return error_set(a->err, STACK_EREJECT, "data dir path %s: a name is too long", rel);
                }
                memcpy(comp, p, n);
                comp[n] = 0;
                p += n + !last;
                fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(dfd, comp, 0755) < 0 && errno != EEXIST) {
                                r = errno;
                                close(dfd);
                                return error_errno(a->err, STACK_EFAIL, r, "cannot create %s/%s", a->in->data_dir, rel);
                        }
                        fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0) {
                        r = errno;
                        if (last && fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
                                close(dfd);
                                return 0;
                        }
                        close(dfd);
                        if (r == ELOOP || r == ENOTDIR)
                                return error_set(a->err, STACK_EREJECT,
                                                 "%s/%s: '%s' is a symlink or not a directory: refusing to bind it "
                                                 "(remove it to start over)",
                                                 a->in->data_dir, rel, comp);
                        return error_errno(a->err, STACK_EFAIL, r, "cannot open %s/%s", a->in->data_dir, rel);
                }
                close(dfd);
                dfd = fd;
        }
        close(dfd);
        return 0;
}

void policy_result_release(struct policy_result *r)
{
        if (!r)
                return;
        strv_free(r->services);
        strv_free(r->required_vars);
        strv_free(r->redirected);
        strv_free(r->warnings);
        free(r->routes);
        memset(r, 0, sizeof *r);
}

int policy_apply(const struct policy_input *in, const char *out_path, struct policy_result *ret, struct error *err)
{
        struct apply a = {.in = in, .err = err};
        struct policy_limits lim;
        char root[PATH_MAX] = "", rel[PATH_MAX] = "", base[PATH_MAX], *data = NULL, *out = NULL;
        size_t len = 0, i, n;
        int r;

        if (ret)
                memset(ret, 0, sizeof *ret);
        if (!in || !out_path || !ret || !in->compose_path || !in->run_dir || !in->data_dir || !in->tree ||
            in->compose_path[0] != '/' || in->run_dir[0] != '/' || in->data_dir[0] != '/')
                return error_set(err, STACK_EFAIL, "policy_apply: invalid argument");
        /* the compose file relative to the run dir, both normalised lexically */
        if (policy_path_add(root, sizeof root, in->run_dir, strlen(in->run_dir), true) < 0 ||
            policy_path_add(rel, sizeof rel, in->compose_path, strlen(in->compose_path), true) < 0)
                return error_set(err, STACK_EFAIL, "policy_apply: path too long");
        n = strlen(root);
        if (strncmp(rel, root, n) != 0 || (n && rel[n] != '/') || !rel[n ? n + 1 : 0])
                return error_set(err, STACK_EFAIL, "%s is not inside the run dir %s", in->compose_path, in->run_dir);
        memmove(rel, rel + (n ? n + 1 : 0), strlen(rel + (n ? n + 1 : 0)) + 1);
        policy_path_dirname(rel, base, sizeof base);
        if (!realpath(in->run_dir, a.run_real))
                a.run_real[0] = 0;

        if (!in->limits)
                policy_limits_default(&lim);
        a.limits = in->limits ? in->limits : &lim;
        a.main_base = base;
        r = policy_check_file(&a, in->compose_path, rel, base, true, &data, &len, NULL);
        if (r == 0)
                policy_finish_binds(&a);
        if (r == 0 && a.refused) { /* the effective text is not written */
                free(data);
                data = NULL;
                refusal_message(&a);
                r = -STACK_EREJECT;
        }
        if (r == 0)
                r = policy_finish_routes(&a);
        if (r < 0)
                goto fail;
        out = strdup(out_path);
        if (!out) {
                free(data);
                r = policy_oom(err);
                goto fail;
        }
        r = policy_pending_add(&a, out, data, len, 0600); /* last: the included files' copies are written first */
        if (r < 0)
                goto fail;
        if (a.dirs.n && !in->dry) {
                r = fs_mkdir_p(in->data_dir, 0755);
                if (r < 0) {
                        r = error_errno(err, STACK_EFAIL, r, "cannot create the data dir %s", in->data_dir);
                        goto fail;
                }
        }
        for (i = 0; i < a.dirs.n && !in->dry; i++) {
                r = make_data_dir(&a, a.dirs.v[i]);
                if (r < 0)
                        goto fail;
        }
        if (a.configs_dir) {
                char dir[PATH_MAX];

                r = fs_path(dir, sizeof dir, "%s/.stack-configs", in->run_dir);
                if (r == 0)
                        r = fs_mkdir_p(dir, 0755);
                if (r < 0) {
                        r = error_errno(err, STACK_EFAIL, r, "cannot create %s/.stack-configs", in->run_dir);
                        goto fail;
                }
        }
        for (i = 0; i < a.n_writes; i++) {
                r = fs_write_atomic(a.writes[i].path, a.writes[i].data, a.writes[i].len, a.writes[i].mode);
                if (r < 0) {
                        r = error_errno(err, STACK_EFAIL, r, "cannot write %s", a.writes[i].path);
                        goto fail;
                }
        }
        ret->services = policy_strv_steal(&a.services);
        ret->required_vars = policy_strv_steal(&a.vars);
        ret->redirected = policy_strv_steal(&a.redirected);
        ret->warnings = policy_strv_steal(&a.warnings);
        ret->routes = a.routes;
        ret->n_routes = a.n_routes;
        a.routes = NULL;
        if (!ret->services || !ret->required_vars || !ret->redirected || !ret->warnings) {
                policy_result_release(ret);
                r = policy_oom(err);
                goto fail;
        }
        ret->needed = a.needed;
        r = 0;
fail:
        if (r < 0)
                ret->needed = a.needed; /* a refusal still says everything the file asks for */
        policy_strv_release(&a.services);
        policy_strv_release(&a.vars);
        policy_strv_release(&a.redirected);
        policy_strv_release(&a.dirs);
        policy_strv_release(&a.visiting);
        policy_strv_release(&a.main_names);
        policy_strv_release(&a.warnings);
        policy_strv_release(&a.binds);
        policy_strv_release(&a.wbinds);
        policy_strv_release(&a.pins);
        free(a.routes);
        for (i = 0; i < a.n_writes; i++) {
                free(a.writes[i].path);
                free(a.writes[i].data);
        }
        free(a.writes);
        for (i = 0; i < a.n_flat; i++) {
                yamltree_free(a.flat[i].root);
                free(a.flat[i].rel);
        }
        free(a.flat);
        return r;
}
