/* engine-containers.c - containers: their states and ports (engine_list_containers), starting, stopping, deleting
 * one, its logs; the re-launch view of a project (engine_project_configs, engine_container_status: relaunch.c);
 * and the raw answers the judge reads (engine_inspect, engine_containers_json: judge.c). spec/run.md "Engine":
 * "Containers", "Re-launch".
 */
#include "engine.h"
#include "engine-int.h"

#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- what a list entry and an inspect answer both say ---- */

static char *dup_member(json_t *j, const char *key, bool *oom)
{
        return engine_strdup(json_string_value(json_object_get(j, key)), oom);
}

/* Id, name (without its '/': Name of an inspect answer, Names[0] of a list entry) and compose service label. */
static void copy_names(json_t *j, json_t *labels, char **ret_id, char **ret_name, char **ret_service, bool *oom)
{
        const char *name = json_string_value(json_object_get(j, "Name"));

        if (!name)
                name = json_string_value(json_array_get(json_object_get(j, "Names"), 0));
        if (name && *name == '/')
                name++;
        *ret_id = dup_member(j, "Id", oom);
        *ret_name = engine_strdup(name, oom);
        *ret_service = dup_member(labels, "com.docker.compose.service", oom);
}

/* State.Health.Status of an inspect answer, or NULL without a healthcheck. */
static char *health_of(json_t *state, bool *oom)
{
        const char *h = json_string_value(json_object_get(json_object_get(state, "Health"), "Status"));

        return h && *h && strcmp(h, "none") ? engine_strdup(h, oom) : NULL;
}

/* GET /containers/{id}/json: the answer in *ret, or NULL and *ret_gone when the container is gone. */
static int container_get(struct engine *e, const char *id, json_t **ret, bool *ret_gone, struct error *err)
{
        char path[512] = "/containers/";
        long status = 0;
        int r;

        if (engine_path_append(path, sizeof path, id) < 0 || engine_path_append(path, sizeof path, "/json") < 0)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", id);
        r = engine_get_json(e, path, &status, ret, err);
        if (r == 0)
                *ret_gone = status == 404;
        return r;
}

static int name_cmp(const char *x_name, const char *x_id, const char *y_name, const char *y_id)
{
        return strcmp(x_name ? x_name : x_id, y_name ? y_name : y_id);
}

/* ---- engine_list_containers ---- */

static void container_release(struct engine_container *c)
{
        char *s[] = {c->id, c->name, c->service, c->state, c->health, c->run_label, c->image};

        for (size_t i = 0; i < COUNT(s); i++)
                free(s[i]);
        for (size_t i = 0; i < c->n_ports; i++) {
                free(c->ports[i].ip);
                free(c->ports[i].proto);
        }
        free(c->ports);
        memset(c, 0, sizeof *c);
}

void engine_containers_free(struct engine_container *c, size_t n)
{
        MEM_FREE_ARRAY(c, n, container_release);
}

static unsigned port_number(json_t *j)
{
        json_int_t v = json_integer_value(j);

        return v > 0 && v <= 65535 ? (unsigned)v : 0;
}

