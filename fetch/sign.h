/* sign.h - publisher keys, detached signatures and the trusted-key store (spec/catalog.md "Keys and signatures").
 *
 * Keys are ECDSA P-256 (mbedTLS), PEM files: NAME.key (private, 0600) and NAME.pub. A signature is the DER
 * ECDSA signature over the SHA-256 of a file's exact bytes, written beside it as FILE.sig. Because it signs
 * the digest, a verifier that hashed the bytes while streaming them can check the signature afterwards.
 *
 * Calling sequence for verifying: trust_load(store's keys/trusted dir, &t) once; trust_verify_digest() any
 * number of times; trust_free(t). A signer is named "NAME (sha256:FP16)", FP16 being the first 16 hex digits
 * of the SHA-256 of the public key's DER encoding.
 */
#ifndef STACK_SIGN_H
#define STACK_SIGN_H

#include <stddef.h>

#include "base/digest.h"
#include "base/error.h"

#define SIGN_MAX_SIG 256 /* bytes of a DER ECDSA P-256 signature, with room */

/* Write NAME.key (0600) and NAME.pub; refuses to overwrite an existing key. */
int sign_keygen(const char *name, struct error *err);
/* Sign a digest with a private key file: sig gets at most SIGN_MAX_SIG bytes. */
int sign_digest(const char *key_path, const struct digest *d, unsigned char *sig, size_t *ret_len, struct error *err);
/* Hash FILE and write FILE.sig (or sig_path when not NULL) atomically. */
int sign_file(const char *file, const char *key_path, const char *sig_path, struct error *err);
/* "sha256:" + 16 hex digits of the public key (from a .pub or a .key file). out: 24 bytes. */
int sign_fingerprint(const char *key_path, char *out, struct error *err);

struct trust;

/* Load every *.pub in dir (missing dir: no keys). */
int trust_load(const char *dir, struct trust **ret, struct error *err);
void trust_free(struct trust *t);
size_t trust_count(const struct trust *t);
/* Check a DER signature over d against every trusted key. On success *ret_signer points to the signer's name
 * (valid until trust_free). Failure is STACK_EREJECT: "no trusted publisher keys (stack trust add KEY.pub)" or
 * "<what>: signature does not verify against any trusted key". `what` names the file for the message. */
int trust_verify_digest(const struct trust *t, const char *what, const struct digest *d, const void *sig,
                        size_t sig_len, const char **ret_signer, struct error *err);
/* Copy a public key into dir as NAME.pub (NAME: the file's base name without .pub); refuses a private key,
 * a non-P-256 key, or a name already taken by another key. ret_name: heap, may be NULL. */
int trust_add(const char *dir, const char *pub_path, char **ret_name, struct error *err);
/* Remove by NAME or by fingerprint; STACK_ENOTFOUND when none matches. */
int trust_remove(const char *dir, const char *name_or_fp, struct error *err);
/* Each trusted key: fn(ctx, name, fingerprint). */
int trust_list(const struct trust *t, void (*fn)(void *ctx, const char *name, const char *fp), void *ctx);

#endif
