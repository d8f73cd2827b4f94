/* runner-swarm.c - a compose run deployed on a Docker Swarm (spec/run.md "Swarm"): the compose runner prepares the
 * version as for one machine (checkout, policy, effective file, images in the local Engine); then its images are
 * pushed to the managed registry (swarm-registry.h), the swarm file is written from the effective file
 * (policy_swarm_file()), `docker stack deploy` creates the services at 0 replicas, what swarm was asked for is
 * judged (judge_service()), and only then every service is scaled to its replicas. An upgrade of a stack that
 * runs on the swarm is judged on a probe deploy first (its own namespace, 0 replicas, removed again), then
 * deployed for real: swarm's rolling update, rolled back by swarm itself when its tasks fail.
 *
 * A swarm run is marked in its run dir (SWARM_RECORD: the node that holds its data and the registry its images
 * come from); runner_of_row() (flavor.c) reads that mark and hands stop, rm and status to runner_swarm.
 */
#include "runner-compose-int.h"
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/fsutil.h"
#include "base/wallclock.h"
#include "base/mem.h"
#include "base/buf.h"
#include "base/yamltree.h"
#include "run/regimages.h"
#include "run/relaunch.h"
#include "run/swarm-registry.h"
#include "store/store.h"

#define SWARM_FILE       ".stack-swarm.yml"
#define SWARM_PROBE      "-probe"
#define REPLICAS_LABEL   "io.stack.replicas"
#define PIDS_LABEL       "io.stack.pids"
#define NAMESPACE_LABEL  "com.docker.stack.namespace"
#define FAILED_TASKS_MAX 3 /* a service whose tasks failed this often does not start */
#define POLL_MS          250

static const char *jstr(const json_t *j, const char *key)
{
        return json_string_value(json_object_get(j, key));
}

/* ---- the run's mark ---- */

static int record_path(const char *run_dir, char *out, size_t size)
{
        return fs_path(out, size, "%s/" SWARM_RECORD, run_dir);
}

bool swarm_is_run_dir(const char *run_dir)
{
        char path[PATH_MAX];
        struct stat st;

        return run_dir && record_path(run_dir, path, sizeof path) == 0 && stat(path, &st) == 0;
}

int run_swarm_get(const char *run_dir, struct run_swarm *ret)
{
        char path[PATH_MAX], *text = NULL;
        size_t len = 0;
        json_t *j;
        int r;

        memset(ret, 0, sizeof *ret);
        if (record_path(run_dir, path, sizeof path) < 0)
                return -ENAMETOOLONG;
        r = fs_read_file(path, 64u << 10, &text, &len);
        if (r < 0)
                return r;
        j = json_loadb(text, len, 0, NULL);
        free(text);
        if (!j)
                return -EINVAL;
        snprintf(ret->node, sizeof ret->node, "%s", jstr(j, "node") ?: "");
        snprintf(ret->node_name, sizeof ret->node_name, "%s", jstr(j, "node_name") ?: "");
        snprintf(ret->registry, sizeof ret->registry, "%s", jstr(j, "registry") ?: "");
        json_decref(j);
        return 0;
}

static int record_write(const char *run_dir, const struct run_swarm *rec, struct error *err)
{
        char path[PATH_MAX], *text;
        json_t *j =
                json_pack("{s:s,s:s,s:s}", "node", rec->node, "node_name", rec->node_name, "registry", rec->registry);
        int r;

        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!text)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = record_path(run_dir, path, sizeof path);
        if (r == 0)
                r = fs_write_atomic(path, text, strlen(text), 0644);
        free(text);
        return r < 0 ? error_errno(err, STACK_ESTORE, -r, "cannot write %s", path) : 0;
}

/* ---- preparation: images pushed, the swarm file written (before anything that runs changes) ---- */

