/* routes.c - what each endpoint answers (spec/api.md "Endpoints"). */
#include "routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "gc/gc.h"
#include "jobs.h"
#include "log.h"
#include "logs.h"
#include "page.h"
#include "reply.h"
#include "orch/requests.h"
#include "resolve.h"
#include "orch/approval.h"
#include "sampler.h"
#include "routes-watch.h"
#include "orch/alerts.h"
#include "orch/orch.h"
#include "orch/usage.h"
#include "run/engine.h"
#include "run/run.h"
#include "run/runs.h"
#include "run/snapshot.h"
#include "base/fsutil.h"
#include "store/index.h"
#include "store/store.h"

static struct MHD_Response *get_health(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        *ret_status = MHD_HTTP_OK;
        return reply_text("OK");
}

/* What the API says about a run: its identity and state (orch_run_json without the host paths behind it), its
 * addresses and published ports. */
static json_t *run_info_object(const struct run_info *info)
{
        json_t *o = orch_run_json(&info->row, false);

        json_object_set_new(o, "addresses", orch_addresses_json(info));
        json_object_set_new(o, "ports", info->ports ? json_string(info->ports) : json_null());
        orch_swarm_json(o, info);
        return o;
}

/* How a run fares (spec/api.md "GET /runs"): health (the worst of its containers', null when none has a check),
 * restarts, alerts (undismissed), limits, and usage: now's when given (GET /runs/{id}), else the sampler's last
 * sample (null when there is none). The Engine is asked without the store lock (e may be NULL: it did not
 * answer). */
static void run_fares(struct route_ctx *ctx, struct engine *e, json_t *o, const struct run_row *row,
                      const struct usage_total *now)
{
        struct usage_total t = {0};
        struct engine_stats last;
        const struct engine_stats *use = now && now->running ? &now->use : NULL;
        bool known = now || (e && row->state != RUN_STOPPED && row->state != RUN_PENDING &&
                             usage_health(e, row, &t, NULL) == 0);

        if (now)
                t = *now;
        if (!use && sampler_last(ctx->sampler, row->id, &last))
                use = &last;
        json_object_set_new(o, "health", t.health ? json_string(t.health) : json_null());
        json_object_set_new(o, "restarts", json_integer(t.restarts));
        pthread_mutex_lock(&ctx->lock);
        json_object_set_new(o, "alerts", json_integer(alerts_count(ctx->store, row->id)));
        pthread_mutex_unlock(&ctx->lock);
        json_object_set_new(o, "usage", use ? usage_json(use) : json_null());
        json_object_set_new(o, "limits", known ? usage_limits_json(&t) : json_null());
}

static json_t *request_object(const struct request_row *r)
{
        json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?, s:I, s:I}", "id", r->id, "slug", r->slug,
                              "ref", r->ref, "origin", r->origin, "who", r->who, "state", request_state_name(r->state),
                              "reason", r->reason, "run", r->run_id[0] ? r->run_id : NULL, "requested_at",
                              (json_int_t)r->requested_at, "expires_at", (json_int_t)r->expires_at);

        if (o)
                json_object_set_new(o, "decided_at", r->decided_at ? json_integer(r->decided_at) : json_null());
        return o;
}

static bool engine_answers(void)
{
        struct engine *e = NULL;
        bool up = engine_open(&e, NULL) == 0;

        engine_free(e);
        return up;
}

