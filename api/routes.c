/* routes.c - what each endpoint answers. Phase 1: /health, /runs, /stacks (spec/api.md). */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

#include "reply.h"
#include "run/runs.h"
#include "store/index.h"
#include "store/store.h"

static struct MHD_Response *get_health(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        *ret_status = MHD_HTTP_OK;
        return reply_text("OK");
}

/* What the API says about a run: its identity and state, not the host paths behind it. */
static json_t *run_object(const struct run_row *row)
{
        json_t *o = json_object();

        json_object_set_new(o, "id", json_string(row->id));
        json_object_set_new(o, "slug", json_string(row->slug));
        json_object_set_new(o, "version", json_string(row->version));
        json_object_set_new(o, "state", json_string(row->state));
        json_object_set_new(o, "reason", row->reason ? json_string(row->reason) : json_null());
        json_object_set_new(o, "created_at", json_integer(row->created_at));
        json_object_set_new(o, "updated_at", json_integer(row->updated_at));
        json_object_set_new(o, "started_at", row->started_at ? json_integer(row->started_at) : json_null());
        json_object_set_new(o, "stopped_at", row->stopped_at ? json_integer(row->stopped_at) : json_null());
        return o;
}

static struct MHD_Response *get_runs(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct run_row *rows = NULL;
        size_t n = 0;
        json_t *list;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = runs_list(ctx->store, &rows, &n, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0) {
                *ret_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                return reply_error("%s", err.msg);
        }
        list = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, run_object(&rows[i]));
        run_rows_free(rows, n);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o}", "runs", list));
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

static const struct route routes[] = {
        {"GET", "/health", false, get_health},
        {"GET", "/runs", true, get_runs},
        {"GET", "/stacks", true, get_stacks},
};

const struct route *routes_find(const char *method, const char *path, bool *ret_path_known)
{
        bool known = false;

        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
                if (strcmp(routes[i].path, path) != 0)
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

        buf[0] = '\0';
        for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
                if (!strcmp(routes[i].path, path) && used < size)
                        used += (size_t)snprintf(buf + used, size - used, "%s, ", routes[i].method);
        if (used < size)
                snprintf(buf + used, size - used, "OPTIONS");
}
