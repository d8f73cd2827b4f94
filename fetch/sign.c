/* sign.c - publisher keys (ECDSA P-256, PEM), detached signatures over a file's SHA-256, trusted-key store.
 *
 * Key files are read through fs_read_file() with a small bound and parsed from memory (never with mbedTLS's
 * own unbounded file loader), and any buffer that held a private key is wiped before it is freed. Only
 * P-256 keys are accepted anywhere, so a signature is at most 72 bytes of DER.
 */
#include "sign.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "base/fsutil.h"
#include "base/mem.h"

#define KEY_FILE_MAX (16 * 1024) /* a PEM P-256 key is a few hundred bytes */
#define KEY_PEM_MAX  1024
#define KEY_DER_MAX  256
#define NAME_MAX_LEN 64
#define HASH_CHUNK   (256 * 1024)
#define FP_HEX       16 /* hex digits of the fingerprint that name a key */

struct trust_key {
        char *name;   /* file name without .pub */
        char *signer; /* "NAME (sha256:FP16)" */
        char fp[24];  /* "sha256:" + FP16 */
        char full_hex[DIGEST_HEX_LEN + 1];
        mbedtls_pk_context pk;
};

struct trust {
        struct trust_key *v;
        size_t n;
};

struct rng {
        mbedtls_entropy_context entropy;
        mbedtls_ctr_drbg_context drbg;
};

static const char *mbed_msg(int code, char *buf, size_t size)
{
        mbedtls_strerror(code, buf, size);
        return buf;
}

static int rng_init(struct rng *g, struct error *err)
{
        static const char pers[] = "stack-sign";
        char msg[128];
        int r;

        mbedtls_entropy_init(&g->entropy);
        mbedtls_ctr_drbg_init(&g->drbg);
        r = mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy, (const unsigned char *)pers,
                                  sizeof pers - 1);
        if (r != 0)
                return error_set(err, STACK_EFAIL, "cannot seed the random generator: %s",
                                 mbed_msg(r, msg, sizeof msg));
        return 0;
}

static void rng_free(struct rng *g)
{
        mbedtls_ctr_drbg_free(&g->drbg);
        mbedtls_entropy_free(&g->entropy);
}

/* The last component of a path. */
static const char *base_name(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

/* A key name: it becomes a file name in the trust store and part of every signer name. */
static bool name_valid(const char *s, size_t len)
{
        if (len == 0 || len > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-' || c == '+' || c == '@'))
                        return false;
        }
        return true;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && !memcmp(s + n - m, suffix, m);
}

/* Refuse anything but an ECDSA P-256 key, saying what it is instead. */
static int check_p256(mbedtls_pk_context *pk, const char *path, struct error *err)
{
        const mbedtls_ecp_curve_info *ci;
        mbedtls_ecp_keypair *ec;

        if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECDSA))
                return error_set(err, STACK_EFAIL, "%s is an %s key: stack keys are ECDSA P-256 (stack keygen NAME)",
                                 path, mbedtls_pk_get_name(pk));
        ec = mbedtls_pk_ec(*pk);
        if (!ec || ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
                ci = ec ? mbedtls_ecp_curve_info_from_grp_id(ec->grp.id) : NULL;
                return error_set(err, STACK_EFAIL,
                                 "%s is an EC key on curve %s: stack keys are ECDSA P-256 (secp256r1)", path,
                                 ci ? ci->name : "unknown");
        }
        return 0;
}

static int read_key_file(const char *path, char **ret, size_t *ret_len, struct error *err)
{
        int r = fs_read_file(path, KEY_FILE_MAX, ret, ret_len);

        if (r == -EFBIG)
                return error_set(err, STACK_EFAIL, "%s is larger than %d bytes: not a key file", path, KEY_FILE_MAX);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot read key %s", path);
        return 0;
}

static void free_secret(char *buf, size_t len)
{
        if (buf) {
                mbedtls_platform_zeroize(buf, len);
                free(buf);
        }
}

