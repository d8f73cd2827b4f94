/* runner-compose-up.c - the pieces of bringing a compose project up: images the Engine lacks, the project created
 * and judged, started through the Engine or by compose, waited for until it runs; its addresses and routes
 * (runner-compose-int.h). */
#include "runner-compose-int.h"
#include "images.h"
#include "relaunch.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/wallclock.h"
#include "store/imagearchive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUTES_FILE ".stack-routes"

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

void compose_step(const struct run_options *o, const char *what, double *t0)
{
        double t = monotonic_s();

        if (o && o->step)
                o->step(o->step_ctx, what, t - *t0);
        *t0 = t;
}

int compose_load_images(struct store *s, struct engine *e, const struct manifest *m, const struct tree *t,
                        unsigned *ret_loaded, char ***ret_refs, struct error *err)
{
        for (size_t i = 0; i < m->n_images; i++) {
                const struct tree_entry *te = tree_find(t, m->images[i]);
                int r;

                if (!te || te->type != ENTRY_FILE)
                        return error_set(err, STACK_EREJECT, "image archive %s is not in the bundle", m->images[i]);
                r = images_load_entry(s, e, te, m->images[i], false, ret_loaded, ret_refs, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define PID_GONE_GRACE_MS 2000 /* how late the Engine may learn of an exit its /proc already shows */

int compose_wait_running(struct engine *e, const char *project, int timeout_s, int settle_ms, char **ret_reason,
                         char **ret_service, struct engine_container **ret_c, size_t *ret_n, struct error *err)
{
        char label[256];
        double deadline = monotonic_s() + timeout_s;

        snprintf(label, sizeof label, "com.docker.compose.project=%s", project);
        for (;;) {
                struct engine_container *c = NULL;
                size_t n = 0, running = 0, pending = 0;
                long nap_ms = 100; /* till the next look: sooner when a container's settle window ends sooner */
                char reason[512] = "";
                int r = engine_list_containers(e, label, &c, &n, err);

                if (r < 0)
                        return r;
                for (size_t i = 0; i < n && !reason[0]; i++) {
                        const char *svc = c[i].service ? c[i].service : c[i].name;
                        if (!strcmp(c[i].state, "running")) {
                                /* The Engine learns of an exit a little late: a container that dies at once can
                                 * still read "running". One that has run for RUN_SETTLE_MS has really started. */
                                long left = c[i].started_ms ? settle_ms - (long)(wallclock_ms() - c[i].started_ms) : 0;
                                if (left > 0) {
                                        pending++;
                                        nap_ms = left + 5 < nap_ms ? left + 5 : nap_ms;
                                } else if (settle_ms && process_alive(c[i].pid) == 0 && c[i].started_ms &&
                                           wallclock_ms() - c[i].started_ms < settle_ms + PID_GONE_GRACE_MS)
                                        pending++; /* died; the Engine will say so in a moment. Not longer: an
                                                    * Engine in another pid namespace (rootless) reports pids
                                                    * this /proc does not have */
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
                if (monotonic_s() > deadline) {
                        *ret_reason =
                                strdup(n ? "containers did not reach running in time" : "no containers were created");
                        return -STACK_ERUNTIME;
                }
                sleep_ms(nap_ms);
        }
}

void compose_addresses(const struct manifest *m, const struct engine_container *c, size_t n, struct run_info *info)
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

int compose_routes_save(const struct compose_paths *p, const struct policy_result *pr, struct error *err)
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

int compose_route_add(struct run_info *info, const char *service, const char *host, unsigned port)
{
        struct run_route *v = realloc(info->routes, (info->n_routes + 1) * sizeof *v);

        if (!v)
                return -ENOMEM;
        info->routes = v;
        v += info->n_routes;
        *v = (struct run_route){.service = strdup(service), .host = strdup(host), .port = port};
        if (!v->service || !v->host) {
                free(v->service);
                free(v->host);
                return -ENOMEM;
        }
        info->n_routes++;
        return 0;
}

int compose_routes_load(const struct compose_paths *p, struct run_info *info)
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
                r = compose_route_add(info, line, host, (unsigned)atoi(port));
        }
        free(data);
        return r;
}

void compose_routes_ports(struct run_info *info, const struct engine_container *c, size_t n)
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

int compose_relaunch_hook(struct engine *e, const struct compose_paths *p, const struct envlist *env,
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

#define MAX_EFFECTIVE (16u << 20) /* the policy's output bound */

static const char *const create_args[] = {"up", "--no-start", "--remove-orphans", NULL};

void compose_create_early(const struct backend *b, const struct compose_paths *p, const struct envlist *env,
                          struct backend_early **ret)
{
        struct backend_call c = {.project = p->project,
                                 .compose_file = p->effective,
                                 .project_dir = p->compose_dir,
                                 .env = (const char *const *)env->v,
                                 .args = create_args};

        char *text = NULL;

        *ret = NULL;
        /* docker-compose 1.29 cannot resolve `extends` in a file read from its input (it has no file name) */
        if (!backend_early_ok(b) || fs_read_file(p->effective, MAX_EFFECTIVE, &text, NULL) < 0 ||
            strstr(text, "extends")) {
                free(text);
                return;
        }
        free(text);
        backend_early_start(b, &c, p->compose_dir, ret, NULL); /* not started: the call is made when it is due */
}

int compose_create_judged(struct engine *e, const struct backend *b, const struct compose_paths *p,
                          const struct envlist *env, struct backend_early **early, const struct judge_input *jin,
                          char ***ret_ids, int *ret_status, char **ret_out, struct error *err)
{
        char **before = NULL, **after = NULL;
        struct engine_removed rm = {0};
        int r;

        r = engine_list_volumes(e, p->project, &before, err);
        if (r == 0 && *early) {
                struct error ignored = ERROR_INIT;
                r = backend_early_finish(*early, ret_status, ret_out, &ignored);
                *early = NULL;
                if ((r < 0 || *ret_status != 0) && ret_out) { /* said with the file's name, or done: the usual call */
                        free(*ret_out);
                        *ret_out = NULL;
                }
                r = r < 0 || *ret_status != 0 ? 1 : r;
        } else if (r == 0) {
                r = 1;
        }
        if (r == 1)
                r = compose_call(b, p, env, create_args, false, ret_status, ret_out, err);
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
        strv_free(before);
        strv_free(after);
        return r;
}

int compose_start_created(struct engine *e, const struct compose_paths *p, const struct envlist *env,
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

int compose_only_judged(const char *const *ids, const struct engine_container *c, size_t n, struct error *err)
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

void compose_judge_limits(const struct policy_limits *lim, const struct manifest *m, struct judge_input *jin)
{
        jin->cpus = m->resources.cpus > 0 && m->resources.cpus < lim->cpus ? m->resources.cpus : lim->cpus;
        jin->memory = m->resources.memory && m->resources.memory < lim->memory ? m->resources.memory : lim->memory;
        jin->pids = m->resources.pids && m->resources.pids < lim->pids ? m->resources.pids : lim->pids;
}
