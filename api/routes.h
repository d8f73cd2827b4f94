/* routes.h - the API's route table and its handlers (spec/api.md "Endpoints").
 *
 * The server (server.c) runs its checks first - Host, then CORS, then the body limit, then auth for the routes
 * that need it - and only then calls routes_find() and the route's handler, on one of its pool threads. A
 * handler returns the HTTP status and a response from reply.h (or, for a streamed body, one made with
 * MHD_create_response_from_callback), or NULL for "out of memory" (the server answers 500).
 *
 * Handlers that touch the store take ctx->lock around it: the daemon shares one store (one SQLite connection)
 * between its threads.
 */
#ifndef STACK_ROUTES_H
#define STACK_ROUTES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;
struct MHD_Response;
struct store;

struct route_ctx {
        struct store *store;
        pthread_mutex_t lock; /* held around every use of store */
};

struct route_request {
        const char *method, *path;
        const char *body; /* NUL-terminated, at most the server's body limit; "" when none */
        size_t body_len;
        bool authenticated; /* a valid token came with the request */
        struct MHD_Connection *conn;
};

typedef struct MHD_Response *(*route_fn)(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status);

struct route {
        const char *method, *path;
        bool needs_token;
        route_fn fn;
};

/* The route for method + path; NULL when none. *ret_path_known tells 405 (path exists, other method) from 404. */
const struct route *routes_find(const char *method, const char *path, bool *ret_path_known);
/* "GET, OPTIONS" style list of the methods a path answers (for Allow on 405); buf: size bytes. */
void routes_allowed_methods(const char *path, char *buf, size_t size);

#endif
