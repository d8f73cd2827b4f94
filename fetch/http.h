/* http.h - downloads through libcurl: small bounded GETs with revalidation, and a pull-style stream for
 * ingest (spec/catalog.md "Fetching").
 *
 * Calling sequence (stream): http_stream_open(url, max, &s, err); pass http_stream_read as an ingest_read_fn
 * and http_stream_cancel as its ingest_cancel_fn, with s as their context (ingest pulls, curl pushes: the
 * stream drives curl's multi interface from inside the read call, so no thread of its own and no temporary
 * copy); http_stream_free(s). Transient failures (reset,
 * timeout, 5xx) are retried with backoff, resuming with a Range request from the bytes already handed out.
 *
 * URLs: http://, https:// and file://. Redirects are followed only to the same scheme. TLS uses the system CA
 * store, or STACK_CA_FILE when set. Errors: STACK_ENETWORK for transport failures and HTTP errors (the HTTP
 * status in err->http_status; a file:// URL that names no file reports 404 there too, so "absent" is one test),
 * STACK_EREJECT for a redirect to another scheme or a body larger than the caller's maximum.
 */
#ifndef STACK_HTTP_H
#define STACK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct http_response {
        long status; /* 200, or 304 when the validators matched (body NULL) */
        char *body;  /* NUL-terminated, heap */
        size_t len;
        char *etag; /* validators of the response, heap, NULL when absent */
        char *last_modified;
};

/* GET url into memory, at most max bytes. etag / last_modified: validators from an earlier response, or NULL.
 * A 404 is STACK_ENETWORK with err->http_status == 404. */
int http_get(const char *url, size_t max, const char *etag, const char *last_modified, struct http_response *ret,
             struct error *err);
void http_response_release(struct http_response *r);
/* Does url answer (HEAD, or the file exists)? 0, or the error a GET would give. */
int http_probe(const char *url, struct error *err);

struct http_stream;
typedef void (*http_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* max: the exact size the caller expects (0 = unknown): more bytes than that are refused while streaming. */
int http_stream_open(const char *url, uint64_t max, struct http_stream **ret, struct error *err);
void http_stream_set_progress(struct http_stream *s, http_progress_fn fn, void *ctx);
ssize_t http_stream_read(void *ctx, const void **ret_buf, struct error *err);
/* From any thread (an ingest_cancel_fn, ctx the stream): the read blocked in, or the next one, returns an error
 * soon instead of waiting for bytes, retrying or backing off. Only between http_stream_open and _free. */
void http_stream_cancel(void *ctx);
/* Requests made (first try, retries and resumes). */
unsigned http_stream_requests(const struct http_stream *s);
void http_stream_free(struct http_stream *s);

/* true for file:// URLs */
bool http_is_file_url(const char *url);
/* The local path a file:// URL names (file:///p or file://localhost/p, percent-decoded) into *ret (heap). */
int http_file_path(const char *url, char **ret, struct error *err);

#endif
