/* http.c - libcurl downloads: bounded GETs with validators, and the pull-style stream ingest reads from.
 *
 * The stream inverts curl's push model without a thread: http_stream_read() runs curl_multi_perform() until
 * the write callback has buffered some bytes, then hands them out. The buffer is bounded: past HIGH_WATER the
 * write callback pauses the transfer, and the next read resumes it. A failed transfer is restarted at the
 * byte where it stopped (Range), so the consumer (libarchive, the hashes) never sees the break.
 */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "base/buf.h"

#define MAX_ATTEMPTS      4
#define HIGH_WATER        (1024 * 1024)
#define CONNECT_TIMEOUT_S 10L
#define LOW_SPEED_TIME_S  30L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
        curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool http_is_file_url(const char *url)
{
        return strncasecmp(url, "file://", 7) == 0;
}

static const char *scheme_of(const char *url)
{
        if (!strncasecmp(url, "https://", 8))
                return "https";
        if (!strncasecmp(url, "http://", 7))
                return "http";
        if (http_is_file_url(url))
                return "file";
        return NULL;
}

static void backoff(int attempt)
{
        long ms = 200L << attempt; /* 200, 400, 800 ms */
        nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static bool transient(CURLcode c, long status)
{
        switch (c) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM: return true;
        case CURLE_HTTP_RETURNED_ERROR: return status >= 500 || status == 429 || status == 408;
        default: return false;
        }
}

/* Options every transfer gets. */
static int setup_easy(CURL *e, const char *url, char *errbuf, struct error *err)
{
        const char *scheme = scheme_of(url), *ca = getenv("STACK_CA_FILE");

        if (!scheme)
                return error_set(err, STACK_EUSAGE, "'%s' is not an http://, https:// or file:// URL", url);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
        /* Redirects keep the scheme: an https catalog must not be sent to http, nor http to file:. */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, scheme);
        curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "stack/0.1");
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* catalogs are reached directly; no proxy from the environment */
        if (ca && *ca)
                curl_easy_setopt(e, CURLOPT_CAINFO, ca);
        return 0;
}

int http_file_path(const char *url, char **ret, struct error *err)
{
        const char *p = url + 7;
        char *path;

        if (!http_is_file_url(url))
                return error_set(err, STACK_EUSAGE, "'%s' is not a file:// URL", url);
        if (!strncasecmp(p, "localhost/", 10))
                p += 9;
        if (*p != '/')
                return error_set(err, STACK_EUSAGE, "%s: only local file:// URLs are supported", url);
        path = curl_unescape(p, 0);
        if (path) {
                *ret = strdup(path);
                curl_free(path);
        }
        return path && *ret ? 0 : error_set(err, STACK_EFAIL, "out of memory");
}

/* Does a file:// URL name nothing at all (not even a dangling symlink)? */
static bool file_url_absent(const char *url)
{
        struct stat st;
        char *path;
        bool absent;

        if (!http_is_file_url(url) || http_file_path(url, &path, NULL) < 0)
                return false;
        absent = lstat(path, &st) < 0 && errno == ENOENT;
        free(path);
        return absent;
}

/* One error for a finished transfer: what a person needs to know, in one line. */
static int transfer_error(CURL *e, CURLcode c, const char *url, const char *errbuf, struct error *err)
{
        long status = 0, redirects = 0;

        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
        if (c == CURLE_UNSUPPORTED_PROTOCOL || (c == CURLE_TOO_MANY_REDIRECTS)) {
                char *to = NULL;
                curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &to);
                if (c == CURLE_UNSUPPORTED_PROTOCOL)
                        return error_set(err, STACK_EREJECT, "%s: redirect to another scheme refused (%s)", url,
                                         to          ? to
                                         : errbuf[0] ? errbuf
                                                     : curl_easy_strerror(c));
                return error_set(err, STACK_ENETWORK, "%s: too many redirects", url);
        }
        if (c == CURLE_HTTP_RETURNED_ERROR)
                return error_http(err, STACK_ENETWORK, (int)status, "%s: HTTP %ld", url, status);
        if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_OPERATION_TIMEDOUT)
                return error_set(err, STACK_ENETWORK, "%s could not be reached: %s", url,
                                 errbuf[0] ? errbuf : curl_easy_strerror(c));
        if (c == CURLE_FILE_COULDNT_READ_FILE)
                /* A file:// URL naming nothing is what a 404 is for http: callers test the one number. */
                return error_http(err, STACK_ENETWORK, file_url_absent(url) ? 404 : 0, "%s could not be read: %s", url,
                                  errbuf[0] ? errbuf : curl_easy_strerror(c));
        return error_set(err, STACK_ENETWORK, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(c));
}

