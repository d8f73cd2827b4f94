/* relaunch.c - re-launch straight through the Engine (interface relaunch.h, spec/run.md "Re-launch").
 *
 * What compose `up` made is recorded once its containers ran; a later run of the same run dir starts those
 * very containers with the Engine API when the effective compose file, the compose environment, the
 * containers (ids, config-hash labels, services, count) and their images are all as recorded. Anything else
 * is the caller's compose `up`, with the reason.
 */
#include "relaunch.h"
#include "base/digest.h"
#include "base/wallclock.h"
#include "base/fsutil.h"
#include "base/yamltree.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_EFFECTIVE  (16u << 20) /* the policy's output bound */
#define MAX_RECORD     (4u << 20)
#define MAX_SERVICES   4096
#define HEALTH_POLL_MS 20

/* ---- the plan: services in dependency order ---- */

static bool scalar(const struct yamltree_node *n)
{
        return n && n->kind == YAMLTREE_SCALAR && !yamltree_is_null(n);
}

static int dep_add(struct relaunch_service *s, const char *name, size_t len, enum relaunch_cond cond)
{
        struct relaunch_dep *v;

        for (size_t i = 0; i < s->n_deps; i++)
                if (strlen(s->deps[i].service) == len && !strncmp(s->deps[i].service, name, len)) {
                        if (cond > s->deps[i].cond)
                                s->deps[i].cond = cond;
                        return 0;
                }
        v = realloc(s->deps, (s->n_deps + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        s->deps = v;
        v[s->n_deps].service = strndup(name, len);
        v[s->n_deps].cond = cond;
        if (!v[s->n_deps].service)
                return -ENOMEM;
        s->n_deps++;
        return 0;
}

/* "service:X" of network_mode / ipc / pid. */
static int mode_dep(struct relaunch_service *s, const struct yamltree_node *v)
{
        if (scalar(v) && !strncmp(v->text, "service:", 8) && v->text[8])
                return dep_add(s, v->text + 8, strlen(v->text + 8), RELAUNCH_STARTED);
        return 0;
}

static int service_deps(struct relaunch_service *s, const struct yamltree_node *svc, const char *name,
                        struct error *err)
{
        const struct yamltree_node *d = yamltree_map_get(svc, "depends_on"), *l = yamltree_map_get(svc, "links"),
                                   *vf = yamltree_map_get(svc, "volumes_from");
        int r = 0;

        if (d && d->kind == YAMLTREE_SEQ) {
                for (size_t i = 0; r == 0 && i < d->n; i++)
                        if (scalar(d->items[i]))
                                r = dep_add(s, d->items[i]->text, d->items[i]->len, RELAUNCH_STARTED);
        } else if (d && d->kind == YAMLTREE_MAP) {
                for (size_t i = 0; r == 0 && i + 1 < d->n; i += 2) {
                        const struct yamltree_node *c = yamltree_map_get(d->items[i + 1], "condition");
                        enum relaunch_cond cond = RELAUNCH_STARTED;
                        if (!scalar(d->items[i]))
                                continue;
                        if (scalar(c) && !strcmp(c->text, "service_healthy"))
                                cond = RELAUNCH_HEALTHY;
                        else if (scalar(c) && !strcmp(c->text, "service_completed_successfully"))
                                cond = RELAUNCH_COMPLETED;
                        else if (scalar(c) && strcmp(c->text, "service_started"))
                                return error_set(err, STACK_EREJECT, "service '%s': depends_on condition '%s'", name,
                                                 c->text);
                        r = dep_add(s, d->items[i]->text, d->items[i]->len, cond);
                }
        }
        for (size_t i = 0; r == 0 && l && l->kind == YAMLTREE_SEQ && i < l->n; i++)
                if (scalar(l->items[i])) /* "svc" or "svc:alias" */
                        r = dep_add(s, l->items[i]->text, strcspn(l->items[i]->text, ":"), RELAUNCH_STARTED);
        for (size_t i = 0; r == 0 && vf && vf->kind == YAMLTREE_SEQ && i < vf->n; i++)
                if (scalar(vf->items[i]) && strncmp(vf->items[i]->text, "container:", 10)) /* "svc[:ro|:rw]" */
                        r = dep_add(s, vf->items[i]->text, strcspn(vf->items[i]->text, ":"), RELAUNCH_STARTED);
        if (r == 0)
                r = mode_dep(s, yamltree_map_get(svc, "network_mode"));
        if (r == 0)
                r = mode_dep(s, yamltree_map_get(svc, "ipc"));
        if (r == 0)
                r = mode_dep(s, yamltree_map_get(svc, "pid"));
        return r == -ENOMEM ? error_set(err, STACK_EFAIL, "out of memory") : r;
}

static void service_release(struct relaunch_service *s)
{
        for (size_t i = 0; i < s->n_deps; i++)
                free(s->deps[i].service);
        free(s->deps);
        free(s->name);
}

void relaunch_plan_release(struct relaunch_plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++)
                service_release(&p->v[i]);
        free(p->v);
        memset(p, 0, sizeof *p);
}

static size_t find(const struct relaunch_service *v, size_t n, const char *name)
{
        size_t i;

        for (i = 0; i < n && strcmp(v[i].name, name); i++)
                ;
        return i;
}

/* Depth-first: every dependency before its dependent. mark: 0 new, 1 on the path, 2 placed. */
static int place(const char *file, struct relaunch_service *in, size_t n, unsigned char *mark, size_t i,
                 struct relaunch_service *out, size_t *n_out, unsigned depth, struct error *err)
{
        if (mark[i] == 2)
                return 0;
        if (mark[i] == 1 || depth > n)
                return error_set(err, STACK_EREJECT, "%s: services depend on each other in a cycle (through '%s')",
                                 file, in[i].name);
        mark[i] = 1;
        for (size_t k = 0; k < in[i].n_deps; k++) {
                size_t j = find(in, n, in[i].deps[k].service);
                int r;
                if (j == n)
                        return error_set(err, STACK_EREJECT, "%s: service '%s' depends on '%s', which the file lacks",
                                         file, in[i].name, in[i].deps[k].service);
                r = place(file, in, n, mark, j, out, n_out, depth + 1, err);
                if (r < 0)
                        return r;
        }
        mark[i] = 2;
        out[(*n_out)++] = in[i];
        return 0;
}

int relaunch_load_tree(const char *name, const char *yaml, size_t len, struct yamltree_node **ret_root,
                       struct error *err)
{
        const struct yamltree_opts opts = {
                .name = name,
                .limits = {.max_bytes = MAX_EFFECTIVE,
                           .max_aliases = 64,
                           .max_nodes = 100000,
                           .max_depth = 64,
                           .max_copy_depth = 128,
                           .max_copy_bytes = 4u << 20},
                .aliases = YAMLTREE_ALIAS_COPY,
                .flags = YAMLTREE_ROOT_MAPPING | YAMLTREE_MERGE,
        };

        return yamltree_load(&opts, yaml, len, ret_root, err);
}

int relaunch_load(const char *name, const char *yaml, size_t len, struct yamltree_node **ret_root,
                  const struct yamltree_node **ret_services, struct error *err)
{
        struct yamltree_node *root = NULL;
        const struct yamltree_node *services;
        int r;

        r = relaunch_load_tree(name, yaml, len, &root, err);
        if (r < 0)
                return r;
        services = yamltree_map_get(root, "services");
        if (!services || services->kind != YAMLTREE_MAP || services->n / 2 > MAX_SERVICES) {
                yamltree_free(root);
                return error_set(err, STACK_EREJECT, "%s: no services mapping", name);
        }
        *ret_root = root;
        *ret_services = services;
        return 0;
}

int relaunch_plan(const char *name, const char *yaml, size_t len, struct relaunch_plan *ret, struct error *err)
{
        struct yamltree_node *root = NULL;
        const struct yamltree_node *services;
        struct relaunch_service *in = NULL, *out = NULL;
        unsigned char *mark = NULL;
        size_t n = 0, n_out = 0;
        int r;

        memset(ret, 0, sizeof *ret);
        r = relaunch_load(name, yaml, len, &root, &services, err);
        if (r < 0)
                return r;
        in = calloc(services->n / 2 + 1, sizeof *in);
        out = calloc(services->n / 2 + 1, sizeof *out);
        mark = calloc(services->n / 2 + 1, 1);
        if (!in || !out || !mark) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        for (size_t i = 0; r == 0 && i + 1 < services->n; i += 2) {
                const struct yamltree_node *k = services->items[i];
                if (k->kind != YAMLTREE_SCALAR) {
                        r = error_set(err, STACK_EREJECT, "%s: a service name is not a scalar", name);
                        break;
                }
                in[n].name = strdup(k->text);
                if (!in[n++].name) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        break;
                }
                r = service_deps(&in[n - 1], services->items[i + 1], k->text, err);
        }
        for (size_t i = 0; r == 0 && i < n; i++)
                r = place(name, in, n, mark, i, out, &n_out, 0, err);
        if (r == 0) {
                ret->v = out;
                ret->n = n_out;
                out = NULL;
        } else {
                for (size_t i = 0; i < n; i++)
                        service_release(&in[i]);
        }
done:
        free(in); /* on success its entries moved to out */
        free(out);
        free(mark);
        yamltree_free(root);
        return r;
}