/* One entry of GET /containers/json. */
static int container_from_list(json_t *j, struct engine_container *c, struct error *err)
{
        json_t *labels = json_object_get(j, "Labels"), *ports = json_object_get(j, "Ports");
        bool oom = false;
        size_t i;

        if (!json_string_value(json_object_get(j, "Id")))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
        copy_names(j, labels, &c->id, &c->name, &c->service, &oom);
        c->state = dup_member(j, "State", &oom);
        c->run_label = dup_member(labels, "io.stack.run", &oom);
        c->image = dup_member(j, "Image", &oom);
        if (json_array_size(ports)) {
                c->ports = calloc(json_array_size(ports), sizeof *c->ports);
                if (!c->ports)
                        return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (i = 0; c->ports && i < json_array_size(ports); i++) {
                json_t *p = json_array_get(ports, i);
                struct engine_port *o = &c->ports[c->n_ports++];
                o->ip = dup_member(p, "IP", &oom);
                o->private_port = port_number(json_object_get(p, "PrivatePort"));
                o->public_port = port_number(json_object_get(p, "PublicPort"));
                o->proto = dup_member(p, "Type", &oom);
        }
        if (oom || !c->id)
                return error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

/* "2026-11-23T13:29:05.949323779Z" -> unix milliseconds; 0 when absent or not in that form. */
static int64_t rfc3339_ms(const char *s)
{
        struct tm tm = {0};
        const char *p;
        int64_t ms = 0;

        if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return 0;
        if (*p == '.') {
                int digits = 0;
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (digits++ < 3)
                                ms = ms * 10 + (*p - '0');
                while (digits++ < 3)
                        ms *= 10;
        }
        if (*p != 'Z' || tm.tm_year < 100) /* the Engine reports UTC; year 1 means "never started" */
                return 0;
        return (int64_t)timegm(&tm) * 1000 + ms;
}

/* GET /containers/{id}/json: health and exit code. *ret_gone when the container went away meanwhile. */
static int container_inspect(struct engine *e, struct engine_container *c, bool *ret_gone, struct error *err)
{
        json_t *j = NULL, *st;
        bool oom = false;
        int r = container_get(e, c->id, &j, ret_gone, err);

        if (r < 0 || !j)
                return r;
        st = json_object_get(j, "State");
        c->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        c->started_ms = rfc3339_ms(json_string_value(json_object_get(st, "StartedAt")));
        c->pid = (int)json_integer_value(json_object_get(st, "Pid"));
        c->health = health_of(st, &oom);
        if (!c->state)
                c->state = dup_member(st, "Status", &oom);
        json_decref(j);
        return oom ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

static int container_cmp(const void *a, const void *b)
{
        const struct engine_container *x = a, *y = b;

        return name_cmp(x->name, x->id, y->name, y->id);
}

int engine_list_containers(struct engine *e, const char *label, struct engine_container **ret, size_t *ret_n,
                           struct error *err)
{
        struct engine_container *v = NULL;
        json_t *list = NULL, *item;
        size_t n = 0, i;
        int r = 0;

        if (!e || !ret || !ret_n)
                return error_set(err, STACK_EFAIL, "engine_list_containers: missing argument");
        r = engine_list_labelled(e, "/containers/json?all=1", label, NULL, &list, err);
        if (r < 0)
                return r;
        if (!json_array_size(list)) {
                *ret = NULL;
                *ret_n = 0;
                goto fail; /* r == 0: nothing carries the label */
        }
        v = calloc(json_array_size(list), sizeof *v);
        if (!v) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        json_array_foreach(list, i, item)
        {
                bool gone = false;
                r = container_from_list(item, &v[n], err);
                n++;
                if (r < 0)
                        goto fail;
                r = container_inspect(e, &v[n - 1], &gone, err);
                if (r < 0)
                        goto fail;
                if (gone) /* removed between the two calls: it is not there any more */
                        container_release(&v[--n]);
        }
        if (n > 1)
                qsort(v, n, sizeof *v, container_cmp);
        *ret = v;
        *ret_n = n;
        v = NULL;
        n = 0;
fail:
        engine_containers_free(v, n);
        json_decref(list);
        return r;
}

/* ---- one container: start, stop, delete, logs ---- */

/* POST /containers/{id}<verb> (with body, or none when NULL). A status in `fine` (0-terminated) is no error;
 * else a 2xx counts in *ret_n when ret_n is given, and anything else is engine_status_error(). */
static int container_post(struct engine *e, const char *id, const char *verb, const char *body, const long *fine,
                          unsigned *ret_n, struct error *err)
{
        char path[1024] = "/containers/";
        struct engine_reply rp;
        int r;

        if (engine_path_append(path, sizeof path, id) < 0 || strlen(path) + strlen(verb) >= sizeof path)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", id);
        strcat(path, verb);
        r = engine_request(e, "POST", path, body, MAX_MESSAGE, false, &rp, err);
        if (r < 0)
                return r;
        while (*fine && *fine != rp.status)
                fine++;
        if (!*fine && ret_n && rp.status >= 200 && rp.status <= 299)
                (*ret_n)++;
        else if (!*fine)
                r = engine_status_error("POST", path, &rp, err);
        engine_reply_release(&rp);
        return r;
}

int engine_container_start(struct engine *e, const char *id, struct error *err)
{
        static const long fine[] = {204, 304, 0}; /* 304: running already */

        return container_post(e, id, "/start", NULL, fine, NULL, err);
}

int engine_project_stop(struct engine *e, const char *project, unsigned *ret_n, struct error *err)
{
        static const long fine[] = {304, 404, 0}; /* already stopped, gone */
        char label[256];
        json_t *list = NULL, *item;
        unsigned n = 0;
        size_t i;
        int r;

        if (!e || !project || !*project)
                return error_set(err, STACK_EFAIL, "engine_project_stop: missing argument");
        snprintf(label, sizeof label, PROJECT_LABEL "=%s", project);
        r = engine_list_labelled(e, "/containers/json", label, NULL, &list, err);
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, "Id"));
                if (r == 0 && id)
                        r = container_post(e, id, "/stop?t=10", "{}", fine, &n, err);
        }
        json_decref(list);
        if (r == 0 && ret_n)
                *ret_n = n;
        return r;
}

