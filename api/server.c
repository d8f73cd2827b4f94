/* server.c - the HTTPS daemon: libmicrohttpd plumbing, the per-request checks (Host, CORS, body, token) and
 * the dispatch to routes.c.
 *
 * The listening socket is made here rather than by MHD, so that "address in use" or "not loopback" come back
 * as clear errors and port 0 can pick a free port. MHD runs a pool of threads over epoll, with a connection
 * limit and a per-IP limit: a connection over either is closed at accept, and the daemon goes on serving.
 *
 * Slow clients (every client is 127.0.0.1, so the per-IP limit alone protects nobody): each connection is
 * tracked from accept (MHD_OPTION_NOTIFY_CONNECTION) and must have sent a complete request (headers and body)
 * within the deadline of its accept or of its previous answer; a reaper thread shuts down the socket of one
 * that has not, whatever it trickles. When more than SERVER_MAX_PENDING connections are still sending, the
 * oldest of them is cut to make room, so the per-IP limit is never reached by half-sent requests. Anonymous
 * POST /run streams are at most SERVER_MAX_ANON_STREAMS at once (429).
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <mbedtls/platform_util.h>

#include "jobs.h"
#include "jwt.h"
#include "log.h"
#include "logs.h"
#include "reply.h"
#include "orch/requests.h"
#include "routes.h"
#include "sampler.h"
#include "session.h"
#include "orch/watch.h"
#include "base/fsutil.h"
#include "store/store.h"

#define MAX_HOSTS    6
#define HOST_LEN     64
#define LOG_PATH_MAX 128

/* One connection as the deadline sees it (socket_context of MHD_OPTION_NOTIFY_CONNECTION). */
struct conn {
        struct conn *prev, *next;
        int fd;
        struct timespec since; /* accepted, or its last request finished: the request must be complete by since +
                                * the deadline */
        bool busy;             /* a complete request is being answered (a stream may last): no deadline */
        bool stream;           /* an anonymous POST /run that streams: counted against SERVER_MAX_ANON_STREAMS */
        bool cut;              /* shut down by the deadline or to make room */
};

struct server {
        struct MHD_Daemon *mhd;
        pthread_mutex_t conns_lock;
        pthread_cond_t conns_cond;
        struct conn *conns, *conns_tail; /* oldest first */
        size_t n_pending, n_streams;     /* connections still sending a request; anonymous streams */
        unsigned deadline_s;
        pthread_t reaper;
        bool conns_made, reaper_made, stopping;
        int fd;
        unsigned port;
        char hosts[MAX_HOSTS][HOST_LEN]; /* accepted Host header values */
        size_t n_hosts;
        char self[MAX_HOSTS][HOST_LEN + 8]; /* the daemon's own origins: https:// + each host (the page's) */
        struct sessions *sessions;          /* the page's logins (session.h) */
        char **origins;
        size_t n_origins;
        unsigned char secret[JWT_SECRET_LEN * 2];
        size_t secret_len;
        char *key_pem, *cert_pem;
        struct route_ctx routes;
        bool routes_lock_made;
        struct watch *watch; /* the Engine event watcher (orch/watch.h); NULL with STACK_WATCH=0 */
        char *catalog;
};

/* One request's state across MHD's calls of on_request (con_cls). */
struct request {
        struct timespec start;
        char method[16], path[LOG_PATH_MAX];
        unsigned status;
        bool too_big, answered;
        char *body;
        size_t body_len;
};