int swarm_prepare(struct store *s, struct engine *e, const struct compose_paths *np, const struct policy_result *pr,
                  const struct run_options *o, struct run_swarm *rec, struct error *err)
{
        const char *run_dir = np->run_dir, *effective = np->effective, *project = np->project;
        struct engine_swarm sw;
        struct engine_node *nodes = NULL;
        struct swreg_options ro;
        char optbuf[512], file[PATH_MAX];
        char **refs = NULL, **pairs = NULL, **notes = NULL;
        size_t n_nodes = 0;
        int r;

        memset(rec, 0, sizeof *rec);
        r = engine_swarm_manager(e, &sw, err);
        if (r < 0)
                return r;
        snprintf(rec->node, sizeof rec->node, "%s", sw.node_id);
        if (engine_nodes(e, &nodes, &n_nodes, NULL) == 0)
                for (size_t i = 0; i < n_nodes; i++)
                        if (nodes[i].id && !strcmp(nodes[i].id, sw.node_id))
                                snprintf(rec->node_name, sizeof rec->node_name, "%s", nodes[i].hostname ?: "");
        engine_nodes_free(nodes, n_nodes);
        r = swreg_options_load(store_home(s), &ro, optbuf, sizeof optbuf, err);
        if (r < 0)
                return r;
        if (!ro.listen_addr && !ro.named && sw.nodes > 1) /* every node must reach it */
                ro.listen_addr = sw.node_addr;
        r = swreg_ensure(s, &ro, rec->registry, sizeof rec->registry, err);
        if (r < 0)
                return r;
        r = regimages_needed(effective, NULL, &refs, err);
        for (size_t i = 0; r == 0 && refs && refs[i]; i++) {
                struct engine_image_info info = {0};
                char pushed[512];
                r = engine_image_inspect(e, refs[i], &info, err);
                if (r == 0 && !info.id[0])
                        r = error_set(err, STACK_ERUNTIME, "image %s is not in the Engine: it cannot be pushed",
                                      refs[i]);
                if (r == 0)
                        r = swreg_push(s, e, rec->registry, refs[i], info.id, pushed, sizeof pushed, err);
                if (r == 0 && strv_extend(&pairs, (char *const[]){refs[i], pushed, NULL}) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
                if (r == 0 && o->note) {
                        char line[1024];
                        snprintf(line, sizeof line, "image %s in the swarm's registry as %s", refs[i], pushed);
                        o->note(o->pull_ctx, line);
                }
                engine_image_info_release(&info);
        }
        if (r == 0 && fs_path(file, sizeof file, "%s/" SWARM_FILE, run_dir) < 0)
                r = error_set(err, STACK_ESTORE, "store path too long");
        if (r == 0) {
                struct policy_swarm_options so = {.project = project,
                                                  .data_node = rec->node,
                                                  .images = (const char *const *)pairs,
                                                  .routes = pr->routes,
                                                  .n_routes = pr->n_routes,
                                                  .data_dir = np->data_dir,
                                                  .run_dir = np->run_dir,
                                                  .data_hostname = rec->node_name[0] ? rec->node_name : NULL};
                r = policy_swarm_file(effective, file, &so, &notes, err);
        }
        for (size_t i = 0; r == 0 && notes && notes[i]; i++)
                compose_warn(o, "swarm: %s", notes[i]);
        if (r == 0)
                r = record_write(run_dir, rec, err);
        strv_free(refs);
        strv_free(pairs);
        strv_free(notes);
        return r;
}

/* ---- deploy ---- */

static int docker_call(const char *const *args, const struct envlist *env, char **ret_out, int *ret_status,
                       struct error *err)
{
        struct backend *b = NULL;
        int r = backend_program("docker", &b, err);

        if (r == 0) {
                struct backend_call c = {.project = "",
                                         .compose_file = "",
                                         .env = env ? (const char *const *)env->v : NULL,
                                         .args = args,
                                         .plain = true};
                r = backend_compose(b, &c, ret_status, ret_out, err);
        }
        backend_free(b);
        return r;
}

static int stack_deploy(const char *file, const char *project, const struct envlist *env, struct error *err)
{
        const char *args[] = {"stack", "deploy", "--prune", "--resolve-image", "never", "-c", file, project, NULL};
        char *out = NULL;
        int status = 0, r = docker_call(args, env, &out, &status, err);

        if (r == 0 && status != 0) {
                char *tail = compose_tail_lines(out, 4);
                r = error_set(err, STACK_ERUNTIME, "docker stack deploy failed (exit %d): %s", status,
                              tail && *tail ? tail : "no output");
                free(tail);
        }
        free(out);
        return r;
}

/* `docker stack rm`, then until the Engine holds none of the stack's services and containers. */
static int stack_remove(struct engine *e, const char *project, struct error *err)
{
        const char *args[] = {"stack", "rm", project, NULL};
        char label[256];
        int status = 0, r = docker_call(args, NULL, NULL, &status, err);

        snprintf(label, sizeof label, NAMESPACE_LABEL "=%s", project);
        for (int waited = 0; r == 0; waited += POLL_MS) {
                struct engine_container *c = NULL;
                json_t *svc = NULL;
                size_t n = 0;
                r = engine_stack_list(e, "services", project, &svc, err);
                if (r == 0)
                        r = engine_list_containers(e, label, &c, &n, err);
                bool gone = r == 0 && json_array_size(svc) == 0 && n == 0;
                json_decref(svc);
                engine_containers_free(c, n);
                if (r < 0 || gone)
                        break;
                if (waited > 60000)
                        return error_set(err, STACK_ERUNTIME,
                                         "the services of %s are still there a minute after "
                                         "docker stack rm",
                                         project);
                sleep_ms(POLL_MS);
        }
        /* the networks go last, once their tasks are gone: a deploy right after must not find them leaving */
        for (int waited = 0; r == 0 && waited < 20000; waited += POLL_MS) {
                json_t *nets = NULL;
                bool left = engine_stack_list(e, "networks", project, &nets, NULL) == 0 && json_array_size(nets) > 0;
                json_decref(nets);
                if (!left)
                        break;
                sleep_ms(POLL_MS);
        }
        return r;
}

static unsigned desired_replicas(const json_t *service)
{
        const char *v = jstr(json_object_get(json_object_get(service, "Spec"), "Labels"), REPLICAS_LABEL);
        long n = v ? strtol(v, NULL, 10) : 1;

        return n < 0 ? 0 : (unsigned)n;
}

/* The pids limit the swarm file carries in the label io.stack.pids (policy-swarm.c: docker CLI 20.10's schema has
 * no deploy.resources.limits.pids) set on every service that lacks it, before the judge looks. */
static int apply_pids(struct engine *e, const char *project, struct error *err)
{
        json_t *svc = NULL, *item;
        size_t i;
        int r = engine_stack_list(e, "services", project, &svc, err);

        json_array_foreach(svc, i, item)
        {
                json_t *spec = json_object_get(item, "Spec");
                const char *v = jstr(json_object_get(spec, "Labels"), PIDS_LABEL);
                json_int_t have = json_integer_value(json_object_get(
                        json_object_get(json_object_get(json_object_get(spec, "TaskTemplate"), "Resources"), "Limits"),
                        "Pids"));
                long long want = v ? strtoll(v, NULL, 10) : 0;
                if (r == 0 && want > 0 && have != want)
                        r = engine_service_limit_pids(e, item, want, err);
        }
        json_decref(svc);
        return r;
}

/* Every service of project judged against the sandbox, with the networks its tasks join and the volumes the node
 * has already (judge.h "Swarm services"). */
static int judge_stack(struct engine *e, const char *project, const struct judge_input *jin,
                       const struct judge_swarm *sw, json_t **ret_services, struct error *err)
{
        struct judge_input in = *jin;
        json_t *svc = NULL;
        int r;

        in.project = project;
        r = engine_stack_list(e, "services", project, &svc, err);
        if (r == 0 && !json_array_size(svc))
                r = error_set(err, STACK_ERUNTIME, "docker stack deploy created no service for %s", project);
        if (r == 0)
                r = judge_services(e, &in, sw, svc, err);
        if (r == 0 && ret_services)
                *ret_services = svc;
        else
                json_decref(svc);
        return r;
}

static char **route_ports(const struct run_info *info)
{
        char **v = NULL, buf[256];

        for (size_t i = 0; i < info->n_routes; i++) {
                snprintf(buf, sizeof buf, "%s:%u", info->routes[i].service, info->routes[i].port);
                if (strv_extend(&v, (char *const[]){buf, NULL}) < 0) {
                        strv_free(v);
                        return NULL;
                }
        }
        return v;
}

/* The swarm file deployed with every service at replicas N (the label's) instead of 0: an update of services that
 * run must not take them to 0 first. */
static int live_file(const char *file, char *out, size_t size, struct error *err)
{
        struct yamltree_node *root = NULL, *services;
        struct buf b = BUF_INIT(16u << 20);
        char *text = NULL;
        const char *problem = NULL;
        size_t len = 0;
        int r;

        if (fs_path(out, size, "%s.live", file) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        r = fs_read_file(file, 16u << 20, &text, &len);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, -r, "cannot read %s", file);
        r = relaunch_load_tree(file, text, len, &root, err); /* the bounds every effective file is read with */
        free(text);
        if (r < 0)
                return r;
        services = yamltree_map_get(root, "services");
        for (size_t i = 1; r == 0 && services && services->kind == YAMLTREE_MAP && i < services->n; i += 2) {
                struct yamltree_node *deploy = yamltree_map_get(services->items[i], "deploy");
                struct yamltree_node *labels = deploy ? yamltree_map_get(deploy, "labels") : NULL;
                const struct yamltree_node *n = labels ? yamltree_map_get(labels, REPLICAS_LABEL) : NULL;
                if (deploy && yamltree_is_scalar(n))
                        r = yamltree_map_set_text(deploy, "replicas", n->text, 0) < 0 ? -ENOMEM : 0;
        }
        if (r == 0 && yamltree_emit(root, true, &b, &problem) < 0)
                r = error_set(err, STACK_EFAIL, "cannot write the swarm file: %s", problem ?: "out of memory");
        else if (r == 0 && fs_write_atomic(out, b.p, b.len, 0644) < 0)
                r = error_set(err, STACK_ESTORE, "cannot write %s", out);
        else if (r == -ENOMEM)
                r = error_set(err, STACK_EFAIL, "out of memory");
        buf_release(&b);
        yamltree_free(root);
        return r;
}

/* What makes a deploy fail: a task swarm rejected (no node could run it: an image it cannot pull, a constraint
 * nothing meets), or a service whose tasks failed FAILED_TASKS_MAX times. The node and the Engine's error named. */
static const struct engine_node *node_of(const struct engine_node *nodes, size_t n, const char *id)
{
        for (size_t i = 0; id && i < n; i++)
                if (nodes[i].id && !strcmp(nodes[i].id, id))
                        return &nodes[i];
        return NULL;
}

static int tasks_problem(struct engine *e, const char *project, const char *since, char *buf, size_t size)
{
        json_t *tasks = NULL, *t, *bad = NULL;
        size_t i;
        struct {
                char service[64];
                unsigned failed;
        } seen[64];
        size_t n_seen = 0;

        if (engine_stack_list(e, "tasks", project, &tasks, NULL) < 0)
                return 0;
        json_array_foreach(tasks, i, t)
        {
                const char *state = jstr(json_object_get(t, "Status"), "State") ?: "",
                           *svc = jstr(t, "ServiceID") ?: "";
                bool rejected = !strcmp(state, "rejected"), failed = !strcmp(state, "failed");
                size_t k;
                if ((!rejected && !failed) || strcmp(jstr(t, "CreatedAt") ?: "", since) < 0)
                        continue; /* what went before this deploy (CreatedAt is RFC 3339 UTC: compared as text) */
                for (k = 0; k < n_seen && strcmp(seen[k].service, svc); k++)
                        ;
                if (k == n_seen && n_seen < 64) {
                        snprintf(seen[n_seen].service, sizeof seen[n_seen].service, "%s", svc);
                        seen[n_seen++].failed = 0;
                }
                if (k < 64)
                        seen[k].failed++;
                if (rejected || (k < 64 && seen[k].failed >= FAILED_TASKS_MAX)) {
                        bad = t;
                        break;
                }
        }
        if (bad) { /* the node named by its hostname: the nodes asked for only now, not on every poll */
                struct engine_node *nodes = NULL;
                size_t n_nodes = 0;
                json_t *st = json_object_get(bad, "Status");
                const char *msg = jstr(st, "Err") ?: jstr(st, "Message"), *node = jstr(bad, "NodeID") ?: "";
                const struct engine_node *nd;
                engine_nodes(e, &nodes, &n_nodes, NULL);
                nd = node_of(nodes, n_nodes, node);
                snprintf(buf, size, "task of service %.12s on node %s %s: %s (image %s)", jstr(bad, "ServiceID") ?: "",
                         nd && nd->hostname ? nd->hostname
                         : *node            ? node
                                            : "(none)",
                         jstr(st, "State") ?: "", msg ? msg : "no message",
                         jstr(json_object_get(json_object_get(bad, "Spec"), "ContainerSpec"), "Image") ?: "?");
                engine_nodes_free(nodes, n_nodes);
        }
        json_decref(tasks);
        return bad != NULL;
}

int run_swarm_look(struct engine *e, const char *project, struct run_swarm_look *ret, struct error *err)
{
        json_t *svc = NULL, *item;
        size_t i;
        int r = engine_stack_list(e, "services", project, &svc, err);

        memset(ret, 0, sizeof *ret);
        if (r < 0)
                return r;
        json_array_foreach(svc, i, item)
        {
                json_t *ss = json_object_get(item, "ServiceStatus"), *us = json_object_get(item, "UpdateStatus");
                const char *name = jstr(json_object_get(item, "Spec"), "Name") ?: "?", *ustate = jstr(us, "State");
                json_int_t running = json_integer_value(json_object_get(ss, "RunningTasks")),
                           desired = json_integer_value(json_object_get(ss, "DesiredTasks"));
                bool failed = ustate && (!strncmp(ustate, "rollback", 8) || !strcmp(ustate, "paused"));
                ret->services++;
                ret->idle += desired == 0;
                ret->rolling_back |= ustate && !strcmp(ustate, "rollback_started");
                ret->updating |= ustate && (!strcmp(ustate, "updating") || !strcmp(ustate, "rollback_started"));
                if (failed && !ret->failed)
                        snprintf(ret->why, sizeof ret->why, "service %s: swarm's update %s: %s", name, ustate,
                                 jstr(us, "Message") ?: "");
                ret->failed |= failed;
                if (running < desired && !ret->short_of++ && !ret->failed)
                        snprintf(ret->why, sizeof ret->why, "service %s runs %lld of %lld replicas", name,
                                 (long long)running, (long long)desired);
        }
        json_decref(svc);
        return 0;
}

/* Until every service runs its desired replicas (and an update in progress completed), or a problem with a task
 * created since (RFC 3339 UTC, "" for any), or an update swarm rolled back (once the rollback ended) or paused. */
static int wait_converged(struct engine *e, const char *project, const char *since, int timeout_s, char **ret_reason,
                          struct error *err)
{
        char why[1024] = "";
        int r = 0;

        for (long waited = 0;; waited += POLL_MS) {
                struct run_swarm_look lk;
                bool done;
                r = run_swarm_look(e, project, &lk, err);
                if (r < 0)
                        return r;
                done = !lk.short_of && !lk.updating;
                if (lk.failed)
                        snprintf(why, sizeof why, "%s", lk.why);
                if (lk.failed && (done || !lk.rolling_back))
                        break;
                if (done)
                        return 0;
                if (!why[0] && tasks_problem(e, project, since, why, sizeof why))
                        break;
                if (waited >= (long)timeout_s * 1000) {
                        if (!why[0])
                                snprintf(why, sizeof why, "not every service of %s runs its replicas after %d s",
                                         project, timeout_s);
                        break;
                }
                sleep_ms(POLL_MS);
        }
        if (ret_reason)
                *ret_reason = strdup(why);
        return error_set(err, STACK_ERUNTIME, "%s", why);
}

int swarm_up(struct engine *e, const char *run_dir, const char *project, const struct envlist *env,
             const struct judge_input *jin, const struct run_swarm *rec, struct run_info *info, int timeout_s,
             char **ret_reason, struct error *err)
{
        char file[PATH_MAX], live[PATH_MAX], probe[RUN_PROJECT_MAX + 8], since[32];
        char **ports = route_ports(info);
        struct judge_swarm sw = {
                .data_node = rec->node, .registry = rec->registry, .route_ports = (const char *const *)ports};
        json_t *existing = NULL, *svc = NULL, *item;
        size_t i;
        bool first;
        int r;

        if (fs_path(file, sizeof file, "%s/" SWARM_FILE, run_dir) < 0)
                return error_set(err, STACK_ESTORE, "store path too long");
        {
                time_t now = time(NULL);
                struct tm tm;
                gmtime_r(&now, &tm);
                strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S", &tm);
        }
        r = engine_stack_list(e, "services", project, &existing, err);
        first = r == 0 && json_array_size(existing) == 0;
        if (first) {
                /* first deploy: created at 0 replicas, judged, then scaled */
                r = stack_deploy(file, project, env, err);
                if (r == 0)
                        r = apply_pids(e, project, err);
                if (r == 0)
                        r = judge_stack(e, project, jin, &sw, &svc, err);
                if (r == -STACK_EREJECT)
                        stack_remove(e, project, NULL);
                json_array_foreach(svc, i, item) if (r == 0) r =
                        engine_service_scale(e, item, desired_replicas(item), err);
        } else if (r == 0) {
                /* an update of services that run: judged on a probe deploy of the same file first */
                snprintf(probe, sizeof probe, "%s" SWARM_PROBE, project);
                r = stack_deploy(file, probe, env, err);
                if (r == 0)
                        r = apply_pids(e, probe, err);
                if (r == 0)
                        r = judge_stack(e, probe, jin, &sw, NULL, err);
                stack_remove(e, probe, NULL);
                if (r == 0)
                        r = live_file(file, live, sizeof live, err);
                if (r == 0)
                        r = stack_deploy(live, project, env, err);
                if (r == 0) /* the update runs without it until this second update (docker CLI 20.10) */
                        r = apply_pids(e, project, err);
                if (r == 0) /* and what the update asked for, as the Engine holds it */
                        r = judge_stack(e, project, jin, &sw, NULL, err);
        }
        json_decref(existing);
        json_decref(svc);
        strv_free(ports);
        if (r == 0)
                r = wait_converged(e, project, since, timeout_s, ret_reason, err);
        /* a first deploy that fails leaves nothing retrying on the nodes (the volumes stay); an update's services
         * are swarm's to roll back, and stack upgrade's */
        if (r < 0 && first && r != -STACK_EREJECT)
                stack_remove(e, project, NULL);
        return r;
}

static bool upstream_has(const char *list, const char *one)
{
        size_t n = strlen(one);

        for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ','))
                if (strcspn(p, ",") == n && !strncmp(p, one, n))
                        return true;
        return false;
}

