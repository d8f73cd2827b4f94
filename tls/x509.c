/* x509.c - keys and certificates made with mbedTLS (x509.h). Randomness comes from getrandom(2) directly: the
 * key and the serial need nothing a DRBG would add.
 */
#include "x509.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "base/fsutil.h"

#define PEM_MAX 4096
#define SAN_MAX (X509_SAN_MAX * (X509_NAME_MAX + 4) + 64)

/* SEQUENCE { id-kp-serverAuth 1.3.6.1.5.5.7.3.1 } */
static const unsigned char eku_server_auth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const unsigned char ip4_loopback[] = {127, 0, 0, 1};
static const unsigned char ip6_loopback[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

void x509_spec_init(struct x509_spec *spec)
{
        memset(spec, 0, sizeof *spec);
        spec->days = 397;
}

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

/* A DER tag and length (below 0x10000) written at out[pos]; the position after them. */
static size_t put_tl(unsigned char *out, size_t pos, unsigned char tag, size_t len)
{
        out[pos++] = tag;
        if (len < 0x80) {
                out[pos++] = (unsigned char)len;
        } else if (len < 0x100) {
                out[pos++] = 0x81;
                out[pos++] = (unsigned char)len;
        } else {
                out[pos++] = 0x82;
                out[pos++] = (unsigned char)(len >> 8);
                out[pos++] = (unsigned char)len;
        }
        return pos;
}

static size_t tl_size(size_t len)
{
        return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

/* A DER tag, length and value appended at out[*pos]; false when it does not fit. */
static bool der_put(unsigned char *out, size_t size, size_t *pos, unsigned char tag, const void *v, size_t len)
{
        if (len >= 0x10000 || *pos + tl_size(len) + len > size)
                return false;
        *pos = put_tl(out, *pos, tag, len);
        if (len)
                memmove(out + *pos, v, len);
        *pos += len;
        return true;
}

/* GeneralNames SEQUENCE { [7] iPAddress..., [2] dNSName... } into out; its length, 0 when it does not fit. */
static size_t san_build(const struct x509_spec *spec, unsigned char *out, size_t size)
{
        unsigned char names[SAN_MAX];
        size_t n = 0, pos = 0;

        if (spec->loopback_ips && (!der_put(names, sizeof names, &n, 0x87, ip4_loopback, sizeof ip4_loopback) ||
                                   !der_put(names, sizeof names, &n, 0x87, ip6_loopback, sizeof ip6_loopback)))
                return 0;
        for (size_t i = 0; i < spec->n_dns; i++) {
                size_t len = strlen(spec->dns[i]);
                if (len == 0 || len > X509_NAME_MAX || !der_put(names, sizeof names, &n, 0x82, spec->dns[i], len))
                        return 0;
        }
        if (n == 0 || !der_put(out, size, &pos, 0x30, names, n))
                return 0;
        return pos;
}

static int set_extensions(mbedtls_x509write_cert *w, const struct x509_spec *spec)
{
        unsigned char san[SAN_MAX + 8];
        size_t san_len;
        int r;

        if (spec->ca) {
                r = mbedtls_x509write_crt_set_basic_constraints(w, 1, 0);
                if (r == 0)
                        r = mbedtls_x509write_crt_set_key_usage(w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                                           MBEDTLS_X509_KU_CRL_SIGN);
                return r;
        }
        san_len = san_build(spec, san, sizeof san);
        if (san_len == 0)
                return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
        r = mbedtls_x509write_crt_set_basic_constraints(w, 0, -1);
        if (r == 0)
                r = mbedtls_x509write_crt_set_key_usage(w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
        if (r == 0)
                r = mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                                        san_len);
        if (r == 0)
                r = mbedtls_x509write_crt_set_extension(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0,
                                                        eku_server_auth, sizeof eku_server_auth);
        return r;
}

/* ---- ecdsa-with-SHA256 without parameters ----
 * mbedTLS 2.28 writes the signature AlgorithmIdentifier as { ecdsa-with-SHA256, NULL }; RFC 5758 3.2 says the
 * parameters MUST be absent, and Chromium refuses such a certificate (ERR_CERT_INVALID). So the DER mbedTLS
 * wrote is taken apart with its ASN.1 reader, the TBSCertificate written again with { ecdsa-with-SHA256 } and
 * signed again with the same key. */

#define DER_MAX 4096

static int der_without_null_params(const unsigned char *der, size_t len, mbedtls_pk_context *signer, unsigned char *out,
                                   size_t *ret_len)
{
        const unsigned char SEQ = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
        unsigned char *p = (unsigned char *)der, *end = p + len, *tbs, *tbs_end, *alg, *alg_end, *oid, *q;
        unsigned char tbs_new[DER_MAX], hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
        size_t l, oid_len, n = 0, sig_len = 0, alg_new, outer;
        int r;

        if ((r = mbedtls_asn1_get_tag(&p, end, &l, SEQ)) || (r = mbedtls_asn1_get_tag(&p, end, &l, SEQ)))
                return r;
        tbs = p;
        tbs_end = p + l;
        q = tbs;
        if ((r = mbedtls_asn1_get_tag(&q, tbs_end, &l, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED)))
                return r;
        q += l;
        if ((r = mbedtls_asn1_get_tag(&q, tbs_end, &l, MBEDTLS_ASN1_INTEGER)))
                return r;
        q += l;
        alg = q;
        if ((r = mbedtls_asn1_get_tag(&q, tbs_end, &l, SEQ)))
                return r;
        alg_end = q + l;
        oid = q;
        if ((r = mbedtls_asn1_get_tag(&q, alg_end, &l, MBEDTLS_ASN1_OID)))
                return r;
        oid_len = (size_t)(q + l - oid); /* tag, length and value */
        if (q + l == alg_end) {          /* no parameters already: nothing to change */
                memcpy(out, der, len);
                *ret_len = len;
                return 0;
        }
        alg_new = tl_size(oid_len) + oid_len;
        l = (size_t)(alg - tbs) + alg_new + (size_t)(tbs_end - alg_end); /* the new TBS content */
        if (tl_size(l) + l > sizeof tbs_new)
                return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
        n = put_tl(tbs_new, 0, SEQ, l);
        memcpy(tbs_new + n, tbs, (size_t)(alg - tbs));
        n += (size_t)(alg - tbs);
        n = put_tl(tbs_new, n, SEQ, oid_len);
        memcpy(tbs_new + n, oid, oid_len);
        n += oid_len;
        memcpy(tbs_new + n, alg_end, (size_t)(tbs_end - alg_end));
        n += (size_t)(tbs_end - alg_end);
        if ((r = mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), tbs_new, n, hash)) ||
            (r = mbedtls_pk_sign(signer, MBEDTLS_MD_SHA256, hash, sizeof hash, sig, &sig_len, random_bytes, NULL)))
                return r;
        outer = n + alg_new + tl_size(sig_len + 1) + sig_len + 1;
        if (tl_size(outer) + outer > DER_MAX)
                return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
        l = put_tl(out, 0, SEQ, outer);
        memcpy(out + l, tbs_new, n);
        l += n;
        l = put_tl(out, l, SEQ, oid_len);
        memcpy(out + l, oid, oid_len);
        l += oid_len;
        l = put_tl(out, l, MBEDTLS_ASN1_BIT_STRING, sig_len + 1);
        out[l++] = 0; /* no unused bits */
        memcpy(out + l, sig, sig_len);
        *ret_len = l + sig_len;
        return 0;
}

