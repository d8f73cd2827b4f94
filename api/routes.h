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

struct jobs;
struct sampler;

struct route_ctx {
        struct store *store;
        pthread_mutex_t lock;      /* held around every use of store */
        struct jobs *jobs;         /* POST /run's workers and streams, /events (jobs.h) */
        const char *catalog;       /* the catalog base URL (--catalog, $STACK_CATALOG); NULL: none */
        int expiry_s;              /* how long a request waits for a decision */
        struct sessions *sessions; /* the page's logins (session.h) */
        const char *home;          /* STACK_HOME: login links, and the store logs open on their own */
        struct logs *logs;         /* GET /runs/{id}/logs?follow=1 streams (logs.h) */
        struct sampler *sampler;   /* the last usage sample of each run, while /events is read (sampler.h) */
};

struct route_request {
        const char *method, *path;
        const char *body; /* NUL-terminated, at most the server's body limit; "" when none */
        size_t body_len;
        bool authenticated; /* a valid token came with the request, or the page's session cookie */
        bool session;       /* it was the session cookie (no token) */
        const char *origin; /* the Origin header (an allowed one: the server checked), NULL when none */
        const char *param;  /* the {id} of /runs/{id}... (the slug of /stacks/{id}/snapshot), "" when none */
        struct MHD_Connection *conn;
};

typedef struct MHD_Response *(*route_fn)(struct route_ctx *ctx, const struct route_request *rq, unsigned *ret_status);

struct route {
        const char *method, *path;
        bool needs_token;
        route_fn fn;
};

/* The route for method + path; NULL when none. *ret_path_known tells 405 (path exists, other method) from 404.
 * A route path may hold one "{id}" segment: what stands there (at most size - 1 bytes of [0-9a-z-]) goes to
 * param[size]. */
const struct route *routes_find(const char *method, const char *path, char *param, size_t size, bool *ret_path_known);
/* "GET, OPTIONS" style list of the methods a path answers (for Allow on 405); buf: size bytes. */
void routes_allowed_methods(const char *path, char *buf, size_t size);

#endif