int engine_container_delete(struct engine *e, const char *id, struct error *err)
{
        if (!e || !id)
                return error_set(err, STACK_EFAIL, "engine_container_delete: missing argument");
        return engine_delete(e, "container", "/containers", id, NULL, "?force=1", NULL, NULL, NULL, err);
}

int engine_container_logs(struct engine *e, const char *id, int tail, char **ret, struct error *err)
{
        char p[1024] = "/containers/";
        struct engine_reply rp;
        struct buf out = BUF_INIT(1u << 20);
        const char *b;
        size_t o = 0;
        int r;

        if (!e || !id || !ret || engine_path_append(p, sizeof p, id) < 0)
                return error_set(err, STACK_EFAIL, "engine_container_logs: bad argument");
        snprintf(p + strlen(p), sizeof p - strlen(p), "/logs?stdout=1&stderr=1&tail=%d", tail);
        r = engine_request(e, "GET", p, NULL, MAX_ANSWER, true, &rp, err);
        if (r < 0)
                return r;
        if ((rp.status < 200 || rp.status > 299) && rp.status != 404) {
                r = engine_status_error("GET", p, &rp, err);
                engine_reply_release(&rp);
                return r;
        }
        /* Without a TTY the answer is multiplexed: 8-byte frame headers (stream, 0, 0, 0, big-endian length). */
        b = rp.body.p;
        while (b && o + 8 <= rp.body.len && (b[o] == 0 || b[o] == 1 || b[o] == 2) && !b[o + 1]) {
                const unsigned char *h = (const unsigned char *)b + o;
                size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
                if (o + 8 + len > rp.body.len)
                        break;
                buf_add(&out, b + o + 8, len);
                o += 8 + len;
        }
        if (o == 0 && rp.body.len)
                buf_add(&out, b, rp.body.len); /* a TTY container: the raw text */
        engine_reply_release(&rp);
        buf_add(&out, "", 1);
        *ret = out.p ? buf_steal(&out, NULL) : strdup("");
        return *ret ? 0 : error_set(err, STACK_EFAIL, "out of memory");
}

/* ---- re-launch: a project's containers as compose configured them (relaunch.c) ---- */

void engine_config_release(struct engine_config *c)
{
        char *s[] = {c->id, c->name, c->service, c->config_hash, c->image_id, c->image_ref, c->state, c->health};

        for (size_t i = 0; i < COUNT(s); i++)
                free(s[i]);
        memset(c, 0, sizeof *c);
}

void engine_configs_free(struct engine_config *c, size_t n)
{
        MEM_FREE_ARRAY(c, n, engine_config_release);
}

static int config_cmp(const void *a, const void *b)
{
        const struct engine_config *x = a, *y = b;

        return name_cmp(x->name, x->id, y->name, y->id);
}

/* The fields of c a list entry and an inspect answer share; labels and the image's place differ. */
static void config_copy(struct engine_config *c, json_t *j, json_t *labels, const char *image_id, const char *image_ref,
                        const char *state, bool *oom)
{
        copy_names(j, labels, &c->id, &c->name, &c->service, oom);
        c->config_hash = dup_member(labels, "com.docker.compose.config-hash", oom);
        c->image_id = engine_strdup(image_id, oom);
        c->image_ref = engine_strdup(image_ref, oom);
        c->state = engine_strdup(state, oom);
}