/* Parse a PEM or DER public key from memory (buf NUL-terminated at len). */
static int parse_public(mbedtls_pk_context *pk, const char *buf, size_t len)
{
        /* PEM parsing wants the terminating NUL counted in the length. */
        return mbedtls_pk_parse_public_key(pk, (const unsigned char *)buf, len + 1);
}

static int parse_private(mbedtls_pk_context *pk, const char *buf, size_t len)
{
        return mbedtls_pk_parse_key(pk, (const unsigned char *)buf, len + 1, NULL, 0);
}

/* A private key from the file's bytes, saying what the file is when it is not one. */
static int take_private(const char *path, const char *buf, size_t len, mbedtls_pk_context *pk, struct error *err)
{
        mbedtls_pk_context probe;
        char msg[128];
        int r, mr;

        mr = parse_private(pk, buf, len);
        if (mr == 0)
                return 0;
        mbedtls_pk_free(pk);
        mbedtls_pk_init(pk);
        mbedtls_pk_init(&probe);
        if (parse_public(&probe, buf, len) == 0)
                r = error_set(err, STACK_EFAIL, "%s is a public key: sign with the private .key", path);
        else if (mr == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
                r = error_set(err, STACK_EFAIL, "%s is encrypted: stack keys have no passphrase", path);
        else
                r = error_set(err, STACK_EFAIL, "%s is not a private key: %s", path, mbed_msg(mr, msg, sizeof msg));
        mbedtls_pk_free(&probe);
        return r;
}

/* A public key from the file's bytes: a .pub, or a .key when allow_private. */
static int take_public(const char *path, const char *buf, size_t len, bool allow_private, mbedtls_pk_context *pk,
                       struct error *err)
{
        char msg[128];
        int mr;

        /* Checked before parsing: a private key must never be taken for a public one, whatever parses. */
        if (!allow_private && strstr(buf, "PRIVATE KEY"))
                return error_set(err, STACK_EFAIL, "%s is a private key: trust its .pub", path);
        mr = parse_public(pk, buf, len);
        if (mr != 0) {
                mbedtls_pk_free(pk);
                mbedtls_pk_init(pk);
                if (parse_private(pk, buf, len) == 0) {
                        if (!allow_private)
                                return error_set(err, STACK_EFAIL, "%s is a private key: trust its .pub", path);
                        mr = 0;
                } else {
                        mbedtls_pk_free(pk);
                        mbedtls_pk_init(pk);
                }
        }
        if (mr != 0)
                return error_set(err, STACK_EFAIL, "%s is not a public key: %s", path, mbed_msg(mr, msg, sizeof msg));
        return 0;
}

/* Load a key file: its private half (for signing) when want_private, else its public half (a .pub, or a .key
 * when allow_private). Only ECDSA P-256 is taken; the file's bytes are wiped after. */
static int load_key(const char *path, bool want_private, bool allow_private, mbedtls_pk_context *pk, struct error *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r;

        r = read_key_file(path, &buf, &len, err);
        if (r < 0)
                return r;
        r = want_private ? take_private(path, buf, len, pk, err) : take_public(path, buf, len, allow_private, pk, err);
        if (r == 0)
                r = check_p256(pk, path, err);
        free_secret(buf, len);
        return r;
}

/* Load a private key file (for signing). */
static int load_private(const char *path, mbedtls_pk_context *pk, struct error *err)
{
        return load_key(path, true, false, pk, err);
}

/* Load a key for its public half: a .pub, or a .key when allow_private. */
static int load_public(const char *path, bool allow_private, mbedtls_pk_context *pk, struct error *err)
{
        return load_key(path, false, allow_private, pk, err);
}

/* SHA-256 of the public key's SubjectPublicKeyInfo DER, as 64 hex digits. */
static int key_digest_hex(mbedtls_pk_context *pk, char *hex, struct error *err)
{
        unsigned char der[KEY_DER_MAX];
        struct digest d;
        int n;

        /* mbedTLS writes DER at the end of the buffer and returns its length. */
        n = mbedtls_pk_write_pubkey_der(pk, der, sizeof der);
        if (n <= 0)
                return error_set(err, STACK_EFAIL, "cannot encode a public key (%d)", n);
        digest_buffer(der + sizeof der - (size_t)n, (size_t)n, &d);
        digest_to_hex(&d, hex);
        return 0;
}

static void fp_from_hex(const char *hex, char *out)
{
        snprintf(out, 24, "sha256:%.*s", FP_HEX, hex);
}

int sign_fingerprint(const char *key_path, char *out, struct error *err)
{
        mbedtls_pk_context pk;
        char hex[DIGEST_HEX_LEN + 1];
        int r;

        if (!key_path || !out)
                return error_set(err, STACK_EFAIL, "sign_fingerprint: invalid arguments");
        mbedtls_pk_init(&pk);
        r = load_public(key_path, true, &pk, err);
        if (r == 0)
                r = key_digest_hex(&pk, hex, err);
        if (r == 0)
                fp_from_hex(hex, out);
        mbedtls_pk_free(&pk);
        return r;
}

int sign_keygen(const char *name, struct error *err)
{
        char key_path[PATH_MAX], pub_path[PATH_MAX], msg[128];
        unsigned char *key_pem = NULL, pub_pem[KEY_PEM_MAX];
        mbedtls_pk_context pk;
        struct rng g;
        struct stat st;
        const char *base;
        bool key_written = false;
        int r, mr;

        if (!name || !*name)
                return error_set(err, STACK_EFAIL, "sign_keygen: invalid arguments");
        base = base_name(name);
        if (!name_valid(base, strlen(base)))
                return error_set(err, STACK_EFAIL,
                                 "key name '%s' is not 1 to %d of [A-Za-z0-9._+@-] (not starting with '.' or '-')",
                                 base, NAME_MAX_LEN);
        if (fs_path(key_path, sizeof key_path, "%s.key", name) < 0 ||
            fs_path(pub_path, sizeof pub_path, "%s.pub", name) < 0)
                return error_set(err, STACK_EFAIL, "key name %s is too long", name);
        for (int i = 0; i < 2; i++) {
                const char *p = i ? pub_path : key_path;

                if (lstat(p, &st) == 0)
                        return error_set(err, STACK_EFAIL, "%s already exists: keygen never overwrites a key", p);
                if (errno != ENOENT)
                        return error_errno(err, STACK_EFAIL, errno, "cannot check %s", p);
        }

        mbedtls_pk_init(&pk);
        r = rng_init(&g, err);
        if (r < 0)
                goto fail;
        key_pem = calloc(1, KEY_PEM_MAX);
        if (!key_pem) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        mr = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (mr == 0)
                mr = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &g.drbg);
        if (mr == 0)
                mr = mbedtls_pk_write_key_pem(&pk, key_pem, KEY_PEM_MAX);
        if (mr == 0)
                mr = mbedtls_pk_write_pubkey_pem(&pk, pub_pem, sizeof pub_pem);
        if (mr != 0) {
                r = error_set(err, STACK_EFAIL, "cannot generate a P-256 key: %s", mbed_msg(mr, msg, sizeof msg));
                goto fail;
        }
        r = fs_write_atomic(key_path, key_pem, strlen((char *)key_pem), 0600);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", key_path);
                goto fail;
        }
        key_written = true;
        r = fs_write_atomic(pub_path, pub_pem, strlen((char *)pub_pem), 0644);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", pub_path);
                goto fail;
        }
        r = 0;
