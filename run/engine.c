/* engine.c - the Docker Engine API over its unix socket (spec/run.md "Engine").
 *
 * One curl easy handle per struct engine, reset before each request so the connection to the socket is kept
 * alive across calls. Every answer is read into a bounded buffer; the one answer that streams (image load) is
 * parsed line by line as it arrives, so only the current line is held. Request bodies (image archives, which
 * can be gigabytes) are streamed from their file descriptor, never read whole.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/fsutil.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
/* The API versions this client speaks. The newest is the one whose changes since the oldest were checked
 * against every endpoint and field used here (spec/run.md "Engine"): Docker Engine 29's 1.52. The oldest is
 * Docker 20.10's 1.41 (Debian 12's docker.io), which is also what Podman 4 and 5 report for their
 * Docker-compatible API. */
#define API_NEWEST_MINOR  52
#define API_OLDEST_MINOR  41
#define API_OLDEST_ENGINE "Docker 20.10"
#define CONNECT_TIMEOUT_S 2L
#define PING_TIMEOUT_S    10L
#define CALL_TIMEOUT_S    120L /* a busy Engine can take a while to list containers; a hung one must not hang us */
#define MAX_ANSWER        (8u << 20) /* any JSON answer we keep */
#define MAX_LOAD_LINE     (1u << 20) /* one line of the image load stream */
#define MAX_KEPT_MESSAGE  2048       /* an Engine message quoted in an error */

struct engine {
        char *socket;
        char prefix[16]; /* "/v1.NN", or "" when the Engine did not say which API it speaks */
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---- */

static char *strdup_or_null(const char *s, bool *oom)
{
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                *oom = true;
        return d;
}

/* Engine messages end with a newline and may carry control characters; the error sink wants one short line. */
static void tidy_message(char *s)
{
        size_t n;

        for (char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20)
                        *p = ' ';
        n = strlen(s);
        while (n && s[n - 1] == ' ')
                s[--n] = 0;
        if (n > MAX_KEPT_MESSAGE)
                s[MAX_KEPT_MESSAGE] = 0;
}

/* Append s to a path, percent-encoding anything outside the characters image references and ids use. '/'
 * stays as is: the Engine routes /images/{name:.*}/json, so "stack-test/engine:1" is one path parameter. */
static int append_escaped(char *dst, size_t cap, const char *s)
{
        size_t n = strlen(dst);

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                             strchr("-._~/:@", c);
                if (n + (plain ? 1 : 3) >= cap)
                        return -ENAMETOOLONG;
                if (plain)
                        dst[n++] = (char)c;
                else
                        n += (size_t)snprintf(dst + n, cap - n, "%%%02X", c);
        }
        dst[n] = 0;
        return 0;
}

/* ---- requests ---- */

static size_t mem_write(char *ptr, size_t size, size_t n, void *ud)
{
        return buf_add(ud, ptr, size * n) == 0 ? size * n : 0;
}

struct upload {
        int fd;
        engine_read_fn read; /* instead of fd when set */
        void *read_ctx;
        uint64_t size, sent;
        int read_errno;
        bool short_read;
};

static size_t upload_read(char *buf, size_t size, size_t n, void *ud)
{
        struct upload *u = ud;
        size_t want = size * n;
        ssize_t k;

        if (u->size - u->sent < want)
                want = (size_t)(u->size - u->sent);
        if (!want)
                return 0;
        if (u->read) {
                k = u->read(u->read_ctx, buf, want);
                if (k < 0) {
                        u->read_errno = (int)-k;
                        return CURL_READFUNC_ABORT;
                }
        } else {
                do
                        k = read(u->fd, buf, want);
                while (k < 0 && errno == EINTR);
        }
        if (k < 0) {
                u->read_errno = errno;
                return CURL_READFUNC_ABORT;
        }
        if (k == 0) {
                u->short_read = true;
                return CURL_READFUNC_ABORT;
        }
        u->sent += (uint64_t)k;
        return (size_t)k;
}

struct request {
        const char *method; /* "GET" or "POST" */
        const char *path;   /* after the version prefix, with its query */
        long timeout_s;     /* 0: none (an image load takes as long as it takes) */
        curl_write_callback write;
        void *write_ud;
        curl_write_callback header;
        void *header_ud;
        struct upload *upload; /* POST body, or NULL */
        const char *content_type;
        const char *body; /* an in-memory body (JSON), or NULL */
        size_t body_len;
};

/* Run one request; *ret_status is the HTTP status (0 when none arrived). */
static CURLcode perform(struct engine *e, const struct request *rq, long *ret_status)
{
        char url[4096];
        struct curl_slist *hdr = NULL, *h;
        CURLcode c;
        CURL *k = e->curl;

        *ret_status = 0;
        if ((size_t)snprintf(url, sizeof url, "http://localhost%s%s", e->prefix, rq->path) >= sizeof url)
                return CURLE_URL_MALFORMAT;
        curl_easy_reset(k);
        e->errbuf[0] = 0;
        curl_easy_setopt(k, CURLOPT_UNIX_SOCKET_PATH, e->socket);
        curl_easy_setopt(k, CURLOPT_URL, url);
        curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(k, CURLOPT_PROXY, ""); /* the socket is local: no proxy from the environment */
        curl_easy_setopt(k, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(k, CURLOPT_ERRORBUFFER, e->errbuf);
        curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        if (rq->timeout_s)
                curl_easy_setopt(k, CURLOPT_TIMEOUT, rq->timeout_s);
        curl_easy_setopt(k, CURLOPT_USERAGENT, "stack/0.1");
        curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, rq->write);
        curl_easy_setopt(k, CURLOPT_WRITEDATA, rq->write_ud);
        if (rq->header) {
                curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, rq->header);
                curl_easy_setopt(k, CURLOPT_HEADERDATA, rq->header_ud);
        }
        if (rq->upload || rq->body) {
                char ct[128];
                snprintf(ct, sizeof ct, "Content-Type: %s", rq->content_type);
                hdr = curl_slist_append(NULL, ct);
                /* No "Expect: 100-continue" round trip: the Engine reads the body anyway. */
                h = hdr ? curl_slist_append(hdr, "Expect:") : NULL;
                if (!h) {
                        curl_slist_free_all(hdr);
                        return CURLE_OUT_OF_MEMORY;
                }
                curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdr);
                curl_easy_setopt(k, CURLOPT_POST, 1L);
                if (rq->body) {
                        curl_easy_setopt(k, CURLOPT_POSTFIELDS, rq->body);
                        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
                } else {
                        curl_easy_setopt(k, CURLOPT_READFUNCTION, upload_read);
                        curl_easy_setopt(k, CURLOPT_READDATA, rq->upload);
                        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->upload->size);
                }
                if (strcmp(rq->method, "POST")) /* PUT /containers/{id}/archive */
                        curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, rq->method);
        } else if (strcmp(rq->method, "GET")) {
                curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, rq->method);
        }
        c = curl_easy_perform(k);
        curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, ret_status);
        curl_easy_setopt(k, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdr);
        return c;
}