/* Each route to the tasks that run its service: "<node address>:<published port>" of every running task, the
 * upstreams in info->routes[i].upstream. */
void swarm_routes(struct engine *e, const char *project, struct run_info *info)
{
        struct engine_node *nodes = NULL;
        json_t *tasks = NULL, *svc = NULL, *t;
        size_t n_nodes = 0, i;

        if (!info->n_routes || engine_stack_list(e, "tasks", project, &tasks, NULL) < 0)
                return;
        engine_stack_list(e, "services", project, &svc, NULL);
        engine_nodes(e, &nodes, &n_nodes, NULL);
        for (size_t k = 0; k < info->n_routes; k++) {
                struct run_route *rt = &info->routes[k];
                char want[256], ups[1024] = "";
                size_t len = 0, j;
                json_t *s;
                const char *sid = NULL;
                snprintf(want, sizeof want, "%s_%s", project, rt->service);
                json_array_foreach(svc, j, s) if (!strcmp(jstr(json_object_get(s, "Spec"), "Name") ?: "", want)) sid =
                        jstr(s, "ID");
                json_array_foreach(tasks, i, t)
                {
                        json_t *pst = json_object_get(json_object_get(json_object_get(t, "Status"), "PortStatus"),
                                                      "Ports"),
                               *p;
                        const char *node = jstr(t, "NodeID"), *addr = NULL;
                        size_t m;
                        if (!sid || strcmp(jstr(t, "ServiceID") ?: "", sid) ||
                            strcmp(jstr(json_object_get(t, "Status"), "State") ?: "", "running"))
                                continue;
                        for (size_t q = 0; q < n_nodes; q++)
                                if (node && nodes[q].id && !strcmp(nodes[q].id, node))
                                        addr = nodes[q].addr;
                        json_array_foreach(pst, m, p)
                        {
                                json_int_t target = json_integer_value(json_object_get(p, "TargetPort")),
                                           pub = json_integer_value(json_object_get(p, "PublishedPort"));
                                char one[96];
                                snprintf(one, sizeof one, "%s:%lld", addr ? addr : "", (long long)pub);
                                if (addr && target == rt->port && pub > 0 && len < sizeof ups - 64 &&
                                    !upstream_has(ups, one)) { /* PortStatus may list a port twice */
                                        len += (size_t)snprintf(ups + len, sizeof ups - len, "%s%s", len ? "," : "",
                                                                one);
                                        if (!rt->host_port)
                                                rt->host_port = (unsigned)pub;
                                }
                        }
                }
                free(rt->upstream);
                rt->upstream = len ? strdup(ups) : NULL;
        }
        engine_nodes_free(nodes, n_nodes);
        json_decref(tasks);
        json_decref(svc);
}