fail:
        if (r < 0 && key_written)
                unlink(key_path);
        if (key_pem)
                free_secret((char *)key_pem, KEY_PEM_MAX);
        mbedtls_pk_free(&pk);
        rng_free(&g);
        return r;
}

int sign_digest(const char *key_path, const struct digest *d, unsigned char *sig, size_t *ret_len, struct error *err)
{
        unsigned char buf[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
        mbedtls_pk_context pk;
        struct rng g;
        char msg[128];
        size_t len = 0;
        int r, mr;

        if (!key_path || !d || !sig || !ret_len)
                return error_set(err, STACK_EFAIL, "sign_digest: invalid arguments");
        mbedtls_pk_init(&pk);
        r = rng_init(&g, err);
        if (r < 0)
                goto fail;
        r = load_private(key_path, &pk, err);
        if (r < 0)
                goto fail;
        /* Deterministic ECDSA (RFC 6979) in this mbedTLS: the RNG only blinds the computation. */
        mr = mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, d->b, DIGEST_LEN, buf, &len, mbedtls_ctr_drbg_random, &g.drbg);
        if (mr != 0) {
                r = error_set(err, STACK_EFAIL, "cannot sign with %s: %s", key_path, mbed_msg(mr, msg, sizeof msg));
                goto fail;
        }
        if (len == 0 || len > SIGN_MAX_SIG) {
                r = error_set(err, STACK_EFAIL, "cannot sign with %s: signature of %zu bytes", key_path, len);
                goto fail;
        }
        memcpy(sig, buf, len);
        *ret_len = len;
        r = 0;
fail:
        mbedtls_pk_free(&pk);
        rng_free(&g);
        return r;
}