static unsigned status_of(int code)
{
        switch (code) {
        case -STACK_EUSAGE: return MHD_HTTP_BAD_REQUEST;
        case -STACK_EREJECT: return MHD_HTTP_FORBIDDEN;
        case -STACK_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
        case -STACK_ENETWORK: return MHD_HTTP_BAD_GATEWAY;
        case -STACK_ERUNTIME: return MHD_HTTP_SERVICE_UNAVAILABLE;
        default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
}

static struct MHD_Response *failure(int r, const struct error *err, unsigned *ret_status)
{
        *ret_status = status_of(r);
        return reply_error("%s", err->msg[0] ? err->msg : "failed");
}

/* Reconciled with the Engine when it answers (run_list); "engine" says whether it did. */
static struct MHD_Response *get_runs(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct run_info *v = NULL;
        size_t n = 0;
        json_t *list;
        bool up;
        int r;

        struct engine *e = NULL;

        pthread_mutex_lock(&ctx->lock);
        up = engine_answers();
        r = orch_list(ctx->store, &v, &n, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0)
                return failure(r, &err, ret_status);
        if (up && engine_open(&e, NULL) < 0)
                e = NULL;
        list = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *o = run_info_object(&v[i]);
                if (o)
                        run_fares(ctx, e, o, &v[i].row, NULL);
                json_array_append_new(list, o);
        }
        engine_free(e);
        run_infos_free(v, n);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o, s:b}", "runs", list, "engine", up));
}

/* run_fares() with an Engine client of its own (none when up is false or it does not answer). */
static void run_fares_of(struct route_ctx *ctx, json_t *o, const struct run_row *row, bool up)
{
        struct engine *e = NULL;

        if (up && engine_open(&e, NULL) < 0)
                e = NULL;
        run_fares(ctx, e, o, row, NULL);
        engine_free(e);
}

/* GET /runs/{id}: how the run fares, its usage sampled now (one-shot, USAGE_CPU_WINDOW_MS), without the lock. */
static void run_now(struct route_ctx *ctx, json_t *o, const struct run_row *row, bool up)
{
        struct engine *e = NULL;
        struct usage_container *c = NULL;
        struct usage_total t;
        size_t n = 0;
        bool sampled = false;

        if (up && engine_open(&e, NULL) < 0)
                e = NULL;
        if (e && row->state != RUN_STOPPED && row->state != RUN_PENDING)
                sampled = usage_of_row(e, row, &c, &n, &t, NULL) == 0;
        run_fares(ctx, e, o, row, sampled ? &t : NULL);
        usage_containers_free(c, n);
        engine_free(e);
}

/* A run id, or a request id (what POST /run answered): then the request, with its run once there is one. */
static struct MHD_Response *get_run(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct request_row req;
        struct run_info *v = NULL;
        json_t *out = NULL, *run = NULL;
        size_t n = 0, ri = 0;
        bool up;
        int r;

        pthread_mutex_lock(&ctx->lock);
        up = engine_answers();
        r = orch_list(ctx->store, &v, &n, &err);
        if (r == 0 && requests_get(ctx->store, rq->param, &req, NULL) == 0) {
                for (ri = 0; ri < n && !run; ri++)
                        if (req.run_id[0] && !strcmp(v[ri].row.id, req.run_id))
                                run = run_info_object(&v[ri]);
                out = json_pack("{s:o, s:o, s:b}", "request", request_object(&req), "run", run ? run : json_null(),
                                "engine", up);
                request_row_release(&req);
        }
        pthread_mutex_unlock(&ctx->lock);
        if (out && run) /* the request's run: as in the list (ri is one past it) */
                run_fares_of(ctx, run, &v[ri - 1].row, up);
        for (size_t i = 0; r == 0 && !out && i < n; i++)
                if (!strcmp(v[i].row.id, rq->param)) {
                        out = run_info_object(&v[i]);
                        if (out)
                                run_now(ctx, out, &v[i].row, up);
                        json_object_set_new(out, "engine", json_boolean(up));
                }
        run_infos_free(v, n);
        if (r < 0)
                return failure(r, &err, ret_status);
        if (!out) {
                *ret_status = MHD_HTTP_NOT_FOUND;
                return reply_error("no run or request '%s'", rq->param);
        }
        *ret_status = MHD_HTTP_OK;
        return reply_json(out);
}

