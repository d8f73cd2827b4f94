/* test-jwt.c - HS256 bearer tokens (api/jwt.h): what is accepted, and every way a token is refused.
 *
 * Tokens under test are built here, independently of jwt.c: header and payload JSON as given, base64url per
 * RFC 7515 section 2 (mbedTLS base64, then the URL alphabet, no padding), HMAC-SHA256 over "h.p". Two fixed
 * tokens come from elsewhere: one made with Python's hmac/base64 (the way PyJWT makes them), and the HS256
 * example of RFC 7515 appendix A.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "api/jwt.h"
#include "base/fsutil.h"

#define NOW 1700000000LL

static unsigned char key[JWT_SECRET_LEN];

static void b64url(const void *in, size_t len, char *out, size_t size)
{
        size_t n = 0;

        assert_int_equal(mbedtls_base64_encode((unsigned char *)out, size, &n, in, len), 0);
        while (n && out[n - 1] == '=')
                out[--n] = '\0';
        for (char *p = out; *p; p++)
                *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

/* "b64(header).b64(payload).b64(HMAC-SHA256(k, first two))" into out. */
static void make_token(const char *header, const char *payload, const unsigned char *k, size_t k_len, char *out,
                       size_t size)
{
        unsigned char mac[32];
        char h[512], p[512], s[64];

        b64url(header, strlen(header), h, sizeof h);
        b64url(payload, strlen(payload), p, sizeof p);
        snprintf(out, size, "%s.%s", h, p);
        assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), k, k_len, (unsigned char *)out,
                                         strlen(out), mac),
                         0);
        b64url(mac, sizeof mac, s, sizeof s);
        strcat(out, ".");
        strcat(out, s);
}

static int verify(const char *token, char *why)
{
        struct error err = ERROR_INIT;
        int r = jwt_verify(key, sizeof key, token, strlen(token), NOW, &err);

        if (why)
                snprintf(why, 256, "%.200s", err.msg);
        return r;
}

/* The token with this payload under the standard header and the test key must be refused, saying `reason`. */
static void refused_payload(const char *payload, const char *reason)
{
        char tok[2048], why[256];

        make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, key, sizeof key, tok, sizeof tok);
        assert_int_equal(verify(tok, why), -STACK_EFAIL);
        if (!strstr(why, reason))
                fail_msg("payload %s: expected a refusal saying '%s', got '%s'", payload, reason, why);
}

static void valid_token_is_accepted(void **state)
{
        char tok[2048];

        make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                   "{\"aud\":\"stack-api\",\"iat\":1700000000,\"exp\":1700000300}", key, sizeof key, tok, sizeof tok);
        assert_int_equal(verify(tok, NULL), 0);
        /* iat is optional, aud may be an array, the header needs no typ */
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":[\"x\",\"stack-api\"],\"exp\":1700000001}", key, sizeof key, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, NULL), 0);
}

static void minted_token_verifies_and_lives_ttl_seconds(void **state)
{
        struct error err = ERROR_INIT;
        char *tok = NULL;

        assert_int_equal(jwt_mint(key, sizeof key, NOW, 300, &tok, &err), 0);
        assert_int_equal(jwt_verify(key, sizeof key, tok, strlen(tok), NOW, &err), 0);
        assert_int_equal(jwt_verify(key, sizeof key, tok, strlen(tok), NOW + 299, &err), 0);
        assert_int_equal(jwt_verify(key, sizeof key, tok, strlen(tok), NOW + 300, &err), -STACK_EFAIL);
        free(tok);
        assert_int_equal(jwt_mint(key, sizeof key, NOW, 301, &tok, &err), -STACK_EUSAGE);
}

static void token_from_python_hmac_is_accepted(void **state)
{
        /* python3: key bytes(range(32)), header {"alg":"HS256","typ":"JWT"},
         * payload {"aud":["other","stack-api"],"exp":1700000120,"iat":1700000000,"sub":"python"} */
        static const char tok[] =
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsib3RoZXIiLCJzdGFjay1hcGkiXSwiZXhwIjoxNz"
                "AwMDAwMTIwLCJpYXQiOjE3MDAwMDAwMDAsInN1YiI6InB5dGhvbiJ9.yixzXjCeED1QTXtXKS0VJ3Ozj4n6PIazS"
                "ykMIWXx_8M";
        unsigned char k[32];
        struct error err = ERROR_INIT;

        for (int i = 0; i < 32; i++)
                k[i] = (unsigned char)i;
        assert_int_equal(jwt_verify(k, sizeof k, tok, strlen(tok), NOW, &err), 0);
}