static const char *header(struct MHD_Connection *c, const char *name)
{
        return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

int server_check_address(const char *address, struct error *err)
{
        struct in_addr a4;
        struct in6_addr a6;

        if (!address || !*address)
                return error_set(err, STACK_EUSAGE, "no address to listen on");
        if (!strcasecmp(address, "localhost"))
                return 0;
        if (inet_pton(AF_INET, address, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
                return 0;
        if (inet_pton(AF_INET6, address, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6))
                return 0;
        return error_set(err, STACK_EUSAGE,
                         "refusing to listen on %s: stack serve listens on a loopback address only "
                         "(127.0.0.1, ::1 or localhost)",
                         address);
}

/* Bind address:port and listen; *ret_port gets the port bound. */
static int listen_on(const char *address, unsigned port, bool *ret_v6, unsigned *ret_port, struct error *err)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        const char *ip = strcasecmp(address, "localhost") ? address : "127.0.0.1";
        int fd = -1, one = 1, r;
        bool v6 = strchr(ip, ':') != NULL;

        if (port > 65535)
                return error_set(err, STACK_EUSAGE, "port %u is not a TCP port", port);
        if (v6) {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t)port);
                inet_pton(AF_INET6, ip, &s6->sin6_addr);
                len = sizeof *s6;
        } else {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t)port);
                inet_pton(AF_INET, ip, &s4->sin_addr);
                len = sizeof *s4;
        }
        fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "socket");
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (v6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot listen on %s port %u", address, port);
                close(fd);
                return r;
        }
        if (listen(fd, 128) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
                r = error_errno(err, STACK_EFAIL, errno, "cannot listen on %s port %u", address, port);
                close(fd);
                return r;
        }
        *ret_port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
        *ret_v6 = v6;
        return fd;
}

static void add_host(struct server *srv, const char *name)
{
        if (srv->n_hosts < MAX_HOSTS && fs_path(srv->hosts[srv->n_hosts], HOST_LEN, "%s:%u", name, srv->port) == 0 &&
            fs_path(srv->self[srv->n_hosts], HOST_LEN + 8, "https://%s:%u", name, srv->port) == 0)
                srv->n_hosts++;
}

static bool host_ok(const struct server *srv, const char *host)
{
        if (!host)
                return false;
        for (size_t i = 0; i < srv->n_hosts; i++)
                if (!strcasecmp(srv->hosts[i], host))
                        return true;
        return false;
}

/* The page's own origin (https://127.0.0.1:PORT and the other names of this server), exact match. */
static bool origin_self(const struct server *srv, const char *origin)
{
        for (size_t i = 0; origin && i < srv->n_hosts; i++)
                if (!strcasecmp(srv->self[i], origin))
                        return true;
        return false;
}

static bool origin_ok(const struct server *srv, const char *origin)
{
        if (origin_self(srv, origin))
                return true;
        for (size_t i = 0; i < srv->n_origins; i++)
                if (!strcmp(srv->origins[i], origin))
                        return true;
        return false;
}

/* Vary always (an answer depends on Origin); the CORS grant only for a configured origin. */
static void add_cors(struct MHD_Response *resp, const char *allowed_origin)
{
        MHD_add_response_header(resp, "Vary", "Origin");
        if (allowed_origin)
                MHD_add_response_header(resp, "Access-Control-Allow-Origin", allowed_origin);
}

static enum MHD_Result answer(struct MHD_Connection *c, struct request *rq, unsigned status, struct MHD_Response *resp,
                              const char *allowed_origin)
{
        enum MHD_Result ok;

        if (!resp) {
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                resp = reply_error("out of memory");
                if (!resp)
                        return MHD_NO;
        }
        add_cors(resp, allowed_origin);
        rq->status = status;
        rq->answered = true;
        ok = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ok;
}

static struct MHD_Response *preflight(struct MHD_Connection *c)
{
        struct MHD_Response *resp = reply_empty();
        const char *pna = header(c, "Access-Control-Request-Private-Network");

        if (!resp)
                return NULL;
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type, Authorization");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        if (pna && !strcasecmp(pna, "true"))
                MHD_add_response_header(resp, "Access-Control-Allow-Private-Network", "true");
        return resp;
}

/* A token, when one is sent: 0 none, 1 valid, <0 refused (err says why). */
static int check_token(const struct server *srv, struct MHD_Connection *c, struct error *err)
{
        const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION), *token;

        if (!auth)
                return 0;
        if (strncasecmp(auth, "Bearer ", 7) != 0)
                return error_set(err, STACK_EFAIL, "Authorization is not a Bearer token");
        token = auth + 7;
        while (*token == ' ')
                token++;
        if (jwt_verify(srv->secret, srv->secret_len, token, strlen(token), (int64_t)time(NULL), err) < 0)
                return -STACK_EFAIL;
        return 1;
}