static struct MHD_Response *post_run_stop(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct run_row row = {0};
        json_t *o;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = runs_get(ctx->store, rq->param, &row, &err);
        if (r == 0 && strcmp(row.id, rq->param) != 0) /* runs_get also takes a slug; this path names an id */
                r = error_set(&err, STACK_ENOTFOUND, "no run '%s'", rq->param);
        run_row_release(&row);
        if (r == 0)
                r = orch_stop(ctx->store, rq->param, false, false, NULL, NULL, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0)
                return failure(r, &err, ret_status);
        jobs_event_state(ctx->jobs, NULL, row.slug, run_state_name(row.state), row.id, row.reason);
        log_line(LOG_INFO, "run %s (%s) stopped through the API", row.id, row.slug);
        o = orch_run_json(&row, false);
        run_row_release(&row);
        *ret_status = MHD_HTTP_OK;
        return reply_json(o);
}

static struct MHD_Response *get_events(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        *ret_status = MHD_HTTP_OK;
        return jobs_events(ctx->jobs, rq->conn);
}

static bool is_json_type(const char *ct)
{
        size_t n = strlen("application/json");

        return ct && !strncasecmp(ct, "application/json", n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The checks of POST /run before anything is recorded: who may ask, and a well-formed body. */
static struct MHD_Response *run_checks(const struct route_request *rq, const char **ret_slug, const char **ret_version,
                                       json_t **ret_body, unsigned *ret_status)
{
        const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        json_error_t je;
        json_t *body, *slug, *version;

        if (!rq->authenticated && !rq->origin) {
                *ret_status = MHD_HTTP_FORBIDDEN;
                return reply_error("POST /run without a token is accepted only from a catalog website (Origin)");
        }
        if (!rq->authenticated && !is_json_type(ct)) {
                *ret_status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
                return reply_error("POST /run without a token needs Content-Type: application/json");
        }
        body = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
        *ret_status = MHD_HTTP_BAD_REQUEST;
        if (!body)
                return reply_error("malformed JSON: %s (line %d)", je.text, je.line);
        slug = json_object_get(body, "slug");
        version = json_object_get(body, "version");
        if (!json_is_object(body) || !json_is_string(slug) || !*json_string_value(slug)) {
                json_decref(body);
                return reply_error("the body needs {\"slug\": SLUG or bundle URL}");
        }
        if (version && !json_is_null(version) && !json_is_string(version)) {
                json_decref(body);
                return reply_error("version must be a string");
        }
        *ret_slug = json_string_value(slug);
        *ret_version = json_is_string(version) ? json_string_value(version) : NULL;
        *ret_body = body;
        return NULL;
}

static struct MHD_Response *post_run(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        const char *accept = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
        const char *target = NULL, *version = NULL;
        struct error err = ERROR_INIT;
        struct request_row row = {0};
        struct MHD_Response *resp = NULL;
        char slug[64], ref[256];
        json_t *body = NULL;
        bool trusted = false, wants_json = accept && strstr(accept, "application/json");
        int64_t expires = (int64_t)time(NULL) + ctx->expiry_s;
        int r;

        resp = run_checks(rq, &target, &version, &body, ret_status);
        if (resp)
                return resp;
        pthread_mutex_lock(&ctx->lock);
        r = resolve_target(ctx->store, ctx->catalog, target, version, slug, sizeof slug, ref, sizeof ref, &err);
        if (r == 0 && rq->authenticated)
                r = trusted_stack_has(ctx->store, slug, &trusted, &err);
        if (r == 0)
                r = requests_insert(ctx->store, slug, ref, rq->origin, rq->authenticated ? "token" : "anonymous",
                                    trusted ? REQUEST_APPROVED : REQUEST_PENDING, trusted ? "trusted stack" : NULL,
                                    expires, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        json_decref(body);
        if (r < 0)
                return failure(r, &err, ret_status);
        log_line(LOG_INFO, "request %s: %s from %s (%s): %s", row.id, ref, rq->origin ? rq->origin : "no origin",
                 row.who, trusted ? "trusted stack, starting" : "waiting for approval");
        {
                struct job_spec spec = {row.id, slug, ref, !trusted, expires};
                r = jobs_start(ctx->jobs, &spec, rq->conn, wants_json ? NULL : &resp, &err);
        }
        if (r < 0) {
                pthread_mutex_lock(&ctx->lock);
                requests_expire(ctx->store, row.id, true, err.msg, NULL, NULL);
                pthread_mutex_unlock(&ctx->lock);
                request_row_release(&row);
                *ret_status = MHD_HTTP_SERVICE_UNAVAILABLE;
                return reply_error("%s", err.msg);
        }
        if (wants_json) {
                *ret_status = MHD_HTTP_ACCEPTED;
                resp = reply_json(json_pack("{s:s, s:s}", "id", row.id, "state", request_state_name(row.state)));
        } else {
                *ret_status = MHD_HTTP_OK;
        }
        request_row_release(&row);
        return resp;
}

static json_t *version_object(const struct version_info *v)
{
        char tree[DIGEST_HEX_LEN + 1];
        json_t *o = json_object();

        digest_to_hex(&v->tree, tree);
        json_object_set_new(o, "version", json_string(v->version));
        json_object_set_new(o, "tree", json_string(tree));
        json_object_set_new(o, "signer", v->signer ? json_string(v->signer) : json_null());
        json_object_set_new(o, "insecure", json_boolean(v->insecure));
        json_object_set_new(o, "fetched_at", json_integer(v->fetched_at));
        json_object_set_new(o, "files", json_integer((json_int_t)v->n_files));
        json_object_set_new(o, "size", json_integer((json_int_t)v->size));
        json_object_set_new(o, "image_bytes", json_integer((json_int_t)v->image_bytes));
        return o;
}

/* The store's versions grouped by stack: index_list_versions orders them by slug, newest first. */
static struct MHD_Response *get_stacks(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct version_info *v = NULL;
        json_t *stacks, *versions = NULL;
        size_t n = 0;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = index_list_versions(store_index(ctx->store), NULL, &v, &n, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0) {
                *ret_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                return reply_error("%s", err.msg);
        }
        stacks = json_array();
        for (size_t i = 0; i < n; i++) {
                if (i == 0 || strcmp(v[i].slug, v[i - 1].slug) != 0) {
                        versions = json_array();
                        json_array_append_new(stacks,
                                              json_pack("{s:s, s:s?, s:s?, s:o}", "slug", v[i].slug, "name", v[i].name,
                                                        "description", v[i].description, "versions", versions));
                }
                json_array_append_new(versions, version_object(&v[i]));
        }
        version_list_free(v, n);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o}", "stacks", stacks));
}

/* ---- the page and the endpoints it calls (spec/api.md "The page") ---- */

static struct MHD_Response *get_page(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        return page_asset(rq->path, rq->session || rq->authenticated, ret_status);
}

static struct MHD_Response *get_login(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        const char *t = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "t");

        return page_login(ctx->sessions, ctx->home, t, ret_status);
}

/* Pending requests, oldest first (those past their time expired first, as stack ps does), each with what approving
 * it approves (orch/approval.h). */
static struct MHD_Response *get_requests(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct engine *e = NULL;
        struct request_row *v = NULL;
        size_t n = 0;
        json_t *list;
        int r;

        if (engine_open(&e, NULL) < 0)
                e = NULL; /* then an image counts as cached only when the store holds it */
        pthread_mutex_lock(&ctx->lock);
        r = requests_expire(ctx->store, NULL, false, "no decision in time", NULL, &err);
        if (r == 0)
                r = requests_list(ctx->store, REQUEST_PENDING, &v, &n, &err);
        list = json_array();
        for (size_t i = 0; r == 0 && i < n; i++) {
                json_t *o = request_object(&v[i]), *a = NULL;
                struct error aerr = ERROR_INIT;
                if (approval_describe(ctx->store, e, v[i].ref, &a, &aerr) < 0) /* the request stays decidable */
                        a = json_pack("{s:b, s:s}", "in_store", 0, "approval_error", aerr.msg);
                json_object_update(o, a);
                json_decref(a);
                json_array_append_new(list, o);
        }
        pthread_mutex_unlock(&ctx->lock);
        engine_free(e);
        request_rows_free(v, n);
        if (r < 0) {
                json_decref(list);
                return failure(r, &err, ret_status);
        }
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o}", "requests", list));
}

