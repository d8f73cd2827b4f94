/* cert.h - the daemon's TLS identity: an EC P-256 key and a self-signed certificate for the loopback names
 * (spec/api.md "TLS").
 *
 * Calling sequence: cert_ensure(key_path, cert_path, &created, err) at every start of the daemon - it makes
 * both files on first use, and makes them again when the certificate is missing, unreadable, or expires
 * within CERT_RENEW_DAYS; then read the PEM files and hand them to the TLS server. cert_fingerprint() is safe
 * at any time after (it only reads the certificate).
 *
 * The certificate: X.509 v3, subject and issuer "CN=stack localhost API,O=stack", SAN IP:127.0.0.1, IP:::1,
 * DNS:localhost, valid from one hour ago for CERT_VALID_DAYS days (browsers accept at most 398), key usage
 * digitalSignature, extended key usage serverAuth, basicConstraints CA:FALSE, ECDSA with SHA-256. Both files are
 * PEM, mode 0600, written atomically.
 */
#ifndef STACK_CERT_H
#define STACK_CERT_H

#include <stdbool.h>

#include "base/error.h"

#define CERT_VALID_DAYS 397
#define CERT_RENEW_DAYS 30
#define CERT_FP_LEN     96 /* "AB:CD:..." 32 bytes in hex with colons, NUL */

int cert_ensure(const char *key_path, const char *cert_path, bool *ret_created, struct error *err);
/* SHA-256 over the certificate's DER, as `openssl x509 -fingerprint -sha256` prints it: upper-case hex pairs
 * joined by ':'. out: CERT_FP_LEN bytes. */
int cert_fingerprint(const char *cert_path, char out[CERT_FP_LEN], struct error *err);

#endif