static int crt_pem(mbedtls_x509write_cert *w, mbedtls_pk_context *signer, unsigned char *pem, size_t size)
{
        unsigned char der[DER_MAX], fixed[DER_MAX];
        size_t len = 0, olen = 0;
        int n = mbedtls_x509write_crt_der(w, der, sizeof der, random_bytes, NULL), r;

        if (n < 0)
                return n;
        /* mbedTLS writes the DER at the end of the buffer */
        r = der_without_null_params(der + sizeof der - (size_t)n, (size_t)n, signer, fixed, &len);
        if (r == 0)
                r = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n", fixed, len,
                                             pem, size, &olen);
        return r;
}

int x509_issue(const struct x509_spec *spec, const char *key_path, const char *cert_path, struct error *err)
{
        unsigned char key_pem[PEM_MAX], cert_pem[PEM_MAX], serial_bytes[16];
        char not_before[16], not_after[16], msg[128];
        mbedtls_x509write_cert w;
        mbedtls_pk_context pk, issuer;
        mbedtls_pk_context *signer = &pk;
        mbedtls_mpi serial;
        time_t now = time(NULL);
        int r;

        if (!spec || !spec->subject || !key_path || !cert_path || spec->days < 1 ||
            (spec->issuer_key_path && !spec->issuer_subject))
                return error_set(err, STACK_EFAIL, "x509_issue: bad arguments");
        mbedtls_pk_init(&pk);
        mbedtls_pk_init(&issuer);
        mbedtls_x509write_crt_init(&w);
        mbedtls_mpi_init(&serial);
        if (spec->issuer_key_path) {
                r = mbedtls_pk_parse_keyfile(&issuer, spec->issuer_key_path, NULL);
                if (r != 0) {
                        mbedtls_strerror(r, msg, sizeof msg);
                        r = error_set(err, STACK_EFAIL, "cannot read the signing key %s: %s", spec->issuer_key_path,
                                      msg);
                        goto done;
                }
                signer = &issuer;
        }
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
        x509_time(now + (time_t)spec->days * 86400 - 3600, not_after);
        mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&w, &pk);
        mbedtls_x509write_crt_set_issuer_key(&w, signer);
        r = mbedtls_x509write_crt_set_serial(&w, &serial);
        if (r == 0)
                r = mbedtls_x509write_crt_set_validity(&w, not_before, not_after);
        if (r == 0)
                r = mbedtls_x509write_crt_set_subject_name(&w, spec->subject);
        if (r == 0)
                r = mbedtls_x509write_crt_set_issuer_name(&w,
                                                          spec->issuer_key_path ? spec->issuer_subject : spec->subject);
        if (r == 0)
                r = set_extensions(&w, spec);
        if (r == 0)
                r = mbedtls_x509write_crt_set_subject_key_identifier(&w);
        if (r == 0)
                r = mbedtls_x509write_crt_set_authority_key_identifier(&w);
        if (r == 0)
                r = crt_pem(&w, signer, cert_pem, sizeof cert_pem);
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
        r = error_set(err, STACK_EFAIL, "cannot make a certificate for %s: %s", spec->subject, msg);
