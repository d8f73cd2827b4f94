/* engine-swarm.c - Docker Swarm through the Engine API (spec/run.md "Swarm"): what the Engine says of its swarm
 * (GET /info), its nodes (GET /nodes), a stack's services and tasks (GET /services, GET /tasks, by the label
 * `docker stack deploy` gives them), and the two changes stack makes to a service itself: its replica count and
 * a server-side rollback (POST /services/{id}/update).
 */
#include "engine.h"
#include "engine-int.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STACK_NAMESPACE_LABEL "com.docker.stack.namespace"

static const char *str(const json_t *j, const char *key)
{
        return json_string_value(json_object_get(j, key));
}

static void copy(char *dst, size_t size, const char *s)
{
        snprintf(dst, size, "%s", s ? s : "");
}

int engine_swarm_info(struct engine *e, struct engine_swarm *ret, struct error *err)
{
        json_t *info = NULL, *sw;
        int r;

        memset(ret, 0, sizeof *ret);
        r = engine_inspect(e, "info", NULL, &info, err);
        if (r < 0)
                return r;
        sw = json_object_get(info, "Swarm");
        copy(ret->state, sizeof ret->state, str(sw, "LocalNodeState"));
        if (!ret->state[0])
                copy(ret->state, sizeof ret->state, "inactive"); /* Podman's answer has no Swarm */
        copy(ret->node_id, sizeof ret->node_id, str(sw, "NodeID"));
        copy(ret->node_addr, sizeof ret->node_addr, str(sw, "NodeAddr"));
        copy(ret->error, sizeof ret->error, str(sw, "Error"));
        ret->manager = json_is_true(json_object_get(sw, "ControlAvailable"));
        ret->nodes = (unsigned)json_integer_value(json_object_get(sw, "Nodes"));
        ret->managers = (unsigned)json_integer_value(json_object_get(sw, "Managers"));
        json_decref(info);
        return 0;
}

int engine_swarm_manager(struct engine *e, struct engine_swarm *ret, struct error *err)
{
        int r = engine_swarm_info(e, ret, err);

        if (r < 0)
                return r;
        if (strcmp(ret->state, "active") != 0)
                return error_set(err, STACK_ERUNTIME,
                                 "the Engine at %s is not part of a swarm (swarm state %s%s%s): `docker swarm init` "
                                 "makes it a single-node swarm",
                                 engine_socket(e), ret->state, ret->error[0] ? ": " : "", ret->error);
        if (!ret->manager)
                return error_set(err, STACK_ERUNTIME,
                                 "the Engine at %s is a swarm worker: stack deploys through a manager (DOCKER_HOST)",
                                 engine_socket(e));
        return 0;
}

void engine_nodes_free(struct engine_node *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].id);
                free(v[i].hostname);
                free(v[i].role);
                free(v[i].availability);
                free(v[i].state);
                free(v[i].addr);
                free(v[i].version);
                free(v[i].message);
        }
        free(v);
}