/* What stack approve / stack deny do; the worker waiting for the row notices (and sends the state event). */
static struct MHD_Response *decide(struct route_ctx *ctx, const struct route_request *rq, bool approve,
                                   unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct request_row row = {0};
        const char *reason = approve ? "approved through the API" : "denied through the API";
        json_t *body = rq->body_len ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
        json_t *o;
        int r;

        if (rq->body_len && (!json_is_object(body) ||
                             (json_object_get(body, "reason") && !json_is_string(json_object_get(body, "reason"))))) {
                json_decref(body);
                *ret_status = MHD_HTTP_BAD_REQUEST;
                return reply_error("the body, when there is one, is {\"reason\": TEXT}");
        }
        if (!approve && json_is_string(json_object_get(body, "reason")))
                reason = json_string_value(json_object_get(body, "reason"));
        pthread_mutex_lock(&ctx->lock);
        r = requests_get(ctx->store, rq->param, &row, &err);
        if (r == 0)
                r = requests_decide(ctx->store, rq->param, approve ? REQUEST_APPROVED : REQUEST_DENIED, reason, &err);
        request_row_release(&row);
        if (r == 0)
                r = requests_get(ctx->store, rq->param, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        json_decref(body);
        if (r == -STACK_EFAIL) { /* no longer pending: decided, or expired */
                *ret_status = MHD_HTTP_CONFLICT;
                return reply_error("%s", err.msg);
        }
        if (r < 0)
                return failure(r, &err, ret_status);
        log_line(LOG_INFO, "request %s (%s) %s through the API", row.id, row.ref, request_state_name(row.state));
        o = request_object(&row);
        request_row_release(&row);
        *ret_status = MHD_HTTP_OK;
        return reply_json(o);
}

static struct MHD_Response *post_approve(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        return decide(ctx, rq, true, ret_status);
}

static struct MHD_Response *post_deny(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        return decide(ctx, rq, false, ret_status);
}

/* The run's id, exactly (runs_get also takes a slug; these paths name an id). */
static int run_by_id(struct route_ctx *ctx, const char *id, struct run_row *row, struct error *err)
{
        int r = runs_get(ctx->store, id, row, err);

        if (r == 0 && strcmp(row->id, id) != 0) {
                run_row_release(row);
                memset(row, 0, sizeof *row);
                r = error_set(err, STACK_ENOTFOUND, "no run '%s'", id);
        }
        return r;
}

/* Starts the run's version again, as POST /run does once approved: a request row (approved, reason "started
 * through the API") and a worker; 202 at once, the rest arrives as events. */
static struct MHD_Response *post_run_start(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct run_row run = {0};
        struct request_row row = {0};
        char ref[256];
        int64_t expires = (int64_t)time(NULL) + ctx->expiry_s;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = run_by_id(ctx, rq->param, &run, &err);
        if (r == 0 && fs_path(ref, sizeof ref, "%s@%s", run.slug, run.version) < 0)
                r = error_set(&err, STACK_EUSAGE, "ref too long");
        if (r == 0)
                r = requests_insert(ctx->store, run.slug, ref, rq->origin, "token", REQUEST_APPROVED,
                                    "started through the API", expires, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r == 0) {
                struct job_spec spec = {row.id, run.slug, ref, false, expires};
                r = jobs_start(ctx->jobs, &spec, rq->conn, NULL, &err);
                if (r < 0) {
                        pthread_mutex_lock(&ctx->lock);
                        requests_expire(ctx->store, row.id, true, err.msg, NULL, NULL);
                        pthread_mutex_unlock(&ctx->lock);
                        r = error_set(&err, STACK_ERUNTIME, "%s", err.msg);
                }
        }
        if (r == 0)
                log_line(LOG_INFO, "run %s (%s) started through the API (request %s)", run.id, ref, row.id);
        *ret_status = MHD_HTTP_ACCEPTED;
        {
                struct MHD_Response *resp = r < 0 ? failure(r, &err, ret_status)
                                                  : reply_json(json_pack("{s:s, s:s, s:s}", "request", row.id, "run",
                                                                         run.id, "state", "approved"));
                run_row_release(&run);
                request_row_release(&row);
                return resp;
        }
}

/* stack rm: the run taken down and its row deleted (its data stays). */
static struct MHD_Response *delete_run(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct run_row row = {0};
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = run_by_id(ctx, rq->param, &row, &err);
        run_row_release(&row);
        memset(&row, 0, sizeof row);
        if (r == 0)
                r = orch_stop(ctx->store, rq->param, true, false, NULL, NULL, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0)
                return failure(r, &err, ret_status);
        jobs_event_state(ctx->jobs, NULL, row.slug, run_state_name(RUN_REMOVED), rq->param, NULL);
        log_line(LOG_INFO, "run %s (%s) removed through the API", rq->param, row.slug);
        run_row_release(&row);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:s, s:s}", "id", rq->param, "state", run_state_name(RUN_REMOVED)));
}