done:
        mbedtls_platform_zeroize(key_pem, sizeof key_pem);
        mbedtls_mpi_free(&serial);
        mbedtls_x509write_crt_free(&w);
        mbedtls_pk_free(&issuer);
        mbedtls_pk_free(&pk);
        return r;
}

static int crt_load(mbedtls_x509_crt *crt, const char *path)
{
        char *buf = NULL;
        size_t len = 0;
        int r = fs_read_file(path, X509_PEM_FILE_MAX, &buf, &len);

        if (r < 0)
                return r;
        r = mbedtls_x509_crt_parse(crt, (const unsigned char *)buf, len + 1) == 0 ? 0 : -EINVAL;
        free(buf);
        return r;
}

static time_t x509_epoch(const mbedtls_x509_time *t)
{
        struct tm tm = {0};

        tm.tm_year = t->year - 1900;
        tm.tm_mon = t->mon - 1;
        tm.tm_mday = t->day;
        tm.tm_hour = t->hour;
        tm.tm_min = t->min;
        tm.tm_sec = t->sec;
        return timegm(&tm);
}

bool x509_valid_for(const char *cert_path, long seconds)
{
        mbedtls_x509_crt crt;
        time_t now = time(NULL);
        bool ok = false;

        mbedtls_x509_crt_init(&crt);
        if (crt_load(&crt, cert_path) == 0)
                ok = x509_epoch(&crt.valid_from) <= now && x509_epoch(&crt.valid_to) > now + (time_t)seconds;
        mbedtls_x509_crt_free(&crt);
        return ok;
}

int x509_verify_chain(const char *cert_path, const char *ca_path, struct error *err)
{
        mbedtls_x509_crt crt, ca;
        uint32_t flags = 0;
        char why[512];
        int r;

        mbedtls_x509_crt_init(&crt);
        mbedtls_x509_crt_init(&ca);
        if (crt_load(&crt, cert_path) < 0) {
                r = error_set(err, STACK_EREJECT, "%s is not a readable PEM certificate", cert_path);
                goto done;
        }
        if (crt_load(&ca, ca_path) < 0) {
                r = error_set(err, STACK_EREJECT, "%s is not a readable PEM certificate", ca_path);
                goto done;
        }
        r = mbedtls_x509_crt_verify(&crt, &ca, NULL, NULL, &flags, NULL, NULL);
        if (r != 0) {
                why[0] = 0;
                mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
                for (char *p = why; *p; p++)
                        if (*p == '\n')
                                *p = ';';
                r = error_set(err, STACK_EREJECT, "%s does not verify against %s: %s", cert_path, ca_path, why);
        }
done:
        mbedtls_x509_crt_free(&ca);
        mbedtls_x509_crt_free(&crt);
        return r;
}