/* The Engine stopped answering, or never did. */
static int transport_error(struct engine *e, CURLcode c, const char *method, const char *path, struct error *err)
{
        long os_errno = 0;

        curl_easy_getinfo(e->curl, CURLINFO_OS_ERRNO, &os_errno);
        if (c == CURLE_COULDNT_CONNECT && os_errno == EACCES)
                return error_set(err, STACK_ERUNTIME,
                                 "permission denied on the Docker Engine socket %s: add your user to the 'docker' "
                                 "group (then log in again)",
                                 e->socket);
        if (c == CURLE_COULDNT_CONNECT)
                return error_set(err, STACK_ERUNTIME,
                                 "Docker Engine is not running (nothing answers on %s): start it with 'sudo "
                                 "systemctl start docker' (or 'sudo dockerd &')",
                                 e->socket);
        if (c == CURLE_OPERATION_TIMEDOUT)
                return error_set(err, STACK_ERUNTIME, "Docker Engine on %s did not answer %s %s in time", e->socket,
                                 method, path);
        return error_set(err, STACK_ERUNTIME, "Docker Engine on %s: %s %s: %s", e->socket, method, path,
                         e->errbuf[0] ? e->errbuf : curl_easy_strerror(c));
}

/* The message of an Engine error answer ({"message": "..."}), or NULL. Heap string. */
static char *answer_message(const char *body, size_t len)
{
        json_t *j;
        char *m = NULL;

        if (!body || !len)
                return NULL;
        j = json_loadb(body, len, 0, NULL);
        if (j && json_is_string(json_object_get(j, "message")))
                m = strdup(json_string_value(json_object_get(j, "message")));
        json_decref(j);
        if (m)
                tidy_message(m);
        return m;
}

static int status_error(struct engine *e, const char *method, const char *path, long status, const struct buf *b,
                        struct error *err)
{
        char *m = answer_message(b->p, b->len);
        int r = error_set(err, STACK_ERUNTIME, "Docker Engine: %s %s: HTTP %ld%s%s", method, path, status,
                          m ? ": " : "", m ? m : "");
        free(m);
        return r;
}

/* A GET whose answer is kept (bounded), whatever its status. */
static int engine_get_status(struct engine *e, const char *path, long *ret_status, struct buf *ret_body,
                             struct error *err)
{
        struct buf b = BUF_INIT(MAX_ANSWER);
        struct request rq = {
                .method = "GET", .path = path, .timeout_s = CALL_TIMEOUT_S, .write = mem_write, .write_ud = &b};
        long status;
        CURLcode c = perform(e, &rq, &status);
        int r;

        if (b.toobig)
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: answer larger than %u bytes: refused", path,
                              MAX_ANSWER);
        else if (b.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (c != CURLE_OK)
                r = transport_error(e, c, "GET", path, err);
        else {
                *ret_status = status;
                *ret_body = b;
                return 0;
        }
        buf_release(&b);
        return r;
}

/* A GET whose answer is kept (bounded). *ret_status is 2xx or 404; other statuses are errors. */
static int engine_get(struct engine *e, const char *path, long *ret_status, struct buf *ret_body, struct error *err)
{
        struct buf b = BUF_INIT(0); /* filled by the callee */
        long status = 0;
        int r = engine_get_status(e, path, &status, &b, err);

        if (r < 0)
                return r;
        if ((status < 200 || status > 299) && status != 404) {
                r = status_error(e, "GET", path, status, &b, err);
                buf_release(&b);
                return r;
        }
        *ret_status = status;
        *ret_body = b;
        return 0;
}

static int engine_get_json(struct engine *e, const char *path, long *ret_status, json_t **ret, struct error *err)
{
        struct buf b = BUF_INIT(0); /* filled by the callee */
        json_error_t je;
        json_t *j;
        int r = engine_get(e, path, ret_status, &b, err);

        if (r < 0)
                return r;
        if (*ret_status == 404) {
                buf_release(&b);
                *ret = NULL;
                return 0;
        }
        j = json_loadb(b.p ? b.p : "", b.len, 0, &je);
        buf_release(&b);
        if (!j)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: the answer is not JSON (%s)", path,
                                 je.text);
        *ret = j;
        return 0;
}

/* ---- open / ping ---- */

static int socket_from_env(char **ret, struct error *err)
{
        const char *h = getenv("DOCKER_HOST"), *path;
        char *s;

        if (!h || !*h)
                path = DEFAULT_SOCKET;
        else if (!strncmp(h, "unix://", 7))
                path = h + 7;
        else
                return error_set(err, STACK_ERUNTIME, "only unix:// DOCKER_HOST is supported (DOCKER_HOST=%s)", h);
        if (!*path)
                return error_set(err, STACK_ERUNTIME, "DOCKER_HOST=%s names no socket", h);
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return error_set(err, STACK_ERUNTIME, "DOCKER_HOST socket path is too long for a unix socket: %s",
                                 path);
        s = strdup(path);
        if (!s)
                return error_set(err, STACK_EFAIL, "out of memory");
        *ret = s;
        return 0;
}

struct ping {
        int major, minor; /* API-Version header, 0.0 when absent */
};

static size_t ping_header(char *line, size_t size, size_t n, void *ud)
{
        struct ping *p = ud;
        size_t len = size * n;
        char v[32];
        int major, minor;

        if (len > 12 && len < 12 + sizeof v && !strncasecmp(line, "Api-Version:", 12)) {
                memcpy(v, line + 12, len - 12);
                v[len - 12] = 0;
                if (sscanf(v, " %d.%d", &major, &minor) == 2 && major > 0 && minor >= 0) {
                        p->major = major;
                        p->minor = minor;
                }
        }
        return len;
}

static int engine_ping(struct engine *e, struct ping *p, struct error *err)
{
        struct buf b = BUF_INIT(4096);
        struct request rq = {.method = "GET",
                             .path = "/_ping",
                             .timeout_s = PING_TIMEOUT_S,
                             .write = mem_write,
                             .write_ud = &b,
                             .header = ping_header,
                             .header_ud = p};
        long status;
        CURLcode c;
        int r = 0;

        c = perform(e, &rq, &status);
        if (c == CURLE_OK && status == 200 && b.p && !strncmp(b.p, "OK", 2))
                r = 0;
        else if (c == CURLE_OK || b.toobig)
                r = error_set(err, STACK_ERUNTIME,
                              "%s answers, but not as a Docker Engine (GET /_ping: HTTP %ld): is DOCKER_HOST right?",
                              e->socket, status);
        else if (c == CURLE_OPERATION_TIMEDOUT)
                r = error_set(err, STACK_ERUNTIME,
                              "Docker Engine on %s does not answer (GET /_ping timed out after %ld s): is dockerd "
                              "hung? ('sudo systemctl restart docker')",
                              e->socket, PING_TIMEOUT_S);
        else
                r = transport_error(e, c, "GET", "/_ping", err);
        buf_release(&b);
        return r;
}

/* "1.44" -> 44 (API major 1 only); -1 when absent or not such a version. */
static int api_minor(const char *v)
{
        int major, minor, n = 0;

        if (!v || sscanf(v, "%d.%d%n", &major, &minor, &n) != 2 || v[n] || major != 1 || minor < 0 || minor > 999)
                return -1;
        return minor;
}

/* The API version to speak, as the Engine asks (spec/run.md "Engine"): GET /version's ApiVersion (the newest
 * the Engine speaks; the ping's API-Version header when /version does not say) and MinAPIVersion (the oldest
 * it accepts). Speak the Engine's newest, capped at the newest this client knows, never below the Engine's
 * oldest; then one versioned request proves the Engine accepts it. An Engine that names no version at all is
 * spoken to without a prefix (its own version). */