static void rfc7515_example_passes_the_signature_and_fails_on_aud(void **state)
{
        /* RFC 7515 A.1: its header has a CRLF inside and no aud: the signature must check, the claims not. */
        static const char tok[] =
                "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzOD"
                "AsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gF"
                "WFOEjXk";
        static const unsigned char k[] = {0x03, 0x23, 0x35, 0x4b, 0x2b, 0x0f, 0xa5, 0xbc, 0x83, 0x7e, 0x06, 0x65, 0x77,
                                          0x7b, 0xa6, 0x8f, 0x5a, 0xb3, 0x28, 0xe6, 0xf0, 0x54, 0xc9, 0x28, 0xa9, 0x0f,
                                          0x84, 0xb2, 0xd2, 0x50, 0x2e, 0xbf, 0xd3, 0xfb, 0x5a, 0x92, 0xd2, 0x06, 0x47,
                                          0xef, 0x96, 0x8a, 0xb4, 0xc3, 0x77, 0x62, 0x3d, 0x22, 0x3d, 0x2e, 0x21, 0x72,
                                          0x05, 0x2e, 0x4f, 0x08, 0xc0, 0xcd, 0x9a, 0xf5, 0x67, 0xd0, 0x80, 0xa3};
        struct error err = ERROR_INIT;

        assert_int_equal(jwt_verify(k, sizeof k, tok, strlen(tok), 1300819380 - 100, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "aud"));
}

static void token_without_exp_is_refused(void **state)
{
        refused_payload("{\"aud\":\"stack-api\",\"iat\":1700000000}", "no exp");
}

static void expired_token_is_refused(void **state)
{
        refused_payload("{\"aud\":\"stack-api\",\"iat\":1699999000,\"exp\":1699999999}", "expired");
        refused_payload("{\"aud\":\"stack-api\",\"exp\":1700000000}", "expired");
}

static void token_exp_more_than_five_minutes_ahead_is_refused(void **state)
{
        refused_payload("{\"aud\":\"stack-api\",\"iat\":1700000000,\"exp\":1700000301}", "ahead");
        refused_payload("{\"aud\":\"stack-api\",\"exp\":1800000000}", "ahead");
}

static void token_issued_in_the_future_is_refused(void **state)
{
        char tok[2048];

        refused_payload("{\"aud\":\"stack-api\",\"iat\":1700000061,\"exp\":1700000100}", "iat");
        refused_payload("{\"aud\":\"stack-api\",\"nbf\":1700000200,\"exp\":1700000100}", "nbf");
        /* within the skew: accepted */
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":\"stack-api\",\"iat\":1700000060,\"exp\":1700000100}", key,
                   sizeof key, tok, sizeof tok);
        assert_int_equal(verify(tok, NULL), 0);
}

static void token_for_another_audience_is_refused(void **state)
{
        refused_payload("{\"aud\":\"other-api\",\"exp\":1700000100}", "aud");
        refused_payload("{\"aud\":[\"other-api\"],\"exp\":1700000100}", "aud");
        refused_payload("{\"exp\":1700000100}", "aud");
        refused_payload("{\"aud\":\"stack-api-x\",\"exp\":1700000100}", "aud");
}

static void alg_none_is_refused(void **state)
{
        static const char none[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}",
                          claims[] = "{\"aud\":\"stack-api\",\"exp\":1700000100}";
        char h[128], p[256], tok[512], why[256];

        b64url(none, strlen(none), h, sizeof h);
        b64url(claims, strlen(claims), p, sizeof p);
        snprintf(tok, sizeof tok, "%s.%s.", h, p); /* unsecured JWS: empty signature */
        assert_int_equal(verify(tok, why), -STACK_EFAIL);
        assert_non_null(strstr(why, "alg"));
        /* with a signature made as if it were HS256, still refused: alg comes from us, never from the token */
        make_token("{\"alg\":\"none\"}", "{\"aud\":\"stack-api\",\"exp\":1700000100}", key, sizeof key, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, why), -STACK_EFAIL);
        assert_non_null(strstr(why, "alg"));
}

static void hs512_and_other_algs_are_refused(void **state)
{
        static const char *const algs[] = {"{\"alg\":\"HS512\"}", "{\"alg\":\"HS384\"}", "{\"alg\":\"RS256\"}",
                                           "{\"alg\":\"hs256\"}", "{\"typ\":\"JWT\"}",   "{\"alg\":[\"HS256\"]}"};
        char tok[2048], why[256];

        for (size_t i = 0; i < sizeof algs / sizeof *algs; i++) {
                make_token(algs[i], "{\"aud\":\"stack-api\",\"exp\":1700000100}", key, sizeof key, tok, sizeof tok);
                assert_int_equal(verify(tok, why), -STACK_EFAIL);
                assert_non_null(strstr(why, "alg"));
        }
}

