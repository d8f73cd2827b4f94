/* cert.c - the daemon's self-signed TLS certificate, made on first start and renewed before it runs out. The
 * X.509 writing is tls/x509.c, shared with the proxy's local CA.
 */
#include "cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "base/digest.h"
#include "base/fsutil.h"
#include "tls/x509.h"

#define CERT_FILE_MAX (64 * 1024)
#define SUBJECT       "CN=stack localhost API,O=stack"

static int cert_generate(const char *key_path, const char *cert_path, struct error *err)
{
        struct x509_spec spec;

        x509_spec_init(&spec);
        spec.subject = SUBJECT;
        spec.days = CERT_VALID_DAYS;
        spec.dns[0] = "localhost";
        spec.n_dns = 1;
        spec.loopback_ips = true;
        return x509_issue(&spec, key_path, cert_path, err);
}

int cert_ensure(const char *key_path, const char *cert_path, bool *ret_created, struct error *err)
{
        int r;

        if (!key_path || !cert_path)
                return error_set(err, STACK_EFAIL, "cert_ensure: bad arguments");
        if (access(key_path, R_OK) == 0 && x509_valid_for(cert_path, (long)CERT_RENEW_DAYS * 86400)) {
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