/* ---- the record ---- */

static int file_hex(const char *path, char *hex)
{
        char *text = NULL;
        size_t len = 0;
        struct digest d;
        int r = fs_read_file(path, MAX_EFFECTIVE, &text, &len);

        if (r < 0)
                return r;
        digest_buffer(text, len, &d);
        digest_to_hex(&d, hex);
        free(text);
        return 0;
}

static void env_hex(const char *const *env, char *hex)
{
        struct hasher h;
        struct digest d;

        digest_init(&h);
        for (size_t i = 0; env && env[i]; i++)
                digest_update(&h, env[i], strlen(env[i]) + 1);
        digest_final(&h, &d);
        digest_to_hex(&d, hex);
}

void relaunch_forget(const struct relaunch_input *in)
{
        (void)unlink(in->record); /* one that stayed would name containers compose has since replaced: no match */
}

int relaunch_record(struct engine *e, const struct relaunch_input *in, struct error *err)
{
        char eff[DIGEST_HEX_LEN + 1], envh[DIGEST_HEX_LEN + 1], *text = NULL;
        struct engine_config *c = NULL;
        size_t n = 0;
        json_t *j, *a;
        int r;

        r = file_hex(in->effective, eff);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot read %s", in->effective);
        env_hex(in->env, envh);
        r = engine_project_configs(e, in->project, &c, &n, err);
        if (r < 0)
                return r;
        a = json_array();
        j = json_pack("{s:i, s:s, s:s, s:o}", "version", 1, "effective", eff, "env", envh, "containers", a);
        for (size_t i = 0; j && i < n; i++)
                if (json_array_append_new(a,
                                          json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "id", c[i].id, "name",
                                                    c[i].name, "service", c[i].service, "config_hash", c[i].config_hash,
                                                    "image_id", c[i].image_id, "image_ref", c[i].image_ref)) < 0)
                        break;
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        engine_configs_free(c, n);
        if (!text)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = fs_write_atomic(in->record, text, strlen(text), 0644);
        free(text);
        return r < 0 ? error_errno(err, STACK_ESTORE, r, "cannot write %s", in->record) : 0;
}