/* ---- bounded GET ---- */

struct membuf {
        struct buf body;
        char *etag, *last_modified;
};

static size_t mem_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct membuf *b = ud;

        return buf_add(&b->body, ptr, size * n) == 0 ? size * n : 0;
}

static char *header_value(const char *line, size_t len, const char *name)
{
        size_t nl = strlen(name);
        const char *v, *end = line + len;

        if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
                return NULL;
        for (v = line + nl + 1; v < end && (*v == ' ' || *v == '\t'); v++)
                ;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        return strndup(v, (size_t)(end - v));
}

static size_t mem_header(char *line, size_t size, size_t n, void *ud)
{
        struct membuf *b = ud;
        size_t len = size * n;
        char *v;

        if ((v = header_value(line, len, "ETag"))) {
                free(b->etag);
                b->etag = v;
        } else if ((v = header_value(line, len, "Last-Modified"))) {
                free(b->last_modified);
                b->last_modified = v;
        }
        return len;
}

static int request(const char *url, size_t max, const char *etag, const char *last_modified, bool nobody,
                   struct http_response *ret, struct error *err)
{
        char errbuf[CURL_ERROR_SIZE];
        struct curl_slist *hdr = NULL;
        struct membuf b = {0};
        CURL *e = NULL;
        int r = 0;

        pthread_once(&curl_once, curl_init);
        if (etag) {
                char line[512];
                snprintf(line, sizeof line, "If-None-Match: %s", etag);
                hdr = curl_slist_append(NULL, line);
                if (!hdr)
                        return error_set(err, STACK_EFAIL, "out of memory");
        }
        for (int attempt = 0;; attempt++) {
                CURLcode c;
                long status = 0;

                /* Whatever the previous attempt left (a partial body, validators) goes before the next one. */
                buf_release(&b.body);
                free(b.etag);
                free(b.last_modified);
                b = (struct membuf){.body = BUF_INIT(max)};
                curl_easy_cleanup(e);
                e = curl_easy_init();
                if (!e) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto done;
                }
                errbuf[0] = 0;
                r = setup_easy(e, url, errbuf, err);
                if (r < 0)
                        goto done;
                if (last_modified && !etag) {
                        time_t t = curl_getdate(last_modified, NULL);
                        if (t > 0) {
                                curl_easy_setopt(e, CURLOPT_TIMECONDITION, (long)CURL_TIMECOND_IFMODSINCE);
                                curl_easy_setopt(e, CURLOPT_TIMEVALUE_LARGE, (curl_off_t)t);
                        }
                }
                if (hdr)
                        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
                if (nobody)
                        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
                curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_write);
                curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
                curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, mem_header);
                curl_easy_setopt(e, CURLOPT_HEADERDATA, &b);
                c = curl_easy_perform(e);
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
                if (c == CURLE_OK) {
                        memset(ret, 0, sizeof *ret);
                        ret->status = status ? status : 200; /* file:// has no status */
                        if (ret->status == 304) {
                                buf_release(&b.body);
                        } else if (!(ret->body = buf_steal(&b.body, &ret->len))) {
                                r = error_set(err, STACK_EFAIL, "out of memory");
                                goto done;
                        }
                        ret->etag = b.etag;
                        ret->last_modified = b.last_modified;
                        b = (struct membuf){0}; /* handed to ret */
                        r = 0;
                        goto done;
                }
                if (b.body.toobig) {
                        r = error_set(err, STACK_EREJECT, "%s is larger than %zu bytes: refused", url, max);
                        goto done;
                }
                if (attempt + 1 < MAX_ATTEMPTS && transient(c, status)) {
                        backoff(attempt);
                        continue;
                }
                r = transfer_error(e, c, url, errbuf, err);
                goto done;
        }
done:
        buf_release(&b.body);
        free(b.etag);
        free(b.last_modified);
        curl_easy_cleanup(e);
        curl_slist_free_all(hdr);
        return r;
}

int http_get(const char *url, size_t max, const char *etag, const char *last_modified, struct http_response *ret,
             struct error *err)
{
        return request(url, max, etag, last_modified, false, ret, err);
}

int http_probe(const char *url, struct error *err)
{
        struct http_response r;
        int rc = request(url, 0, NULL, NULL, true, &r, err);

        if (rc == 0)
                http_response_release(&r);
        return rc;
}

void http_response_release(struct http_response *r)
{
        if (!r)
                return;
        free(r->body);
        free(r->etag);
        free(r->last_modified);
        memset(r, 0, sizeof *r);
}

/* ---- the stream ---- */