static struct MHD_Response *unauthorized(const char *msg)
{
        struct MHD_Response *resp = reply_error("%s", msg);

        if (resp)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"stack-api\"");
        return resp;
}

/* The checks that come before the body: Host, CORS, size. Returns true when it answered. */
static bool check_early(struct server *srv, struct MHD_Connection *c, struct request *rq, const char *method,
                        const char **ret_origin, enum MHD_Result *ret)
{
        const char *origin = header(c, "Origin"), *length = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

        *ret_origin = NULL;
        if (!host_ok(srv, header(c, MHD_HTTP_HEADER_HOST))) {
                *ret = answer(c, rq, MHD_HTTP_MISDIRECTED_REQUEST,
                              reply_error("Host header does not name this server (%s)", srv->hosts[0]), NULL);
                return true;
        }
        if (origin && !origin_ok(srv, origin)) {
                *ret = answer(c, rq, MHD_HTTP_FORBIDDEN, reply_error("origin not allowed"), NULL);
                return true;
        }
        *ret_origin = origin;
        if (!strcmp(method, MHD_HTTP_METHOD_OPTIONS)) {
                *ret = answer(c, rq, MHD_HTTP_NO_CONTENT, origin ? preflight(c) : reply_empty(), origin);
                return true;
        }
        if (length && strtoull(length, NULL, 10) > SERVER_MAX_BODY) {
                /* Up to SERVER_DRAIN_BODY the body is read and dropped before the 413, so a client still
                 * sending it reads the answer instead of a reset; a larger one is answered at once. */
                if (strtoull(length, NULL, 10) <= SERVER_DRAIN_BODY) {
                        rq->too_big = true;
                        return false;
                }
                *ret = answer(c, rq, MHD_HTTP_CONTENT_TOO_LARGE,
                              reply_error("request body over %d bytes", SERVER_MAX_BODY), origin);
                return true;
        }
        return false;
}

static double elapsed_s(const struct timespec *from, const struct timespec *to)
{
        return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* Close a connection from outside MHD: its socket is shut down, MHD sees the end and closes it. Called with
 * conns_lock held: MHD tells on_connection (which takes the lock) before it closes the fd, so the fd is still
 * the connection's. */
static void cut_locked(struct server *srv, struct conn *k, const char *why)
{
        if (k->cut || k->fd < 0)
                return;
        k->cut = true;
        shutdown(k->fd, SHUT_RDWR);
        log_line(LOG_WARN, "connection closed: %s", why);
}

static struct conn *conn_of(struct MHD_Connection *c)
{
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

        return ci ? ci->socket_context : NULL;
}

/* The connection's request is complete (it is being answered): the deadline stops. */
static void conn_busy(struct server *srv, struct MHD_Connection *c, bool anon_stream)
{
        struct conn *k = conn_of(c);

        if (!k)
                return;
        pthread_mutex_lock(&srv->conns_lock);
        if (!k->busy) {
                k->busy = true;
                srv->n_pending--;
        }
        if (anon_stream && !k->stream) {
                k->stream = true;
                srv->n_streams++;
        }
        pthread_mutex_unlock(&srv->conns_lock);
}

/* The answer is sent: the next request on this connection has the deadline again, from now. */
static void conn_idle(struct server *srv, struct MHD_Connection *c)
{
        struct conn *k = conn_of(c);

        if (!k)
                return;
        pthread_mutex_lock(&srv->conns_lock);
        if (k->busy) {
                k->busy = false;
                srv->n_pending++;
        }
        if (k->stream) {
                k->stream = false;
                srv->n_streams--;
        }
        clock_gettime(CLOCK_MONOTONIC, &k->since);
        pthread_mutex_unlock(&srv->conns_lock);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
        struct server *srv = cls;
        struct conn *k = *socket_context;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

                k = calloc(1, sizeof *k);
                if (!k)
                        return; /* untracked: MHD's idle timeout still applies */
                k->fd = ci ? ci->connect_fd : -1;
                clock_gettime(CLOCK_MONOTONIC, &k->since);
                pthread_mutex_lock(&srv->conns_lock);
                k->prev = srv->conns_tail;
                if (srv->conns_tail)
                        srv->conns_tail->next = k;
                else
                        srv->conns = k;
                srv->conns_tail = k;
                srv->n_pending++;
                /* room for the newcomer: the oldest connection still sending its request goes */
                if (srv->n_pending > SERVER_MAX_PENDING)
                        for (struct conn *o = srv->conns; o; o = o->next)
                                if (!o->busy && !o->cut) {
                                        cut_locked(srv, o, "too many connections still sending a request");
                                        break;
                                }
                pthread_mutex_unlock(&srv->conns_lock);
                *socket_context = k;
                return;
        }
        if (!k) /* MHD_CONNECTION_NOTIFY_CLOSED of an untracked one */
                return;
        pthread_mutex_lock(&srv->conns_lock);
        if (k->prev)
                k->prev->next = k->next;
        else
                srv->conns = k->next;
        if (k->next)
                k->next->prev = k->prev;
        else
                srv->conns_tail = k->prev;
        if (!k->busy)
                srv->n_pending--;
        if (k->stream)
                srv->n_streams--;
        pthread_mutex_unlock(&srv->conns_lock);
        free(k);
        *socket_context = NULL;
}