/* SHA-256 of a whole file, streamed. */
static int hash_file(const char *path, struct digest *ret, struct error *err)
{
        struct hasher h;
        unsigned char *buf;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "cannot open %s", path);
        buf = malloc(HASH_CHUNK);
        if (!buf) {
                close(fd);
                return error_set(err, STACK_EFAIL, "out of memory");
        }
        digest_init(&h);
        for (;;) {
                ssize_t n = read(fd, buf, HASH_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot read %s", path);
                        break;
                }
                if (n == 0)
                        break;
                digest_update(&h, buf, (size_t)n);
        }
        if (r == 0)
                digest_final(&h, ret);
        free(buf);
        close(fd);
        return r;
}

int sign_file(const char *file, const char *key_path, const char *sig_path, struct error *err)
{
        unsigned char sig[SIGN_MAX_SIG];
        char path[PATH_MAX];
        struct digest d;
        size_t len = 0;
        int r;

        if (!file || !key_path)
                return error_set(err, STACK_EFAIL, "sign_file: invalid arguments");
        if (!sig_path) {
                if (fs_path(path, sizeof path, "%s.sig", file) < 0)
                        return error_set(err, STACK_EFAIL, "path %s.sig is too long", file);
                sig_path = path;
        }
        r = hash_file(file, &d, err);
        if (r < 0)
                return r;
        r = sign_digest(key_path, &d, sig, &len, err);
        if (r < 0)
                return r;
        r = fs_write_atomic(sig_path, sig, len, 0644);
        if (r < 0)
                return error_errno(err, STACK_EFAIL, r, "cannot write %s", sig_path);
        return 0;
}

static void key_release(struct trust_key *k)
{
        free(k->name);
        free(k->signer);
        mbedtls_pk_free(&k->pk);
}

void trust_free(struct trust *t)
{
        if (!t)
                return;
        MEM_FREE_ARRAY(t->v, t->n, key_release);
        free(t);
}

