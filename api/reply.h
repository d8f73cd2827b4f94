/* reply.h - the responses the API builds: plain text, JSON, and JSON errors {"error": "..."}.
 *
 * Each returns a new MHD response (NULL when out of memory) carrying Content-Type, Cache-Control: no-store
 * and X-Content-Type-Options: nosniff; the server adds Vary and CORS headers before queueing it and destroys it
 * after. Bodies are copied (MHD_RESPMEM_MUST_COPY / MUST_FREE), so callers keep or free their own buffers.
 */
#ifndef STACK_REPLY_H
#define STACK_REPLY_H

#include <jansson.h>

struct MHD_Connection;
struct MHD_Response;

struct MHD_Response *reply_text(const char *body);
/* Takes the reference to v (decref'd whatever happens). */
struct MHD_Response *reply_json(json_t *v);
struct MHD_Response *reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* No body (204, preflights). */
struct MHD_Response *reply_empty(void);

/* The headers every response carries, for one built elsewhere: Content-Type (when type is not NULL),
 * Cache-Control: no-store and X-Content-Type-Options: nosniff. Returns resp; NULL stays NULL. */
struct MHD_Response *reply_headers(struct MHD_Response *resp, const char *type);
/* reply_headers() for a response streamed from a callback (a log, events), plus Connection: close and no idle
 * timeout on conn: it may pause for minutes between lines, and closes after the stream instead of idling on. */
struct MHD_Response *reply_stream(struct MHD_Response *resp, const char *type, struct MHD_Connection *conn);

#endif
