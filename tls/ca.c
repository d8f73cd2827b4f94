/* ca.c - the local CA and the leaves it signs (ca.h). Everything X.509 is tls/x509.c; this file decides names,
 * places and when to make a certificate again.
 */
#include "ca.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "x509.h"

int ca_path(const char *home, const char *what, char *buf, size_t size)
{
        if (!home || !what)
                return -EINVAL;
        return fs_path(buf, size, "%s/keys/%s", home, strcmp(what, "key") == 0 ? "ca-key.pem" : "ca.pem");
}

int ca_ensure(const char *home, bool *ret_created, struct error *err)
{
        char cert[PATH_MAX], key[PATH_MAX], dir[PATH_MAX];
        struct x509_spec spec;
        int r;

        if (ca_path(home, "cert", cert, sizeof cert) < 0 || ca_path(home, "key", key, sizeof key) < 0 ||
            fs_path(dir, sizeof dir, "%s/keys", home) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home ? home : "(null)");
        if (access(key, R_OK) == 0 && x509_valid_for(cert, (long)CA_RENEW_DAYS * 86400)) {
                if (ret_created)
                        *ret_created = false;
                return 0;
        }
        r = fs_mkdir_p(dir, 0700);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot create %s", dir);
        x509_spec_init(&spec);
        spec.subject = CA_SUBJECT;
        spec.days = CA_VALID_DAYS;
        spec.ca = true;
        r = x509_issue(&spec, key, cert, err);
        if (r == 0 && ret_created)
                *ret_created = true;
        return r;
}

int ca_ensure_leaf(const char *home, const char *host, const char *key_path, const char *cert_path, struct error *err)
{
        char ca_cert[PATH_MAX], ca_key[PATH_MAX], subject[X509_NAME_MAX + 16];
        struct error ignored = ERROR_INIT;
        struct x509_spec spec;
        int r;

        if (!host || !*host || strlen(host) > X509_NAME_MAX || !key_path || !cert_path)
                return error_set(err, STACK_EFAIL, "ca_ensure_leaf: bad arguments");
        /* A comma or '=' would be read as another attribute of the subject. */
        if (strpbrk(host, ",=+\\\"<>;"))
                return error_set(err, STACK_EREJECT, "'%s' is not a host name", host);
        r = ca_ensure(home, NULL, err);
        if (r < 0)
                return r;
        if (ca_path(home, "cert", ca_cert, sizeof ca_cert) < 0 || ca_path(home, "key", ca_key, sizeof ca_key) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home);
        if (access(key_path, R_OK) == 0 && x509_valid_for(cert_path, (long)CA_LEAF_RENEW_DAYS * 86400) &&
            x509_verify_chain(cert_path, ca_cert, &ignored) == 0)
                return 0;
        snprintf(subject, sizeof subject, "CN=%s,O=stack", host);
        x509_spec_init(&spec);
        spec.subject = subject;
        spec.issuer_key_path = ca_key;
        spec.issuer_subject = CA_SUBJECT;
        spec.days = CA_LEAF_VALID_DAYS;
        spec.dns[0] = host;
        spec.n_dns = 1;
        return x509_issue(&spec, key_path, cert_path, err);
}