int trust_load(const char *dir, struct trust **ret, struct error *err)
{
        struct trust *t = NULL;
        char **names = NULL, path[PATH_MAX];
        size_t n = 0;
        int r;

        if (!dir || !ret)
                return error_set(err, STACK_EFAIL, "trust_load: invalid arguments");
        r = fs_list_suffix(dir, ".pub", true, &names, &n);
        if (r < 0)
                r = error_errno(err, STACK_EFAIL, r, "cannot list %s", dir);
        if (r < 0)
                return r;
        t = calloc(1, sizeof *t);
        if (!t || (n && !(t->v = calloc(n, sizeof *t->v)))) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        for (size_t i = 0; i < n; i++) {
                struct trust_key *k = &t->v[t->n];

                mbedtls_pk_init(&k->pk);
                t->n++;
                if (fs_path(path, sizeof path, "%s/%s.pub", dir, names[i]) < 0) {
                        r = error_set(err, STACK_EFAIL, "path %s/%s.pub is too long", dir, names[i]);
                        goto fail;
                }
                r = load_public(path, false, &k->pk, err);
                if (r < 0)
                        goto fail;
                r = key_digest_hex(&k->pk, k->full_hex, err);
                if (r < 0)
                        goto fail;
                fp_from_hex(k->full_hex, k->fp);
                k->name = names[i];
                names[i] = NULL;
                if (asprintf(&k->signer, "%s (%s)", k->name, k->fp) < 0) {
                        k->signer = NULL;
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
        }
        *ret = t;
        t = NULL;
        r = 0;
fail:
        fs_names_free(names, n);
        trust_free(t);
        return r;
}

size_t trust_count(const struct trust *t)
{
        return t ? t->n : 0;
}

int trust_verify_digest(const struct trust *t, const char *what, const struct digest *d, const void *sig,
                        size_t sig_len, const char **ret_signer, struct error *err)
{
        if (!what)
                what = "signature";
        if (!d || (!sig && sig_len))
                return error_set(err, STACK_EFAIL, "trust_verify_digest: invalid arguments");
        if (!t || t->n == 0)
                return error_set(err, STACK_EREJECT,
                                 "cannot verify %s: no trusted publisher keys (stack trust add KEY.pub)", what);
        if (sig_len > 0 && sig_len <= SIGN_MAX_SIG)
                for (size_t i = 0; i < t->n; i++)
                        if (mbedtls_pk_verify(&t->v[i].pk, MBEDTLS_MD_SHA256, d->b, DIGEST_LEN, sig, sig_len) == 0) {
                                if (ret_signer)
                                        *ret_signer = t->v[i].signer;
                                return 0;
                        }
        return error_set(err, STACK_EREJECT, "%s: signature does not verify against any trusted key", what);
}

int trust_list(const struct trust *t, void (*fn)(void *ctx, const char *name, const char *fp), void *ctx)
{
        if (!fn)
                return -STACK_EFAIL;
        for (size_t i = 0; t && i < t->n; i++)
                fn(ctx, t->v[i].name, t->v[i].fp);
        return 0;
}

int trust_add(const char *dir, const char *pub_path, char **ret_name, struct error *err)
{
        unsigned char pem[KEY_PEM_MAX];
        char hex[DIGEST_HEX_LEN + 1], path[PATH_MAX], msg[128], *name = NULL;
        mbedtls_pk_context pk;
        struct trust *t = NULL;
        const char *base;
        size_t len;
        int r, mr;

        if (!dir || !pub_path)
                return error_set(err, STACK_EFAIL, "trust_add: invalid arguments");
        mbedtls_pk_init(&pk);
        r = load_public(pub_path, false, &pk, err);
        if (r < 0)
                goto fail;
        r = key_digest_hex(&pk, hex, err);
        if (r < 0)
                goto fail;
        base = base_name(pub_path);
        len = strlen(base);
        if (ends_with(base, ".pub"))
                len -= 4;
        if (!name_valid(base, len)) {
                r = error_set(err, STACK_EFAIL,
                              "cannot trust %s: its name '%.*s' is not 1 to %d of [A-Za-z0-9._+@-] (not starting with "
                              "'.' or '-'): rename the file",
                              pub_path, (int)len, base, NAME_MAX_LEN);
                goto fail;
        }
        name = strndup(base, len);
        if (!name) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        r = fs_mkdir_p(dir, 0755);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot create %s", dir);
                goto fail;
        }
        r = trust_load(dir, &t, err);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < t->n; i++)
                if (!strcmp(t->v[i].full_hex, hex)) {
                        /* Already trusted: keep the name it has, so signer names stay stable. */
                        free(name);
                        name = strdup(t->v[i].name);
                        if (!name)
                                r = error_set(err, STACK_EFAIL, "out of memory");
                        goto fail;
                }
        for (size_t i = 0; i < t->n; i++)
                if (!strcmp(t->v[i].name, name)) {
                        r = error_set(err, STACK_EFAIL,
                                      "cannot trust %s: another key is trusted as '%s' (%s): rename the file", pub_path,
                                      name, t->v[i].fp);
                        goto fail;
                }
        /* Written re-encoded, not copied: the store holds exactly one PEM public key per file. */
        mr = mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof pem);
        if (mr != 0) {
                r = error_set(err, STACK_EFAIL, "cannot encode %s: %s", pub_path, mbed_msg(mr, msg, sizeof msg));
                goto fail;
        }
        if (fs_path(path, sizeof path, "%s/%s.pub", dir, name) < 0) {
                r = error_set(err, STACK_EFAIL, "path %s/%s.pub is too long", dir, name);
                goto fail;
        }
        r = fs_write_atomic(path, pem, strlen((char *)pem), 0644);
        if (r < 0) {
                r = error_errno(err, STACK_EFAIL, r, "cannot write %s", path);
                goto fail;
        }
