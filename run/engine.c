/* engine.c - the Docker Engine API over its unix socket: the transport and the API version (spec/run.md "Engine").
 *
 * One curl easy handle per struct engine, reset before each request so the connection to the socket is kept
 * alive across calls. Every answer is read into a bounded buffer; the answers that stream (image load, build)
 * are parsed line by line as they arrive, so only the current line is held. Request bodies (image archives,
 * which can be gigabytes) are streamed from their file descriptor, never read whole. The calls themselves are
 * in engine-*.c, one file a topic (engine-int.h).
 */
#include "engine.h"
#include "engine-int.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- small helpers ---- */

char *engine_strdup(const char *s, bool *oom)
{
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                *oom = true;
        return d;
}

void engine_tidy_message(char *s)
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

/* '/' stays as is: the Engine routes /images/{name:.*}/json, so "stack-test/engine:1" is one path parameter. */
int engine_path_append(char *dst, size_t cap, const char *s)
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

int engine_filter_path(struct engine *e, const char *base, const char *key, const char *value, char *path, size_t cap,
                       struct error *err)
{
        json_t *f = json_pack("{s:[s]}", key, value);
        char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
        char *q = fs ? curl_easy_escape(e->curl, fs, 0) : NULL;
        int r = 0;

        if (!q)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if ((size_t)snprintf(path, cap, "%s%cfilters=%s", base, strchr(base, '?') ? '&' : '?', q) >= cap)
                r = error_set(err, STACK_EFAIL, "%s filter too long: %.64s...", key, value);
        curl_free(q);
        free(fs);
        json_decref(f);
        return r;
}

int engine_strv_add(struct engine_strv *s, const char *str)
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

/* ---- requests ---- */

size_t engine_buf_write(char *ptr, size_t size, size_t n, void *ud)
{
        return buf_add(ud, ptr, size * n) == 0 ? size * n : 0;
}

static size_t upload_read(char *buf, size_t size, size_t n, void *ud)
{
        struct engine_upload *u = ud;
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

CURLcode engine_perform(struct engine *e, const struct engine_transfer *rq, long *ret_status)
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
        if (rq->progress) {
                curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, rq->progress);
                curl_easy_setopt(k, CURLOPT_XFERINFODATA, rq->progress_ud);
        }
        if (rq->auth) {
                char *line;
                if (asprintf(&line, "X-Registry-Auth: %s", rq->auth) < 0)
                        return CURLE_OUT_OF_MEMORY;
                hdr = curl_slist_append(NULL, line);
                free(line);
                if (!hdr)
                        return CURLE_OUT_OF_MEMORY;
        }
        if (rq->upload || rq->body) {
                char ct[128];
                snprintf(ct, sizeof ct, "Content-Type: %s", rq->content_type);
                h = curl_slist_append(hdr, ct);
                if (!h) {
                        curl_slist_free_all(hdr);
                        return CURLE_OUT_OF_MEMORY;
                }
                hdr = h;
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
        if (hdr && !(rq->upload || rq->body))
                curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdr);
        c = curl_easy_perform(k);
        curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, ret_status);
        curl_easy_setopt(k, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdr);
        return c;
}

int engine_transport_error(struct engine *e, CURLcode c, const char *method, const char *path, struct error *err)
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

char *engine_answer_message(const char *body, size_t len)
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
                engine_tidy_message(m);
        return m;
}

int engine_status_error(const char *method, const char *path, const struct engine_reply *rp, struct error *err)
{
        char *m = engine_answer_message(rp->body.p, rp->body.len);
        int r = error_set(err, STACK_ERUNTIME, "Docker Engine: %s %s: HTTP %ld%s%s", method, path, rp->status,
                          m ? ": " : "", m ? m : "");

        free(m);
        return r;
}

int engine_request(struct engine *e, const char *method, const char *path, const char *body, size_t max, bool whole,
                   struct engine_reply *ret, struct error *err)
{
        struct buf b = BUF_INIT(max);
        struct engine_transfer t = {.method = method,
                                    .path = path,
                                    .timeout_s = CALL_TIMEOUT_S,
                                    .write = engine_buf_write,
                                    .write_ud = &b,
                                    .content_type = "application/json",
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0};
        long status = 0;
        CURLcode c = engine_perform(e, &t, &status);
        int r;