struct http_stream {
        char *url;
        int fd; /* file:// URLs are read directly: curl's file handler cannot pause (-1 otherwise) */
        CURLM *multi;
        CURL *easy;
        char errbuf[CURL_ERROR_SIZE];
        unsigned char *buf;
        size_t len, cap;
        bool paused, done, too_big;
        bool check_resume; /* first bytes of a resumed transfer: did the server honour Range? */
        CURLcode result;
        uint64_t handed;   /* bytes given to the consumer so far (where a resume starts) */
        uint64_t buffered; /* bytes of this transfer received (after any skip) */
        uint64_t skip;     /* a resumed transfer that restarted at 0: bytes to drop */
        uint64_t max;
        unsigned requests;
        int attempt;
        http_progress_fn progress;
        void *progress_ctx;
        atomic_bool cancelled; /* http_stream_cancel(), from another thread */
};

static size_t stream_write(char *ptr, size_t size, size_t n, void *ud)
{
        struct http_stream *s = ud;
        size_t add = size * n;

        if (s->check_resume) {
                long status = 0;
                s->check_resume = false;
                curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
                if (status == 200)
                        s->skip = s->handed; /* Range ignored: the body starts over; drop what we handed out */
        }
        if (s->skip) {
                size_t drop = add < s->skip ? add : (size_t)s->skip;
                s->skip -= drop;
                ptr += drop;
                add -= drop;
                if (!add)
                        return size * n;
        }
        if (s->max && s->handed + s->len + add > s->max) {
                s->too_big = true;
                return 0;
        }
        if (s->len + add > s->cap) {
                size_t cap;
                unsigned char *nb;
                if (s->len >= HIGH_WATER) {
                        s->paused = true;
                        return CURL_WRITEFUNC_PAUSE;
                }
                cap = s->len + add > 2 * s->cap ? s->len + add : 2 * s->cap;
                nb = realloc(s->buf, cap);
                if (!nb)
                        return 0;
                s->buf = nb;
                s->cap = cap;
        }
        memcpy(s->buf + s->len, ptr, add);
        s->len += add;
        return size * n;
}

static int stream_start(struct http_stream *s, struct error *err)
{
        int r;

        if (s->easy) {
                curl_multi_remove_handle(s->multi, s->easy);
                curl_easy_cleanup(s->easy);
        }
        s->easy = curl_easy_init();
        if (!s->easy)
                return error_set(err, STACK_EFAIL, "out of memory");
        s->errbuf[0] = 0;
        r = setup_easy(s->easy, s->url, s->errbuf, err);
        if (r < 0)
                return r;
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, stream_write);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
        if (s->handed) {
                /* Resume where the consumer is; a server that ignores Range restarts at 0 and we drop the start. */
                char range[32];
                /* CURLOPT_RANGE, not RESUME_FROM: curl then lets a 200 through instead of failing on it. */
                snprintf(range, sizeof range, "%llu-", (unsigned long long)s->handed);
                curl_easy_setopt(s->easy, CURLOPT_RANGE, http_is_file_url(s->url) ? NULL : range);
                if (http_is_file_url(s->url))
                        curl_easy_setopt(s->easy, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)s->handed);
                s->check_resume = !http_is_file_url(s->url);
        }
        s->paused = false;
        s->done = false;
        s->requests++;
        if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
                return error_set(err, STACK_EFAIL, "curl: cannot start the transfer");
        return 0;
}

static int file_open(struct http_stream *s, struct error *err)
{
        char *path;
        int r = http_file_path(s->url, &path, err);

        if (r < 0)
                return r;
        s->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
                int e = errno;
                free(path);
                if (e == ENOENT)
                        return error_http(err, STACK_ENETWORK, 404, "%s could not be read: %s", s->url, strerror(e));
                return error_errno(err, STACK_ENETWORK, e, "%s could not be read", s->url);
        }
        free(path);
        s->cap = 256 * 1024;
        s->buf = malloc(s->cap);
        s->requests = 1;
        return s->buf ? 0 : error_set(err, STACK_EFAIL, "out of memory");
}

static ssize_t file_read(struct http_stream *s, const void **ret_buf, struct error *err)
{
        ssize_t n;

        do
                n = read(s->fd, s->buf, s->cap);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return error_errno(err, STACK_ENETWORK, errno, "%s could not be read", s->url);
        if (s->max && s->handed + (uint64_t)n > s->max)
                return error_set(err, STACK_EREJECT, "%s holds more than the %llu bytes expected: refused", s->url,
                                 (unsigned long long)s->max);
        if (n == 0 && s->max && s->handed != s->max)
                return error_set(err, STACK_EREJECT, "%s ended after %llu bytes, %llu expected", s->url,
                                 (unsigned long long)s->handed, (unsigned long long)s->max);
        s->handed += (uint64_t)n;
        if (n && s->progress)
                s->progress(s->progress_ctx, s->handed, s->max);
        *ret_buf = s->buf;
        return n;
}