#define LOGS_MAX (256 * 1024) /* the last this many bytes of the logs */

/* compose logs of the run into a memfd, on a store connection of its own (the compose tool may take a
 * second; the shared store is not held meanwhile). ?follow=1: streamed as it comes (logs.h). */
static struct MHD_Response *get_run_logs(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct run_row row = {0};
        struct MHD_Response *resp;
        char *text = NULL;
        off_t size;
        size_t off;
        int fd = -1, r;

        const char *follow = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "follow");

        pthread_mutex_lock(&ctx->lock);
        r = run_by_id(ctx, rq->param, &row, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r == 0 && follow && !strcmp(follow, "1")) {
                run_row_release(&row);
                r = logs_follow(ctx->logs, ctx->home, rq->param, rq->conn, &resp, &err);
                if (r < 0) {
                        *ret_status = MHD_HTTP_SERVICE_UNAVAILABLE;
                        return reply_error("%s", err.msg);
                }
                *ret_status = MHD_HTTP_OK;
                return resp;
        }
        if (r == 0)
                r = store_open(ctx->home, &s, &err);
        if (r == 0 && (fd = memfd_create("stack-logs", MFD_CLOEXEC)) < 0)
                r = error_errno(&err, STACK_EFAIL, errno, "memfd_create");
        if (r == 0)
                r = run_logs_to(s, rq->param, false, fd, NULL, &err);
        store_free(s);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                run_row_release(&row);
                return failure(r, &err, ret_status);
        }
        size = lseek(fd, 0, SEEK_END);
        off = size > LOGS_MAX ? (size_t)size - LOGS_MAX : 0;
        text = malloc((size_t)size - off + 512);
        if (text) {
                int head = row.reason ? snprintf(text, 512, "run %s of %s is %s: %.400s\n", row.id, row.slug,
                                                 run_state_name(row.state), row.reason)
                                      : 0;
                ssize_t got = pread(fd, text + head, (size_t)size - off, (off_t)off);
                resp = got < 0 ? NULL
                               : MHD_create_response_from_buffer((size_t)head + (size_t)got, text,
                                                                 MHD_RESPMEM_MUST_FREE);
                if (!resp)
                        free(text);
        } else {
                resp = NULL;
        }
        close(fd);
        run_row_release(&row);
        reply_headers(resp, "text/plain; charset=utf-8");
        *ret_status = MHD_HTTP_OK;
        return resp;
}

