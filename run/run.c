/* run.c - a stack from the store onto the Engine: run dir, policy, variables, images, compose up, states.
 *
 * The run dir ($STACK_HOME/runs/<slug>) is a checkout of the version's tree plus two files of ours: the
 * effective compose file beside the bundle's (so relative paths and .env resolve as the author meant) and
 * .stack-run, the tree digest it holds. What a stack writes lives in named volumes or under
 * $STACK_HOME/data/<slug> (policy.c redirects unshipped bind mounts there), never in the run dir, so the run
 * dir can be replaced on upgrade and removed by `rm` without losing anything.
 */
#include "run.h"
#include "backend.h"
#include "composevars.h"
#include "engine.h"
#include "flavor.h"
#include "policy.h"
#include "images.h"
#include "judge.h"
#include "relaunch.h"
#include "runs.h"
#include "base/buf.h"
#include "store/checkout.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define EFFECTIVE_NAME ".stack-compose.yaml"
#define MARKER_NAME    ".stack-run"
#define ROUTES_FILE    ".stack-routes"
#define RUN_SETTLE_MS  250
#define STACK_DOMAIN   "stack.localhost"

static double now_s(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
        struct timespec t;

        clock_gettime(CLOCK_REALTIME, &t);
        return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Is the container's main process still there? The Engine runs on this host, so its pid is ours to look at;
 * a process that is gone or a zombie has died, whatever the Engine says yet. -1: cannot tell (another pid
 * namespace, no /proc). */
static int process_alive(int pid)
{
        char path[64], buf[256], *p;
        ssize_t n;
        int fd;

        if (pid <= 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? (access("/proc/self/stat", R_OK) == 0 ? 0 : -1) : -1;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = 0;
        p = strrchr(buf, ')'); /* "pid (comm) S ...": comm may hold spaces and parentheses */
        return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X') ? 0 : 1;
}

static void warn(const struct run_options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const struct run_options *o, const char *fmt, ...)
{
        char line[1024];
        va_list ap;

        if (!o || !o->warn)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        o->warn(o->warn_ctx, line);
}

static void step(const struct run_options *o, const char *what, double *t0)
{
        double t = now_s();

        if (o && o->step)
                o->step(o->step_ctx, what, t - *t0);
        *t0 = t;
}

void run_project_name(const char *slug, char *out, size_t size)
{
        bool plain = slug[0] != 0;
        size_t o;

        for (const char *p = slug; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                        plain = false;
        if (plain) {
                snprintf(out, size, "stack-%s", slug);
                return;
        }
        o = (size_t)snprintf(out, size, "stack--");
        for (const char *p = slug; *p && o + 3 < size; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
                        out[o++] = *p;
                        continue;
                }
                out[o++] = '-';
                out[o++] = *p == '-' ? 'h' : *p == '.' ? 'd' : *p == '_' ? 'u' : 'x';
        }
        out[o < size ? o : size - 1] = 0;
}

void run_project_of(struct store *s, const char *slug, char *out, size_t size)
{
        struct run_row row = {0};

        if (s && runs_get(s, slug, &row, NULL) == 0 && row.project && row.project[0] && !strcmp(row.slug, slug))
                snprintf(out, size, "%s", row.project);
        else
                run_project_name(slug, out, size);
        if (s)
                run_row_release(&row);
}

struct paths {
        char run_dir[PATH_MAX], data_dir[PATH_MAX], env_file[PATH_MAX], marker[PATH_MAX];
        char compose[PATH_MAX], compose_dir[PATH_MAX], effective[PATH_MAX];
        char project[RUN_PROJECT_MAX];
};

/* The paths of slug's run with its run dir at run_dir (NULL: $STACK_HOME/runs/<slug>; run_start prepares a new
 * version in a fresh dir beside it before switching). */
static int make_paths(struct store *s, const char *slug, const char *compose_rel, const char *run_dir, struct paths *p)
{
        const char *home = store_home(s);
        char *slash;
        int r = 0;

        run_project_name(slug, p->project, sizeof p->project);
        if (run_dir)
                r |= fs_path(p->run_dir, sizeof p->run_dir, "%s", run_dir);
        else
                r |= fs_path(p->run_dir, sizeof p->run_dir, "%s/runs/%s", home, slug);
        r |= fs_path(p->data_dir, sizeof p->data_dir, "%s/data/%s", home, slug);
        r |= fs_path(p->env_file, sizeof p->env_file, "%s/data/%s/stack.env", home, slug);
        r |= fs_path(p->marker, sizeof p->marker, "%s/" MARKER_NAME, p->run_dir);
        r |= fs_path(p->compose, sizeof p->compose, "%s/%s", p->run_dir, compose_rel ? compose_rel : "compose.yaml");
        r |= fs_path(p->compose_dir, sizeof p->compose_dir, "%s", p->compose);
        slash = strrchr(p->compose_dir, '/');
        if (slash)
                *slash = 0;
        r |= fs_path(p->effective, sizeof p->effective, "%s/" EFFECTIVE_NAME, p->compose_dir);
        return r ? -ENAMETOOLONG : 0;
}

/* The paths of a recorded run (its version's compose file, or the default name when the version is gone). */
static int row_paths(struct store *s, const struct run_row *row, struct paths *p)
{
        struct version_info v = {0};
        int r;

        if (index_get_version(store_index(s), row->version_id, &v, NULL) < 0)
                r = make_paths(s, row->slug, NULL, NULL, p);
        else
                r = make_paths(s, row->slug, v.compose, NULL, p);
        version_info_release(&v);
        if (r == 0 && row->project && row->project[0]) /* the project it was created under, kept */
                snprintf(p->project, sizeof p->project, "%s", row->project);
        return r;
}

/* ---- env: K=V lists ---- */

/* Grows as needed: the remembered env file (at most 1 MiB) and --env bound it. v is NULL-terminated whenever
 * it is not NULL, as backend_compose() reads it. */
struct envlist {
        char **v;
        size_t n, cap;
};

static void env_release(struct envlist *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i]);
        free(e->v);
        memset(e, 0, sizeof *e);
}

static const char *env_find(const struct envlist *e, const char *key, size_t klen)
{
        for (size_t i = 0; i < e->n; i++)
                if (!strncmp(e->v[i], key, klen) && e->v[i][klen] == '=')
                        return e->v[i] + klen + 1;
        return NULL;
}

static int env_set(struct envlist *e, const char *kv)
{
        size_t klen = strcspn(kv, "=");

        if (!kv[klen] || klen == 0)
                return -EINVAL;
        for (size_t i = 0; i < e->n; i++)
                if (!strncmp(e->v[i], kv, klen) && e->v[i][klen] == '=') {
                        char *d = strdup(kv);
                        if (!d)
                                return -ENOMEM;
                        free(e->v[i]);
                        e->v[i] = d;
                        return 0;
                }
        if (e->n + 1 >= e->cap) {
                size_t ncap = e->cap ? 2 * e->cap : 32;
                char **nv = realloc(e->v, ncap * sizeof *nv);
                if (!nv)
                        return -ENOMEM;
                e->v = nv;
                e->cap = ncap;
        }
        e->v[e->n] = strdup(kv);
        if (!e->v[e->n])
                return -ENOMEM;
        e->v[++e->n] = NULL;
        return 0;
}

/* KEY=VALUE lines; blank lines, comments and a leading "export " ignored; surrounding quotes dropped. */
static void env_read_file(const char *path, struct envlist *e)
{
        char *text = NULL, *line, *save = NULL;

        if (fs_read_file(path, 1 << 20, &text, NULL) < 0)
                return;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *p = line, *eq;
                size_t vlen;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!strncmp(p, "export ", 7))
                        p += 7;
                if (*p == '#' || !(eq = strchr(p, '=')) || eq == p)
                        continue;
                vlen = strlen(eq + 1);
                while (vlen && (eq[vlen] == '\r' || eq[vlen] == ' '))
                        eq[vlen--] = 0;
                if (vlen >= 2 && (eq[1] == '"' || eq[1] == '\'') && eq[vlen] == eq[1]) {
                        memmove(eq + 1, eq + 2, vlen - 2);
                        eq[vlen - 1] = 0;
                }
                env_set(e, p);
        }
        free(text);
}

