/* jwt.h - the API's bearer tokens: JSON Web Tokens (RFC 7519) signed with HS256 (RFC 7515) and the shared
 * secret in $STACK_HOME/keys/api.secret (spec/api.md "Authentication").
 *
 * Calling sequence: jwt_secret_load(path, create, key, err) once (the daemon creates the secret on first
 * start; `stack token` only reads it); then jwt_mint() / jwt_verify() any number of times, from any thread
 * (they keep no state). The secret file holds exactly JWT_SECRET_LEN random bytes, mode 0600; the HMAC key is
 * those bytes as they are, so a standard JWT library given the file's contents mints tokens we accept.
 *
 * jwt_verify accepts a token only when: three base64url segments (no padding), header {"alg":"HS256"} (any
 * other alg, "none" included, is refused; "typ", when present, is "JWT"; no "crit"), the signature matches
 * (compared in constant time), the payload is an object with "exp" (required, > now, at most JWT_MAX_TTL
 * ahead), "aud" "stack-api" (a string or an array holding it), "iat" (optional; not later than now +
 * JWT_IAT_SKEW) and "nbf" (optional; same bound).
 */
#ifndef STACK_JWT_H
#define STACK_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define JWT_SECRET_LEN 32
#define JWT_AUDIENCE   "stack-api"
#define JWT_MAX_TTL    300  /* seconds: the furthest exp may lie ahead */
#define JWT_IAT_SKEW   60   /* seconds: how far iat/nbf may lie in the future */
#define JWT_MAX_LEN    4096 /* bytes of a token we look at; longer is refused unread */

/* Read the secret (exactly JWT_SECRET_LEN bytes; a file of any other size is refused). With create, a missing
 * file is made first (random bytes from getrandom, written atomically with mode 0600). A file readable by
 * group or others is refused. */
int jwt_secret_load(const char *path, bool create, unsigned char key[JWT_SECRET_LEN], struct error *err);

/* A token with iat = now, exp = now + ttl (1..JWT_MAX_TTL), aud JWT_AUDIENCE. *ret: heap, free(). */
int jwt_mint(const unsigned char *key, size_t key_len, int64_t now, int ttl, char **ret, struct error *err);

/* 0 when the token (len bytes, not NUL-terminated necessarily) is valid at time now; else STACK_EFAIL with the
 * reason in err ("token expired", "token alg is not HS256", ...). */
int jwt_verify(const unsigned char *key, size_t key_len, const char *token, size_t len, int64_t now, struct error *err);

#endif
