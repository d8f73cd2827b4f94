/* fuzz-jwt.c - the API's bearer tokens (api/jwt.h). First byte odd: the rest is an Authorization token as sent;
 * even: the rest is a header JSON, a NUL, a payload JSON, which the harness encodes and signs with the key, so
 * the claims checks behind the signature are reached too. A token jwt_mint() makes always verifies. */
#include "fuzz.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "api/jwt.h"

#define NOW 1800000000

static const unsigned char key[JWT_SECRET_LEN] = "fuzz-key-0123456789abcdefghijkl";

/* base64url without padding of in[0..len) appended to out at *used (out has room: callers size it). */
static void b64url(const char *in, size_t len, char *out, size_t *used, size_t size)
{
        size_t n = 0;

        if (mbedtls_base64_encode((unsigned char *)out + *used, size - *used, &n, (const unsigned char *)in, len) != 0)
                abort();
        while (n > 0 && out[*used + n - 1] == '=')
                n--;
        for (size_t i = 0; i < n; i++) {
                char *c = &out[*used + i];
                *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
        }
        *used += n;
        out[*used] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = ERROR_INIT;
        char *token = NULL;
        int r;

        if (size < 1 || size > 2 * JWT_MAX_LEN)
                return 0;
        if (data[0] & 1) {
                r = jwt_verify(key, sizeof key, (const char *)data + 1, size - 1, NOW, &err);
                if (r == 0 || !err.msg[0])
                        abort(); /* nobody but the key's holder signs: the fuzzer must not find a token */
        } else {
                const uint8_t *p = data + 1;
                size_t n = size - 1, used = 0, cap;
                char *header = fuzz_next(&p, &n), *payload = fuzz_next(&p, &n);
                unsigned char mac[32];

                cap = 4 * (strlen(header) + strlen(payload) + 64) / 3 + 16;
                token = malloc(cap);
                if (!token)
                        abort();
                b64url(header, strlen(header), token, &used, cap);
                token[used++] = '.';
                b64url(payload, strlen(payload), token, &used, cap);
                if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, sizeof key,
                                    (const unsigned char *)token, used, mac) != 0)
                        abort();
                token[used++] = '.';
                b64url((const char *)mac, sizeof mac, token, &used, cap);
                r = jwt_verify(key, sizeof key, token, used, NOW, &err);
                fuzz_check_verdict(r, &err);
                free(token);
                free(header);
                free(payload);
                token = NULL;
        }
        error_clear(&err);
        r = jwt_mint(key, sizeof key, NOW, 1 + data[0] % JWT_MAX_TTL, &token, &err);
        if (r != 0 || jwt_verify(key, sizeof key, token, strlen(token), NOW, &err) != 0)
                abort();
        free(token);
        return 0;
}
