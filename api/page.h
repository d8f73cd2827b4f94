/* page.h - the local page at the daemon's origin (spec/api.md "The page"): its files, built into the binary
 * from api/web/ (api/web/embed.cmake), and the one-time login link's landing (GET /login?t=TOKEN).
 *
 *   page_asset(path, session, &status)   "/" (the app with a session, else the page saying how to log in),
 *                                        "/app.js", "/app.css"; NULL path match: 404
 *   page_login(sessions, home, token, &status, cookie, size)
 *                                        303 to / with *cookie a Set-Cookie value on success; else an HTML page
 *                                        saying why (401 not valid, 410 expired or used already)
 * Every HTML answer carries a Content-Security-Policy (default-src 'self', no framing) and X-Frame-Options.
 */
#ifndef STACK_PAGE_H
#define STACK_PAGE_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Response;
struct sessions;

struct MHD_Response *page_asset(const char *path, bool session, unsigned *ret_status);
struct MHD_Response *page_login(struct sessions *ss, const char *home, const char *token, unsigned *ret_status);

#endif