        /* The status says what happened; a body that is only a message and over the cap just loses its end. */
        if (b.toobig && whole)
                r = error_set(err, STACK_ERUNTIME, "Docker Engine: %s %s: answer larger than %zu bytes: refused",
                              method, path, max);
        else if (b.oom || c == CURLE_OUT_OF_MEMORY)
                r = error_set(err, STACK_EFAIL, "out of memory");
        else if (c != CURLE_OK && !(b.toobig && status))
                r = engine_transport_error(e, c, method, path, err);
        else {
                ret->status = status;
                ret->body = b;
                return 0;
        }
        buf_release(&b);
        return r;
}

void engine_reply_release(struct engine_reply *r)
{
        if (r)
                buf_release(&r->body);
}

int engine_get_json(struct engine *e, const char *path, long *ret_status, json_t **ret, struct error *err)
{
        struct engine_reply rp;
        json_error_t je;
        json_t *j;
        int r = engine_request(e, "GET", path, NULL, MAX_ANSWER, true, &rp, err);

        if (r < 0)
                return r;
        if (rp.status == 404) {
                engine_reply_release(&rp);
                *ret_status = 404;
                *ret = NULL;
                return 0;
        }
        if (rp.status < 200 || rp.status > 299) {
                r = engine_status_error("GET", path, &rp, err);
                engine_reply_release(&rp);
                return r;
        }
        j = json_loadb(rp.body.p ? rp.body.p : "", rp.body.len, 0, &je);
        engine_reply_release(&rp);
        if (!j)
                return error_set(err, STACK_ERUNTIME, "Docker Engine: GET %s: the answer is not JSON (%s)", path,
                                 je.text);
        *ret_status = rp.status;
        *ret = j;
        return 0;
}

int engine_call_json(struct engine *e, const char *method, const char *path, json_t *body, json_t **ret,
                     struct error *err)
{
        struct engine_reply rp;
        char *text = body ? json_dumps(body, JSON_COMPACT) : strdup("{}");
        int r;

        if (!text)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = engine_request(e, method, path, text, MAX_ANSWER, true, &rp, err);
        free(text);
        if (r < 0)
                return r;
        if (rp.status < 200 || rp.status > 299)
                r = engine_status_error(method, path, &rp, err);
        else if (ret)
                *ret = rp.body.len ? json_loadb(rp.body.p, rp.body.len, 0, NULL) : NULL;
        engine_reply_release(&rp);
        return r;
}

/* ---- open / ping ---- */

static int socket_from_host(const char *h, char **ret, struct error *err)
{
        const char *path;
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
        struct engine_transfer rq = {.method = "GET",
                                     .path = "/_ping",
                                     .timeout_s = PING_TIMEOUT_S,
                                     .write = engine_buf_write,
                                     .write_ud = &b,
                                     .header = ping_header,
                                     .header_ud = p};
        long status;
        CURLcode c;
        int r = 0;

        c = engine_perform(e, &rq, &status);
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
                r = engine_transport_error(e, c, "GET", "/_ping", err);
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
        struct engine_reply rp;
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
        r = engine_request(e, "GET", "/version", NULL, MAX_ANSWER, true, &rp, err);
        if (r < 0)
                return r;
        if (rp.status < 200 || rp.status > 299) {
                char *m = engine_answer_message(rp.body.p, rp.body.len);
                snprintf(path, sizeof path, "%s/version", e->prefix);
                r = error_set(err, STACK_ERUNTIME, "the Docker Engine on %s refuses API 1.%d (GET %s: HTTP %ld%s%s)",
                              e->socket, speak, path, rp.status, m ? ": " : "", m ? m : "");
                free(m);
        }
        engine_reply_release(&rp);
        return r;
}

int engine_open(struct engine **ret, struct error *err)
{
        return engine_open_at(getenv("DOCKER_HOST"), ret, err);
}

int engine_open_at(const char *host, struct engine **ret, struct error *err)
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
        r = socket_from_host(host, &e->socket, err);
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