int engine_nodes(struct engine *e, struct engine_node **ret, size_t *ret_n, struct error *err)
{
        json_t *list = NULL, *item;
        struct engine_node *v;
        size_t i;
        long status = 0;
        bool oom = false;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = engine_get_json(e, "/nodes", &status, &list, err);
        if (r < 0)
                return r;
        if (!json_is_array(list)) {
                json_decref(list);
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /nodes: the answer is not a list");
        }
        v = calloc(json_array_size(list) + 1, sizeof *v);
        if (!v) {
                json_decref(list);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        json_array_foreach(list, i, item)
        {
                json_t *desc = json_object_get(item, "Description"), *spec = json_object_get(item, "Spec"),
                       *st = json_object_get(item, "Status"), *ms = json_object_get(item, "ManagerStatus");
                const char *addr = str(st, "Addr");
                /* a manager's Status.Addr may be 0.0.0.0 (listening on every address); its ManagerStatus.Addr is
                 * host:port */
                char maddr[64] = "";
                if ((!addr || !strcmp(addr, "0.0.0.0")) && str(ms, "Addr")) {
                        copy(maddr, sizeof maddr, str(ms, "Addr"));
                        maddr[strcspn(maddr, ":")] = '\0'; /* IPv4 host:port */
                        addr = maddr;
                }
                v[i].id = engine_strdup(str(item, "ID"), &oom);
                v[i].hostname = engine_strdup(str(desc, "Hostname"), &oom);
                v[i].role = engine_strdup(str(spec, "Role"), &oom);
                v[i].availability = engine_strdup(str(spec, "Availability"), &oom);
                v[i].state = engine_strdup(str(st, "State"), &oom);
                v[i].addr = engine_strdup(addr, &oom);
                v[i].version = engine_strdup(str(json_object_get(desc, "Engine"), "EngineVersion"), &oom);
                v[i].message = engine_strdup(str(st, "Message"), &oom);
                v[i].leader = json_is_true(json_object_get(ms, "Leader"));
        }
        *ret_n = json_array_size(list);
        json_decref(list);
        if (oom) {
                engine_nodes_free(v, *ret_n);
                *ret_n = 0;
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        *ret = v;
        return 0;
}

int engine_stack_list(struct engine *e, const char *kind, const char *project, json_t **ret, struct error *err)
{
        char label[256];

        *ret = NULL;
        snprintf(label, sizeof label, STACK_NAMESPACE_LABEL "=%s", project);
        if (!strcmp(kind, "services"))
                return engine_list_labelled(e, "/services?status=true", label, NULL, ret, err);
        if (!strcmp(kind, "tasks"))
                return engine_list_labelled(e, "/tasks", label, NULL, ret, err);
        if (!strcmp(kind, "networks"))
                return engine_list_labelled(e, "/networks", label, NULL, ret, err);
        if (!strcmp(kind, "volumes"))
                return engine_list_labelled(e, "/volumes", label, "Volumes", ret, err);
        if (!strcmp(kind, "containers"))
                return engine_list_labelled(e, "/containers/json?all=1", label, NULL, ret, err);
        return error_set(err, STACK_EFAIL, "engine_stack_list: unknown kind %s", kind);
}

/* POST /services/{id}/update?version=N[&rollback=previous] with the service's spec (changed by the caller). Swarm
 * moves a service's version on by itself (an update's status recorded) and refuses an update naming the one
 * before ("update out of sequence"): the service's version is then read again and the update sent again (spec
 * unchanged: swarm does not change a Spec), up to 5 times. */
static int service_update(struct engine *e, const json_t *service, json_t *spec, bool rollback, struct error *err)
{
        const char *id = str(service, "ID");
        json_int_t version = json_integer_value(json_object_get(json_object_get(service, "Version"), "Index"));
        char base[512] = "/services/", path[600];
        int r;

        if (!id || !spec)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: a service without ID or Spec");
        if (engine_path_append(base, sizeof base, id) < 0)
                return error_set(err, STACK_EFAIL, "service id too long");
        for (int attempt = 1;; attempt++) {
                json_t *now = NULL;
                long status = 0;
                snprintf(path, sizeof path, "%s/update?version=%lld%s", base, (long long)version,
                         rollback ? "&rollback=previous" : "");
                r = engine_call_json(e, "POST", path, spec, NULL, err);
                if (r == 0 || attempt == 5 || !strstr(err->msg, "update out of sequence"))
                        return r;
                error_clear(err);
                r = engine_get_json(e, base, &status, &now, err);
                if (r == 0 && status != 200)
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: HTTP %ld", base, status);
                if (r < 0) {
                        json_decref(now);
                        return r;
                }
                version = json_integer_value(json_object_get(json_object_get(now, "Version"), "Index"));
                json_decref(now);
        }
}

int engine_service_scale(struct engine *e, const json_t *service, unsigned replicas, struct error *err)
{
        json_t *spec = json_deep_copy(json_object_get(service, "Spec")), *mode;
        int r;

        if (!spec)
                return error_set(err, STACK_EFAIL, "out of memory");
        mode = json_object_get(json_object_get(spec, "Mode"), "Replicated");
        if (!mode) {
                json_decref(spec);
                return error_set(err, STACK_ERUNTIME, "service %s is not replicated: it cannot be scaled",
                                 str(json_object_get(service, "Spec"), "Name") ?: "?");
        }
        json_object_set_new(mode, "Replicas", json_integer(replicas));
        r = service_update(e, service, spec, false, err);
        json_decref(spec);
        return r;
}

int engine_service_rollback(struct engine *e, const json_t *service, struct error *err)
{
        json_t *spec = json_deep_copy(json_object_get(service, "Spec"));
        int r;

        if (!spec)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = service_update(e, service, spec, true, err);
        json_decref(spec);
        return r;
}

int engine_stack_stop_stateful(struct engine *e, const char *project, unsigned *ret_n, struct error *err)
{
        json_t *svc = NULL, *item, *scaled = json_object();
        size_t i;
        unsigned n = 0;
        int r = scaled ? engine_stack_list(e, "services", project, &svc, err)
                       : error_set(err, STACK_EFAIL, "out of memory");

        json_array_foreach(svc, i, item)
        {
                json_t *mounts =
                        json_object_get(json_object_get(json_object_get(json_object_get(item, "Spec"), "TaskTemplate"),
                                                        "ContainerSpec"),
                                        "Mounts");
                if (r == 0 && json_array_size(mounts) && str(item, "ID")) {
                        r = engine_service_scale(e, item, 0, err);
                        if (r == 0 && !json_object_set_new(scaled, str(item, "ID"), json_true()))
                                n++;
                }
        }
        json_decref(svc);
        /* until their containers are gone: nothing writes the data once this returns */
        for (int waited = 0; r == 0 && n; waited += 200) {
                size_t left = 0, k;
                json_t *c = NULL, *ci;
                r = engine_stack_list(e, "containers", project, &c, err);
                json_array_foreach(c, k, ci)
                {
                        const char *state = str(ci, "State"),
                                   *sid = str(json_object_get(ci, "Labels"), "com.docker.swarm.service.id");
                        left += sid && json_object_get(scaled, sid) && state &&
                                (!strcmp(state, "running") || !strcmp(state, "restarting"));
                }
                json_decref(c);
                if (r < 0 || !left)
                        break;
                if (waited > 60000)
                        r = error_set(err, STACK_ERUNTIME,
                                      "the stateful services of %s still run a minute after "
                                      "being scaled to 0",
                                      project);
                else
                        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
        }
        json_decref(scaled);
        if (ret_n)
                *ret_n = n;
        return r;
}

int engine_images_under(struct engine *e, const char *prefix, char ***ret, struct error *err)
{
        struct engine_strv refs = {0};
        json_t *list = NULL, *img, *names;
        size_t i, j, plen = strlen(prefix);
        long status = 0;
        int r;

        *ret = NULL;
        r = engine_get_json(e, "/images/json", &status, &list, err);
        json_array_foreach(list, i, img)
        {
                for (int k = 0; r == 0 && k < 2; k++) {
                        json_t *ref;
                        names = json_object_get(img, k ? "RepoTags" : "RepoDigests");
                        json_array_foreach(names, j, ref)
                        {
                                const char *s = json_string_value(ref);
                                if (r == 0 && s && !strncmp(s, prefix, plen) && engine_strv_add(&refs, s) < 0)
                                        r = error_set(err, STACK_EFAIL, "out of memory");
                        }
                }
        }
        json_decref(list);
        if (r < 0)
                strv_free(refs.v);
        else
                *ret = refs.v;
        return r;
}

int engine_service_limit_pids(struct engine *e, const json_t *service, int64_t pids, struct error *err)
{
        json_t *spec = json_deep_copy(json_object_get(service, "Spec")), *tt, *res, *lim;
        int r;

        if (!spec)
                return error_set(err, STACK_EFAIL, "out of memory");
        tt = json_object_get(spec, "TaskTemplate");
        if (!json_is_object(tt)) {
                json_decref(spec);
                return error_set(err, STACK_ERUNTIME, "service %s has no TaskTemplate", str(spec, "Name") ?: "?");
        }
        res = json_object_get(tt, "Resources");
        if (!json_is_object(res))
                json_object_set_new(tt, "Resources", res = json_object());
        lim = json_object_get(res, "Limits");
        if (!json_is_object(lim))
                json_object_set_new(res, "Limits", lim = json_object());
        json_object_set_new(lim, "Pids", json_integer(pids));
        r = service_update(e, service, spec, false, err);
        json_decref(spec);
        return r;
}