/* ---- the runner of a recorded swarm run ---- */

static void swarm_status(struct engine *e, const struct run_row *row, enum run_state *ret_state, char *reason,
                         size_t size, char **ret_ports)
{
        struct error err = ERROR_INIT;
        struct run_swarm_look lk;

        *ret_state = RUN_STOPPED;
        *ret_ports = NULL;
        reason[0] = 0;
        if (run_swarm_look(e, row->project, &lk, &err) < 0) {
                *ret_state = RUN_UNKNOWN;
                snprintf(reason, size, "%.*s", (int)(size ? size - 1 : 0), err.msg);
                return;
        }
        if (lk.services && !lk.short_of && !lk.idle) {
                *ret_state = RUN_RUNNING;
        } else if (lk.short_of) {
                *ret_state = RUN_FAILED;
                if (!tasks_problem(e, row->project, "", reason, size))
                        snprintf(reason, size, "%s", lk.why);
        }
}

static int swarm_stop(struct store *s, struct run_row *row, struct error *err)
{
        struct engine *e = NULL;
        int r = engine_open(&e, err);

        if (r == 0)
                r = runs_set_state(s, row->id, RUN_STOPPING, NULL, err);
        if (r == 0) {
                r = stack_remove(e, row->project, err);
                runs_set_state(s, row->id, r == 0 ? RUN_STOPPED : RUN_FAILED, r == 0 ? NULL : err->msg, NULL);
        }
        if (r == 0)
                row->state = RUN_STOPPED;
        engine_free(e);
        return r;
}

