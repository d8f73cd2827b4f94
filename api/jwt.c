/* jwt.c - HS256 JSON Web Tokens for the API: mint (stack token) and verify (every authenticated request).
 *
 * Everything a token carries is untrusted until its signature checks, and even the checks before that are
 * bounded: the token's length (JWT_MAX_LEN), the segments' alphabet, and the decoded signature's exact size.
 * The header is parsed only to refuse anything but HS256 - the algorithm is never taken from the token.
 */
#include "jwt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/base64.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "base/fsutil.h"

#define SIG_LEN 32 /* HMAC-SHA256 */

/* RFC 7515 section 2: base64url without padding. out: at least 4 * ceil(len / 3) + 1 bytes. */
static void b64url_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
        size_t n = 0;

        if (mbedtls_base64_encode((unsigned char *)out, size, &n, in, len) != 0)
                n = 0;
        while (n > 0 && out[n - 1] == '=')
                n--;
        out[n] = '\0';
        for (size_t i = 0; i < n; i++)
                out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

/* Decode a base64url segment (no padding, url alphabet only) into a heap buffer (NUL-terminated). */
static int b64url_decode(const char *in, size_t len, unsigned char **ret, size_t *ret_len)
{
        char *std = NULL;
        unsigned char *out = NULL;
        size_t padded = (len + 3) / 4 * 4, n = 0;
        int r = -EINVAL;

        if (len == 0 || len % 4 == 1)
                return -EINVAL;
        std = malloc(padded + 1);
        out = malloc(padded / 4 * 3 + 1);
        if (!std || !out) {
                r = -ENOMEM;
                goto done;
        }
        for (size_t i = 0; i < len; i++) {
                char c = in[i];
                if (c == '-')
                        c = '+';
                else if (c == '_')
                        c = '/';
                else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
                        goto done;
                std[i] = c;
        }
        memset(std + len, '=', padded - len);
        if (mbedtls_base64_decode(out, padded / 4 * 3 + 1, &n, (unsigned char *)std, padded) != 0)
                goto done;
        out[n] = '\0';
        *ret = out;
        *ret_len = n;
        out = NULL;
        r = 0;
done:
        free(std);
        free(out);
        return r;
}

static int hmac_sha256(const unsigned char *key, size_t key_len, const char *data, size_t len,
                       unsigned char mac[SIG_LEN])
{
        const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

        return mbedtls_md_hmac(md, key, key_len, (const unsigned char *)data, len, mac) == 0 ? 0 : -EIO;
}

int jwt_secret_load(const char *path, bool create, unsigned char key[JWT_SECRET_LEN], struct error *err)
{
        unsigned char fresh[JWT_SECRET_LEN];
        char *buf = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        if (!path || !key)
                return error_set(err, STACK_EFAIL, "jwt_secret_load: bad arguments");
        if (create && access(path, F_OK) != 0 && errno == ENOENT) {
                if (getrandom(fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh)
                        return error_errno(err, STACK_EFAIL, errno, "cannot draw random bytes for %s", path);
                r = fs_write_atomic(path, fresh, sizeof fresh, 0600);
                mbedtls_platform_zeroize(fresh, sizeof fresh);
                if (r < 0)
                        return error_errno(err, STACK_ESTORE, r, "cannot write %s", path);
        }
        if (stat(path, &st) != 0) {
                if (errno == ENOENT)
                        return error_set(err, STACK_EFAIL,
                                         "no API secret at %s (stack serve creates it on first start)", path);
                return error_errno(err, STACK_ESTORE, errno, "cannot read %s", path);
        }
        if (st.st_mode & 077)
                return error_set(err, STACK_ESTORE, "%s is readable by others (mode %03o); it must be 0600", path,
                                 (unsigned)(st.st_mode & 0777));
        r = fs_read_file(path, JWT_SECRET_LEN, &buf, &len);
        if (r < 0 || len != JWT_SECRET_LEN) {
                if (buf)
                        mbedtls_platform_zeroize(buf, len);
                free(buf);
                if (r < 0 && r != -EFBIG)
                        return error_errno(err, STACK_ESTORE, r, "cannot read %s", path);
                return error_set(err, STACK_ESTORE, "%s is not a %d-byte secret", path, JWT_SECRET_LEN);
        }
        memcpy(key, buf, JWT_SECRET_LEN);
        mbedtls_platform_zeroize(buf, len);
        free(buf);
        return 0;
}

int jwt_mint(const unsigned char *key, size_t key_len, int64_t now, int ttl, char **ret, struct error *err)
{
        static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
        char payload[160], h64[64], p64[224], s64[48], *out;
        unsigned char mac[SIG_LEN];
        size_t n;

        if (!key || !ret)
                return error_set(err, STACK_EFAIL, "jwt_mint: bad arguments");
        if (ttl < 1 || ttl > JWT_MAX_TTL)
                return error_set(err, STACK_EUSAGE, "a token lives 1 to %d seconds, not %d", JWT_MAX_TTL, ttl);
        snprintf(payload, sizeof payload, "{\"aud\":\"%s\",\"iat\":%lld,\"exp\":%lld}", JWT_AUDIENCE, (long long)now,
                 (long long)(now + ttl));
        b64url_encode((const unsigned char *)header, sizeof header - 1, h64, sizeof h64);
        b64url_encode((const unsigned char *)payload, strlen(payload), p64, sizeof p64);
        n = strlen(h64) + 1 + strlen(p64);
        out = malloc(n + 1 + sizeof s64);
        if (!out)
                return error_set(err, STACK_EFAIL, "out of memory");
        snprintf(out, n + 1, "%s.%s", h64, p64);
        if (hmac_sha256(key, key_len, out, n, mac) < 0) {
                free(out);
                return error_set(err, STACK_EFAIL, "HMAC-SHA256 failed");
        }
        b64url_encode(mac, sizeof mac, s64, sizeof s64);
        out[n] = '.';
        strcpy(out + n + 1, s64);
        *ret = out;
        return 0;
}

/* A NumericDate (RFC 7519 section 2): a JSON number; fractions are truncated. */
static int numeric_date(json_t *payload, const char *name, bool required, int64_t *ret, struct error *err)
{
        json_t *v = json_object_get(payload, name);

        if (!v) {
                if (required)
                        return error_set(err, STACK_EFAIL, "token has no %s", name);
                return 1;
        }
        if (json_is_integer(v))
                *ret = (int64_t)json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) > -9e15 && json_real_value(v) < 9e15)
                *ret = (int64_t)json_real_value(v);
        else
                return error_set(err, STACK_EFAIL, "token %s is not a number", name);
        return 0;
}