/* ---- starting ---- */

static int because(char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int because(char **why, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(why, fmt, ap) < 0)
                *why = NULL;
        va_end(ap);
        return 1;
}

static const char *str(const json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "";
}

static bool same(const char *a, const char *b)
{
        return !strcmp(a ? a : "", b ? b : "");
}

/* The containers now against the record: 0 when they are the same, else 1 and why. */
static int compare(const json_t *rec, const struct engine_config *c, size_t n, char **why)
{
        const json_t *list = json_object_get(rec, "containers");

        if (!json_is_array(list) || !json_array_size(list))
                return because(why, "the record names no containers");
        for (size_t i = 0; i < json_array_size(list); i++) {
                const json_t *x = json_array_get(list, i);
                size_t k;
                for (k = 0; k < n && strcmp(c[k].id, str(x, "id")); k++)
                        ;
                if (k == n)
                        return because(why, "container %s (service %s) is gone", str(x, "name"), str(x, "service"));
                /* podman-compose sets no config-hash: none now and none recorded is the same container (same id,
                 * same file and environment), which podman-compose never recreates either */
                if (!same(c[k].config_hash, str(x, "config_hash")))
                        return because(why, "container %s: its com.docker.compose.config-hash changed", c[k].name);
                /* The list names the image by id once its reference is gone: a missing tag shows here. */
                if (!same(c[k].service, str(x, "service")) || !same(c[k].image_id, str(x, "image_id")) ||
                    !same(c[k].image_ref, str(x, "image_ref")))
                        return because(why, "container %s: its service or image changed", c[k].name);
        }
        if (n != json_array_size(list))
                return because(why, "the project has %zu containers, %zu recorded", n, json_array_size(list));
        for (size_t k = 0; k < n; k++)
                if (!c[k].state ||
                    (strcmp(c[k].state, "running") && strcmp(c[k].state, "exited") && strcmp(c[k].state, "created")))
                        return because(why, "container %s is %s", c[k].name, c[k].state ? c[k].state : "in no state");
        return 0;
}

