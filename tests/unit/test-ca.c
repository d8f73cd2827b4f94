/* test-ca.c - the local CA and its leaves (tls/ca.h, tls/x509.h), and the API certificate made on the same
 * code (api/cert.h): what browsers check is checked here with mbedTLS's parser and verifier.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include "api/cert.h"
#include "base/fsutil.h"
#include "tls/ca.h"
#include "tls/x509.h"

#define HOST "hello.stack.localhost"

static char home[256];

static int setup(void **state)
{
        (void)state;
        snprintf(home, sizeof home, "/tmp/stack-test-ca.XXXXXX");
        assert_non_null(mkdtemp(home));
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        fs_rm_rf(home);
        return 0;
}

static void load(mbedtls_x509_crt *crt, const char *path)
{
        mbedtls_x509_crt_init(crt);
        assert_int_equal(mbedtls_x509_crt_parse_file(crt, path), 0);
}

static time_t epoch(const mbedtls_x509_time *t)
{
        struct tm tm = {.tm_year = t->year - 1900,
                        .tm_mon = t->mon - 1,
                        .tm_mday = t->day,
                        .tm_hour = t->hour,
                        .tm_min = t->min,
                        .tm_sec = t->sec};
        return timegm(&tm);
}

static void leaf_paths(char key[PATH_MAX], char cert[PATH_MAX])
{
        snprintf(key, PATH_MAX, "%s/leaf-key.pem", home);
        snprintf(cert, PATH_MAX, "%s/leaf.pem", home);
}

static void ca_is_made_once_marked_ca_with_pathlen_0_and_key_0600(void **state)
{
        struct error err = ERROR_INIT;
        char cert[PATH_MAX], key[PATH_MAX], *first = NULL, *second = NULL;
        size_t n1, n2;
        mbedtls_x509_crt crt;
        struct stat st;
        bool created = false;

        (void)state;
        assert_int_equal(ca_ensure(home, &created, &err), 0);
        assert_true(created);
        assert_int_equal(ca_path(home, "cert", cert, sizeof cert), 0);
        assert_int_equal(ca_path(home, "key", key, sizeof key), 0);
        assert_non_null(strstr(cert, "/keys/ca.pem"));
        assert_int_equal(stat(key, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        load(&crt, cert);
        assert_int_equal(crt.ca_istrue, 1);
        assert_int_equal(crt.max_pathlen, 1); /* mbedTLS stores pathLenConstraint + 1 */
        assert_int_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
        mbedtls_x509_crt_free(&crt);
        assert_int_equal(fs_read_file(cert, 65536, &first, &n1), 0);
        assert_int_equal(ca_ensure(home, &created, &err), 0);
        assert_false(created);
        assert_int_equal(fs_read_file(cert, 65536, &second, &n2), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(first, second, n1);
        free(first);
        free(second);
}

static void leaf_is_not_a_ca_names_its_host_and_serves_tls(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX];
        const mbedtls_x509_sequence *san;
        mbedtls_x509_crt crt;
        bool found = false;

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        load(&crt, cert);
        assert_int_equal(crt.ca_istrue, 0);
        assert_true(crt.ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
        for (san = &crt.subject_alt_names; san && san->buf.p; san = san->next)
                if (san->buf.len == strlen(HOST) && memcmp(san->buf.p, HOST, san->buf.len) == 0)
                        found = true;
        assert_true(found);
        assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_SERVER_AUTH,
                                                                   MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                         0);
        assert_int_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
        assert_int_not_equal(mbedtls_x509_crt_check_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN), 0);
        mbedtls_x509_crt_free(&crt);
}

static void leaf_validity_is_at_most_398_days(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX];
        mbedtls_x509_crt crt;
        time_t from, to, now = time(NULL);

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        load(&crt, cert);
        from = epoch(&crt.valid_from);
        to = epoch(&crt.valid_to);
        assert_true(from <= now);
        assert_true(to > now + 300L * 86400);
        assert_true(to - from <= 398L * 86400);
        mbedtls_x509_crt_free(&crt);
}

static void leaf_verifies_against_the_ca_for_its_name_only(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX];
        mbedtls_x509_crt leaf, root;
        uint32_t flags = 0;

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        assert_int_equal(ca_path(home, "cert", ca, sizeof ca), 0);
        load(&leaf, cert);
        load(&root, ca);
        assert_int_equal(mbedtls_x509_crt_verify(&leaf, &root, NULL, HOST, &flags, NULL, NULL), 0);
        assert_int_equal(flags, 0);
        assert_int_not_equal(mbedtls_x509_crt_verify(&leaf, &root, NULL, "other.stack.localhost", &flags, NULL, NULL),
                             0);
        assert_true(flags & MBEDTLS_X509_BADCERT_CN_MISMATCH);
        assert_int_equal(x509_verify_chain(cert, ca, &err), 0);
        mbedtls_x509_crt_free(&leaf);
        mbedtls_x509_crt_free(&root);
}