static int engine_pick_version(struct engine *e, struct ping *p, struct error *err)
{
        struct error ignored = ERROR_INIT;
        struct buf b = BUF_INIT(0);
        long status = 0;
        json_t *j = NULL;
        int newest = p->major == 1 ? p->minor : -1, oldest = -1, speak, r;
        char path[32];

        if (engine_get_json(e, "/version", &status, &j, &ignored) == 0 && j) {
                int v = api_minor(json_string_value(json_object_get(j, "ApiVersion")));
                if (v >= 0)
                        newest = v;
                oldest = api_minor(json_string_value(json_object_get(j, "MinAPIVersion")));
        }
        json_decref(j);
        if (newest < 0) {
                e->prefix[0] = 0;
                return 0;
        }
        if (newest < API_OLDEST_MINOR)
                return error_set(err, STACK_ERUNTIME,
                                 "the Docker Engine on %s speaks API 1.%d, older than API 1.%d (%s), the oldest stack "
                                 "supports: upgrade the Engine",
                                 e->socket, newest, API_OLDEST_MINOR, API_OLDEST_ENGINE);
        speak = newest < API_NEWEST_MINOR ? newest : API_NEWEST_MINOR;
        if (oldest > speak)
                return error_set(err, STACK_ERUNTIME,
                                 "the Docker Engine on %s accepts API 1.%d and newer only; stack speaks at most API "
                                 "1.%d: upgrade stack",
                                 e->socket, oldest, speak);
        snprintf(e->prefix, sizeof e->prefix, "/v1.%d", speak);
        /* An Engine may refuse the version without having said so ("client version 1.41 is too old. Minimum
         * supported API version is 1.44"): better one line here than every later request failing. */
        r = engine_get_status(e, "/version", &status, &b, err);
        if (r == 0 && (status < 200 || status > 299)) {
                char *m = answer_message(b.p, b.len);
                snprintf(path, sizeof path, "%s/version", e->prefix);
                r = error_set(err, STACK_ERUNTIME, "the Docker Engine on %s refuses API 1.%d (GET %s: HTTP %ld%s%s)",
                              e->socket, speak, path, status, m ? ": " : "", m ? m : "");
                free(m);
        }
        buf_release(&b);
        return r;
}

int engine_open(struct engine **ret, struct error *err)
{
        struct engine *e;
        struct ping p = {0, 0};
        int r;

        if (!ret)
                return error_set(err, STACK_EFAIL, "engine_open: no result pointer");
        pthread_once(&curl_once, curl_init);
        e = calloc(1, sizeof *e);
        if (!e)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = socket_from_env(&e->socket, err);
        if (r < 0)
                goto fail;
        e->curl = curl_easy_init();
        if (!e->curl) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        r = engine_ping(e, &p, err);
        if (r < 0)
                goto fail;
        r = engine_pick_version(e, &p, err);
        if (r < 0)
                goto fail;
        *ret = e;
        return 0;
fail:
        engine_free(e);
        return r;
}

void engine_free(struct engine *e)
{
        if (!e)
                return;
        if (e->curl)
                curl_easy_cleanup(e->curl);
        free(e->socket);
        free(e);
}

const char *engine_socket(const struct engine *e)
{
        return e ? e->socket : NULL;
}

/* ---- images ---- */

int engine_image_exists(struct engine *e, const char *ref, bool *ret, struct error *err)
{
        char path[1024] = "/images/";
        struct buf b = BUF_INIT(0); /* filled by the callee */
        long status = 0;
        int r;

        if (!e || !ref || !*ref || !ret)
                return error_set(err, STACK_EFAIL, "engine_image_exists: missing argument");
        if (append_escaped(path, sizeof path, ref) < 0 || append_escaped(path, sizeof path, "/json") < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        r = engine_get_status(e, path, &status, &b, err);
        if (r < 0)
                return r;
        if (status == 400) {
                /* "invalid reference format" (Docker, Podman): the name came from a bundle, so the bundle is at
                 * fault. Any other refusal (an API version the Engine no longer accepts, ...) is the Engine's. */
                char *m = answer_message(b.p, b.len);
                if (m && strstr(m, "invalid reference format"))
                        r = error_set(err, STACK_EREJECT, "image reference '%s' is not valid: %s", ref, m);
                else
                        r = status_error(e, "GET", path, status, &b, err);
                free(m);
                buf_release(&b);
                return r;
        }
        if ((status < 200 || status > 299) && status != 404) {
                r = status_error(e, "GET", path, status, &b, err);
                buf_release(&b);
                return r;
        }
        buf_release(&b);
        *ret = status != 404;
        return 0;
}

/* The image load answer: a stream of JSON objects, one a line ("\r\n" between them), the first error kept. */
struct load_answer {
        struct buf line; /* the line still open, at most MAX_LOAD_LINE bytes */
        bool oom;
        char *error;   /* "errorDetail".message or "error" */
        char *message; /* "message" (an HTTP error answer) */
        char *text;    /* the start of an answer that is not JSON */
};

static void load_object(struct load_answer *a, json_t *o)
{
        const char *m = json_string_value(json_object_get(json_object_get(o, "errorDetail"), "message"));

        if (!m)
                m = json_string_value(json_object_get(o, "error"));
        if (m && !a->error) {
                if (!(a->error = strdup(m)))
                        a->oom = true;
                else
                        tidy_message(a->error);
        }
        m = json_string_value(json_object_get(o, "message"));
        if (m && !a->message) {
                if (!(a->message = strdup(m)))
                        a->oom = true;
                else
                        tidy_message(a->message);
        }
}

/* One line may hold several objects back to back (JSON_DISABLE_EOF_CHECK tells how far each went). */
static void load_line(struct load_answer *a, const char *p, size_t len)
{
        while (len) {
                json_error_t je;
                json_t *o;

                while (len && strchr(" \t\r\n", *p)) {
                        p++;
                        len--;
                }
                if (!len)
                        return;
                o = json_loadb(p, len, JSON_DISABLE_EOF_CHECK, &je);
                if (!o) {
                        if (!a->text && !(a->text = strndup(p, len < MAX_KEPT_MESSAGE ? len : MAX_KEPT_MESSAGE)))
                                a->oom = true;
                        else
                                tidy_message(a->text);
                        return;
                }
                if (json_is_object(o))
                        load_object(a, o);
                json_decref(o);
                if (je.position <= 0 || (size_t)je.position > len)
                        return;
                p += je.position;
                len -= (size_t)je.position;
        }
}

static size_t load_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct load_answer *a = ud;
        size_t add = size * n, start = 0;

        if (buf_add(&a->line, ptr, add) < 0)
                return 0;
        for (size_t i = 0; i < a->line.len; i++)
                if (a->line.p[i] == '\n') {
                        load_line(a, a->line.p + start, i - start);
                        start = i + 1;
                }
        buf_drop(&a->line, start);
        return add;
}