/* Every service of the plan has containers and every container a service of the plan; their images are the
 * ones the references name now. */
static int check_services(struct engine *e, const struct relaunch_plan *p, const struct engine_config *c, size_t n,
                          char **why)
{
        for (size_t i = 0; i < p->n; i++) {
                size_t k;
                for (k = 0; k < n && !same(c[k].service, p->v[i].name); k++)
                        ;
                if (k == n)
                        return because(why, "service %s has no container", p->v[i].name);
        }
        for (size_t k = 0; k < n; k++) {
                struct error ierr = ERROR_INIT;
                char *id = NULL;
                bool fine;
                if (!c[k].service || find(p->v, p->n, c[k].service) == p->n)
                        return because(why, "container %s belongs to no service of the file", c[k].name);
                if (k > 0 && same(c[k].image_ref, c[k - 1].image_ref) && same(c[k].image_id, c[k - 1].image_id))
                        continue; /* asked already */
                if (!c[k].image_ref || engine_image_id(e, c[k].image_ref, &id, &ierr) < 0)
                        return because(why, "image of %s: %s", c[k].name, ierr.msg[0] ? ierr.msg : "unknown");
                fine = id && same(id, c[k].image_id);
                free(id);
                if (!fine)
                        return because(why, "image %s is not the one container %s was created from", c[k].image_ref,
                                       c[k].name);
        }
        return 0;
}

/* One look at a dependency's container: 0 not yet, 1 satisfied, -1 failed (why set). */
static int dep_ready(const struct engine_config *st, const struct relaunch_dep *d, const char *name, char **why)
{
        const char *state = st->state ? st->state : "in no state";

        if (d->cond == RELAUNCH_HEALTHY) {
                if (!strcmp(state, "running") && (!st->health || !strcmp(st->health, "healthy")))
                        return 1; /* no healthcheck: nothing to wait for */
                if (strcmp(state, "running") || !strcmp(st->health, "unhealthy")) {
                        because(why, "dependency %s is %s", name, strcmp(state, "running") ? state : st->health);
                        return -1;
                }
                return 0;
        }
        if (strcmp(state, "exited"))
                return 0;
        if (st->exit_code == 0)
                return 1;
        because(why, "dependency %s exited with code %d", name, st->exit_code);
        return -1;
}

/* Wait as compose would before starting a dependent: every container of dep healthy / exited 0. */
static int wait_dep(struct engine *e, const struct relaunch_dep *d, const struct engine_config *c, size_t n,
                    double deadline, char **why)
{
        for (size_t k = 0; k < n; k++) {
                if (!same(c[k].service, d->service))
                        continue;
                for (;;) {
                        struct engine_config st;
                        struct error ierr = ERROR_INIT;
                        bool gone = false;
                        int ready;
                        if (engine_container_status(e, c[k].id, &st, &gone, &ierr) < 0)
                                return because(why, "%s", ierr.msg);
                        if (gone)
                                return because(why, "container %s went away", c[k].name);
                        ready = dep_ready(&st, d, c[k].name, why);
                        engine_config_release(&st);
                        if (ready < 0)
                                return 1;
                        if (ready > 0)
                                break;
                        if (monotonic_s() > deadline)
                                return because(why, "dependency %s did not get %s in time", c[k].name,
                                               d->cond == RELAUNCH_HEALTHY ? "healthy" : "done");
                        nanosleep(&(struct timespec){0, HEALTH_POLL_MS * 1000 * 1000}, NULL);
                }
        }
        return 0;
}

struct starter {
        const char *id, *name;
        pthread_t thread;
        bool spawned;
        int r;
        struct error err;
};

/* One container's POST /containers/{id}/start on a connection of its own. */
static void *start_one(void *ud)
{
        struct starter *st = ud;
        struct engine *e = NULL;

        st->r = engine_open(&e, &st->err);
        if (st->r == 0)
                st->r = engine_container_start(e, st->id, &st->err);
        engine_free(e);
        return NULL;
}

/* A service's wave is one more than the latest wave of what it depends on (the plan is in dependency order). The
 * containers of one wave start together, each on its own connection, as compose starts independent services in
 * parallel; a wave waits first for the healthy / completed conditions its services name. */