/* Once a second: a connection whose request is not complete deadline_s after it was accepted (or after its
 * last answer) is cut, however it trickles bytes in (MHD's idle timeout is reset by every byte). */
static void *reaper(void *arg)
{
        struct server *srv = arg;
        struct timespec now, until;

        pthread_mutex_lock(&srv->conns_lock);
        while (!srv->stopping) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                for (struct conn *k = srv->conns; k; k = k->next)
                        if (!k->busy && !k->cut && elapsed_s(&k->since, &now) >= (double)srv->deadline_s)
                                cut_locked(srv, k, "no complete request within the deadline");
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += 1;
                pthread_cond_timedwait(&srv->conns_cond, &srv->conns_lock, &until);
        }
        pthread_mutex_unlock(&srv->conns_lock);
        return NULL;
}

static enum MHD_Result dispatch(struct server *srv, struct MHD_Connection *c, struct request *rq, const char *method,
                                const char *path, const char *origin)
{
        struct error err = ERROR_INIT;
        char param[64];
        struct route_request in = {.method = method,
                                   .path = path,
                                   .body = rq->body ? rq->body : "",
                                   .body_len = rq->body_len,
                                   .origin = origin,
                                   .param = param,
                                   .conn = c};
        const struct route *route;
        struct MHD_Response *resp;
        char allow[64];
        unsigned status = MHD_HTTP_OK;
        bool known;
        int auth;

        auth = check_token(srv, c, &err);
        if (auth < 0)
                return answer(c, rq, MHD_HTTP_UNAUTHORIZED, unauthorized(err.msg), origin);
        in.authenticated = auth == 1;
        if (auth == 0) { /* no token: the page's session cookie, when it names a live session */
                const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
                in.session = in.authenticated = sessions_check(srv->sessions, cookie, (int64_t)time(NULL));
        }
        /* A state change on the strength of the cookie alone needs the page's own Origin: a page of another
         * origin (even a same-site one, which the browser gives the cookie) changes nothing. */
        if (in.session && strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 &&
            !origin_self(srv, origin))
                return answer(c, rq, MHD_HTTP_FORBIDDEN,
                              reply_error("a %s with the session cookie must come from the page's own origin (%s)",
                                          method, srv->self[0]),
                              origin);
        route = routes_find(method, path, param, sizeof param, &known);
        if (!route && known) {
                routes_allowed_methods(path, allow, sizeof allow);
                resp = reply_error("%s is not allowed on %s", method, path);
                if (resp)
                        MHD_add_response_header(resp, "Allow", allow);
                return answer(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, resp, origin);
        }
        if (!route)
                return answer(c, rq, MHD_HTTP_NOT_FOUND, reply_error("no such endpoint: %s", path), origin);
        if (route->needs_token && !in.authenticated)
                return answer(c, rq, MHD_HTTP_UNAUTHORIZED,
                              unauthorized("this endpoint needs a token (Authorization: Bearer; see stack token) "
                                           "or the page's session (stack open)"),
                              origin);
        /* an anonymous POST /run streams until the person decides: a bounded number of them at once */
        if (!in.authenticated && !strcmp(method, MHD_HTTP_METHOD_POST) && !strcmp(path, "/run")) {
                bool full;

                pthread_mutex_lock(&srv->conns_lock);
                full = srv->n_streams >= SERVER_MAX_ANON_STREAMS;
                pthread_mutex_unlock(&srv->conns_lock);
                if (full)
                        return answer(c, rq, MHD_HTTP_TOO_MANY_REQUESTS,
                                      reply_error("too many requests waiting for approval (at most %d at once)",
                                                  SERVER_MAX_ANON_STREAMS),
                                      origin);
                conn_busy(srv, c, true);
        }
        resp = route->fn(&srv->routes, &in, &status);
        return answer(c, rq, status, resp, origin);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
        struct server *srv = cls;
        struct request *rq = *con_cls;
        const char *origin = NULL;
        enum MHD_Result ret;

        if (!rq) {
                rq = calloc(1, sizeof *rq);
                if (!rq)
                        return MHD_NO;
                clock_gettime(CLOCK_MONOTONIC, &rq->start);
                snprintf(rq->method, sizeof rq->method, "%s", method);
                snprintf(rq->path, sizeof rq->path, "%s", url);
                *con_cls = rq;
                if (check_early(srv, c, rq, method, &origin, &ret))
                        return ret;
                return MHD_YES; /* the body, if any, comes in the next calls */
        }
        if (rq->answered) { /* answered early: drop whatever body still arrives */
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                if (!rq->too_big && rq->body_len + n <= SERVER_MAX_BODY) {
                        char *b = realloc(rq->body, rq->body_len + n + 1);
                        if (!b)
                                return MHD_NO;
                        memcpy(b + rq->body_len, upload_data, n);
                        rq->body = b;
                        rq->body_len += n;
                        rq->body[rq->body_len] = '\0';
                } else {
                        rq->too_big = true; /* a chunked body with no Content-Length: counted, not kept */
                }
                *upload_data_size = 0;
                return MHD_YES;
        }
        origin = header(c, "Origin");
        conn_busy(srv, c, false); /* the whole request is in: being answered, no deadline */
        if (rq->too_big)
                return answer(c, rq, MHD_HTTP_CONTENT_TOO_LARGE,
                              reply_error("request body over %d bytes", SERVER_MAX_BODY), origin);
        return dispatch(srv, c, rq, method, url, origin);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
        struct server *srv = cls;
        struct request *rq = *con_cls;
        struct timespec end;
        double ms;

        conn_idle(srv, c);
        if (!rq)
                return;
        clock_gettime(CLOCK_MONOTONIC, &end);
        ms = (double)(end.tv_sec - rq->start.tv_sec) * 1e3 + (double)(end.tv_nsec - rq->start.tv_nsec) / 1e6;
        log_line(LOG_INFO, "%s %s %u %.1fms%s", rq->method, rq->path, rq->status, ms,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
        free(rq->body);
        free(rq);
        *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char line[256];
        size_t n;

        vsnprintf(line, sizeof line, fmt, ap);
        n = strlen(line);
        while (n > 0 && line[n - 1] == '\n')
                line[--n] = '\0';
        log_line(LOG_WARN, "%s", line);
}

/* The watcher's findings go to /events; alerts also to the desktop and the log. */
static void watch_emit(void *ctx, const char *event, json_t *data)
{
        struct server *srv = ctx;

        if (!strcmp(event, "alert")) {
                char body[512];
                snprintf(body, sizeof body, "%s: %s (stack alerts --dismiss %s)",
                         json_string_value(json_object_get(data, "slug")) ?: "?",
                         json_string_value(json_object_get(data, "detail")) ?: "",
                         json_string_value(json_object_get(data, "id")) ?: "?");
                jobs_notify("stack: unusual behaviour of a running stack", body);
        }
        jobs_event_json(srv->routes.jobs, event, data);
}

static void watch_log(void *ctx, const char *line)
{
        (void)ctx;
        log_line(LOG_WARN, "watch: %s", line);
}

/* STACK_WATCH=0 turns the watcher off (tests that fake the Engine without an event stream). */
static int start_watch(struct server *srv, struct error *err)
{
        const char *env = getenv("STACK_WATCH");
        struct watch_config wc = {
                .home = store_home(srv->routes.store), .emit = watch_emit, .log = watch_log, .ctx = srv};

        if (env && !strcmp(env, "0"))
                return 0;
        return watch_start(&wc, &srv->watch, err);
}

static char *dup_str(const char *s)
{
        return s ? strdup(s) : NULL;
}

void server_stop(struct server *srv)
{
        if (!srv)
                return;
        watch_stop(srv->watch);          /* it emits into jobs: it ends first */
        jobs_shutdown(srv->routes.jobs); /* streams end and suspended connections resume: MHD may stop */
        logs_shutdown(srv->routes.logs);
        if (srv->reaper_made) {
                pthread_mutex_lock(&srv->conns_lock);
                srv->stopping = true;
                pthread_cond_signal(&srv->conns_cond);
                pthread_mutex_unlock(&srv->conns_lock);
                pthread_join(srv->reaper, NULL);
        }
        if (srv->mhd)
                MHD_stop_daemon(srv->mhd); /* every connection's CLOSED notification frees its struct conn */
        sampler_free(srv->routes.sampler);
        jobs_free(srv->routes.jobs);
        logs_free(srv->routes.logs);
        sessions_free(srv->sessions);
        free(srv->catalog);
        if (srv->fd >= 0)
                close(srv->fd);
        if (srv->routes_lock_made)
                pthread_mutex_destroy(&srv->routes.lock);
        if (srv->conns_made) {
                while (srv->conns) { /* none left once MHD stopped; a failed start leaves none either */
                        struct conn *k = srv->conns;
                        srv->conns = k->next;
                        free(k);
                }
                pthread_cond_destroy(&srv->conns_cond);
                pthread_mutex_destroy(&srv->conns_lock);
        }
        for (size_t i = 0; i < srv->n_origins; i++)
                free(srv->origins[i]);
        free(srv->origins);
        if (srv->key_pem) {
                mbedtls_platform_zeroize(srv->key_pem, strlen(srv->key_pem));
                free(srv->key_pem);
        }
        free(srv->cert_pem);
        mbedtls_platform_zeroize(srv->secret, sizeof srv->secret);
        free(srv);
}

int server_start(const struct server_config *cfg, struct server **ret, struct error *err)
{
        struct server *srv = NULL;
        unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                         MHD_USE_ITC | MHD_USE_ERROR_LOG;
        struct jobs_config jc = {0};
        bool v6 = false;
        int r;

        if (!cfg || !ret || !cfg->key_pem || !cfg->cert_pem || !cfg->secret || !cfg->store || cfg->secret_len == 0 ||
            cfg->secret_len > sizeof srv->secret)
                return error_set(err, STACK_EFAIL, "server_start: bad arguments");
        r = server_check_address(cfg->address, err);
        if (r < 0)
                return r;
        srv = calloc(1, sizeof *srv);
        if (!srv)
                return error_set(err, STACK_EFAIL, "out of memory");
        srv->fd = -1;
        pthread_mutex_init(&srv->conns_lock, NULL);
        pthread_cond_init(&srv->conns_cond, NULL);
        srv->conns_made = true;
        srv->deadline_s = cfg->request_deadline_s ? cfg->request_deadline_s : SERVER_REQUEST_DEADLINE;
        srv->origins = calloc(cfg->n_origins + 1, sizeof *srv->origins);
        srv->key_pem = dup_str(cfg->key_pem);
        srv->cert_pem = dup_str(cfg->cert_pem);
        if (!srv->origins || !srv->key_pem || !srv->cert_pem) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < cfg->n_origins; i++) {
                srv->origins[i] = dup_str(cfg->origins[i]);
                if (!srv->origins[i]) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
                srv->n_origins++;
        }
        memcpy(srv->secret, cfg->secret, cfg->secret_len);
        srv->secret_len = cfg->secret_len;
        srv->routes.store = cfg->store;
        pthread_mutex_init(&srv->routes.lock, NULL);
        srv->routes_lock_made = true;
        srv->catalog = cfg->catalog && *cfg->catalog ? dup_str(cfg->catalog) : NULL;
        if (cfg->catalog && *cfg->catalog && !srv->catalog) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        srv->routes.catalog = srv->catalog;
        srv->routes.expiry_s = cfg->expiry_s > 0 ? cfg->expiry_s : REQUEST_EXPIRY_DEFAULT;
        if (sessions_new(&srv->sessions) < 0 || logs_new(&srv->routes.logs) < 0) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        srv->routes.sessions = srv->sessions;
        srv->routes.home = store_home(cfg->store);
        jc.home = store_home(cfg->store);
        jc.catalog = srv->catalog;
        jc.auto_approve = cfg->auto_approve;
        r = jobs_new(&jc, &srv->routes.jobs, err);
        if (r < 0)
                goto fail;
        r = sampler_new(store_home(cfg->store), srv->routes.jobs, &srv->routes.sampler, err);
        if (r == 0)
                r = start_watch(srv, err);
        if (r < 0)
                goto fail;

        r = listen_on(cfg->address, cfg->port, &v6, &srv->port, err);
        if (r < 0)
                goto fail;
        srv->fd = r;
        if (v6) {
                char bracketed[HOST_LEN];
                snprintf(bracketed, sizeof bracketed, "[%s]", cfg->address);
                add_host(srv, bracketed);
                if (strcmp(bracketed, "[::1]") != 0)
                        add_host(srv, "[::1]");
        } else {
                add_host(srv, "127.0.0.1");
                add_host(srv, "127.1");
                add_host(srv, "localhost");
                if (strcmp(cfg->address, "127.0.0.1") != 0 && strcasecmp(cfg->address, "localhost") != 0)
                        add_host(srv, cfg->address);
        }
        if (v6)
                flags |= MHD_USE_IPv6;
        srv->mhd = MHD_start_daemon(
                flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->fd, MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem,
                MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SERVER_THREADS,
                MHD_OPTION_CONNECTION_LIMIT,
                cfg->max_connections ? cfg->max_connections : (unsigned)SERVER_MAX_CONNECTIONS,
                MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip ? cfg->max_per_ip : (unsigned)SERVER_MAX_PER_IP,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_IDLE_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_END);
        if (!srv->mhd) {
                r = error_set(err, STACK_EFAIL, "cannot start the HTTPS server on %s port %u (see the lines above)",
                              cfg->address, srv->port);
                goto fail;
        }
        srv->fd = -1; /* MHD owns the listening socket now: MHD_stop_daemon closes it */
        if (pthread_create(&srv->reaper, NULL, reaper, srv) != 0) {
                r = error_set(err, STACK_EFAIL, "cannot start the connection deadline thread");
                goto fail;
        }
        srv->reaper_made = true;
        *ret = srv;
        return 0;
fail:
        server_stop(srv);
        return r;
}

unsigned server_port(const struct server *srv)
{
        return srv ? srv->port : 0;
}