/* gc --dry-run --json: what gc would remove now (nothing changes). ?keep=N as stack gc --keep. */
static struct MHD_Response *get_gc(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        const char *k = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "keep");
        struct gc_options o = GC_OPTIONS_INIT;
        struct gc_report rep = {0};
        struct error err = ERROR_INIT;
        json_t *out;
        char *end;
        int r;

        if (k) {
                long keep = strtol(k, &end, 10);
                if (!*k || *end || keep < 1 || keep > 1000000) {
                        *ret_status = MHD_HTTP_BAD_REQUEST;
                        return reply_error("keep wants a number from 1");
                }
                o.keep = (unsigned)keep;
        }
        o.dry_run = true;
        pthread_mutex_lock(&ctx->lock);
        r = orch_gc(ctx->store, &o, &rep, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0) {
                gc_report_release(&rep);
                return failure(r, &err, ret_status);
        }
        out = json_pack("{s:b, s:i, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
                        "dry_run", 1, "keep", (int)o.keep, "roots", "kept_versions", (json_int_t)rep.kept_versions,
                        "runs", (json_int_t)rep.root_runs, "pins", (json_int_t)rep.root_pins, "newest",
                        (json_int_t)rep.root_newest, "would_remove", "versions", (json_int_t)rep.versions, "stacks",
                        (json_int_t)rep.stacks, "trees", (json_int_t)rep.trees, "entries", (json_int_t)rep.entries,
                        "objects", (json_int_t)rep.objects, "object_bytes", (json_int_t)rep.object_bytes, "temp_files",
                        (json_int_t)rep.temp_files, "temp_bytes", (json_int_t)rep.temp_bytes, "run_dirs",
                        (json_int_t)rep.run_dirs);
        if (out)
                json_object_set_new(json_object_get(out, "would_remove"), "images", orch_strv_json(rep.images));
        gc_report_release(&rep);
        *ret_status = MHD_HTTP_OK;
        return reply_json(out);
}

