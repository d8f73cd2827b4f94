/* page.c - the built-in page's files and the login landing (page.h). */
#include "page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "log.h"
#include "reply.h"
#include "session.h"

/* web_assets.c, generated from api/web/ at build time */
extern const unsigned char web_index_html[], web_login_html[], web_app_js[], web_app_css[];
extern const unsigned long web_index_html_len, web_login_html_len, web_app_js_len, web_app_css_len;

#define CSP "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static struct MHD_Response *with_headers(struct MHD_Response *resp, const char *type)
{
        if (!reply_headers(resp, type))
                return NULL;
        MHD_add_response_header(resp, "Content-Security-Policy", CSP);
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        return resp;
}

static struct MHD_Response *persistent(const unsigned char *data, unsigned long len, const char *type)
{
        return with_headers(MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT), type);
}

struct MHD_Response *page_asset(const char *path, bool session, unsigned *ret_status)
{
        *ret_status = MHD_HTTP_OK;
        if (!strcmp(path, "/"))
                return session ? persistent(web_index_html, web_index_html_len, "text/html; charset=utf-8")
                               : persistent(web_login_html, web_login_html_len, "text/html; charset=utf-8");
        if (!strcmp(path, "/app.js"))
                return persistent(web_app_js, web_app_js_len, "text/javascript; charset=utf-8");
        if (!strcmp(path, "/app.css"))
                return persistent(web_app_css, web_app_css_len, "text/css; charset=utf-8");
        *ret_status = MHD_HTTP_NOT_FOUND;
        return reply_error("no such endpoint: %s", path);
}

static struct MHD_Response *message_page(const char *title, const char *text)
{
        char html[2048];
        int n = snprintf(html, sizeof html,
                         "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                         "<title>stack: %s</title><link rel=\"stylesheet\" href=\"/app.css\"></head>"
                         "<body class=\"login\"><main class=\"card\" id=\"login-error\"><h1>%s</h1><p>%s</p>"
                         "<p>For a new link, run <code>stack open</code> in a terminal.</p></main></body></html>\n",
                         title, title, text);

        if (n < 0 || (size_t)n >= sizeof html)
                return NULL;
        return with_headers(MHD_create_response_from_buffer((size_t)n, html, MHD_RESPMEM_MUST_COPY),
                            "text/html; charset=utf-8");
}

struct MHD_Response *page_login(struct sessions *ss, const char *home, const char *token, unsigned *ret_status)
{
        struct error err = ERROR_INIT;
        char id[LOGIN_TOKEN_HEX + 1], cookie[160];
        struct MHD_Response *resp;
        int r = sessions_login(ss, home, token ? token : "", (int64_t)time(NULL), id, &err);

        if (r == -STACK_EREJECT) {
                *ret_status = MHD_HTTP_GONE;
                return message_page(strstr(err.msg, "expired") ? "This login link has expired"
                                                               : "This login link was used already",
                                    "A login link works once, for 5 minutes.");
        }
        if (r < 0) {
                *ret_status = r == -STACK_ENOTFOUND ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_INTERNAL_SERVER_ERROR;
                return message_page("This login link is not valid", err.msg);
        }
        log_line(LOG_INFO, "logged in with a login link (new session)");
        snprintf(cookie, sizeof cookie, "%s=%s; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d", SESSION_COOKIE,
                 id, SESSION_TTL);
        resp = message_page("Logged in", "<a href=\"/\">Open the page</a>.");
        if (!resp)
                return NULL;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/");
        *ret_status = MHD_HTTP_SEE_OTHER;
        return resp;
}