static int env_write_file(const char *path, const struct envlist *e)
{
        size_t len = 0;
        char *buf;
        int r;

        for (size_t i = 0; i < e->n; i++)
                len += strlen(e->v[i]) + 1;
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        len = 0;
        for (size_t i = 0; i < e->n; i++)
                len += (size_t)sprintf(buf + len, "%s\n", e->v[i]);
        r = fs_write_atomic(path, buf, len, 0600); /* may hold secrets */
        free(buf);
        return r;
}

/* ---- pieces of run_start ---- */

static int read_manifest(struct store *s, const struct tree *t, struct manifest **ret, struct error *err)
{
        const struct tree_entry *e = tree_find(t, "stack.yaml");
        char *text = NULL;
        int fd, r;
        ssize_t n;

        if (!e || e->type != ENTRY_FILE || e->size > MANIFEST_MAX_SIZE)
                return error_set(err, STACK_ESTORE, "the stored version has no usable stack.yaml");
        fd = store_object_open(s, &e->digest);
        if (fd < 0)
                return error_errno(err, STACK_ESTORE, fd, "stack.yaml's object is unreadable (run stack verify)");
        text = malloc(e->size + 1);
        n = text ? pread(fd, text, e->size, 0) : -1;
        close(fd);
        if (n != (ssize_t)e->size) {
                free(text);
                return error_set(err, STACK_ESTORE, "stack.yaml's object is short (run stack verify)");
        }
        r = manifest_parse(text, e->size, ret, NULL, NULL, err);
        free(text);
        return r;
}

static unsigned declared_perms(const struct manifest *m)
{
        json_t *j, *v;
        const char *k;
        unsigned bits = 0;

        if (!m->permissions_yaml || !(j = json_loads(m->permissions_yaml, 0, NULL)))
                return 0;
        json_object_foreach(j, k, v) if (!json_is_false(v) && !json_is_null(v)) bits |= policy_perm_from_name(k);
        json_decref(j);
        return bits;
}

static bool marker_matches(const struct paths *p, const struct digest *tree)
{
        char hex[DIGEST_HEX_LEN + 1], *text = NULL;
        struct stat st;
        bool ok;

        digest_to_hex(tree, hex);
        if (fs_read_file(p->marker, 256, &text, NULL) < 0)
                return false;
        ok = !strncmp(text, hex, DIGEST_HEX_LEN) && stat(p->effective, &st) == 0;
        free(text);
        return ok;
}

/* A checkout of the tree into p->run_dir, a fresh directory beside the stack's run dir (a stale one a crash
 * left is removed first), with the marker naming its tree. */
static int prepare_run_dir(struct store *s, const struct tree *t, const struct digest *tree, const struct paths *p,
                           struct error *err)
{
        char hex[DIGEST_HEX_LEN + 2], parent[PATH_MAX];
        int r;

        r = fs_path(parent, sizeof parent, "%s/runs", store_home(s));
        if (r == 0)
                r = fs_mkdir_p(parent, 0755);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", parent);
        r = fs_rm_rf(p->run_dir);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot remove %s", p->run_dir);
        r = checkout_tree(s, t, p->run_dir, err);
        if (r < 0)
                return r;
        digest_to_hex(tree, hex);
        strcat(hex, "\n");
        r = fs_write_atomic(p->marker, hex, strlen(hex), 0644);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", p->marker) : 0;
}

/* The prepared dir becomes the stack's run dir: the previous one (another tree's checkout: the stack's state
 * is not in there) is moved aside, then removed. */
static int switch_run_dir(const char *staged, const char *run_dir, const char *aside, struct error *err)
{
        int r;

        if (rename(run_dir, aside) < 0 && errno != ENOENT)
                return error_errno(err, STACK_ESTORE, errno, "cannot move the old run dir %s aside", run_dir);
        if (rename(staged, run_dir) < 0) {
                r = error_errno(err, STACK_ESTORE, errno, "cannot move %s to %s", staged, run_dir);
                rename(aside, run_dir);
                return r;
        }
        r = fs_rm_rf(aside);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot remove the old run dir %s", aside) : 0;
}

/* The required variables (${VAR:?msg}) the policy found unset with the same lookup compose gets. */
static int check_required(const struct policy_result *pr, const struct paths *p, struct error *err)
{
        char missing[512] = "";
        size_t len = 0;

        if (!pr->required_vars || !pr->required_vars[0])
                return 0;
        for (size_t i = 0; pr->required_vars[i] && len < sizeof missing - 64; i++)
                len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "",
                                        pr->required_vars[i]);
        return error_set(
                err, STACK_EREJECT,
                "the compose file requires %s, which nothing provides: stack run --env %s=... (remembered in %s)",
                missing, pr->required_vars[0], p->env_file);
}