static int image_load(struct engine *e, struct upload u, uint64_t size, const char *what, struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE)};
        struct request rq = {.method = "POST",
                             .path = "/images/load?quiet=1",
                             .timeout_s = 0,
                             .write = load_write,
                             .write_ud = &a,
                             .upload = &u,
                             .content_type = "application/x-tar"};
        long status = 0;
        CURLcode c;
        int r;

        if (!what)
                what = "(unnamed)";
        c = perform(e, &rq, &status);
        if (a.line.len && !a.line.toobig)
                load_line(&a, a.line.p, a.line.len); /* the last object may come without a newline */
        /* What the Engine said wins over how the transfer ended: it may answer and close before reading all. */
        if (u.read_errno)
                r = error_errno(err, STACK_ESTORE, u.read_errno, "reading image archive %s", what);
        else if (u.short_read)
                r = error_set(err, STACK_ESTORE, "image archive %s ended after %llu of %llu bytes", what,
                              (unsigned long long)u.sent, (unsigned long long)size);
        else if (a.oom || a.line.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (a.error)
                r = error_set(err, STACK_EREJECT, "image archive %s: %s", what, a.error);
        else if (status >= 400) /* the request refused (version, ...), not the archive read: the Engine's */
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: POST /images/load of %s: HTTP %ld: %s", what, status,
                              a.message ? a.message
                              : a.text  ? a.text
                                        : "the Engine refused it");
        else if (a.line.toobig)
                r = error_set(err, STACK_ERUNTIME, "image archive %s: the Engine's answer has a line over %u bytes",
                              what, MAX_LOAD_LINE);
        else if (c != CURLE_OK)
                r = transport_error(e, c, "POST", "/images/load", err);
        else if (status < 200 || status > 299)
                r = error_set(err, STACK_ERUNTIME, "image archive %s: the Engine answered HTTP %ld", what, status);
        else
                r = 0;
        buf_release(&a.line);
        free(a.error);
        free(a.message);
        free(a.text);
        return r;
}

int engine_image_load(struct engine *e, int fd, uint64_t size, const char *what, struct error *err)
{
        if (!e || fd < 0)
                return error_set(err, STACK_EFAIL, "engine_image_load: missing argument");
        return image_load(e, (struct upload){.fd = fd, .size = size}, size, what, err);
}

/* ---- lists of strings ---- */

void engine_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

struct strv {
        char **v;
        size_t n;
};

static int strv_add(struct strv *s, const char *str)
{
        char **nv;

        for (size_t i = 0; i < s->n; i++)
                if (!strcmp(s->v[i], str))
                        return 0;
        nv = realloc(s->v, (s->n + 2) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        if (!(s->v[s->n] = strdup(str)))
                return -ENOMEM;
        s->v[++s->n] = NULL;
        return 0;
}

/* ---- containers ---- */

static void container_release(struct engine_container *c)
{
        free(c->id);
        free(c->name);
        free(c->service);
        free(c->state);
        free(c->health);
        for (size_t i = 0; i < c->n_ports; i++) {
                free(c->ports[i].ip);
                free(c->ports[i].proto);
        }
        free(c->ports);
        free(c->run_label);
        free(c->image);
        memset(c, 0, sizeof *c);
}

void engine_containers_free(struct engine_container *c, size_t n)
{
        if (!c)
                return;
        for (size_t i = 0; i < n; i++)
                container_release(&c[i]);
        free(c);
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
        const char *name = json_string_value(json_array_get(json_object_get(j, "Names"), 0));
        bool oom = false;
        size_t i;

        if (!json_string_value(json_object_get(j, "Id")))
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
        if (name && *name == '/')
                name++;
        c->id = strdup_or_null(json_string_value(json_object_get(j, "Id")), &oom);
        c->name = strdup_or_null(name, &oom);
        c->service = strdup_or_null(json_string_value(json_object_get(labels, "com.docker.compose.service")), &oom);
        c->state = strdup_or_null(json_string_value(json_object_get(j, "State")), &oom);
        c->run_label = strdup_or_null(json_string_value(json_object_get(labels, "io.stack.run")), &oom);
        c->image = strdup_or_null(json_string_value(json_object_get(j, "Image")), &oom);
        if (json_array_size(ports)) {
                c->ports = calloc(json_array_size(ports), sizeof *c->ports);
                if (!c->ports)
                        return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (i = 0; c->ports && i < json_array_size(ports); i++) {
                json_t *p = json_array_get(ports, i);
                struct engine_port *o = &c->ports[c->n_ports++];
                o->ip = strdup_or_null(json_string_value(json_object_get(p, "IP")), &oom);
                o->private_port = port_number(json_object_get(p, "PrivatePort"));
                o->public_port = port_number(json_object_get(p, "PublicPort"));
                o->proto = strdup_or_null(json_string_value(json_object_get(p, "Type")), &oom);
        }
        if (oom || !c->id)
                return error_set(err, STACK_EFAIL, "out of memory");
        return 0;
}

/* GET /containers/{id}/json: health and exit code. *ret_gone when the container went away meanwhile. */
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

static int container_inspect(struct engine *e, struct engine_container *c, bool *ret_gone, struct error *err)
{
        char path[512] = "/containers/";
        json_t *j = NULL, *st;
        const char *v;
        bool oom = false;
        long status = 0;
        int r;

        if (!c->id)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: a container without an id");
        if (append_escaped(path, sizeof path, c->id) < 0 || append_escaped(path, sizeof path, "/json") < 0)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", c->id);
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0)
                return r;
        *ret_gone = status == 404;
        if (!j)
                return 0;
        st = json_object_get(j, "State");
        c->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        c->started_ms = rfc3339_ms(json_string_value(json_object_get(st, "StartedAt")));
        c->pid = (int)json_integer_value(json_object_get(st, "Pid"));
        v = json_string_value(json_object_get(json_object_get(st, "Health"), "Status"));
        if (v && *v && strcmp(v, "none"))
                c->health = strdup_or_null(v, &oom);
        if (!c->state)
                c->state = strdup_or_null(json_string_value(json_object_get(st, "Status")), &oom);
        json_decref(j);
        return oom ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

static int container_cmp(const void *a, const void *b)
{
        const struct engine_container *x = a, *y = b;

        return strcmp(x->name ? x->name : x->id, y->name ? y->name : y->id);
}

int engine_list_containers(struct engine *e, const char *label, struct engine_container **ret, size_t *ret_n,
                           struct error *err)
{
        char path[4096] = "/containers/json?all=1";
        struct engine_container *v = NULL;
        json_t *list = NULL, *item;
        size_t n = 0, i;
        long status = 0;
        int r = 0;

        if (!e || !ret || !ret_n)
                return error_set(err, STACK_EFAIL, "engine_list_containers: missing argument");
        if (label && *label) {
                json_t *f = json_pack("{s:[s]}", "label", label);
                char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
                char *q = fs ? curl_easy_escape(e->curl, fs, 0) : NULL;
                json_decref(f);
                free(fs);
                if (!q)
                        return error_set(err, STACK_EFAIL, "out of memory");
                if (strlen(path) + strlen("&filters=") + strlen(q) >= sizeof path) {
                        curl_free(q);
                        return error_set(err, STACK_EFAIL, "container label filter too long: %.64s...", label);
                }
                strcat(path, "&filters=");
                strcat(path, q);
                curl_free(q);
        }
        r = engine_get_json(e, path, &status, &list, err);
        if (r < 0)
                return r;
        if (!json_is_array(list)) {
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: %s",
                              list ? "the answer is not a list" : "HTTP 404");
                goto fail;
        }
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

/* ---- taking a project down ---- */

#define PROJECT_LABEL     "com.docker.compose.project"
#define MAX_DELETE_ANSWER (64u << 10) /* a DELETE answers nothing, or an error message */

/* base, then "?" or "&", then filters= the URL-encoded {"label":[label]}. */
static int label_path(struct engine *e, const char *base, const char *label, char *path, size_t cap, struct error *err)
{
        json_t *f = json_pack("{s:[s]}", "label", label);
        char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
        char *q = fs ? curl_easy_escape(e->curl, fs, 0) : NULL;
        int r = 0;

        if (!q)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if ((size_t)snprintf(path, cap, "%s%cfilters=%s", base, strchr(base, '?') ? '&' : '?', q) >= cap)
                r = error_set(err, STACK_EFAIL, "label filter too long: %.64s...", label);
        curl_free(q);
        free(fs);
        json_decref(f);
        return r;
}

/* The objects of GET base carrying label: the answer itself, or its `member` (GET /volumes answers
 * {"Volumes": [...], "Warnings": ...}, with null for none). A JSON array in *ret. */
static int list_labelled(struct engine *e, const char *base, const char *label, const char *member, json_t **ret,
                         struct error *err)
{
        char path[4096];
        json_t *j = NULL, *list;
        long status = 0;
        int r = label_path(e, base, label, path, sizeof path, err);

        if (r < 0)
                return r;
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0)
                return r;
        list = member && json_is_object(j) ? json_object_get(j, member) : j;
        if (member && json_is_object(j) && (!list || json_is_null(list)))
                list = json_array();
        else
                json_incref(list);
        json_decref(j);
        if (!json_is_array(list)) {
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %.*s: %s", (int)strcspn(base, "?"), base,
                              status == 404 ? "HTTP 404" : "the answer is not a list");
                json_decref(list);
                return r;
        }
        *ret = list;
        return 0;
}