static int start_waves(struct engine *e, const struct relaunch_plan *p, const struct engine_config *c, size_t n,
                       double deadline, char **why)
{
        size_t *wave = calloc(p->n + 1, sizeof *wave), last = 0;
        struct starter *st = calloc(n + 1, sizeof *st);
        int r = 0;

        if (!wave || !st) {
                free(wave);
                free(st);
                return because(why, "out of memory");
        }
        for (size_t i = 0; i < p->n; i++) {
                for (size_t k = 0; k < p->v[i].n_deps; k++) {
                        size_t j = find(p->v, p->n, p->v[i].deps[k].service);
                        if (j < p->n && wave[j] + 1 > wave[i])
                                wave[i] = wave[j] + 1;
                }
                if (wave[i] > last)
                        last = wave[i];
        }
        for (size_t w = 0; r == 0 && w <= last; w++) {
                size_t m = 0;
                for (size_t i = 0; r == 0 && i < p->n; i++)
                        for (size_t k = 0; r == 0 && wave[i] == w && k < p->v[i].n_deps; k++)
                                if (p->v[i].deps[k].cond != RELAUNCH_STARTED)
                                        r = wait_dep(e, &p->v[i].deps[k], c, n, deadline, why);
                for (size_t i = 0; r == 0 && i < p->n; i++)
                        for (size_t k = 0; wave[i] == w && k < n; k++)
                                if (same(c[k].service, p->v[i].name) && strcmp(c[k].state, "running"))
                                        st[m++] = (struct starter){.id = c[k].id, .name = c[k].name, .err = ERROR_INIT};
                for (size_t k = 0; k < m; k++) /* the last one (and any a thread cannot take) on this thread */
                        st[k].spawned = k + 1 < m && pthread_create(&st[k].thread, NULL, start_one, &st[k]) == 0;
                for (size_t k = 0; k < m; k++)
                        if (!st[k].spawned) {
                                st[k].r = engine_container_start(e, st[k].id, &st[k].err);
                        }
                for (size_t k = 0; k < m; k++)
                        if (st[k].spawned)
                                pthread_join(st[k].thread, NULL);
                for (size_t k = 0; r == 0 && k < m; k++)
                        if (st[k].r < 0)
                                r = because(why, "%s", st[k].err.msg);
        }
        free(wave);
        free(st);
        return r;
}

int relaunch_start(struct engine *e, const struct relaunch_input *in, char **why)
{
        char eff[DIGEST_HEX_LEN + 1], envh[DIGEST_HEX_LEN + 1], *text = NULL, *yaml = NULL;
        struct relaunch_plan plan = {0};
        struct engine_config *c = NULL;
        struct error ierr = ERROR_INIT;
        size_t n = 0, len = 0;
        json_t *rec = NULL;
        double deadline = monotonic_s() + (in->timeout_s > 0 ? in->timeout_s : 120);
        int r;

        *why = NULL;
        if (fs_read_file(in->record, MAX_RECORD, &text, NULL) < 0)
                return because(why, "no record of the last compose up");
        rec = json_loads(text, 0, NULL);
        free(text);
        if (!rec || json_integer_value(json_object_get(rec, "version")) != 1) {
                r = because(why, "the record of the last compose up is unreadable");
                goto done;
        }
        if (fs_read_file(in->effective, MAX_EFFECTIVE, &yaml, &len) < 0) {
                r = because(why, "cannot read the effective compose file");
                goto done;
        }
        {
                struct digest d;
                digest_buffer(yaml, len, &d);
                digest_to_hex(&d, eff);
        }
        env_hex(in->env, envh);
        if (strcmp(eff, str(rec, "effective"))) {
                r = because(why, "the effective compose file changed");
                goto done;
        }
        if (strcmp(envh, str(rec, "env"))) {
                r = because(why, "the compose environment changed");
                goto done;
        }
        if (relaunch_plan("effective compose file", yaml, len, &plan, &ierr) < 0) {
                r = because(why, "%s", ierr.msg);
                goto done;
        }
        if (engine_project_configs(e, in->project, &c, &n, &ierr) < 0) {
                r = because(why, "%s", ierr.msg);
                goto done;
        }
        r = compare(rec, c, n, why);
        if (r == 0)
                r = check_services(e, &plan, c, n, why);
        if (r == 0 && in->judge) { /* what the Engine holds, judged before any container starts */
                struct error jerr = ERROR_INIT;
                r = judge_project(e, in->judge, NULL, in->err ? in->err : &jerr);
                if (r < 0 && r != -STACK_EREJECT) /* the Engine failed us: compose up will say */
                        r = because(why, "%s", (in->err ? in->err : &jerr)->msg);
        }
        if (r == 0)
                r = start_waves(e, &plan, c, n, deadline, why);
done:
        engine_configs_free(c, n);
        relaunch_plan_release(&plan);
        json_decref(rec);
        free(yaml);
        return r;
}
