/* session.h - the local page's login: one-time login links (`stack open`) and the daemon's sessions
 * (spec/api.md "The page" and "Login").
 *
 * Calling sequence:
 *   login_token_create(home, ttl_s, now, token, err)   `stack open`: 32 random bytes, hex in token[65]; writes
 *                                                       $home/keys/login/<sha256 hex of the token> (0600)
 *                                                       holding its expiry time (unix seconds)
 *   sessions_new(&ss)                                   the daemon, at start; sessions live in its memory only
 *   sessions_login(ss, home, token, now, id, err)       GET /login?t=: consumes the token's file (rename,
 *                                                       then unlink: only one caller wins), and on success
 *                                                       makes a session (random, hex in id[65])
 *                                                       -STACK_ENOTFOUND  no such link (forged, or from
 *                                                                         another store)
 *                                                       -STACK_EREJECT    expired, or used already (err says
 *                                                                         which; used links are remembered)
 *   sessions_check(ss, id, now)                         true for a live session id (constant-time compare)
 *   sessions_free(ss)
 *
 * Thread-safe: one mutex inside. At most SESSIONS_MAX live sessions; a new one beyond that replaces the oldest.
 */
#ifndef STACK_SESSION_H
#define STACK_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define LOGIN_TOKEN_HEX   64
#define LOGIN_TTL_DEFAULT 300   /* seconds a login link works */
#define SESSION_TTL       43200 /* seconds a session lasts (12 h) */
#define SESSIONS_MAX      64
#define SESSION_COOKIE    "stack_session"

struct sessions;

int login_token_create(const char *home, int ttl_s, int64_t now, char token[LOGIN_TOKEN_HEX + 1], struct error *err);

int sessions_new(struct sessions **ret);
int sessions_login(struct sessions *ss, const char *home, const char *token, int64_t now, char id[LOGIN_TOKEN_HEX + 1],
                   struct error *err);
bool sessions_check(struct sessions *ss, const char *id, int64_t now);
void sessions_free(struct sessions *ss);

#endif