/* "kind name: <the Engine's message>" into kept. */
static int keep(struct strv *kept, const char *kind, const char *name, const char *body, size_t len, struct error *err)
{
        char *m = answer_message(body, len), *line = NULL;
        int r = 0;

        if (asprintf(&line, "%s %s: %s", kind, name, m ? m : "in use") < 0) {
                line = NULL;
                r = -ENOMEM;
        } else {
                r = strv_add(kept, line);
        }
        free(line);
        free(m);
        return r < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

/* DELETE base/{id}query. 2xx counts in *ret_n; 404 means gone already; a status in `in_use` (0-terminated)
 * leaves the object and adds "kind name: <message>" to kept; anything else is STACK_ERUNTIME. */
static int delete_object(struct engine *e, const char *kind, const char *base, const char *id, const char *name,
                         const char *query, const long *in_use, struct strv *kept, unsigned *ret_n, struct error *err)
{
        char path[1024];
        struct buf b = BUF_INIT(MAX_DELETE_ANSWER);
        struct request rq = {
                .method = "DELETE", .path = path, .timeout_s = CALL_TIMEOUT_S, .write = mem_write, .write_ud = &b};
        long status = 0;
        CURLcode c;
        int r = 0;

        snprintf(path, sizeof path, "%s/", base);
        if (append_escaped(path, sizeof path, id) < 0 || strlen(path) + strlen(query) >= sizeof path)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: %s id too long: %.64s...", kind, id);
        strcat(path, query);
        c = perform(e, &rq, &status);
        /* The status says what happened; the body is only a message, so one over the cap just loses it. */
        if (b.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (c != CURLE_OK && !(b.toobig && status))
                r = transport_error(e, c, "DELETE", path, err);
        else if (status >= 200 && status <= 299)
                (*ret_n)++;
        else if (status != 404) {
                while (*in_use && *in_use != status)
                        in_use++;
                if (!*in_use)
                        r = status_error(e, "DELETE", path, status, &b, err);
                else
                        r = keep(kept, kind, name ? name : id, b.p, b.len, err);
        }
        buf_release(&b);
        return r;
}

int engine_remove_containers(struct engine *e, const char *label, bool volumes, unsigned *ret_n, struct error *err)
{
        static const long never_in_use[] = {0}; /* force=1 kills a running container: nothing keeps it */
        const char *eq = label ? strchr(label, '=') : NULL;
        json_t *list = NULL, *item;
        unsigned n = 0;
        size_t i;
        int r;

        if (!e || !label || !ret_n)
                return error_set(err, STACK_EFAIL, "engine_remove_containers: missing argument");
        /* A bare key would select every container that has it, whatever the value: every compose project. */
        if (!eq || eq == label || !eq[1])
                return error_set(err, STACK_EFAIL, "engine_remove_containers: label '%s' is not key=value", label);
        r = list_labelled(e, "/containers/json?all=1", label, NULL, &list, err);
        if (r < 0)
                return r;
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, "Id"));
                const char *name = json_string_value(json_array_get(json_object_get(item, "Names"), 0));
                if (!id) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: an entry has no Id");
                        break;
                }
                if (name && *name == '/')
                        name++;
                r = delete_object(e, "container", "/containers", id, name, volumes ? "?force=1&v=1" : "?force=1",
                                  never_in_use, NULL, &n, err);
                if (r < 0)
                        break;
        }
        json_decref(list);
        if (r == 0)
                *ret_n = n;
        return r;
}

/* Networks, or volumes: every object of the project's label, by `key` (Id for networks: their names need not
 * be unique), named in messages by Name. */
static int remove_labelled(struct engine *e, const char *kind, const char *list_base, const char *member,
                           const char *delete_base, const char *key, const char *label, const long *in_use,
                           struct strv *kept, unsigned *ret_n, struct error *err)
{
        json_t *list = NULL, *item;
        size_t i;
        int r = list_labelled(e, list_base, label, member, &list, err);

        if (r < 0)
                return r;
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, key));
                if (!id) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: an entry has no %s", list_base, key);
                        break;
                }
                r = delete_object(e, kind, delete_base, id, json_string_value(json_object_get(item, "Name")), "",
                                  in_use, kept, ret_n, err);
                if (r < 0)
                        break;
        }
        json_decref(list);
        return r;
}

int engine_remove_project(struct engine *e, const char *project, bool volumes, struct engine_removed *ret,
                          struct error *err)
{
        /* A network with endpoints: 403 from API 1.41 (libnetwork's ActiveEndpointsError), 409 from newer
         * Engines; a volume a container uses: 409. */
        static const long network_in_use[] = {403, 409, 0}, volume_in_use[] = {409, 0};
        struct engine_removed rm = {0};
        struct strv kept = {0};
        char label[512];
        int r;

        if (!e || !project || !*project || !ret)
                return error_set(err, STACK_EFAIL, "engine_remove_project: missing argument");
        if ((size_t)snprintf(label, sizeof label, PROJECT_LABEL "=%s", project) >= sizeof label)
                return error_set(err, STACK_EFAIL, "compose project name too long: %.64s...", project);
        r = engine_remove_containers(e, label, volumes, &rm.containers, err);
        if (r == 0)
                r = remove_labelled(e, "network", "/networks", NULL, "/networks", "Id", label, network_in_use, &kept,
                                    &rm.networks, err);
        if (r == 0 && volumes)
                r = remove_labelled(e, "volume", "/volumes", "Volumes", "/volumes", "Name", label, volume_in_use, &kept,
                                    &rm.volumes, err);
        if (r < 0) {
                engine_strv_free(kept.v);
                return r;
        }
        rm.kept = kept.v;
        *ret = rm;
        return 0;
}

void engine_removed_release(struct engine_removed *r)
{
        if (!r)
                return;
        engine_strv_free(r->kept);
        r->kept = NULL;
}

/* ---- images stack loaded (gc --images) ---- */