static int load_images(struct store *s, struct engine *e, const struct manifest *m, const struct tree *t,
                       unsigned *ret_loaded, struct error *err)
{
        for (size_t i = 0; i < m->n_images; i++) {
                const struct tree_entry *te = tree_find(t, m->images[i]);
                char **refs = NULL;
                bool all = true;
                int fd, r;

                if (!te || te->type != ENTRY_FILE)
                        return error_set(err, STACK_EREJECT, "image archive %s is not in the bundle", m->images[i]);
                fd = store_object_open(s, &te->digest);
                if (fd == -ENOENT && te->recipe) { /* stored as its parts: streamed from them */
                        r = images_load_assembled(s, e, te, m->images[i], ret_loaded, err);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (fd < 0)
                        return error_errno(err, STACK_ESTORE, fd,
                                           "image archive %s is missing from the store (run stack verify)",
                                           m->images[i]);
                {
                        struct error aerr = ERROR_INIT;
                        r = engine_archive_refs(fd, &refs, &aerr);
                        if (r < 0)
                                error_set(err, aerr.code, "image archive %s: %s", m->images[i], aerr.msg);
                }
                for (size_t k = 0; r == 0 && refs && refs[k] && all; k++) {
                        bool have = false;
                        r = engine_image_exists(e, refs[k], &have, err);
                        all = have;
                }
                if (r == 0 && (!all || !refs || !refs[0])) {
                        if (lseek(fd, 0, SEEK_SET) < 0)
                                r = error_errno(err, STACK_ESTORE, errno, "cannot read %s", m->images[i]);
                        else
                                r = engine_image_load(e, fd, te->size, m->images[i], err);
                        if (r == 0)
                                (*ret_loaded)++;
                        if (r == 0) /* gc --images may remove only what stack loaded; a failed record costs nothing */
                                images_record(s, &te->digest, refs, NULL);
                }
                engine_strv_free(refs);
                close(fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static char *tail_lines(const char *text, int lines)
{
        const char *p;
        int n = 0;

        if (!text)
                return strdup("");
        for (p = text + strlen(text); p > text; p--)
                if (p[-1] == '\n' && p[0] && ++n > lines)
                        break;
        return strdup(p);
}

/* Wait until every container of the project runs (healthy where it has a healthcheck). 0, or STACK_ERUNTIME
 * with the failing service in *ret_service / its exit code. */
static int wait_running(struct engine *e, const char *project, int timeout_s, int settle_ms, char **ret_reason,
                        char **ret_service, struct engine_container **ret_c, size_t *ret_n, struct error *err)
{
        char label[256];
        double deadline = now_s() + timeout_s;

        snprintf(label, sizeof label, "com.docker.compose.project=%s", project);
        for (;;) {
                struct engine_container *c = NULL;
                size_t n = 0, running = 0, pending = 0;
                char reason[512] = "";
                int r = engine_list_containers(e, label, &c, &n, err);

                if (r < 0)
                        return r;
                for (size_t i = 0; i < n && !reason[0]; i++) {
                        const char *svc = c[i].service ? c[i].service : c[i].name;
                        if (!strcmp(c[i].state, "running")) {
                                /* The Engine learns of an exit a little late: a container that dies at once can
                                 * still read "running". One that has run for RUN_SETTLE_MS has really started. */
                                if (c[i].started_ms && wall_ms() - c[i].started_ms < settle_ms)
                                        pending++;
                                else if (settle_ms && process_alive(c[i].pid) == 0)
                                        pending++; /* died; the Engine will say so in a moment */
                                else if (c[i].health && !strcmp(c[i].health, "unhealthy"))
                                        snprintf(reason, sizeof reason, "service '%s' is unhealthy", svc);
                                else if (c[i].health && strcmp(c[i].health, "healthy"))
                                        pending++;
                                else
                                        running++;
                        } else if (!strcmp(c[i].state, "exited") || !strcmp(c[i].state, "dead")) {
                                if (c[i].exit_code != 0 || !strcmp(c[i].state, "dead"))
                                        snprintf(reason, sizeof reason, "service '%s' exited with code %d", svc,
                                                 c[i].exit_code);
                        } else if (!strcmp(c[i].state, "restarting")) {
                                snprintf(reason, sizeof reason, "service '%s' keeps restarting", svc);
                        } else {
                                pending++;
                        }
                        if (reason[0])
                                *ret_service = strdup(svc);
                }
                if (reason[0]) {
                        *ret_reason = strdup(reason);
                        engine_containers_free(c, n);
                        return -STACK_ERUNTIME;
                }
                if (n > 0 && pending == 0 && running > 0) {
                        *ret_c = c;
                        *ret_n = n;
                        return 0;
                }
                engine_containers_free(c, n);
                if (now_s() > deadline) {
                        *ret_reason =
                                strdup(n ? "containers did not reach running in time" : "no containers were created");
                        return -STACK_ERUNTIME;
                }
                nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
        }
}

static void addresses_from(const struct manifest *m, const struct engine_container *c, size_t n, struct run_info *info)
{
        size_t cap = m->n_ports ? m->n_ports : 0;

        for (size_t i = 0; i < n; i++)
                cap += c[i].n_ports;
        info->addresses = calloc(cap + 1, sizeof *info->addresses);
        if (!info->addresses)
                return;
        for (size_t k = 0; k < m->n_ports; k++) {
                struct run_address *a = &info->addresses[info->n_addresses];
                char url[128] = "";
                for (size_t i = 0; i < n && !url[0]; i++) {
                        if (!c[i].service || strcmp(c[i].service, m->ports[k].service))
                                continue;
                        for (size_t j = 0; j < c[i].n_ports && !url[0]; j++)
                                if (c[i].ports[j].private_port == m->ports[k].port && c[i].ports[j].public_port)
                                        snprintf(url, sizeof url, "http://%s:%u",
                                                 c[i].ports[j].ip && strcmp(c[i].ports[j].ip, "0.0.0.0")
                                                         ? c[i].ports[j].ip
                                                         : "127.0.0.1",
                                                 c[i].ports[j].public_port);
                }
                if (!url[0])
                        snprintf(url, sizeof url, "https://%s.stack.localhost (needs a proxy: not published)",
                                 info->row.slug);
                a->service = strdup(m->ports[k].service);
                a->label = m->ports[k].label ? strdup(m->ports[k].label) : NULL;
                a->url = strdup(url);
                info->n_addresses++;
        }
        if (m->n_ports)
                return;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < c[i].n_ports; j++) {
                        struct run_address *a = &info->addresses[info->n_addresses];
                        char url[128];
                        if (!c[i].ports[j].public_port)
                                continue;
                        snprintf(url, sizeof url, "http://127.0.0.1:%u", c[i].ports[j].public_port);
                        a->service = strdup(c[i].service ? c[i].service : c[i].name);
                        a->url = strdup(url);
                        info->n_addresses++;
                }
}

/* The routes of the policy, kept in the run dir (.stack-routes: "service\thost\tport" lines) for the fast
 * path, which does not judge the file again. */
static int routes_save(const struct paths *p, const struct policy_result *pr, struct error *err)
{
        char path[PATH_MAX], *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (fs_path(path, sizeof path, "%s/" ROUTES_FILE, p->run_dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        f = open_memstream(&text, &len);
        if (!f)
                return error_errno(err, STACK_EFAIL, errno, "cannot write %s", path);
        for (size_t i = 0; i < pr->n_routes; i++)
                fprintf(f, "%s\t%s\t%d\n", pr->routes[i].service, pr->routes[i].host, pr->routes[i].port);
        fclose(f);
        r = fs_write_atomic(path, text ? text : "", len, 0644);
        free(text);
        return r < 0 ? error_errno(err, STACK_EFAIL, r, "cannot write %s", path) : 0;
}

static int route_add(struct run_info *info, const char *service, const char *host, unsigned port)
{
        struct run_route *v = realloc(info->routes, (info->n_routes + 1) * sizeof *v);

        if (!v)
                return -ENOMEM;
        info->routes = v;
        v += info->n_routes;
        v->service = strdup(service);
        v->host = strdup(host);
        v->port = port;
        v->host_port = 0;
        v->root = NULL;
        if (!v->service || !v->host) {
                free(v->service);
                free(v->host);
                return -ENOMEM;
        }
        info->n_routes++;
        return 0;
}

static int routes_load(const struct paths *p, struct run_info *info)
{
        char path[PATH_MAX], *data = NULL, *line, *next;
        size_t len = 0;
        int r;

        if (fs_path(path, sizeof path, "%s/" ROUTES_FILE, p->run_dir) < 0)
                return -ENAMETOOLONG;
        r = fs_read_file(path, 1024 * 1024, &data, &len);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (line = data; r == 0 && line && *line; line = next) {
                char *host, *port;
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                host = strchr(line, '\t');
                port = host ? strchr(host + 1, '\t') : NULL;
                if (!port)
                        continue;
                *host++ = 0;
                *port++ = 0;
                r = route_add(info, line, host, (unsigned)atoi(port));
        }
        free(data);
        return r;
}

/* Each route's host port, from the running containers. */
static void routes_ports(struct run_info *info, const struct engine_container *c, size_t n)
{
        for (size_t k = 0; k < info->n_routes; k++)
                for (size_t i = 0; i < n; i++) {
                        if (!c[i].service || strcmp(c[i].service, info->routes[k].service))
                                continue;
                        for (size_t j = 0; j < c[i].n_ports; j++)
                                if (c[i].ports[j].private_port == info->routes[k].port && c[i].ports[j].public_port &&
                                    (!c[i].ports[j].proto || !strcmp(c[i].ports[j].proto, "tcp")))
                                        info->routes[k].host_port = c[i].ports[j].public_port;
                }
}

void run_info_release(struct run_info *i)
{
        if (!i)
                return;
        for (size_t k = 0; k < i->n_routes; k++) {
                free(i->routes[k].service);
                free(i->routes[k].host);
                free(i->routes[k].root);
        }
        free(i->routes);
        free(i->relaunch_why);
        run_row_release(&i->row);
        free(i->ports);
        for (size_t k = 0; k < i->n_addresses; k++) {
                free(i->addresses[k].service);
                free(i->addresses[k].label);
                free(i->addresses[k].url);
        }
        free(i->addresses);
        memset(i, 0, sizeof *i);
}

void run_infos_free(struct run_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                run_info_release(&v[i]);
        free(v);
}

static void new_run_id(char *out)
{
        uint8_t b[6];

        if (getrandom(b, sizeof b, 0) != sizeof b)
                for (size_t i = 0; i < sizeof b; i++)
                        b[i] = (uint8_t)(rand() >> 3);
        for (size_t i = 0; i < sizeof b; i++)
                sprintf(out + 2 * i, "%02x", b[i]);
}

static int compose(const struct backend *b, const struct paths *p, const struct envlist *env, const char *const *args,
                   bool inherit, int *ret_status, char **ret_out, struct error *err)
{
        struct backend_call c = {
                .project = p->project,
                .compose_file = p->effective,
                .project_dir = p->compose_dir,
                .env = (const char *const *)env->v,
                .args = args,
                .inherit_output = inherit,
        };

        return backend_compose(b, &c, ret_status, ret_out, err);
}

/* What compose interpolates with, in its order: PROJECT and DOMAIN are stack's (the address
 * https://<slug>.stack.localhost depends on them), then the compose process's environment (the remembered env
 * file and --env, which backend_compose() sets over ours, then ours), then the bundle's .env. */
struct vars {
        const char *slug;
        const struct envlist *env, *dotenv;
};

static const char *vars_lookup(void *ctx, const char *name)
{
        const struct vars *v = ctx;
        const char *val;

        if (!strcmp(name, "PROJECT"))
                return v->slug;
        if (!strcmp(name, "DOMAIN"))
                return STACK_DOMAIN;
        if ((val = env_find(v->env, name, strlen(name))) || (val = getenv(name)))
                return val;
        return v->dotenv ? env_find(v->dotenv, name, strlen(name)) : NULL;
}

struct dotenv_ctx {
        const struct run_options *o;
        const char *slug, *rel;
        struct envlist *dotenv;
        struct error *err;
};

static int dotenv_value(void *ctx, const char *key, const char *value)
{
        struct dotenv_ctx *d = ctx;
        const char *ours = !strcmp(key, "PROJECT") ? d->slug : !strcmp(key, "DOMAIN") ? STACK_DOMAIN : NULL;
        char *kv;
        int r;

        if (!policy_dotenv_key_allowed(key))
                return error_set(d->err, STACK_EREJECT,
                                 "%s sets %s: a bundle's .env may not set DOCKER_* or COMPOSE_* variables (they "
                                 "choose the Engine and how compose reads the file)",
                                 d->rel, key);
        if (ours && strcmp(value, ours))
                warn(d->o, "%s sets %s=%s: stack sets %s=%s (the stack answers at https://%s." STACK_DOMAIN ")", d->rel,
                     key, value, key, ours, d->slug);
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return error_set(d->err, STACK_EFAIL, "out of memory");
        r = env_set(d->dotenv, kv);
        free(kv);
        return r < 0 ? error_set(d->err, STACK_EFAIL, "out of memory") : 0;
}

/* The bundle's .env beside the compose file, parsed as compose parses it; not valid: STACK_EREJECT naming
 * the file and line. */
static int read_dotenv(const struct run_options *o, const char *slug, const struct paths *p, struct envlist *env,
                       struct envlist *dotenv, struct error *err)
{
        struct vars vars = {.slug = slug, .env = env};
        char path[PATH_MAX], rel[PATH_MAX], *text = NULL;
        size_t len = 0, n = strlen(p->run_dir);
        struct dotenv_ctx d = {.o = o, .slug = slug, .rel = rel, .dotenv = dotenv, .err = err};
        int r;

        if (fs_path(path, sizeof path, "%s/.env", p->compose_dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        snprintf(rel, sizeof rel, "%s", path + (strncmp(path, p->run_dir, n) == 0 && path[n] == '/' ? n + 1 : 0));
        r = fs_read_file(path, DOTENV_MAX_TOTAL, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_errno(err, STACK_EREJECT, r, "cannot read %s", rel);
        r = dotenv_parse(text, len, rel, vars_lookup, &vars, dotenv_value, &d, err);
        free(text);
        return r;
}

/* The compose environment: the stack's remembered env file plus --env (written back unless dry), PROJECT and
 * DOMAIN (stack's), and the bundle's .env in dotenv. */
static int build_env(const struct run_options *o, const char *slug, const struct paths *p, bool dry,
                     struct envlist *env, struct envlist *dotenv, struct error *err)
{
        char kv[256];
        bool changed = false;
        int r;

        env_read_file(p->env_file, env);
        for (size_t i = 0; o && o->env && o->env[i]; i++) {
                r = env_set(env, o->env[i]);
                if (r < 0)
                        return error_set(err, STACK_EUSAGE, "--env '%s': expected KEY=VALUE", o->env[i]);
                changed = true;
        }
        if (changed && !dry) {
                r = fs_mkdir_p(p->data_dir, 0755);
                if (r == 0)
                        r = env_write_file(p->env_file, env);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot write %s", p->env_file);
        }
        snprintf(kv, sizeof kv, "PROJECT=%s", slug);
        if (env_set(env, kv) < 0 || env_set(env, "DOMAIN=" STACK_DOMAIN) < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        return read_dotenv(o, slug, p, env, dotenv, err);
}

/* A version checked out into np->run_dir, judged and given its effective file: what run_start does before it
 * touches anything that runs, and all that run_config does. dry: nothing remembered (env, grants) and no data
 * dir made. */
static int prepare(struct store *s, const struct version_info *v, const struct run_options *o, const struct tree *t,
                   const struct manifest *m, const struct paths *np, const char *const *labels, bool compose_v1,
                   bool dry, struct envlist *env, struct envlist *dotenv, struct policy_result *pr, struct error *err)
{
        unsigned remembered = 0, declared = declared_perms(m), extra;
        struct vars vars = {.slug = v->slug, .env = env, .dotenv = dotenv};
        struct policy_limits limits;
        struct policy_input in = {.compose_path = np->compose,
                                  .run_dir = np->run_dir,
                                  .data_dir = np->data_dir,
                                  .tree = t,
                                  .m = m,
                                  .labels = labels,
                                  .lookup = vars_lookup,
                                  .compose_v1 = compose_v1,
                                  .lookup_ctx = &vars,
                                  .dry = dry,
                                  .project = np->project,
                                  .limits = &limits};
        int r;

        r = policy_limits_load(store_home(s), &limits, err); /* the person's limits (spec/run.md "Limits") */
        if (r == 0)
                r = prepare_run_dir(s, t, &v->tree, np, err);
        if (r == 0 && flavor_is_service(v->flavor)) /* its compose file is generated (run/flavor.h) */
                r = flavor_service_compose(s, v, t, np->compose, o->warn, o->warn_ctx, err);
        if (r == 0)
                r = build_env(o, v->slug, np, dry, env, dotenv, err); /* the new version's .env */
        if (r < 0)
                return r;
        allows_get(s, v->slug, &remembered, NULL);
        extra = o->allow & ~declared & ~remembered;
        for (unsigned bit = 1; bit; bit <<= 1)
                if ((extra & bit) && policy_perm_name(bit))
                        warn(o, "--allow %s: %s's stack.yaml does not ask for it; granted anyway%s",
                             policy_perm_name(bit), v->slug, dry ? "" : " (remembered for the stack)");
        in.allow = o->allow | remembered;
        r = policy_apply(&in, np->effective, pr, err);
        if (r < 0)
                return r;
        if ((o->allow & ~remembered) && !dry)
                allows_set(s, v->slug, remembered | o->allow, NULL);
        r = check_required(pr, np, err);
        for (size_t i = 0; r == 0 && pr->redirected && pr->redirected[i]; i++)
                warn(o, "state kept outside the run dir: %s", pr->redirected[i]);
        for (size_t i = 0; r == 0 && pr->warnings && pr->warnings[i]; i++)
                warn(o, "%s", pr->warnings[i]);
        if (r == 0 && !dry)
                r = routes_save(np, pr, err);
        return r;
}

/* Re-launch (relaunch.h). Before up (state: the last run's state on the fast path, else NULL): 0 when the
 * containers were started through the Engine, else the record is dropped and 1 (compose up follows). After a
 * compose up whose containers run (state NULL, ret->relaunch "compose"): record what compose made. */
static int relaunch_hook(struct engine *e, const struct paths *p, const struct envlist *env,
                         const struct run_options *o, const enum run_state *state, const struct judge_input *judge,
                         struct run_info *ret, struct error *err)
{
        char record[PATH_MAX];
        struct relaunch_input ri = {.project = p->project,
                                    .effective = p->effective,
                                    .record = record,
                                    .env = (const char *const *)env->v,
                                    .timeout_s = o->timeout_s,
                                    .judge = judge,
                                    .err = err};
        int r;

        if (fs_path(record, sizeof record, "%s/" RELAUNCH_RECORD, p->run_dir) < 0)
                return 1;
        if (ret->relaunch) { /* after up */
                if (!strcmp(ret->relaunch, "compose"))
                        relaunch_record(e, &ri, NULL); /* none: the next run uses compose up again */
                return 0;
        }
        ret->relaunch = "compose";
        if (state && *state == RUN_FAILED)
                ret->relaunch_why = strdup("the last run failed");
        else if (state && (r = relaunch_start(e, &ri, &ret->relaunch_why)) <= 0) {
                ret->relaunch = "engine";
                return r; /* started, or refused by the judge (err) */
        }
        relaunch_forget(&ri);
        return 1;
}

/* The project created without starting it, then judged (judge.h): 0 with the judged container ids, or the
 * refusal (STACK_EREJECT) with what this creation made removed: the project's containers and networks, and the
 * volumes of the project that were not there before (a volume the stack already had keeps its data). A compose
 * failure is *ret_status != 0 with its output in *ret_out. */
static int create_judged(struct engine *e, const struct backend *b, const struct paths *p, const struct envlist *env,
                         const struct judge_input *jin, char ***ret_ids, int *ret_status, char **ret_out,
                         struct error *err)
{
        const char *create[] = {"up", "--no-start", "--remove-orphans", NULL};
        char **before = NULL, **after = NULL;
        struct engine_removed rm = {0};
        int r;

        r = engine_list_volumes(e, p->project, &before, err);
        if (r == 0)
                r = compose(b, p, env, create, false, ret_status, ret_out, err);
        if (r < 0 || *ret_status != 0)
                goto done;
        r = judge_project(e, jin, ret_ids, err);
        if (r != -STACK_EREJECT)
                goto done;
        engine_remove_project(e, p->project, false, &rm, NULL);
        engine_removed_release(&rm);
        if (engine_list_volumes(e, p->project, &after, NULL) == 0)
                for (size_t i = 0; after && after[i]; i++) {
                        bool old = false;
                        for (size_t k = 0; before && before[k] && !old; k++)
                                old = !strcmp(before[k], after[i]);
                        if (!old)
                                engine_volume_delete(e, after[i], NULL);
                }
done:
        engine_strv_free(before);
        engine_strv_free(after);
        return r;
}

/* The containers `up --no-start` made and the judge accepted, started through the Engine in dependency order
 * (relaunch.h: recorded as made by compose, then started as a re-launch would): 0, or 1 when compose `up -d`
 * must start them instead (the record is then dropped). Saves the compose tool's second start-up. */
static int start_created(struct engine *e, const struct paths *p, const struct envlist *env,
                         const struct run_options *o)
{
        char record[PATH_MAX], *why = NULL;
        struct relaunch_input ri = {.project = p->project,
                                    .effective = p->effective,
                                    .record = record,
                                    .env = (const char *const *)env->v,
                                    .timeout_s = o->timeout_s};
        int r = 1;

        if (fs_path(record, sizeof record, "%s/" RELAUNCH_RECORD, p->run_dir) < 0)
                return 1;
        if (relaunch_record(e, &ri, NULL) == 0)
                r = relaunch_start(e, &ri, &why);
        free(why);
        if (r != 0)
                relaunch_forget(&ri);
        return r == 0 ? 0 : 1;
}

/* Every container that runs now is one the judge saw. */
static int only_judged(const char *const *ids, const struct engine_container *c, size_t n, struct error *err)
{
        for (size_t i = 0; ids && i < n; i++) {
                bool seen = false;
                for (size_t k = 0; ids[k] && !seen; k++)
                        seen = !strcmp(ids[k], c[i].id);
                if (!seen)
                        return error_set(err, STACK_EREJECT,
                                         "container %s was not there when the containers were judged: refused",
                                         c[i].name);
        }
        return 0;
}

/* The limits every container of the stack must have (spec/run.md "Limits"): the person's (config.json, else the
 * defaults), lowered by stack.yaml `resources`; a service may have set lower ones itself. */
static void judge_limits_of(struct store *s, const struct manifest *m, struct judge_input *jin)
{
        struct policy_limits lim;
        struct error ignored = ERROR_INIT;

        if (policy_limits_load(store_home(s), &lim, &ignored) < 0) /* prepare() refused the run on a bad file */
                policy_limits_default(&lim);
        jin->cpus = m->resources.cpus > 0 && m->resources.cpus < lim.cpus ? m->resources.cpus : lim.cpus;
        jin->memory = m->resources.memory && m->resources.memory < lim.memory ? m->resources.memory : lim.memory;
        jin->pids = m->resources.pids && m->resources.pids < lim.pids ? m->resources.pids : lim.pids;
}

int run_start(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
              struct error *err)
{
        static const struct run_options no_options = {0};
        struct tree t;
        struct manifest *m = NULL;
        struct engine *e = NULL;
        struct backend *b = NULL;
        struct paths p, np; /* the stack's run dir; the new version's, prepared beside it */
        struct envlist env = {0}, dotenv = {0};
        struct policy_result pr = {0};
        struct run_row row = {0}, old = {0};
        struct engine_container *c = NULL;
        struct judge_input jin = {0};
        unsigned granted = 0;
        size_t nc = 0;
        char **judged = NULL;
        char tree_hex[DIGEST_HEX_LEN + 1], lab_run[64], lab_slug[96], lab_tree[96], staged[PATH_MAX], aside[PATH_MAX],
                suffix[17], *out = NULL, *reason = NULL, *service = NULL;
        const char *labels[4] = {lab_run, lab_slug, lab_tree, NULL};
        bool have_old = false, fast = false, started = false, staging = false, locked = false;
        double t0 = now_s();
        int r, status = 0;

        memset(ret, 0, sizeof *ret);
        tree_init(&t);
        if (!s || !v || !v->slug)
                return error_set(err, STACK_EFAIL, "run_start: invalid arguments");
        if (!o)
                o = &no_options;
        r = store_lock_shared(s, err);
        if (r < 0)
                goto done;
        locked = true;
        if (flavor_is_static(v->flavor)) { /* no Engine, no compose file (run/flavor.h) */
                r = flavor_static_start(s, v, o, ret, err);
                goto done;
        }
        /* 1. The Engine and the compose tool, before touching anything. */
        r = engine_open(&e, err);
        if (r == 0)
                r = backend_detect(s, &b, err);
        if (r == 0)
                r = index_load_tree(store_index(s), &v->tree, &t, err);
        if (r == 0)
                r = read_manifest(s, &t, &m, err);
        if (r < 0)
                goto done;
        new_run_id(suffix);
        if (make_paths(s, v->slug, v->compose, NULL, &p) < 0 ||
            fs_path(staged, sizeof staged, "%s/runs/.%s.new-%s", store_home(s), v->slug, suffix) < 0 ||
            fs_path(aside, sizeof aside, "%s/runs/.%s.old-%s", store_home(s), v->slug, suffix) < 0 ||
            make_paths(s, v->slug, v->compose, staged, &np) < 0) {
                r = error_set(err, STACK_ESTORE, "store path too long");
                goto done;
        }
        digest_to_hex(&v->tree, tree_hex);
        have_old = runs_get(s, v->slug, &old, NULL) == 0;
        if (have_old && old.project && old.project[0]) { /* the project it was created under, kept */
                snprintf(p.project, sizeof p.project, "%s", old.project);
                snprintf(np.project, sizeof np.project, "%s", old.project);
        }
        /* 2. The run dir: kept when it holds this tree (re-launch fast path), else the new version is checked out,
         * checked and given its images beside it while the old one keeps running: a version that cannot start
         * leaves the running one and its record as they were. */
        fast = have_old && digest_equal(&old.tree, &v->tree) && marker_matches(&p, &v->tree) && !o->allow &&
               !(o->env && o->env[0]); /* new values: resolved into a new effective file */
        if (have_old && digest_equal(&old.tree, &v->tree))
                snprintf(row.id, sizeof row.id, "%s", old.id);
        else
                new_run_id(row.id);
        snprintf(lab_run, sizeof lab_run, "io.stack.run=%s", row.id);
        snprintf(lab_slug, sizeof lab_slug, "io.stack.slug=%s", v->slug);
        snprintf(lab_tree, sizeof lab_tree, "io.stack.tree=%.64s", tree_hex);
        if (!fast) {
                staging = true;
                r = prepare(s, v, o, &t, m, &np, labels, backend_v1_file(b), false, &env, &dotenv, &pr, err);
                if (r < 0)
                        goto done;
                for (size_t i = 0; r == 0 && i < pr.n_routes; i++)
                        r = route_add(ret, pr.routes[i].service, pr.routes[i].host, (unsigned)pr.routes[i].port);
                step(o, "checkout", &t0);
        } else {
                r = build_env(o, v->slug, &p, false, &env, &dotenv, err);
                if (r == 0 && routes_load(&p, ret) < 0)
                        r = -ENOMEM;
        }
        if (r == -ENOMEM)
                r = error_set(err, STACK_EFAIL, "out of memory");
        if (r == 0 && o->routes_check && ret->n_routes)
                r = o->routes_check(o->routes_ctx, v->slug, ret->routes, ret->n_routes, err);
        if (r < 0)
                goto done;
        /* 3. Images the Engine lacks. */
        r = load_images(s, e, m, &t, &ret->images_loaded, err);
        if (r == 0 && flavor_is_service(v->flavor)) /* its image is built from its Dockerfile (run/flavor.h) */
                r = flavor_service_build(s, e, v, &t, o, err);
        if (r < 0)
                goto done;
        step(o, "images", &t0);
        /* 4. Only now the switch: another version that runs is taken down (its volumes and data stay), and the
         * prepared dir becomes the run dir. */
        if (have_old && !digest_equal(&old.tree, &v->tree)) {
                const char *down[] = {"down", "--remove-orphans", NULL};
                struct paths op;
                if (o->before_switch) {
                        r = o->before_switch(o->switch_ctx, &old, err);
                        if (r < 0)
                                goto done;
                        t0 = now_s();
                }
                if (row_paths(s, &old, &op) == 0)
                        compose(b, &op, &env, down, false, &status, NULL, NULL);
                runs_delete(s, old.id, NULL);
                have_old = false;
                step(o, "down", &t0);
        }
        if (staging) {
                r = switch_run_dir(np.run_dir, p.run_dir, aside, err);
                if (r < 0)
                        goto done;
                staging = false;
        }
        /* 5. Up. */
        row.slug = v->slug;
        row.version_id = v->id;
        row.tree = v->tree;
        row.state = RUN_STARTING;
        row.project = p.project;
        row.run_dir = p.run_dir;
        r = have_old ? runs_set_state(s, row.id, RUN_STARTING, NULL, err) : runs_insert(s, &row, err);
        if (r < 0)
                goto done;
        started = true;
        /* What the Engine is asked for is judged before anything starts (judge.h): the containers of a re-launch
         * as they are, else the project created with `up --no-start`, then started by `up -d`. */
        allows_get(s, v->slug, &granted, NULL);
        jin = (struct judge_input){
                .project = p.project, .run_dir = p.run_dir, .data_dir = p.data_dir, .allow = granted | o->allow};
        judge_limits_of(s, m, &jin); /* the ceiling the policy wrote: the person's limits, lowered by stack.yaml */
        /* Re-launch straight through the Engine when nothing changed since the last up (relaunch.c), else up. */
        r = relaunch_hook(e, &p, &env, o, fast ? &old.state : NULL, &jin, ret, err);
        if (r == 0) {
                status = 0;
                step(o, "engine-start", &t0);
        } else if (r > 0) {
                const char *up[] = {"up", "-d", "--remove-orphans", NULL};
                r = create_judged(e, b, &p, &env, &jin, &judged, &status, &out, err);
                if (r == 0 && status == 0) {
                        step(o, "create+judge", &t0);
                        if (start_created(e, &p, &env, o) == 0) {
                                step(o, "engine-start", &t0);
                        } else {
                                free(out); /* up --no-start's */
                                out = NULL;
                                r = compose(b, &p, &env, up, false, &status, &out, err);
                                if (r == 0)
                                        step(o, "up", &t0);
                        }
                }
        }
        if (r < 0)
                goto fail_state;
        if (status != 0) {
                char *tail = tail_lines(out, 6);
                reason = tail;
                r = error_set(err, STACK_ERUNTIME, "%s up failed (exit %d): %s", backend_name(b), status,
                              tail && *tail ? tail : "no output");
                goto fail_state;
        }
        /* 6. Running (and healthy). */
        /* A re-launch of a run that ran before needs no settle window: that is the fast path, and a later exit
         * still shows in stack ps. A first start (or one after a failure or a change) gets it. */
        r = wait_running(e, p.project, o->timeout_s > 0 ? o->timeout_s : 120,
                         fast && old.state != RUN_FAILED ? 0 : RUN_SETTLE_MS, &reason, &service, &c, &nc, err);
        step(o, "wait", &t0);
        if (r == -STACK_ERUNTIME && reason) {
                const char *logs[] = {"logs", "--no-color", "--tail", "5", service, NULL};
                char *lo = NULL, *tail, *full;
                if (!service)
                        logs[4] = NULL;
                if (compose(b, &p, &env, logs, false, &status, &lo, NULL) == 0) {
                        char *body = lo;
                        if (body && !strncmp(body, "Attaching to ", 13)) /* docker-compose v1's header line */
                                body = strchr(body, '\n') ? strchr(body, '\n') + 1 : body + strlen(body);
                        tail = tail_lines(body, 5);
                        if (tail && asprintf(&full, "%s; last log lines: %s", reason, tail) >= 0) {
                                free(reason);
                                reason = full;
                        }
                        free(tail);
                }
                free(lo);
                r = error_set(err, STACK_ERUNTIME, "run %s of %s failed: %s", row.id, v->slug, reason);
                goto fail_state;
        }
        if (r == 0 && judged)
                r = only_judged((const char *const *)judged, c, nc, err);
        if (r < 0) {
                if (r == -STACK_EREJECT)
                        engine_project_stop(e, p.project, NULL, NULL);
                goto fail_state;
        }
        r = runs_set_state(s, row.id, RUN_RUNNING, NULL, err);
        if (r < 0)
                goto done;
        relaunch_hook(e, &p, &env, o, NULL, &jin, ret,
                      NULL); /* after compose up: what it made, for the next re-launch */
        r = runs_get(s, row.id, &ret->row, err);
        if (r == 0) {
                ret->fast_path = fast;
                addresses_from(m, c, nc, ret);
                routes_ports(ret, c, nc);
        }
        goto done;
fail_state:
        if (started)
                runs_set_state(s, row.id, RUN_FAILED, reason ? reason : err->msg, NULL);
done:
        if (staging)
                fs_rm_rf(np.run_dir); /* a new version that did not get as far as the switch leaves nothing */
        if (locked)
                store_unlock(s);
        engine_containers_free(c, nc);
        judge_ids_free(judged);
        free(out);
        free(reason);
        free(service);
        policy_result_release(&pr);
        env_release(&env);
        env_release(&dotenv);
        run_row_release(&old);
        manifest_free(m);
        tree_release(&t);
        backend_free(b);
        engine_free(e);
        return r;
}

int run_config(struct store *s, const struct version_info *v, const struct run_options *o, char **ret,
               struct error *err)
{
        static const struct run_options no_options = {0};
        struct tree t;
        struct manifest *m = NULL;
        struct paths np;
        struct envlist env = {0}, dotenv = {0};
        struct policy_result pr = {0};
        char dir[PATH_MAX], suffix[17], lab_slug[96], lab_tree[96], tree_hex[DIGEST_HEX_LEN + 1];
        const char *labels[4] = {"io.stack.run=config", lab_slug, lab_tree, NULL};
        struct backend *b = NULL;
        bool made = false, compose_v1, locked = false;
        int r;

        *ret = NULL;
        tree_init(&t);
        if (!s || !v || !v->slug)
                return error_set(err, STACK_EFAIL, "run_config: invalid arguments");
        if (flavor_is_static(v->flavor))
                return error_set(err, STACK_EFAIL,
                                 "%s is a StaticWebsite: it has no compose file (the proxy serves "
                                 "its files)",
                                 v->slug);
        if (!o)
                o = &no_options;
        r = store_lock_shared(s, err);
        locked = r == 0;
        if (r == 0)
                r = index_load_tree(store_index(s), &v->tree, &t, err);
        if (r == 0)
                r = read_manifest(s, &t, &m, err);
        if (r < 0)
                goto done;
        new_run_id(suffix);
        if (fs_path(dir, sizeof dir, "%s/runs/.%s.config-%s", store_home(s), v->slug, suffix) < 0 ||
            make_paths(s, v->slug, v->compose, dir, &np) < 0) {
                r = error_set(err, STACK_ESTORE, "store path too long");
                goto done;
        }
        digest_to_hex(&v->tree, tree_hex);
        snprintf(lab_slug, sizeof lab_slug, "io.stack.slug=%s", v->slug);
        snprintf(lab_tree, sizeof lab_tree, "io.stack.tree=%.64s", tree_hex);
        made = true;
        /* The file for the compose tool that would run it; without one, as written for compose v2. */
        compose_v1 = backend_detect(s, &b, NULL) == 0 && backend_v1_file(b);
        r = prepare(s, v, o, &t, m, &np, labels, compose_v1, true, &env, &dotenv, &pr, err);
        if (r == 0) {
                r = fs_read_file(np.effective, 16 * 1024 * 1024, ret, NULL); /* the policy's output bound */
                if (r < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot read %s", np.effective);
        }
done:
        if (made)
                fs_rm_rf(dir);
        if (locked)
                store_unlock(s);
        backend_free(b);
        policy_result_release(&pr);
        env_release(&env);
        env_release(&dotenv);
        manifest_free(m);
        tree_release(&t);
        return r;
}

/* ---- listing, reconciling, stop, rm, logs ---- */

/* What the Engine says about a run's project now: running, stopped or failed (+ reason), and the ports its
 * containers publish; RUN_UNKNOWN when it cannot be asked. */
static void observe(struct engine *e, const char *project, enum run_state *ret_state, char *reason, size_t size,
                    char **ret_ports)
{
        struct engine_container *c = NULL;
        struct error err = ERROR_INIT;
        char label[256], ports[512] = "";
        size_t n = 0, running = 0, len = 0;

        *ret_state = RUN_STOPPED;
        reason[0] = 0;
        snprintf(label, sizeof label, "com.docker.compose.project=%s", project);
        if (engine_list_containers(e, label, &c, &n, &err) < 0) {
                *ret_state = RUN_UNKNOWN; /* the caller says so, the recorded state stays */
                snprintf(reason, size, "%.*s", (int)(size ? size - 1 : 0), err.msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (!strcmp(c[i].state, "running"))
                        running++;
                else if ((!strcmp(c[i].state, "exited") && c[i].exit_code != 0) || !strcmp(c[i].state, "dead"))
                        snprintf(reason, size, "service '%s' exited with code %d outside stack",
                                 c[i].service ? c[i].service : c[i].name, c[i].exit_code);
                for (size_t j = 0; j < c[i].n_ports && len < sizeof ports - 64; j++)
                        if (c[i].ports[j].public_port)
                                len += (size_t)snprintf(ports + len, sizeof ports - len, "%s%s:%u->%u/%s",
                                                        len ? ", " : "", c[i].ports[j].ip ? c[i].ports[j].ip : "?",
                                                        c[i].ports[j].public_port, c[i].ports[j].private_port,
                                                        c[i].ports[j].proto ? c[i].ports[j].proto : "tcp");
        }
        if (running && !reason[0])
                *ret_state = RUN_RUNNING;
        else if (reason[0])
                *ret_state = RUN_FAILED;
        *ret_ports = len ? strdup(ports) : NULL;
        engine_containers_free(c, n);
}

int run_list(struct store *s, struct run_info **ret, size_t *ret_n, struct error *err)
{
        struct run_row *rows = NULL;
        struct run_info *v;
        struct engine *e = NULL;
        struct error eerr = ERROR_INIT;
        size_t n = 0;
        int r = runs_list(s, &rows, &n, err);

        if (r < 0)
                return r;
        engine_open(&e, &eerr); /* no Engine: state "unknown" (the recorded one in the reason) */
        v = calloc(n + 1, sizeof *v);
        if (!v) {
                run_rows_free(rows, n);
                engine_free(e);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                enum run_state state = RUN_UNKNOWN;
                char reason[512];
                bool ask = rows[i].state != RUN_PENDING && !flavor_row_static(s, &rows[i]);
                reason[0] = 0;
                if (ask && e)
                        observe(e, rows[i].project, &state, reason, sizeof reason, &v[i].ports);
                if (ask && state == RUN_UNKNOWN) {
                        /* The Engine could not be asked: what is recorded may be stale, so it is not shown as
                         * the state (nothing is written). */
                        char *why = NULL;
                        if (asprintf(&why, "recorded %s%s%s%s; the Engine could not be asked: %s",
                                     run_state_name(rows[i].state), rows[i].reason ? " (" : "",
                                     rows[i].reason ? rows[i].reason : "", rows[i].reason ? ")" : "",
                                     e ? reason : eerr.msg) < 0)
                                why = NULL;
                        rows[i].state = RUN_UNKNOWN;
                        free(rows[i].reason);
                        rows[i].reason = why;
                        v[i].row = rows[i];
                        continue;
                }
                /* Only states a container can contradict are corrected: a stopped run stays stopped. */
                if (state != RUN_UNKNOWN && state != rows[i].state &&
                    (rows[i].state == RUN_RUNNING || rows[i].state == RUN_STARTING || rows[i].state == RUN_STOPPING ||
                     state == RUN_RUNNING)) {
                        runs_set_state(s, rows[i].id, state, reason[0] ? reason : NULL, NULL);
                        rows[i].state = state;
                        free(rows[i].reason);
                        rows[i].reason = reason[0] ? strdup(reason) : NULL;
                }
                v[i].row = rows[i];
        }
        free(rows);
        engine_free(e);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The run, its paths and backend, for stop / rm / logs. */
static int open_run(struct store *s, const char *id_or_slug, struct run_row *row, struct paths *p, struct backend **b,
                    struct error *err)
{
        int r = runs_get(s, id_or_slug, row, err);

        if (r < 0)
                return r;
        if (row_paths(s, row, p) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        return backend_detect(s, b, err);
}

static int simple_compose(const char *slug, const struct paths *p, const struct backend *b, const char *const *args,
                          struct error *err)
{
        struct envlist env = {0}, dotenv = {0};
        char *out = NULL;
        int status = 0, r;

        r = build_env(NULL, slug, p, true, &env, &dotenv, err);
        if (r == 0)
                r = compose(b, p, &env, args, false, &status, &out, err);
        if (r == 0 && status != 0) {
                char *tail = tail_lines(out, 3);
                r = error_set(err, STACK_ERUNTIME, "%s %s failed (exit %d): %s", backend_name(b), args[0], status,
                              tail ? tail : "");
                free(tail);
        }
        free(out);
        env_release(&env);
        env_release(&dotenv);
        return r;
}

int run_stop(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err)
{
        const char *args[] = {"stop", NULL};
        struct backend *b = NULL;
        struct paths p;
        struct engine *e = NULL;
        int r;

        r = flavor_static_stop(s, id_or_slug, ret, err); /* a StaticWebsite has no container (run/flavor.h) */
        if (r != 1)
                return r;
        r = open_run(s, id_or_slug, ret, &p, &b, err);
        if (r == 0)
                r = engine_open(&e, err);
        if (r == 0)
                r = runs_set_state(s, ret->id, RUN_STOPPING, NULL, err);
        if (r == 0) {
                r = simple_compose(ret->slug, &p, b, args, err);
                runs_set_state(s, ret->id, r == 0 ? RUN_STOPPED : RUN_FAILED, r == 0 ? NULL : err->msg, NULL);
        }
        if (r == 0)
                ret->state = RUN_STOPPED;
        engine_free(e);
        backend_free(b);
        return r;
}

/* A stack with no run row whose run dir is still there (a crash, an older stack that left one): removable as
 * if it had a row, so that rm never leaves a stack half-gone. */
static int orphan_row(struct store *s, const char *slug, struct run_row *row, struct paths *p)
{
        char project[RUN_PROJECT_MAX];
        struct stat st;

        if (!slug[0] || strchr(slug, '/') || slug[0] == '.' || make_paths(s, slug, NULL, NULL, p) < 0 ||
            lstat(p->run_dir, &st) < 0)
                return -STACK_ENOTFOUND;
        run_project_name(slug, project, sizeof project);
        memset(row, 0, sizeof *row);
        row->slug = strdup(slug);
        row->project = strdup(project);
        row->run_dir = strdup(p->run_dir);
        row->state = RUN_REMOVED;
        row->version = strdup("?");
        return row->slug && row->project && row->run_dir && row->version ? 0 : -STACK_EFAIL;
}

/* compose down when the effective file is there and compose accepts it; then, whatever compose said, the
 * project's containers and networks (volumes with purge) through the Engine by its label, the run dir, the
 * data dir with purge, the row. anyway: an Engine that does not answer or fails does not stop the rest; what it
 * could not remove is said in *ret_left. */
static int remove_run(struct store *s, const char *id_or_slug, bool purge, bool anyway, struct run_row *ret,
                      char **ret_left, struct error *err)
{
        const char *down[] = {"down", "--remove-orphans", NULL}, *down_v[] = {"down", "--remove-orphans", "-v", NULL};
        struct engine_removed rm = {0};
        struct backend *b = NULL;
        struct paths p;
        struct engine *e = NULL;
        struct error eerr = ERROR_INIT;
        struct stat st;
        bool have_row = true, locked = false, engine_ok = false;
        int r;

        if (ret_left)
                *ret_left = NULL;
        r = flavor_static_remove(s, id_or_slug, purge, ret, err); /* a StaticWebsite has no container */
        if (r != 1)
                return r;
        r = runs_get(s, id_or_slug, ret, err);
        if (r == -STACK_ENOTFOUND && orphan_row(s, id_or_slug, ret, &p) == 0) {
                error_clear(err);
                have_row = false;
                r = 0;
        } else if (r == 0 && row_paths(s, ret, &p) < 0) {
                r = error_set(err, STACK_ESTORE, "store path too long");
        }
        if (r == 0) {
                r = engine_open(&e, anyway ? &eerr : err);
                if (r < 0 && anyway)
                        r = 0;
                engine_ok = r == 0 && e;
        }
        if (r == 0)
                r = store_lock_shared(s, err);
        locked = r == 0;
        if (r == 0 && engine_ok && stat(p.effective, &st) == 0 && backend_detect(s, &b, NULL) == 0)
                simple_compose(ret->slug, &p, b, purge ? down_v : down, NULL); /* the Engine does the rest */
        if (r == 0 && engine_ok) {
                r = engine_remove_project(e, p.project, purge, &rm, anyway ? &eerr : err);
                if (r < 0 && anyway)
                        r = 0;
        }
        if (r == 0 && anyway && eerr.code && ret_left &&
            asprintf(ret_left, "the containers%s of %s may be left on the Engine: %s",
                     purge ? ", networks and volumes" : " and networks", p.project, eerr.msg) < 0)
                *ret_left = NULL;
        if (r == 0 && anyway && !eerr.code && rm.kept && ret_left) {
                struct buf k = BUF_INIT(1u << 16);
                buf_add_str(&k, "left on the Engine (something else uses them): ");
                for (char **q = rm.kept; *q; q++) {
                        if (q != rm.kept)
                                buf_add_str(&k, "; ");
                        buf_add_str(&k, *q);
                }
                buf_add(&k, "", 1);
                if (k.oom || k.toobig)
                        buf_release(&k);
                else
                        *ret_left = buf_steal(&k, NULL);
        }
        if (r == 0) {
                r = fs_rm_rf(p.run_dir);
                if (r < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", p.run_dir);
        }
        if (r == 0 && purge) {
                r = fs_rm_rf(p.data_dir);
                if (r < 0)
                        r = error_errno(err, STACK_ESTORE, r, "cannot remove %s", p.data_dir);
        }
        if (r == 0 && have_row)
                r = runs_delete(s, ret->id, err);
        if (locked)
                store_unlock(s);
        engine_removed_release(&rm);
        engine_free(e);
        backend_free(b);
        return r;
}

int run_remove(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, struct error *err)
{
        return remove_run(s, id_or_slug, purge, false, ret, NULL, err);
}

int run_remove_anyway(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, char **ret_left,
                      struct error *err)
{
        return remove_run(s, id_or_slug, purge, true, ret, ret_left, err);
}

int run_logs(struct store *s, const char *id_or_slug, bool follow, struct error *err)
{
        return run_logs_to(s, id_or_slug, follow, -1, NULL, err);
}

int run_logs_to(struct store *s, const char *id_or_slug, bool follow, int fd, volatile int *ret_pid, struct error *err)
{
        const char *args[] = {"logs", "--no-color", follow ? "-f" : NULL, NULL};
        struct backend *b = NULL;
        struct run_row row = {0};
        struct paths p;
        struct envlist env = {0}, dotenv = {0};
        int r, status = 0;

        if (runs_get(s, id_or_slug, &row, NULL) == 0) { /* a StaticWebsite has no logs (run/flavor.h) */
                bool is_static = flavor_row_static(s, &row);
                run_row_release(&row);
                memset(&row, 0, sizeof row);
                if (is_static)
                        return error_set(err, STACK_EFAIL,
                                         "%s is a StaticWebsite: it has no container and no logs "
                                         "(the proxy serves its files)",
                                         id_or_slug);
        }
        r = open_run(s, id_or_slug, &row, &p, &b, err);
        if (r == 0)
                r = build_env(NULL, row.slug, &p, true, &env, &dotenv, err);
        if (r == 0) {
                /* into a pipe, docker-compose v1 (Python) would hold lines back in its buffer */
                if (fd > 0 && env_set(&env, "PYTHONUNBUFFERED=1") < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                struct backend_call c = {.project = p.project,
                                         .compose_file = p.effective,
                                         .project_dir = p.compose_dir,
                                         .env = (const char *const *)env.v,
                                         .args = args,
                                         .inherit_output = true,
                                         .output_fd = fd,
                                         .ret_pid = ret_pid};
                if (r == 0)
                        r = backend_compose(b, &c, &status, NULL, err);
        }
        if (r == 0 && status != 0)
                r = error_set(err, STACK_ERUNTIME, "%s logs exited %d", backend_name(b), status);
        env_release(&env);
        env_release(&dotenv);
        run_row_release(&row);
        backend_free(b);
        return r;
}
