/* cert.c - the daemon's self-signed TLS certificate, made with mbedTLS on first start and renewed before it
 * runs out.
 *
 * mbedTLS 2.28 has no writer for subjectAltName or extendedKeyUsage, so both extensions are spelt out in DER
 * here (RFC 5280 4.2.1.6 and 4.2.1.12). Randomness comes from getrandom(2) directly: the key and the serial
 * need nothing a DRBG would add.
 */
#include "cert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "store/digest.h"
#include "store/fsutil.h"

#define PEM_MAX       4096
#define CERT_FILE_MAX (64 * 1024)
#define SUBJECT       "CN=stack localhost API,O=stack"

/* SEQUENCE { [7] 127.0.0.1, [7] ::1, [2] "localhost" } */
static const unsigned char san_der[] = {
        0x30, 0x23,                                                                   /* GeneralNames */
        0x87, 0x04, 127, 0,   0,   1,                                                 /* iPAddress */
        0x87, 0x10, 0,   0,   0,   0,   0,   0,   0,   0,   0,   0, 0, 0, 0, 0, 0, 1, /* iPAddress ::1 */
        0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',                      /* dNSName */
};
/* SEQUENCE { id-kp-serverAuth 1.3.6.1.5.5.7.3.1 } */
static const unsigned char eku_der[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

static int random_bytes(void *ctx, unsigned char *buf, size_t len)
{
        (void)ctx;
        while (len > 0) {
                ssize_t n = getrandom(buf, len, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return MBEDTLS_ERR_ECP_RANDOM_FAILED;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

static void x509_time(time_t t, char out[16])
{
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Is cert_path a certificate that stays valid for CERT_RENEW_DAYS more days? */
static bool cert_is_fresh(const char *cert_path)
{
        mbedtls_x509_crt crt;
        struct tm tm = {0};
        char *buf = NULL;
        size_t len = 0;
        bool fresh = false;

        mbedtls_x509_crt_init(&crt);
        if (fs_read_file(cert_path, CERT_FILE_MAX, &buf, &len) < 0)
                goto done;
        if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)buf, len + 1) != 0)
                goto done;
        tm.tm_year = crt.valid_to.year - 1900;
        tm.tm_mon = crt.valid_to.mon - 1;
        tm.tm_mday = crt.valid_to.day;
        tm.tm_hour = crt.valid_to.hour;
        tm.tm_min = crt.valid_to.min;
        tm.tm_sec = crt.valid_to.sec;
        fresh = timegm(&tm) > time(NULL) + (time_t)CERT_RENEW_DAYS * 86400;
done:
        mbedtls_x509_crt_free(&crt);
        free(buf);
        return fresh;
}

static int cert_generate(const char *key_path, const char *cert_path, struct error *err)
{
        unsigned char key_pem[PEM_MAX], cert_pem[PEM_MAX], serial_bytes[16];
        char not_before[16], not_after[16], msg[128];
        mbedtls_x509write_cert w;
        mbedtls_pk_context pk;
        mbedtls_mpi serial;
        time_t now = time(NULL);
        int r;

        mbedtls_pk_init(&pk);
        mbedtls_x509write_crt_init(&w);
        mbedtls_mpi_init(&serial);
        r = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (r == 0)
                r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), random_bytes, NULL);
        if (r == 0)
                r = random_bytes(NULL, serial_bytes, sizeof serial_bytes);
        if (r == 0) {
                serial_bytes[0] &= 0x7f; /* a positive INTEGER of at most 20 bytes (RFC 5280 4.1.2.2) */
                serial_bytes[0] |= 0x40;
                r = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof serial_bytes);
        }
        if (r != 0)
                goto mbed_fail;
        x509_time(now - 3600, not_before);
        x509_time(now + (time_t)CERT_VALID_DAYS * 86400 - 3600, not_after);
        mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&w, &pk);
        mbedtls_x509write_crt_set_issuer_key(&w, &pk);
        r = mbedtls_x509write_crt_set_serial(&w, &serial);
        if (r == 0)
                r = mbedtls_x509write_crt_set_validity(&w, not_before, not_after);
        if (r == 0)
                r = mbedtls_x509write_crt_set_subject_name(&w, SUBJECT);
        if (r == 0)
                r = mbedtls_x509write_crt_set_issuer_name(&w, SUBJECT);
        if (r == 0)
                r = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1);
        if (r == 0)
                r = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
        if (r == 0)
                r = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san_der,
                                                        sizeof san_der);
        if (r == 0)
                r = mbedtls_x509write_crt_set_extension(&w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, eku_der,
                                                        sizeof eku_der);
        if (r == 0)
                r = mbedtls_x509write_crt_set_subject_key_identifier(&w);
        if (r == 0)
                r = mbedtls_x509write_crt_set_authority_key_identifier(&w);
        if (r == 0)
                r = mbedtls_x509write_crt_pem(&w, cert_pem, sizeof cert_pem, random_bytes, NULL);
        if (r == 0)
                r = mbedtls_pk_write_key_pem(&pk, key_pem, sizeof key_pem);
        if (r != 0)
                goto mbed_fail;
        /* The key first: a certificate on disk always has its key beside it. */
        r = fs_write_atomic(key_path, key_pem, strlen((char *)key_pem), 0600);
        if (r < 0) {
                r = error_errno(err, STACK_ESTORE, r, "cannot write %s", key_path);
                goto done;
        }
        r = fs_write_atomic(cert_path, cert_pem, strlen((char *)cert_pem), 0600);
        if (r < 0)
                r = error_errno(err, STACK_ESTORE, r, "cannot write %s", cert_path);
        goto done;
mbed_fail:
        mbedtls_strerror(r, msg, sizeof msg);
        r = error_set(err, STACK_EFAIL, "cannot make the API certificate: %s", msg);
done:
        mbedtls_platform_zeroize(key_pem, sizeof key_pem);
        mbedtls_mpi_free(&serial);
        mbedtls_x509write_crt_free(&w);
        mbedtls_pk_free(&pk);
        return r;
}

int cert_ensure(const char *key_path, const char *cert_path, bool *ret_created, struct error *err)
{
        int r;

        if (!key_path || !cert_path)
                return error_set(err, STACK_EFAIL, "cert_ensure: bad arguments");
        if (access(key_path, R_OK) == 0 && cert_is_fresh(cert_path)) {
                if (ret_created)
                        *ret_created = false;
                return 0;
        }
        r = cert_generate(key_path, cert_path, err);
        if (r == 0 && ret_created)
                *ret_created = true;
        return r;
}

int cert_fingerprint(const char *cert_path, char out[CERT_FP_LEN], struct error *err)
{
        mbedtls_x509_crt crt;
        struct digest d;
        char *buf = NULL;
        size_t len = 0;
        int r;

        mbedtls_x509_crt_init(&crt);
        r = fs_read_file(cert_path, CERT_FILE_MAX, &buf, &len);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot read %s", cert_path);
                goto done;
        }
        if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)buf, len + 1) != 0) {
                r = error_set(err, STACK_EFAIL, "%s is not a PEM certificate", cert_path);
                goto done;
        }
        digest_buffer(crt.raw.p, crt.raw.len, &d);
        for (size_t i = 0; i < DIGEST_LEN; i++)
                snprintf(out + 3 * i, 4, "%02X%s", d.b[i], i + 1 < DIGEST_LEN ? ":" : "");
done:
        mbedtls_x509_crt_free(&crt);
        free(buf);
        return r;
}
