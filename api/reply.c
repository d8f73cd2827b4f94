/* reply.c - response builders shared by the server's checks and the route handlers. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

struct MHD_Response *reply_headers(struct MHD_Response *resp, const char *type)
{
        if (!resp)
                return NULL;
        if (type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        return resp;
}

struct MHD_Response *reply_stream(struct MHD_Response *resp, const char *type, struct MHD_Connection *conn)
{
        if (!reply_headers(resp, type))
                return NULL;
        /* No idle timeout while it streams (it may pause for minutes between lines; suspended, it would not
         * time out anyway), so the connection closes after the stream instead of idling on forever. */
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
        return resp;
}

struct MHD_Response *reply_text(const char *body)
{
        return reply_headers(MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY),
                             "text/plain; charset=utf-8");
}

struct MHD_Response *reply_json(json_t *v)
{
        char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        size_t len;

        json_decref(v);
        if (!text)
                return NULL;
        len = strlen(text);
        text[len] = '\n'; /* json_dumps leaves room only for its NUL: reuse it for a final newline */
        return reply_headers(MHD_create_response_from_buffer(len + 1, text, MHD_RESPMEM_MUST_FREE), "application/json");
}

struct MHD_Response *reply_error(const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return reply_json(json_pack("{s:s}", "error", msg));
}

struct MHD_Response *reply_empty(void)
{
        return reply_headers(MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT), NULL);
}