int engine_image_used(struct engine *e, const char *ref, bool *ret, struct error *err)
{
        json_t *f, *list = NULL;
        char *fs, *q, path[4096];
        long status = 0;
        bool have = false;
        int r;

        if (!e || !ref || !*ref || !ret)
                return error_set(err, STACK_EFAIL, "engine_image_used: missing argument");
        r = engine_image_exists(e, ref, &have, err);
        if (r < 0 || !have) {
                if (r == 0)
                        *ret = false; /* an image that is gone is used by nothing */
                return r;
        }
        f = json_pack("{s:[s]}", "ancestor", ref);
        fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
        q = fs ? curl_easy_escape(e->curl, fs, 0) : NULL;
        if (!q)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if ((size_t)snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", q) >= sizeof path)
                r = error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        curl_free(q);
        free(fs);
        json_decref(f);
        if (r == 0)
                r = engine_get_json(e, path, &status, &list, err);
        if (r == 0 && !json_is_array(list))
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: GET /containers/json: %s",
                              status == 404 ? "HTTP 404" : "the answer is not a list");
        if (r == 0)
                *ret = json_array_size(list) > 0;
        json_decref(list);
        return r;
}

int engine_image_remove(struct engine *e, const char *ref, bool *ret_removed, struct error *err)
{
        static const long in_use[] = {409, 0};
        struct strv kept = {0};
        unsigned n = 0;
        int r;

        if (!e || !ref || !*ref || !ret_removed)
                return error_set(err, STACK_EFAIL, "engine_image_remove: missing argument");
        r = delete_object(e, "image", "/images", ref, NULL, "", in_use, &kept, &n, err);
        engine_strv_free(kept.v);
        if (r == 0)
                *ret_removed = n > 0;
        return r;
}

/* ---- image load from a stream (spec/run.md "Image archives": stored as their parts) ---- */

int engine_image_load_stream(struct engine *e, engine_read_fn read, void *ctx, uint64_t size, const char *what,
                             struct error *err)
{
        if (!e || !read)
                return error_set(err, STACK_EFAIL, "engine_image_load_stream: missing argument");
        return image_load(e, (struct upload){.fd = -1, .read = read, .read_ctx = ctx, .size = size}, size, what, err);
}

/* ---- image build (DockerService, run/flavor.h) ---- */

int engine_build(struct engine *e, int fd, uint64_t size, const char *tag, struct error *err)
{
        struct load_answer a = {.line = BUF_INIT(MAX_LOAD_LINE)};
        struct upload u = {.fd = fd, .size = size};
        char path[512];
        struct request rq = {.method = "POST",
                             .path = path,
                             .timeout_s = 0,
                             .write = load_write,
                             .write_ud = &a,
                             .upload = &u,
                             .content_type = "application/x-tar"};
        long status = 0;
        CURLcode c;
        int r;

        if (!e || fd < 0 || !tag || strspn(tag, "abcdefghijklmnopqrstuvwxyz0123456789._-:/") != strlen(tag))
                return error_set(err, STACK_EFAIL, "engine_build: bad argument");
        snprintf(path, sizeof path, "/build?t=%s&rm=1&forcerm=1&q=1", tag);
        c = perform(e, &rq, &status);
        if (a.line.len && !a.line.toobig)
                load_line(&a, a.line.p, a.line.len);
        if (u.read_errno)
                r = error_errno(err, STACK_ESTORE, u.read_errno, "reading the build context of %s", tag);
        else if (a.oom || a.line.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (a.error)
                r = error_set(err, STACK_ERUNTIME, "building %s failed: %s", tag, a.error);
        else if (status >= 400)
                r = error_set(err, STACK_ERUNTIME, "building %s failed: %s", tag,
                              a.message ? a.message
                              : a.text  ? a.text
                                        : "the Engine refused the build");
        else if (c != CURLE_OK)
                r = transport_error(e, c, "POST", "/build", err);
        else if (status < 200 || status > 299)
                r = error_set(err, STACK_ERUNTIME, "building %s: the Engine answered HTTP %ld", tag, status);
        else
                r = 0;
        buf_release(&a.line);
        free(a.error);
        free(a.message);
        free(a.text);
        return r;
}

/* ---- volumes through a stopped helper container (spec/run.md "Upgrades and snapshots") ---- */

int engine_list_volumes(struct engine *e, const char *project, char ***ret, struct error *err)
{
        char label[256];
        json_t *list = NULL, *item;
        struct strv names = {0};
        size_t i;
        int r;

        if (!e || !project || !*project || !ret)
                return error_set(err, STACK_EFAIL, "engine_list_volumes: missing argument");
        snprintf(label, sizeof label, PROJECT_LABEL "=%s", project);
        r = list_labelled(e, "/volumes", label, "Volumes", &list, err);
        json_array_foreach(list, i, item)
        {
                const char *name = json_string_value(json_object_get(item, "Name"));
                if (r == 0 && name && strv_add(&names, name) < 0)
                        r = error_set(err, STACK_EFAIL, "out of memory");
        }
        json_decref(list);
        if (r == 0 && !names.v && strv_add(&names, "") == 0) {
                free(names.v[0]); /* an empty NULL-terminated list */
                names.v[0] = NULL;
        }
        if (r < 0 || !names.v) {
                engine_strv_free(names.v);
                return r < 0 ? r : error_set(err, STACK_EFAIL, "out of memory");
        }
        *ret = names.v;
        return 0;
}

/* POST path with a JSON body; *ret the JSON answer (NULL when empty). 2xx, else STACK_ERUNTIME. */
static int engine_post_json(struct engine *e, const char *method, const char *path, json_t *body, long *ret_status,
                            json_t **ret, struct error *err)
{
        struct buf b = BUF_INIT(MAX_ANSWER);
        char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
        struct request rq = {.method = method,
                             .path = path,
                             .timeout_s = CALL_TIMEOUT_S,
                             .write = mem_write,
                             .write_ud = &b,
                             .content_type = "application/json",
                             .body = text,
                             .body_len = text ? strlen(text) : 0};
        long status = 0;
        CURLcode c;
        int r = 0;

        if (!text)
                return error_set(err, STACK_EFAIL, "out of memory");
        c = perform(e, &rq, &status);
        free(text);
        if (b.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (c != CURLE_OK)
                r = transport_error(e, c, method, path, err);
        else if (status < 200 || status > 299)
                r = status_error(e, method, path, status, &b, err);
        else if (ret)
                *ret = b.len ? json_loadb(b.p, b.len, 0, NULL) : NULL;
        if (ret_status)
                *ret_status = status;
        buf_release(&b);
        return r;
}

int engine_volume_recreate(struct engine *e, const char *name, struct error *err)
{
        static const long in_use[] = {0};
        char path[1024] = "/volumes/";
        json_t *v = NULL, *spec;
        struct strv kept = {0};
        unsigned n = 0;
        long status = 0;
        int r;

        if (!e || !name || !*name || append_escaped(path, sizeof path, name) < 0)
                return error_set(err, STACK_EFAIL, "engine_volume_recreate: bad volume name");
        r = engine_get_json(e, path, &status, &v, err);
        if (r < 0)
                return r;
        spec = json_pack("{s:s, s:O?, s:O?, s:O?}", "Name", name, "Driver", json_object_get(v, "Driver"), "Labels",
                         json_object_get(v, "Labels"), "DriverOpts", json_object_get(v, "Options"));
        json_decref(v);
        if (!spec)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (status != 404)
                r = delete_object(e, "volume", "/volumes", name, NULL, "", in_use, &kept, &n, err);
        engine_strv_free(kept.v);
        if (r == 0)
                r = engine_post_json(e, "POST", "/volumes/create", spec, NULL, NULL, err);
        json_decref(spec);
        return r;
}

int engine_helper_create(struct engine *e, const char *image, const char *volume, const char *target, char **ret_id,
                         struct error *err)
{
        json_t *body, *ans = NULL;
        const char *id;
        int r;

        if (!e || !image || !volume || !target || !ret_id)
                return error_set(err, STACK_EFAIL, "engine_helper_create: missing argument");
        /* Never started: the entrypoint only has to be non-empty. NoCopy: an empty volume stays empty (no copy
         * of the image's files at the mount point). */
        body = json_pack("{s:s, s:[s], s:[], s:{s:s}, s:{s:[{s:s, s:s, s:s, s:{s:b}}]}}", "Image", image, "Entrypoint",
                         "/stack-snapshot-helper-never-started", "Cmd", "Labels", "io.stack.snapshot-helper", "1",
                         "HostConfig", "Mounts", "Type", "volume", "Source", volume, "Target", target, "VolumeOptions",
                         "NoCopy", 1);
        if (!body)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = engine_post_json(e, "POST", "/containers/create", body, NULL, &ans, err);
        json_decref(body);
        id = json_string_value(json_object_get(ans, "Id"));
        if (r == 0 && !id)
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: POST /containers/create: no Id in the answer");
        if (r == 0 && !(*ret_id = strdup(id)))
                r = error_set(err, STACK_EFAIL, "out of memory");
        json_decref(ans);
        return r;
}

int engine_container_delete(struct engine *e, const char *id, struct error *err)
{
        static const long in_use[] = {0};
        struct strv kept = {0};
        unsigned n = 0;
        int r;

        if (!e || !id)
                return error_set(err, STACK_EFAIL, "engine_container_delete: missing argument");
        r = delete_object(e, "container", "/containers", id, NULL, "?force=1", in_use, &kept, &n, err);
        engine_strv_free(kept.v);
        return r;
}

struct fd_sink {
        CURL *curl;
        int fd;
        struct buf *msg; /* an error answer's text */
};

static size_t fd_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct fd_sink *k = ud;
        long status = 0;

        curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status > 299)
                return buf_add(k->msg, ptr, size * n) == 0 || k->msg->toobig ? size * n : 0;
        return fs_write_all(k->fd, ptr, size * n) == 0 ? size * n : 0;
}