static int swarm_remove(struct store *s, const struct run_row *row, bool purge, bool anyway, char **ret_left,
                        struct error *err)
{
        struct engine *e = NULL;
        struct error eerr = ERROR_INIT;
        int r = engine_open(&e, anyway ? &eerr : err);

        if (r == 0)
                r = stack_remove(e, row->project, anyway ? &eerr : err);
        if (r == 0 && purge) { /* the volumes on this node, the one that holds the data */
                char label[256];
                json_t *vols = NULL, *v;
                size_t i;
                snprintf(label, sizeof label, NAMESPACE_LABEL "=%s", row->project);
                r = engine_stack_list(e, "volumes", row->project, &vols, anyway ? &eerr : err);
                json_array_foreach(vols, i, v) if (r == 0 && jstr(v, "Name")) r =
                        engine_volume_delete(e, jstr(v, "Name"), anyway ? &eerr : err);
                json_decref(vols);
        }
        engine_free(e);
        if (r < 0 && !anyway)
                return r;
        if (eerr.code && ret_left &&
            asprintf(ret_left, "the services%s of %s may be left on the swarm: %s", purge ? " and volumes" : "",
                     row->project, eerr.msg) < 0)
                *ret_left = NULL;
        return compose_remove_files(s, row, purge, err);
}