int engine_project_configs(struct engine *e, const char *project, struct engine_config **ret, size_t *ret_n,
                           struct error *err)
{
        char label[256];
        struct engine_config *v = NULL;
        json_t *list = NULL, *item;
        bool oom = false;
        size_t n = 0, i;
        int r;

        if (!project || !*project ||
            (size_t)snprintf(label, sizeof label, PROJECT_LABEL "=%s", project) >= sizeof label)
                return error_set(err, STACK_EFAIL, "engine_project_configs: bad project");
        r = engine_list_labelled(e, "/containers/json?all=1", label, NULL, &list, err);
        if (r < 0)
                return r;
        v = calloc(json_array_size(list) + 1, sizeof *v);
        if (!v) {
                json_decref(list);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        json_array_foreach(list, i, item)
        {
                struct engine_config *c = &v[n++];
                config_copy(c, item, json_object_get(item, "Labels"),
                            json_string_value(json_object_get(item, "ImageID")),
                            json_string_value(json_object_get(item, "Image")),
                            json_string_value(json_object_get(item, "State")), &oom);
                if (!c->id && !oom) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
                        break;
                }
        }
        json_decref(list);
        if (r == 0 && oom)
                r = error_set(err, STACK_EFAIL, "out of memory");
        if (r < 0) {
                engine_configs_free(v, n);
                return r;
        }
        if (n > 1)
                qsort(v, n, sizeof *v, config_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int engine_container_status(struct engine *e, const char *id, struct engine_config *ret, bool *ret_gone,
                            struct error *err)
{
        json_t *j = NULL, *st, *config;
        bool oom = false;
        int r;

        memset(ret, 0, sizeof *ret);
        r = container_get(e, id, &j, ret_gone, err);
        if (r < 0 || !j)
                return r;
        st = json_object_get(j, "State");
        config = json_object_get(j, "Config");
        config_copy(ret, j, json_object_get(config, "Labels"), json_string_value(json_object_get(j, "Image")),
                    json_string_value(json_object_get(config, "Image")),
                    json_string_value(json_object_get(st, "Status")), &oom);
        ret->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        ret->health = health_of(st, &oom);
        json_decref(j);
        if (oom) {
                engine_config_release(ret);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        return 0;
}

/* ---- what a project was given, for the judge (run/judge.c) ---- */

int engine_inspect(struct engine *e, const char *kind, const char *id, struct json_t **ret, struct error *err)
{
        char path[1024];
        long status = 0;
        int r;

        *ret = NULL;
        if (strcmp(kind, "containers") && strcmp(kind, "volumes") && strcmp(kind, "networks") && strcmp(kind, "info"))
                return error_set(err, STACK_EFAIL, "engine_inspect: unknown kind %s", kind);
        if (!strcmp(kind, "info"))
                return engine_get_json(e, "/info", &status, ret, err);
        snprintf(path, sizeof path, "/%s/", kind);
        if (!id || !*id || engine_path_append(path, sizeof path, id) < 0 ||
            (!strcmp(kind, "containers") && engine_path_append(path, sizeof path, "/json") < 0))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: %s name not valid: %.64s", kind, id ? id : "");
        r = engine_get_json(e, path, &status, ret, err);
        if (r == 0 && *ret && !json_is_object(*ret)) {
                json_decref(*ret);
                *ret = NULL;
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: the answer is not an object", path);
        }
        return r;
}

int engine_containers_json(struct engine *e, const char *filter, const char *value, struct json_t **ret,
                           struct error *err)
{
        char path[4096];
        json_t *j = NULL;
        long status = 0;
        int r;

        *ret = NULL;
        r = engine_filter_path(e, "/containers/json?all=1", filter, value, path, sizeof path, err);
        if (r == 0)
                r = engine_get_json(e, path, &status, &j, err);
        if (r == 0 && !json_is_array(j)) {
                json_decref(j);
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: the answer is not a list");
        }
        if (r == 0)
                *ret = j;
        return r;
}