fail:
        if (r == 0 && ret_name) {
                *ret_name = name;
                name = NULL;
        }
        free(name);
        trust_free(t);
        mbedtls_pk_free(&pk);
        return r;
}

/* "sha256:HEX" or "HEX", 16 to 64 hex digits: the hex part, else NULL. */
static const char *fingerprint_arg(const char *s)
{
        size_t n;

        if (!strncmp(s, "sha256:", 7))
                s += 7;
        n = strlen(s);
        if (n < FP_HEX || n > DIGEST_HEX_LEN || strspn(s, "0123456789abcdefABCDEF") != n)
                return NULL;
        return s;
}

int trust_remove(const char *dir, const char *name_or_fp, struct error *err)
{
        char **names = NULL, path[PATH_MAX], hex[DIGEST_HEX_LEN + 1];
        const char *fp_hex;
        size_t n = 0, removed = 0;
        int r;

        if (!dir || !name_or_fp || !*name_or_fp)
                return error_set(err, STACK_EFAIL, "trust_remove: invalid arguments");
        fp_hex = fingerprint_arg(name_or_fp);
        r = fs_list_suffix(dir, ".pub", true, &names, &n);
        if (r < 0)
                r = error_errno(err, STACK_EFAIL, r, "cannot list %s", dir);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                bool match = !strcmp(names[i], name_or_fp);

                if (fs_path(path, sizeof path, "%s/%s.pub", dir, names[i]) < 0)
                        continue;
                if (!match && fp_hex) {
                        struct error local = ERROR_INIT;
                        mbedtls_pk_context pk;

                        /* A file that does not parse cannot match a fingerprint; it can still go by name. */
                        mbedtls_pk_init(&pk);
                        if (load_public(path, false, &pk, &local) == 0 && key_digest_hex(&pk, hex, &local) == 0)
                                match = !strncasecmp(hex, fp_hex, strlen(fp_hex));
                        mbedtls_pk_free(&pk);
                }
                if (!match)
                        continue;
                if (unlink(path) < 0 && errno != ENOENT) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot remove %s", path);
                        goto fail;
                }
                removed++;
        }
        if (removed == 0) {
                r = error_set(err, STACK_ENOTFOUND,
                              "no trusted key is named or has fingerprint '%s' (see stack trust ls)", name_or_fp);
                goto fail;
        }
        r = fs_fsync_dir(dir);
        if (r < 0)
                r = error_errno(err, STACK_EFAIL, r, "cannot sync %s", dir);
fail:
        fs_names_free(names, n);
        return r;
}