const struct runner runner_swarm = {
        .name = "DockerCompose",
        .containers = true,
        .start = NULL, /* run_start goes through the version's flavor with run_options.swarm */
        .stop = swarm_stop,
        .remove = swarm_remove,
        .status = swarm_status,
};

int swarm_logs(const char *project, bool follow, int fd, volatile int *ret_pid, struct error *err)
{
        struct engine *e = NULL;
        json_t *svc = NULL, *item;
        const char *argv[64];
        size_t i, n = 0;
        struct backend *b = NULL;
        int r = engine_open(&e, err), status = 0;

        if (r == 0)
                r = engine_stack_list(e, "services", project, &svc, err);
        engine_free(e);
        if (r == 0 && !json_array_size(svc))
                r = error_set(err, STACK_EFAIL, "%s has no service on the swarm (stopped?)", project);
        /* every service's logs at once, through one shell that waits for them all (docker service logs follows
         * one service) */
        argv[n++] = "-c";
        argv[n++] = follow ? "for s; do docker service logs --no-trunc -t -f \"$s\" & done; wait"
                           : "for s; do docker service logs --no-trunc -t \"$s\"; done";
        argv[n++] = "sh";
        json_array_foreach(svc, i, item) if (n < 62) argv[n++] = jstr(json_object_get(item, "Spec"), "Name");
        argv[n] = NULL;
        if (r == 0)
                r = backend_program("sh", &b, err);
        if (r == 0) {
                struct backend_call c = {.project = "",
                                         .compose_file = "",
                                         .args = argv,
                                         .inherit_output = true,
                                         .output_fd = fd,
                                         .ret_pid = ret_pid,
                                         .plain = true};
                r = backend_compose(b, &c, &status, NULL, err);
        }
        if (r == 0 && status != 0)
                r = error_set(err, STACK_ERUNTIME, "docker service logs exited %d", status);
        backend_free(b);
        json_decref(svc);
        return r;
}

