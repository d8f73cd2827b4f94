/* ca.h - stack's local certificate authority: the root a person trusts once (stack ca), and the leaf
 * certificates it signs for the names the proxy serves (spec/proxy.md "Certificates").
 *
 * Calling sequence:
 *   ca_ensure(home, &created, err)                  $home/keys/ca.pem and ca-key.pem (0600), made on first use
 *                                                   (or when the certificate is missing or about to expire)
 *   ca_ensure_leaf(home, host, key, cert, err)      a leaf for host signed by the CA, made again when missing,
 *                                                   expiring within CA_LEAF_RENEW_DAYS or not signed by the
 *                                                   current CA; calls ca_ensure() itself
 * ca_cert_path() only names the file.
 *
 * The CA: EC P-256, subject CA_SUBJECT, basicConstraints CA:TRUE pathlen 0, keyUsage keyCertSign|cRLSign,
 * CA_VALID_DAYS. A leaf: EC P-256, subject CN=<host>, SAN dNSName <host>, CA:FALSE, digitalSignature,
 * serverAuth, CA_LEAF_VALID_DAYS (browsers accept at most 398).
 */
#ifndef STACK_CA_H
#define STACK_CA_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define CA_SUBJECT         "CN=stack local CA,O=stack"
#define CA_VALID_DAYS      3650
#define CA_RENEW_DAYS      30
#define CA_LEAF_VALID_DAYS 397
#define CA_LEAF_RENEW_DAYS 30

/* $home/keys/ca.pem (what = "cert") or $home/keys/ca-key.pem (what = "key"). */
int ca_path(const char *home, const char *what, char *buf, size_t size);
int ca_ensure(const char *home, bool *ret_created, struct error *err);
int ca_ensure_leaf(const char *home, const char *host, const char *key_path, const char *cert_path, struct error *err);

#endif
