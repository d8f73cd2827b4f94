/* server.h - the `stack serve` daemon: HTTPS (libmicrohttpd + GnuTLS) on a loopback address (spec/api.md).
 *
 * Calling sequence:
 *   server_check_address(address, err)   refuses anything but a loopback IP (127.0.0.0/8, ::1) or "localhost"
 *   server_start(&config, &srv, err)     binds, starts a pool of SERVER_THREADS threads, returns at once
 *   server_port(srv)                     the port bound (config.port 0 picks a free one)
 *   ... the caller waits (cmd-serve: sigwait for SIGTERM/SIGINT, blocked in every thread before start) ...
 *   server_stop(srv)                     stops accepting, ends the threads, frees; safe with NULL
 *
 * Every request goes through, in this order: the Host header (must name the address served, with its port:
 * 127.0.0.1, 127.1, localhost, [::1], or the bound address; else 421), CORS (a request with an Origin that is
 * not configured gets 403 and no CORS headers; OPTIONS from a configured origin is answered as a preflight),
 * the body limit (SERVER_MAX_BODY, 413), a token when one is sent (Authorization: Bearer; a bad one is 401 on
 * every route), the route (404/405), the route's need for a token (401). Each finished request logs one line
 * on stderr.
 *
 * Long work and streaming: handlers run on the pool threads, and MHD runs with MHD_ALLOW_SUSPEND_RESUME and
 * MHD_USE_ITC, so POST /run and GET /events answer with MHD_create_response_from_callback whose reader
 * suspends the connection while no line is ready (MHD_suspend_connection) and the worker thread that does the
 * run resumes it (MHD_resume_connection) as lines arrive (jobs.h); no pool thread waits for a run.
 * server_stop() ends the streams (jobs_shutdown) before it stops MHD, then waits for the workers.
 */
#ifndef STACK_SERVER_H
#define STACK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/ports.h"

#define SERVER_DEFAULT_PORT     PORTS_API_DEFAULT
#define SERVER_DEFAULT_ADDRESS  "127.0.0.1"
#define SERVER_DEFAULT_ORIGIN   "https://stack.lol"
#define SERVER_MAX_BODY         (64 * 1024)
#define SERVER_DRAIN_BODY       (1024 * 1024) /* a larger Content-Length is refused before its body is read */
#define SERVER_THREADS          4
#define SERVER_MAX_CONNECTIONS  128 /* all clients are local: the per-IP limit is what bites */
#define SERVER_MAX_PER_IP       64
#define SERVER_IDLE_TIMEOUT     30 /* seconds a connection may sit idle (slow or stuck clients) */
#define SERVER_REQUEST_DEADLINE 10 /* seconds from accept (or the last answer) to a complete request: not reset */
#define SERVER_MAX_PENDING      32 /* connections still sending a request; a newcomer over it cuts the oldest */
#define SERVER_MAX_ANON_STREAMS 8  /* anonymous POST /run streams waiting at once (429 over it) */

struct store;
struct server;

struct server_config {
        const char *address;        /* loopback only (server_check_address) */
        unsigned port;              /* 0: a free port */
        const char *const *origins; /* the CORS origins allowed, exact strings ("https://stack.lol") */
        size_t n_origins;
        const char *key_pem, *cert_pem; /* NUL-terminated PEM text, copied by server_start */
        const unsigned char *secret;    /* the HS256 key (jwt.h), copied */
        size_t secret_len;
        struct store *store; /* shared by the handlers, under a lock; the caller frees it after server_stop */
        unsigned max_connections, max_per_ip; /* 0: the defaults above */
        const char *catalog;                  /* POST /run's catalog base URL; NULL: none (slugs in the store only) */
        int expiry_s;                         /* seconds a request waits for approval; 0: REQUEST_EXPIRY_DEFAULT */
        bool auto_approve;                    /* tests only: every request approved at once, logged loudly */
        unsigned request_deadline_s;          /* 0: SERVER_REQUEST_DEADLINE */
};

int server_check_address(const char *address, struct error *err);
int server_start(const struct server_config *config, struct server **ret, struct error *err);
unsigned server_port(const struct server *srv);
void server_stop(struct server *srv);

#endif