int http_stream_open(const char *url, uint64_t max, struct http_stream **ret, struct error *err)
{
        struct http_stream *s;
        int r;

        pthread_once(&curl_once, curl_init);
        s = calloc(1, sizeof *s);
        if (!s)
                return error_set(err, STACK_EFAIL, "out of memory");
        s->fd = -1;
        s->url = strdup(url);
        s->max = max;
        if (!s->url) {
                http_stream_free(s);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        if (http_is_file_url(url)) {
                r = file_open(s, err);
                if (r < 0) {
                        http_stream_free(s);
                        return r;
                }
                *ret = s;
                return 0;
        }
        s->multi = curl_multi_init();
        if (!s->multi) {
                http_stream_free(s);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        r = stream_start(s, err);
        if (r < 0) {
                http_stream_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void http_stream_set_progress(struct http_stream *s, http_progress_fn fn, void *ctx)
{
        s->progress = fn;
        s->progress_ctx = ctx;
}

unsigned http_stream_requests(const struct http_stream *s)
{
        return s->requests;
}

/* The transfer ended: 0 at a clean end, 1 when restarted (resuming), or an error. */
static int stream_finished(struct http_stream *s, struct error *err)
{
        long status = 0;

        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
        if (s->too_big)
                return error_set(err, STACK_EREJECT, "%s sent more than the %llu bytes expected: refused", s->url,
                                 (unsigned long long)s->max);
        if (s->result == CURLE_OK)
                return 0;
        if (s->attempt + 1 < MAX_ATTEMPTS && transient(s->result, status)) {
                int r;
                backoff(s->attempt++);
                r = stream_start(s, err);
                return r < 0 ? r : 1;
        }
        return transfer_error(s->easy, s->result, s->url, s->errbuf, err);
}

static int cancelled(struct http_stream *s, struct error *err)
{
        return error_set(err, STACK_EFAIL, "%s: download stopped (the bundle was refused)", s->url);
}

ssize_t http_stream_read(void *ctx, const void **ret_buf, struct error *err)
{
        struct http_stream *s = ctx;

        if (atomic_load(&s->cancelled))
                return cancelled(s, err);
        if (s->fd >= 0)
                return file_read(s, ret_buf, err);
        s->len = 0; /* the consumer is done with the previous chunk */
        if (s->paused) {
                s->paused = false;
                curl_easy_pause(s->easy, CURLPAUSE_CONT); /* may call stream_write right away */
        }
        while (s->len == 0) {
                int running = 0, left, r;
                CURLMsg *m;

                if (atomic_load(&s->cancelled))
                        return cancelled(s, err);
                if (s->done) {
                        /* Bytes that arrived before a failure were handed out first; now retry or stop. */
                        r = stream_finished(s, err);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                        continue;
                }
                if (curl_multi_perform(s->multi, &running) != CURLM_OK)
                        return error_set(err, STACK_EFAIL, "curl: transfer failed");
                while ((m = curl_multi_info_read(s->multi, &left)))
                        if (m->msg == CURLMSG_DONE && m->easy_handle == s->easy) {
                                s->done = true;
                                s->result = m->data.result;
                        }
                if (!s->done && s->len == 0 && running)
                        curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
        }
        if (s->len == 0) {
                if (s->max && s->handed != s->max)
                        return error_set(err, STACK_EREJECT, "%s ended after %llu bytes, %llu expected", s->url,
                                         (unsigned long long)s->handed, (unsigned long long)s->max);
                return 0;
        }
        s->handed += s->len;
        if (s->progress)
                s->progress(s->progress_ctx, s->handed, s->max);
        *ret_buf = s->buf;
        return (ssize_t)s->len;
}

void http_stream_cancel(void *ctx)
{
        struct http_stream *s = ctx;

        atomic_store(&s->cancelled, true);
        if (s->multi)
                curl_multi_wakeup(s->multi); /* out of curl_multi_poll() now; thread-safe */
}

void http_stream_free(struct http_stream *s)
{
        if (!s)
                return;
        if (s->easy) {
                if (s->multi)
                        curl_multi_remove_handle(s->multi, s->easy);
                curl_easy_cleanup(s->easy);
        }
        if (s->multi)
                curl_multi_cleanup(s->multi);
        if (s->fd >= 0)
                close(s->fd);
        free(s->buf);
        free(s->url);
        free(s);
}
