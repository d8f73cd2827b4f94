/* routes-watch.c - GET /alerts and POST /alerts/{id}/dismiss (routes-watch.h, spec/api.md). */
#include "routes-watch.h"

#include "orch/alerts.h"
#include "reply.h"

#include <string.h>

#include <jansson.h>
#include <microhttpd.h>

struct MHD_Response *watch_get_alerts(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        struct alert *v = NULL;
        size_t n = 0;
        const char *all = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "all");
        json_t *list;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = alerts_list(ctx->store, all && strcmp(all, "0"), &v, &n, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0) {
                *ret_status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                return reply_error("%s", err.msg);
        }
        list = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, alert_json(&v[i]));
        alerts_free(v, n);
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:o}", "alerts", list));
}

struct MHD_Response *watch_post_dismiss(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        int r;

        pthread_mutex_lock(&ctx->lock);
        r = alerts_dismiss(ctx->store, rq->param, &err);
        pthread_mutex_unlock(&ctx->lock);
        if (r < 0) {
                *ret_status = r == -STACK_ENOTFOUND ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
                return reply_error("%s", err.msg);
        }
        *ret_status = MHD_HTTP_OK;
        return reply_json(json_pack("{s:s}", "dismissed", rq->param));
}