/* ---- snapshots (stack snapshots --json, stack snapshot SLUG) ---- */

/* Newest first; ?slug=S: that stack's only (a slug with none, or unknown: an empty list). */
static struct MHD_Response *get_snapshots(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        const char *slug = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "slug");
        struct error err = ERROR_INIT;
        struct snapshot_row *v = NULL;
        size_t n = 0;
        json_t *list;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = snapshot_list(ctx->store, slug && *slug ? slug : NULL, &v, &n, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0)
                return failure(r, &err, ret_status);
        list = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, snapshot_row_json(&v[i]));
        snapshot_rows_free(v, n);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o}", "snapshots", list));
}

/* A stack the store knows: a version of it, or a run. */
static int stack_known(struct store *s, const char *slug, struct error *err)
{
        struct version_info *v = NULL;
        struct run_row run = {0};
        size_t n = 0;
        int r = index_list_versions(store_index(s), slug, &v, &n, err);

        version_list_free(v, n);
        if (r == 0 && n == 0) {
                bool have = runs_get(s, slug, &run, NULL) == 0 && !strcmp(run.slug, slug);
                run_row_release(&run);
                if (!have)
                        r = error_set(err, STACK_ENOTFOUND, "no stack '%s' in the store", slug);
        }
        return r;
}

/* stack snapshot SLUG, on a store connection of its own (the volumes are read through the Engine: the shared
 * store is not held meanwhile). */
static struct MHD_Response *post_stack_snapshot(struct route_ctx *ctx, const struct route_request *rq,
                                                unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;
        struct snapshot_row row = {0};
        json_t *o;
        int r = store_open(ctx->home, &s, &err);

        if (r == 0)
                r = stack_known(s, rq->param, &err);
        if (r == 0)
                r = snapshot_take_manual(s, rq->param, NULL, &row, &err);
        store_free(s);
        if (r < 0)
                return failure(r, &err, ret_status);
        log_line(LOG_INFO, "snapshot %s of %s taken through the API (%llu files, %llu bytes)", row.id, row.slug,
                 (unsigned long long)row.files, (unsigned long long)row.size);
        o = snapshot_row_json(&row);
        snapshot_row_release(&row);
        *ret_status = MHD_HTTP_OK;
        return reply_json(o);
}