static bool audience_ok(json_t *aud)
{
        size_t i;
        json_t *v;

        if (json_is_string(aud))
                return !strcmp(json_string_value(aud), JWT_AUDIENCE);
        json_array_foreach(aud, i, v)
        {
                if (json_is_string(v) && !strcmp(json_string_value(v), JWT_AUDIENCE))
                        return true;
        }
        return false;
}

static int check_header(const unsigned char *text, size_t len, struct error *err)
{
        json_t *h = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
        json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
        int r = 0;

        if (!json_is_object(h))
                r = error_set(err, STACK_EFAIL, "token header is not a JSON object");
        else if (!json_is_string(alg))
                r = error_set(err, STACK_EFAIL, "token header has no alg");
        else if (strcmp(json_string_value(alg), "HS256") != 0)
                r = error_set(err, STACK_EFAIL, "token alg %.16s is not HS256", json_string_value(alg));
        else if (typ && !(json_is_string(typ) && !strcmp(json_string_value(typ), "JWT")))
                r = error_set(err, STACK_EFAIL, "token typ is not JWT");
        else if (json_object_get(h, "crit"))
                r = error_set(err, STACK_EFAIL, "token header has crit extensions");
        json_decref(h);
        return r;
}

static int check_claims(const unsigned char *text, size_t len, int64_t now, struct error *err)
{
        json_t *p = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
        int64_t exp = 0, iat = 0, nbf = 0;
        int r;

        if (!json_is_object(p)) {
                r = error_set(err, STACK_EFAIL, "token payload is not a JSON object");
                goto done;
        }
        r = numeric_date(p, "exp", true, &exp, err);
        if (r < 0)
                goto done;
        if (exp <= now) {
                r = error_set(err, STACK_EFAIL, "token expired");
                goto done;
        }
        if (exp > now + JWT_MAX_TTL) {
                r = error_set(err, STACK_EFAIL, "token exp is more than %d s ahead", JWT_MAX_TTL);
                goto done;
        }
        r = numeric_date(p, "iat", false, &iat, err);
        if (r == 0 && iat > now + JWT_IAT_SKEW)
                r = error_set(err, STACK_EFAIL, "token iat is in the future");
        if (r < 0)
                goto done;
        r = numeric_date(p, "nbf", false, &nbf, err);
        if (r == 0 && nbf > now + JWT_IAT_SKEW)
                r = error_set(err, STACK_EFAIL, "token is not valid yet (nbf)");
        if (r < 0)
                goto done;
        r = audience_ok(json_object_get(p, "aud")) ? 0
                                                   : error_set(err, STACK_EFAIL, "token aud is not %s", JWT_AUDIENCE);
done:
        json_decref(p);
        return r;
}

int jwt_verify(const unsigned char *key, size_t key_len, const char *token, size_t len, int64_t now, struct error *err)
{
        unsigned char mac[SIG_LEN], *header = NULL, *payload = NULL, *sig = NULL;
        size_t header_len = 0, payload_len = 0, sig_len = 0;
        const char *dot1, *dot2;
        int r;

        if (!key || !token)
                return error_set(err, STACK_EFAIL, "no token");
        if (len > JWT_MAX_LEN)
                return error_set(err, STACK_EFAIL, "token longer than %d bytes", JWT_MAX_LEN);
        dot1 = memchr(token, '.', len);
        dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
        if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
                return error_set(err, STACK_EFAIL, "token is not three dot-separated segments");
        if (b64url_decode(token, (size_t)(dot1 - token), &header, &header_len) < 0) {
                r = error_set(err, STACK_EFAIL, "token header is not base64url");
                goto done;
        }
        r = check_header(header, header_len, err); /* first: an alg "none" token is refused for its alg */
        if (r < 0)
                goto done;
        if (b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload, &payload_len) < 0 ||
            b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig, &sig_len) < 0) {
                r = error_set(err, STACK_EFAIL, "token segment is not base64url");
                goto done;
        }
        if (sig_len != SIG_LEN) {
                r = error_set(err, STACK_EFAIL, "token signature is not %d bytes", SIG_LEN);
                goto done;
        }
        if (hmac_sha256(key, key_len, token, (size_t)(dot2 - token), mac) < 0) {
                r = error_set(err, STACK_EFAIL, "HMAC-SHA256 failed");
                goto done;
        }
        if (mbedtls_ct_memcmp(mac, sig, SIG_LEN) != 0) {
                r = error_set(err, STACK_EFAIL, "token signature does not verify");
                goto done;
        }
        r = check_claims(payload, payload_len, now, err);
done:
        free(header);
        free(payload);
        free(sig);
        return r;
}