static int archive_path(struct engine *e, const char *id, const char *path, char *out, size_t cap)
{
        char *q = curl_easy_escape(e->curl, path, 0);
        int k;

        snprintf(out, cap, "/containers/");
        if (!q || append_escaped(out, cap, id) < 0) {
                curl_free(q);
                return -1;
        }
        k = snprintf(out + strlen(out), cap - strlen(out), "/archive?path=%s", q);
        curl_free(q);
        return k < 0 || (size_t)k >= cap ? -1 : 0;
}

int engine_archive_get(struct engine *e, const char *id, const char *path, int fd, struct error *err)
{
        char p[2048];
        struct buf msg = BUF_INIT(MAX_DELETE_ANSWER);
        struct fd_sink k = {.curl = e ? e->curl : NULL, .fd = fd, .msg = &msg};
        struct request rq = {.method = "GET", .path = p, .write = fd_write, .write_ud = &k};
        long status = 0;
        CURLcode c;
        int r = 0;

        if (!e || !id || !path || archive_path(e, id, path, p, sizeof p) < 0)
                return error_set(err, STACK_EFAIL, "engine_archive_get: bad argument");
        c = perform(e, &rq, &status);
        if (c == CURLE_WRITE_ERROR && status >= 200 && status <= 299)
                r = error_set(err, STACK_ESTORE, "writing the archive of %s: %s", path, strerror(errno));
        else if (c != CURLE_OK)
                r = transport_error(e, c, "GET", p, err);
        else if (status < 200 || status > 299)
                r = status_error(e, "GET", p, status, &msg, err);
        buf_release(&msg);
        return r;
}

int engine_archive_put(struct engine *e, const char *id, const char *path, int fd, uint64_t size, struct error *err)
{
        char p[2048];
        struct buf b = BUF_INIT(MAX_DELETE_ANSWER);
        struct upload u = {.fd = fd, .size = size};
        struct request rq = {.method = "PUT",
                             .path = p,
                             .write = mem_write,
                             .write_ud = &b,
                             .upload = &u,
                             .content_type = "application/x-tar"};
        long status = 0;
        CURLcode c;
        int r = 0;

        if (!e || !id || !path || archive_path(e, id, path, p, sizeof p) < 0)
                return error_set(err, STACK_EFAIL, "engine_archive_put: bad argument");
        c = perform(e, &rq, &status);
        if (u.read_errno || u.short_read)
                r = error_set(err, STACK_ESTORE, "reading the archive for %s failed", path);
        else if (c != CURLE_OK)
                r = transport_error(e, c, "PUT", p, err);
        else if (status < 200 || status > 299)
                r = status_error(e, "PUT", p, status, &b, err);
        buf_release(&b);
        return r;
}

int engine_container_logs(struct engine *e, const char *id, int tail, char **ret, struct error *err)
{
        char p[1024] = "/containers/";
        struct buf b = BUF_INIT(0), out = BUF_INIT(1u << 20);
        long status = 0;
        size_t o = 0;
        int r;

        if (!e || !id || !ret || append_escaped(p, sizeof p, id) < 0)
                return error_set(err, STACK_EFAIL, "engine_container_logs: bad argument");
        snprintf(p + strlen(p), sizeof p - strlen(p), "/logs?stdout=1&stderr=1&tail=%d", tail);
        r = engine_get(e, p, &status, &b, err);
        if (r < 0)
                return r;
        /* Without a TTY the answer is multiplexed: 8-byte frame headers (stream, 0, 0, 0, big-endian length). */
        while (b.p && o + 8 <= b.len && (b.p[o] == 0 || b.p[o] == 1 || b.p[o] == 2) && !b.p[o + 1]) {
                const unsigned char *h = (const unsigned char *)b.p + o;
                size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
                if (o + 8 + len > b.len)
                        break;
                buf_add(&out, b.p + o + 8, len);
                o += 8 + len;
        }
        if (o == 0 && b.len)
                buf_add(&out, b.p, b.len); /* a TTY container: the raw text */
        buf_release(&b);
        buf_add(&out, "", 1);
        *ret = out.p ? buf_steal(&out, NULL) : strdup("");
        return *ret ? 0 : error_set(err, STACK_EFAIL, "out of memory");
}

int engine_volume_delete(struct engine *e, const char *name, struct error *err)
{
        static const long in_use[] = {0};
        struct strv kept = {0};
        unsigned n = 0;
        int r;

        if (!e || !name || !*name)
                return error_set(err, STACK_EFAIL, "engine_volume_delete: missing argument");
        r = delete_object(e, "volume", "/volumes", name, NULL, "", in_use, &kept, &n, err);
        engine_strv_free(kept.v);
        return r;
}