/* The stack's icon (stack.yaml `icon`, read from the store): an SVG is sandboxed, so a script in it never runs with
 * the daemon's origin, even opened on its own. */
static struct MHD_Response *get_stack_icon(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct MHD_Response *resp;
        const char *type = NULL;
        char *data = NULL;
        size_t len = 0;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = approval_icon(ctx->store, rq->param, &data, &len, &type, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0)
                return failure(r, &err, ret_status);
        resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(data);
                *ret_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                return reply_error("out of memory");
        }
        reply_headers(resp, type);
        if (!strcmp(type, "image/svg+xml"))
                MHD_add_response_header(resp, "Content-Security-Policy", "sandbox");
        *ret_status = MHD_HTTP_OK;
        return resp;
}

static const struct route routes[] = {
        {"GET", "/", false, get_page}, /* the page: with a session the app, else how to log in */
        {"GET", "/app.js", false, get_page},
        {"GET", "/app.css", false, get_page},
        {"GET", "/login", false, get_login},
        {"GET", "/requests", true, get_requests},
        {"POST", "/requests/{id}/approve", true, post_approve},
        {"POST", "/requests/{id}/deny", true, post_deny},
        {"POST", "/runs/{id}/start", true, post_run_start},
        {"DELETE", "/runs/{id}", true, delete_run},
        {"GET", "/runs/{id}/logs", true, get_run_logs},
        {"GET", "/gc", true, get_gc},
        {"GET", "/health", false, get_health},
        {"POST", "/run", false, post_run}, /* its own checks: token, or an allowed Origin + JSON */
        {"GET", "/runs", true, get_runs},
        {"GET", "/runs/{id}", true, get_run},
        {"POST", "/runs/{id}/stop", true, post_run_stop},
        {"GET", "/stacks", true, get_stacks},
        {"GET", "/events", true, get_events},
        {"GET", "/snapshots", true, get_snapshots},
        {"POST", "/stacks/{id}/snapshot", true, post_stack_snapshot},
        {"GET", "/stacks/{id}/icon", true, get_stack_icon},
        {"GET", "/alerts", true, watch_get_alerts},
        {"POST", "/alerts/{id}/dismiss", true, watch_post_dismiss},
};

/* path against a route's pattern; the {id} segment's text into param[size]. */
static bool path_matches(const char *pattern, const char *path, char *param, size_t size)
{
        const char *hole = strstr(pattern, "{id}");
        size_t pre, n;

        if (!hole)
                return !strcmp(pattern, path);
        pre = (size_t)(hole - pattern);
        if (strncmp(pattern, path, pre) != 0)
                return false;
        n = strspn(path + pre, "0123456789abcdefghijklmnopqrstuvwxyz-");
        if (n == 0 || n >= size || strcmp(path + pre + n, hole + 4) != 0)
                return false;
        memcpy(param, path + pre, n);
        param[n] = '\0';
        return true;
}

const struct route *routes_find(const char *method, const char *path, char *param, size_t size, bool *ret_path_known)
{
        bool known = false;

        param[0] = '\0';
        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
                if (!path_matches(routes[i].path, path, param, size))
                        continue;
                known = true;
                if (!strcmp(routes[i].method, method)) {
                        *ret_path_known = true;
                        return &routes[i];
                }
        }
        *ret_path_known = known;
        return NULL;
}

void routes_allowed_methods(const char *path, char *buf, size_t size)
{
        size_t used = 0;

        char param[64];

        buf[0] = '\0';
        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
                if (path_matches(routes[i].path, path, param, sizeof param) && used < size)
                        used += (size_t)snprintf(buf + used, size - used, "%s, ", routes[i].method);
        if (used < size)
                snprintf(buf + used, size - used, "OPTIONS");
}