bool swarm_config_default(const char *stack_home)
{
        char path[PATH_MAX];
        json_t *j;
        bool on;

        if (fs_path(path, sizeof path, "%s/config.json", stack_home) < 0)
                return false;
        j = json_load_file(path, 0, NULL);
        on = json_is_true(json_object_get(json_object_get(j, "swarm"), "default"));
        json_decref(j);
        return on;
}

/* ---- what stack ps shows of a swarm run ---- */

char *swarm_services_json(struct engine *e, const struct run_row *row)
{
        struct engine_node *nodes = NULL;
        struct run_swarm rec;
        json_t *svc = NULL, *tasks = NULL, *out = json_object(), *list = json_array(), *s, *t;
        size_t n_nodes = 0, i, j;
        char *text;

        if (!out || !list || engine_stack_list(e, "services", row->project, &svc, NULL) < 0) {
                json_decref(out);
                json_decref(list);
                return NULL;
        }
        engine_stack_list(e, "tasks", row->project, &tasks, NULL);
        engine_nodes(e, &nodes, &n_nodes, NULL);
        json_array_foreach(svc, i, s)
        {
                json_t *ss = json_object_get(s, "ServiceStatus"), *tl = json_array();
                const char *sid = jstr(s, "ID") ?: "";
                json_array_foreach(tasks, j, t)
                {
                        json_t *st = json_object_get(t, "Status");
                        const char *desired = jstr(t, "DesiredState") ?: "", *state = jstr(st, "State") ?: "";
                        const struct engine_node *nd = node_of(nodes, n_nodes, jstr(t, "NodeID"));
                        /* swarm soon wants a task on a node that is down shut down, but it still says running */
                        bool lost = nd && nd->state && strcmp(nd->state, "ready") && !strcmp(state, "running");
                        if (strcmp(jstr(t, "ServiceID") ?: "", sid) ||
                            (strcmp(desired, "running") && strcmp(state, "running") && !lost))
                                continue; /* the history of tasks swarm replaced */
                        json_array_append_new(
                                tl, json_pack("{s:s,s:s,s:s,s:s,s:s*,s:b}", "id", jstr(t, "ID") ?: "", "node",
                                              nd && nd->hostname ? nd->hostname : jstr(t, "NodeID") ?: "",
                                              "state", lost ? "lost" : state, "desired", desired, "error",
                                              lost ? "its node is down" : jstr(st, "Err"), "lost", lost));
                }
                json_int_t running = 0; /* ServiceStatus still counts a lost task as running */
                json_t *tt;
                size_t k;
                json_array_foreach(tl, k, tt) running += !strcmp(jstr(tt, "state") ?: "", "running");
                json_array_append_new(
                        list, json_pack("{s:s,s:I,s:I,s:o}", "name", jstr(json_object_get(s, "Spec"), "Name") ?: "",
                                        "running", running, "desired",
                                        json_integer_value(json_object_get(ss, "DesiredTasks")), "tasks", tl));
        }
        json_object_set_new(out, "services", list);
        if (run_swarm_get(row->run_dir, &rec) == 0) {
                const struct engine_node *nd = node_of(nodes, n_nodes, rec.node);
                json_object_set_new(out, "node", json_string(nd && nd->hostname ? nd->hostname : rec.node_name));
                json_object_set_new(out, "registry", json_string(rec.registry));
        }
        text = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        json_decref(svc);
        json_decref(tasks);
        engine_nodes_free(nodes, n_nodes);
        return text;
}

void swarm_run_routes(struct store *s, struct engine *e, const struct run_row *row, struct run_info *info)
{
        struct compose_paths p;

        if (compose_row_paths(s, row, &p) == 0 && compose_routes_load(&p, info) == 0)
                swarm_routes(e, row->project, info);
}
