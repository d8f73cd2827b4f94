/* routes-watch.h - the endpoints of the watcher's findings (spec/api.md "GET /alerts"), in the route table of
 * routes.c: GET /alerts (?all=1 includes the dismissed ones) and POST /alerts/{id}/dismiss. Handlers as
 * routes.h describes them; they take ctx->lock around the store. */
#ifndef STACK_ROUTES_WATCH_H
#define STACK_ROUTES_WATCH_H

#include "routes.h"

struct MHD_Response *watch_get_alerts(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status);
struct MHD_Response *watch_post_dismiss(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status);

#endif