static void forged_signature_is_refused(void **state)
{
        unsigned char other[JWT_SECRET_LEN];
        char tok[2048], why[256];
        size_t n;

        memcpy(other, key, sizeof other);
        other[0] ^= 1;
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":\"stack-api\",\"exp\":1700000100}", other, sizeof other, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, why), -STACK_EFAIL);
        assert_non_null(strstr(why, "signature"));
        /* a good token with one character of its signature changed: refused */
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":\"stack-api\",\"exp\":1700000100}", key, sizeof key, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, NULL), 0);
        n = strlen(tok);
        tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
        assert_int_equal(verify(tok, why), -STACK_EFAIL);
        assert_non_null(strstr(why, "signature"));
}

static void malformed_tokens_are_refused(void **state)
{
        static const char *const bad[] = {
                "",
                "abc",
                "a.b",
                "a.b.c.d",
                "..",
                "eyJhbGciOiJIUzI1NiJ9..AAAA",
                "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.not base64!",
                "eyJhbGciOiJIUzI1NiJ9=.eyJleHAiOjF9.AAAA", /* padding is not base64url */
                "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.AAAA",  /* signature of the wrong size */
                "bm90IGpzb24.eyJleHAiOjF9.AAAA",           /* header is not JSON */
                "WyJIUzI1NiJd.eyJleHAiOjF9.AAAA",          /* header is an array */
        };
        char tok[2048], big[JWT_MAX_LEN + 2];

        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
                if (verify(bad[i], NULL) != -STACK_EFAIL)
                        fail_msg("accepted malformed token '%s'", bad[i]);
        /* payload not an object, signed correctly */
        make_token("{\"alg\":\"HS256\"}", "[1700000100]", key, sizeof key, tok, sizeof tok);
        assert_int_equal(verify(tok, NULL), -STACK_EFAIL);
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":\"stack-api\",\"exp\":\"1700000100\"}", key, sizeof key, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, NULL), -STACK_EFAIL);
        /* duplicate claims: which exp would count? neither */
        make_token("{\"alg\":\"HS256\"}", "{\"aud\":\"stack-api\",\"exp\":1,\"exp\":1700000100}", key, sizeof key, tok,
                   sizeof tok);
        assert_int_equal(verify(tok, NULL), -STACK_EFAIL);
        memset(big, 'A', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        big[10] = big[20] = '.';
        assert_int_equal(verify(big, NULL), -STACK_EFAIL);
}

static void secret_is_made_once_with_mode_0600_and_refused_when_open(void **state)
{
        unsigned char a[JWT_SECRET_LEN], b[JWT_SECRET_LEN];
        char dir[] = "/tmp/test-jwt.XXXXXX", path[PATH_MAX];
        struct error err = ERROR_INIT;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(fs_path(path, sizeof path, "%s/api.secret", dir), 0);
        assert_int_equal(jwt_secret_load(path, false, a, &err), -STACK_EFAIL);
        error_clear(&err);
        assert_int_equal(jwt_secret_load(path, true, a, &err), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_size, JWT_SECRET_LEN);
        assert_int_equal(jwt_secret_load(path, true, b, &err), 0);
        assert_memory_equal(a, b, sizeof a);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(jwt_secret_load(path, false, b, &err), -STACK_ESTORE);
        assert_non_null(strstr(err.msg, "0600"));
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(valid_token_is_accepted),
                cmocka_unit_test(minted_token_verifies_and_lives_ttl_seconds),
                cmocka_unit_test(token_from_python_hmac_is_accepted),
                cmocka_unit_test(rfc7515_example_passes_the_signature_and_fails_on_aud),
                cmocka_unit_test(token_without_exp_is_refused),
                cmocka_unit_test(expired_token_is_refused),
                cmocka_unit_test(token_exp_more_than_five_minutes_ahead_is_refused),
                cmocka_unit_test(token_issued_in_the_future_is_refused),
                cmocka_unit_test(token_for_another_audience_is_refused),
                cmocka_unit_test(alg_none_is_refused),
                cmocka_unit_test(hs512_and_other_algs_are_refused),
                cmocka_unit_test(forged_signature_is_refused),
                cmocka_unit_test(malformed_tokens_are_refused),
                cmocka_unit_test(secret_is_made_once_with_mode_0600_and_refused_when_open),
        };

        for (size_t i = 0; i < sizeof key; i++)
                key[i] = (unsigned char)(0xa5 ^ i);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