int engine_project_stop(struct engine *e, const char *project, unsigned *ret_n, struct error *err)
{
        char label[256];
        json_t *list = NULL, *item;
        unsigned n = 0;
        size_t i;
        int r;

        if (!e || !project || !*project)
                return error_set(err, STACK_EFAIL, "engine_project_stop: missing argument");
        snprintf(label, sizeof label, PROJECT_LABEL "=%s", project);
        r = list_labelled(e, "/containers/json", label, NULL, &list, err);
        json_array_foreach(list, i, item)
        {
                const char *id = json_string_value(json_object_get(item, "Id"));
                char path[1024] = "/containers/";
                struct buf b = BUF_INIT(MAX_DELETE_ANSWER);
                struct request rq = {.method = "POST",
                                     .path = path,
                                     .timeout_s = CALL_TIMEOUT_S,
                                     .write = mem_write,
                                     .write_ud = &b,
                                     .content_type = "application/json",
                                     .body = "{}",
                                     .body_len = 2};
                long status = 0;
                CURLcode c;
                if (r < 0 || !id)
                        continue;
                if (append_escaped(path, sizeof path, id) < 0 || strlen(path) + 16 >= sizeof path) {
                        r = error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long");
                        continue;
                }
                strcat(path, "/stop?t=10");
                c = perform(e, &rq, &status);
                if (c != CURLE_OK)
                        r = transport_error(e, c, "POST", path, err);
                else if (status >= 200 && status <= 299)
                        n++;
                else if (status != 304 && status != 404) /* already stopped, gone */
                        r = status_error(e, "POST", path, status, &b, err);
                buf_release(&b);
        }
        json_decref(list);
        if (r == 0 && ret_n)
                *ret_n = n;
        return r;
}

/* ---- re-launch: a project's containers as compose configured them, starting one (relaunch.c) ---- */

void engine_config_release(struct engine_config *c)
{
        free(c->id);
        free(c->name);
        free(c->service);
        free(c->config_hash);
        free(c->image_id);
        free(c->image_ref);
        free(c->state);
        free(c->health);
        memset(c, 0, sizeof *c);
}

void engine_configs_free(struct engine_config *c, size_t n)
{
        if (!c)
                return;
        for (size_t i = 0; i < n; i++)
                engine_config_release(&c[i]);
        free(c);
}

static int config_cmp(const void *a, const void *b)
{
        const struct engine_config *x = a, *y = b;

        return strcmp(x->name ? x->name : x->id, y->name ? y->name : y->id);
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
        r = list_labelled(e, "/containers/json?all=1", label, NULL, &list, err);
        if (r < 0)
                return r;
        v = calloc(json_array_size(list) + 1, sizeof *v);
        if (!v) {
                json_decref(list);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        json_array_foreach(list, i, item)
        {
                json_t *labels = json_object_get(item, "Labels");
                const char *name = json_string_value(json_array_get(json_object_get(item, "Names"), 0));
                struct engine_config *c = &v[n++];
                if (name && *name == '/')
                        name++;
                c->id = strdup_or_null(json_string_value(json_object_get(item, "Id")), &oom);
                c->name = strdup_or_null(name, &oom);
                c->service =
                        strdup_or_null(json_string_value(json_object_get(labels, "com.docker.compose.service")), &oom);
                c->config_hash = strdup_or_null(
                        json_string_value(json_object_get(labels, "com.docker.compose.config-hash")), &oom);
                c->image_id = strdup_or_null(json_string_value(json_object_get(item, "ImageID")), &oom);
                c->image_ref = strdup_or_null(json_string_value(json_object_get(item, "Image")), &oom);
                c->state = strdup_or_null(json_string_value(json_object_get(item, "State")), &oom);
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
        char path[512] = "/containers/";
        json_t *j = NULL, *st, *labels;
        const char *h, *name;
        bool oom = false;
        long status = 0;
        int r;

        memset(ret, 0, sizeof *ret);
        if (append_escaped(path, sizeof path, id) < 0 || append_escaped(path, sizeof path, "/json") < 0)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", id);
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0)
                return r;
        *ret_gone = status == 404;
        if (!j)
                return 0;
        st = json_object_get(j, "State");
        labels = json_object_get(json_object_get(j, "Config"), "Labels");
        name = json_string_value(json_object_get(j, "Name"));
        if (name && *name == '/')
                name++;
        ret->id = strdup_or_null(json_string_value(json_object_get(j, "Id")), &oom);
        ret->name = strdup_or_null(name, &oom);
        ret->service = strdup_or_null(json_string_value(json_object_get(labels, "com.docker.compose.service")), &oom);
        ret->config_hash =
                strdup_or_null(json_string_value(json_object_get(labels, "com.docker.compose.config-hash")), &oom);
        ret->image_id = strdup_or_null(json_string_value(json_object_get(j, "Image")), &oom);
        ret->image_ref =
                strdup_or_null(json_string_value(json_object_get(json_object_get(j, "Config"), "Image")), &oom);
        ret->state = strdup_or_null(json_string_value(json_object_get(st, "Status")), &oom);
        ret->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        h = json_string_value(json_object_get(json_object_get(st, "Health"), "Status"));
        if (h && *h && strcmp(h, "none"))
                ret->health = strdup_or_null(h, &oom);
        json_decref(j);
        if (oom) {
                engine_config_release(ret);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        return 0;
}

int engine_image_id(struct engine *e, const char *ref, char **ret_id, struct error *err)
{
        char path[1024] = "/images/";
        json_t *j = NULL;
        long status = 0;
        bool oom = false;
        int r;

        *ret_id = NULL;
        if (append_escaped(path, sizeof path, ref) < 0 || append_escaped(path, sizeof path, "/json") < 0)
                return error_set(err, STACK_EREJECT, "image reference too long: %.64s...", ref);
        r = engine_get_json(e, path, &status, &j, err);
        if (r < 0 || !j)
                return r;
        *ret_id = strdup_or_null(json_string_value(json_object_get(j, "Id")), &oom);
        json_decref(j);
        return oom ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

int engine_container_start(struct engine *e, const char *id, struct error *err)
{
        char path[512] = "/containers/";
        struct buf b = BUF_INIT(MAX_DELETE_ANSWER);
        struct request rq = {
                .method = "POST", .path = path, .timeout_s = CALL_TIMEOUT_S, .write = mem_write, .write_ud = &b};
        long status = 0;
        CURLcode c;
        int r = 0;

        if (append_escaped(path, sizeof path, id) < 0 || append_escaped(path, sizeof path, "/start") < 0)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: container id too long: %.64s...", id);
        c = perform(e, &rq, &status); /* POST without a body: perform() sends it as a custom method */
        if (b.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (c != CURLE_OK && !(b.toobig && status))
                r = transport_error(e, c, "POST", path, err);
        else if (status != 204 && status != 304) /* 304: running already */
                r = status_error(e, "POST", path, status, &b, err);
        buf_release(&b);
        return r;
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
        if (!id || !*id || append_escaped(path, sizeof path, id) < 0 ||
            (!strcmp(kind, "containers") && append_escaped(path, sizeof path, "/json") < 0))
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
        json_t *f = json_pack("{s:[s]}", filter, value), *j = NULL;
        char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL, *q = fs ? curl_easy_escape(e->curl, fs, 0) : NULL;
        char path[4096];
        long status = 0;
        int r = 0;

        *ret = NULL;
        if (!q)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if ((size_t)snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", q) >= sizeof path)
                r = error_set(err, STACK_EFAIL, "filter too long: %.64s...", value);
        curl_free(q);
        free(fs);
        json_decref(f);
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
