/* x509.h - X.509 certificates written with mbedTLS: the one place that makes keys and certificates, for the
 * API's self-signed identity (api/cert.c) and the proxy's local CA and leaves (tls/ca.c).
 *
 * Calling sequence: fill a struct x509_spec (x509_spec_init() sets the defaults), then
 *   x509_issue(&spec, key_path, cert_path, err)    a new EC P-256 key and its certificate, both PEM, 0600,
 *                                                  written atomically, the key first
 * x509_valid_for(cert_path, seconds) and x509_verify_chain(cert_path, ca_path, err) only read; safe at any time.
 *
 * mbedTLS 2.28 has no writer for subjectAltName or extendedKeyUsage, so both extensions are spelt out in DER
 * here (RFC 5280 4.2.1.6 and 4.2.1.12).
 */
#ifndef STACK_X509_H
#define STACK_X509_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define X509_SAN_MAX      8   /* dNSNames in one certificate */
#define X509_NAME_MAX     253 /* a DNS name */
#define X509_PEM_FILE_MAX 65536

struct x509_spec {
        const char *subject; /* "CN=...,O=..." */
        /* The signer: NULL for a self-signed certificate; else its key file and its subject, spelt as it was
         * when the issuer's own certificate was written (names are compared as DER). */
        const char *issuer_key_path;
        const char *issuer_subject;
        int days; /* validity from one hour ago */
        /* CA: basicConstraints CA:TRUE pathlen 0, keyUsage keyCertSign|cRLSign, no SAN or EKU.
         * Not CA: CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth, the SAN below. */
        bool ca;
        const char *dns[X509_SAN_MAX]; /* SAN dNSName entries */
        size_t n_dns;
        bool loopback_ips; /* SAN iPAddress 127.0.0.1 and ::1 too */
};

void x509_spec_init(struct x509_spec *spec);
int x509_issue(const struct x509_spec *spec, const char *key_path, const char *cert_path, struct error *err);
/* Does cert_path hold a certificate that parses and is valid now and for `seconds` more? */
bool x509_valid_for(const char *cert_path, long seconds);
/* Does cert_path verify against the single trusted CA certificate in ca_path (signature, validity, CA flag of
 * the issuer)? -STACK_EREJECT with mbedTLS's reasons when not. */
int x509_verify_chain(const char *cert_path, const char *ca_path, struct error *err);

#endif