/* RFC 5758 3.2: ecdsa-with-SHA256 has no parameters (Chromium refuses a certificate with a NULL there,
 * ERR_CERT_INVALID); both AlgorithmIdentifiers (in the TBSCertificate and outside it) must be the bare OID. */
static void signature_algorithm_has_no_parameters(void **state)
{
        static const unsigned char alg_null[] = {0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                                 0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00};
        static const unsigned char alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX];
        const char *paths[] = {cert, ca};
        mbedtls_x509_crt root;
        uint32_t flags = 0;

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        assert_int_equal(ca_path(home, "cert", ca, sizeof ca), 0);
        for (size_t k = 0; k < 2; k++) {
                mbedtls_x509_crt c;
                int found = 0;
                load(&c, paths[k]);
                for (size_t i = 0; i + sizeof alg_null <= c.raw.len; i++)
                        assert_memory_not_equal(c.raw.p + i, alg_null, sizeof alg_null);
                for (size_t i = 0; i + sizeof alg <= c.raw.len; i++)
                        found += !memcmp(c.raw.p + i, alg, sizeof alg);
                assert_int_equal(found, 2);
                mbedtls_x509_crt_free(&c);
        }
        /* and it still verifies */
        {
                mbedtls_x509_crt leaf;
                load(&leaf, cert);
                load(&root, ca);
                assert_int_equal(mbedtls_x509_crt_verify(&leaf, &root, NULL, HOST, &flags, NULL, NULL), 0);
                mbedtls_x509_crt_free(&leaf);
                mbedtls_x509_crt_free(&root);
        }
}

static void leaf_of_a_replaced_ca_is_made_again(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX], ca[PATH_MAX], cakey[PATH_MAX];

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        assert_int_equal(ca_path(home, "cert", ca, sizeof ca), 0);
        assert_int_equal(ca_path(home, "key", cakey, sizeof cakey), 0);
        assert_int_equal(unlink(ca), 0);
        assert_int_equal(unlink(cakey), 0);
        assert_int_equal(ca_ensure(home, NULL, &err), 0);
        assert_int_equal(x509_verify_chain(cert, ca, &err), -STACK_EREJECT);
        error_clear(&err);
        assert_int_equal(ca_ensure_leaf(home, HOST, key, cert, &err), 0);
        assert_int_equal(x509_verify_chain(cert, ca, &err), 0);
}

static void leaf_refuses_a_name_that_would_change_its_subject(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX];

        (void)state;
        leaf_paths(key, cert);
        assert_int_equal(ca_ensure_leaf(home, "a.stack.localhost,O=evil", key, cert, &err), -STACK_EREJECT);
        assert_int_not_equal(access(cert, F_OK), 0);
}

static void api_certificate_is_self_signed_not_a_ca_with_loopback_names(void **state)
{
        struct error err = ERROR_INIT;
        char key[PATH_MAX], cert[PATH_MAX];
        mbedtls_x509_crt crt;
        uint32_t flags = 0;
        bool created = false;

        (void)state;
        snprintf(key, sizeof key, "%s/api-key.pem", home);
        snprintf(cert, sizeof cert, "%s/api-cert.pem", home);
        assert_int_equal(cert_ensure(key, cert, &created, &err), 0);
        assert_true(created);
        load(&crt, cert);
        assert_int_equal(crt.ca_istrue, 0);
        assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(&crt, MBEDTLS_OID_SERVER_AUTH,
                                                                   MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)),
                         0);
        /* Trusted as itself (the way a person pins it), it verifies for localhost. */
        assert_int_equal(mbedtls_x509_crt_verify(&crt, &crt, NULL, "localhost", &flags, NULL, NULL), 0);
        mbedtls_x509_crt_free(&crt);
        assert_int_equal(cert_ensure(key, cert, &created, &err), 0);
        assert_false(created);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(ca_is_made_once_marked_ca_with_pathlen_0_and_key_0600, setup, teardown),
                cmocka_unit_test_setup_teardown(leaf_is_not_a_ca_names_its_host_and_serves_tls, setup, teardown),
                cmocka_unit_test_setup_teardown(leaf_validity_is_at_most_398_days, setup, teardown),
                cmocka_unit_test_setup_teardown(leaf_verifies_against_the_ca_for_its_name_only, setup, teardown),
                cmocka_unit_test_setup_teardown(signature_algorithm_has_no_parameters, setup, teardown),
                cmocka_unit_test_setup_teardown(leaf_of_a_replaced_ca_is_made_again, setup, teardown),
                cmocka_unit_test_setup_teardown(leaf_refuses_a_name_that_would_change_its_subject, setup, teardown),
                cmocka_unit_test_setup_teardown(api_certificate_is_self_signed_not_a_ca_with_loopback_names, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
