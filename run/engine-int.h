/* engine-int.h - what the parts of the Engine client share (run/engine*.c); not an interface outside run/.
 *
 * engine.c holds the transport (one curl handle per struct engine, the API version negotiated at engine_open())
 * and the helpers below; each other file is one topic of the Engine API: engine-images.c (exists, load, build,
 * gc), engine-containers.c (list, inspect, start, stop, logs, re-launch configs, the judge's views),
 * engine-down.c (taking a project down by labels; engine_delete() for every DELETE), engine-volumes.c
 * (volumes through a helper container). A new topic is a new file that includes this header; engine.c need not
 * change.
 *
 * Calling sequence of a call in a topic file: build the path (after the version prefix, with its query) with
 * engine_path_append() (ids and references escaped) or engine_filter_path(); then either
 *   engine_get_json(e, path, &status, &json, err)      a GET whose answer is JSON (2xx, or NULL on 404)
 *   engine_call_json(e, method, path, body, &json, err) a JSON body, a 2xx answer (JSON or NULL)
 *   engine_request(e, method, path, body, max, whole, &reply, err)   any request; the caller reads
 *                                                      reply.status and, for an answer it does not accept, says
 *                                                      engine_status_error(method, path, &reply, err);
 *                                                      engine_reply_release(&reply) always
 *   engine_perform(e, &transfer, &status)              the raw transfer, for a body or an answer that streams
 *                                                      (image load, build, archives); a failure that is not the
 *                                                      Engine's answer is engine_transport_error()
 * Every function that takes err returns 0 or a negative stack_code after error_set(), as engine.h's do.
 */
#ifndef STACK_ENGINE_INT_H
#define STACK_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "engine.h"
#include "base/buf.h"

#define CALL_TIMEOUT_S   120L       /* a busy Engine can take a while to list containers; a hung one must not hang us */
#define MAX_ANSWER       (8u << 20) /* any JSON answer we keep */
#define MAX_KEPT_MESSAGE 2048       /* an Engine message quoted in an error */
#define MAX_MESSAGE      (64u << 10) /* an answer that is only a status and maybe a message (DELETE, start, ...) */
#define PROJECT_LABEL    "com.docker.compose.project"

struct engine {
        char *socket;
        char prefix[16]; /* "/v1.NN", or "" when the Engine did not say which API it speaks */
        CURL *curl;
        char errbuf[CURL_ERROR_SIZE];
};

/* A request body streamed from fd, or from read(read_ctx) when read is set; size bytes exactly. */
struct engine_upload {
        int fd;
        engine_read_fn read;
        void *read_ctx;
        uint64_t size, sent;
        int read_errno;  /* reading the body failed */
        bool short_read; /* the body ended before size bytes */
};

struct engine_transfer {
        const char *method; /* "GET", "POST", "PUT", "DELETE" */
        const char *path;   /* after the version prefix, with its query */
        long timeout_s;     /* 0: none (an image load takes as long as it takes) */
        curl_write_callback write;
        void *write_ud;
        curl_write_callback header;
        void *header_ud;
        struct engine_upload *upload; /* a streamed body, or NULL */
        const char *content_type;
        const char *body; /* an in-memory body (JSON), or NULL; neither: no body */
        size_t body_len;
        const char *auth;                /* an X-Registry-Auth header's value (a pull), or NULL */
        curl_xferinfo_callback progress; /* called as data moves and about once a second while none does (a
                                          * nonzero return ends the transfer); NULL: none */
        void *progress_ud;
};

/* Run one transfer; *ret_status is the HTTP status (0 when none arrived). */
CURLcode engine_perform(struct engine *e, const struct engine_transfer *t, long *ret_status);
/* A curl write callback appending to a struct buf (it stops the transfer when the buf refuses). */
size_t engine_buf_write(char *ptr, size_t size, size_t n, void *ud);
/* The Engine stopped answering, or never did: STACK_ERUNTIME saying how. */
int engine_transport_error(struct engine *e, CURLcode c, const char *method, const char *path, struct error *err);

struct engine_reply {
        long status;
        struct buf body;
};

/* method path, with a JSON text body when body is not NULL (no body at all otherwise), CALL_TIMEOUT_S. The answer,
 * whatever its status, in *ret; its body kept up to max bytes: a longer one is STACK_ERUNTIME when `whole` (the
 * body is to be parsed), else it is cut (it was only a message). *ret is written only on success. */
int engine_request(struct engine *e, const char *method, const char *path, const char *body, size_t max, bool whole,
                   struct engine_reply *ret, struct error *err);
void engine_reply_release(struct engine_reply *r);
/* STACK_ERUNTIME "Docker Engine: METHOD PATH: HTTP n: <the answer's message>". */
int engine_status_error(const char *method, const char *path, const struct engine_reply *r, struct error *err);
/* The message of an Engine error answer ({"message": "..."}) on one short line, or NULL. Heap string. */
char *engine_answer_message(const char *body, size_t len);

/* A GET whose answer is JSON: *ret_status is 2xx (*ret the answer) or 404 (*ret NULL); others are errors. */
int engine_get_json(struct engine *e, const char *path, long *ret_status, json_t **ret, struct error *err);
/* method path with body as JSON ("{}" when NULL); a 2xx answer, else engine_status_error(). *ret (may be NULL)
 * the JSON answer, NULL when empty. */
int engine_call_json(struct engine *e, const char *method, const char *path, json_t *body, json_t **ret,
                     struct error *err);

/* Append s to the path in dst, percent-encoding anything outside the characters image references and ids use.
 * -ENAMETOOLONG when it does not fit in cap. */
int engine_path_append(char *dst, size_t cap, const char *s);
/* base, then "?" or "&", then filters= the URL-encoded {"<key>":["<value>"]}. */
int engine_filter_path(struct engine *e, const char *base, const char *key, const char *value, char *path, size_t cap,
                       struct error *err);
/* Engine messages end with a newline and may carry control characters: one short line, in place. */
void engine_tidy_message(char *s);
/* A heap copy of s (NULL for NULL); *oom set when out of memory. */
char *engine_strdup(const char *s, bool *oom);

/* A growing NULL-terminated list of strings without duplicates (strv_free(v) frees it). */
struct engine_strv {
        char **v;
        size_t n;
};
int engine_strv_add(struct engine_strv *s, const char *str);

/* engine-down.c: the objects of GET base carrying label (all of them when label is NULL or ""; a JSON array in
 * *ret): the answer itself, or its `member`
 * (GET /volumes answers {"Volumes": [...], "Warnings": ...}, with null for none). */
int engine_list_labelled(struct engine *e, const char *base, const char *label, const char *member, json_t **ret,
                         struct error *err);
/* engine-down.c: DELETE base/{id}query. 2xx counts in *ret_n; 404 means gone already; a status in `in_use`
 * (0-terminated; NULL for none) leaves the object and adds "kind name: <message>" to kept; anything else is
 * STACK_ERUNTIME. kept and ret_n may be NULL when in_use is. */
int engine_delete(struct engine *e, const char *kind, const char *base, const char *id, const char *name,
                  const char *query, const long *in_use, struct engine_strv *kept, unsigned *ret_n, struct error *err);

#endif
