/* test-sign.c - publisher keys, detached signatures and the trusted-key store (fetch/sign.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fetch/sign.h"
#include "base/fsutil.h"

/* Per test: a temp dir with alice.key/.pub, bob.key/.pub, a signed file and an empty trust dir. */
struct fx {
        char dir[PATH_MAX];
        char alice[PATH_MAX], bob[PATH_MAX]; /* key names (no suffix) */
        char alice_pub[PATH_MAX], alice_key[PATH_MAX];
        char bob_pub[PATH_MAX];
        char trusted[PATH_MAX];
        char file[PATH_MAX], sig_path[PATH_MAX];
        struct digest file_digest;
        unsigned char sig[SIGN_MAX_SIG];
        size_t sig_len;
};

static void path(char *out, const char *dir, const char *name)
{
        assert_int_equal(fs_path(out, PATH_MAX, "%s/%s", dir, name), 0);
}

static int setup(void **state)
{
        static const char content[] = "{\"schema\":1,\"stacks\":[]}\n";
        struct error err = ERROR_INIT;
        struct fx *f = calloc(1, sizeof *f);
        char *sig = NULL;
        size_t len = 0;

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "%s/stack-test-sign.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(f->dir));
        path(f->alice, f->dir, "alice");
        path(f->bob, f->dir, "bob");
        path(f->alice_pub, f->dir, "alice.pub");
        path(f->alice_key, f->dir, "alice.key");
        path(f->bob_pub, f->dir, "bob.pub");
        path(f->trusted, f->dir, "trusted");
        path(f->file, f->dir, "index.json");
        path(f->sig_path, f->dir, "index.json.sig");
        assert_int_equal(sign_keygen(f->alice, &err), 0);
        assert_int_equal(sign_keygen(f->bob, &err), 0);
        assert_int_equal(fs_write_atomic(f->file, content, sizeof content - 1, 0644), 0);
        digest_buffer(content, sizeof content - 1, &f->file_digest);
        if (sign_file(f->file, f->alice_key, NULL, &err) != 0)
                fail_msg("sign_file: %s", err.msg);
        assert_int_equal(fs_read_file(f->sig_path, SIGN_MAX_SIG, &sig, &len), 0);
        assert_true(len > 0 && len <= SIGN_MAX_SIG);
        memcpy(f->sig, sig, len);
        f->sig_len = len;
        free(sig);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        fs_rm_rf(f->dir);
        free(f);
        return 0;
}

static void trust(struct fx *f, const char *pub, const char *want_name)
{
        struct error err = ERROR_INIT;
        char *name = NULL;

        if (trust_add(f->trusted, pub, &name, &err) != 0)
                fail_msg("trust_add %s: %s", pub, err.msg);
        assert_string_equal(name, want_name);
        free(name);
}

static void signed_file_verifies_against_its_trusted_key(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        const char *signer = NULL;
        char fp[24], want[64];

        trust(f, f->alice_pub, "alice");
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_count(t), 1);
        if (trust_verify_digest(t, "index.json", &f->file_digest, f->sig, f->sig_len, &signer, &err) != 0)
                fail_msg("verify: %s", err.msg);
        assert_int_equal(sign_fingerprint(f->alice_pub, fp, &err), 0);
        snprintf(want, sizeof want, "alice (%s)", fp);
        assert_string_equal(signer, want);
        trust_free(t);
}

static void signature_by_an_untrusted_key_is_rejected(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        const char *signer = NULL;

        trust(f, f->bob_pub, "bob");
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_verify_digest(t, "index.json", &f->file_digest, f->sig, f->sig_len, &signer, &err),
                         -STACK_EREJECT);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_string_equal(err.msg, "index.json: signature does not verify against any trusted key");
        assert_null(signer);
        trust_free(t);
}

static void tampered_digest_or_signature_is_rejected(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        struct digest d = f->file_digest;
        unsigned char sig[SIGN_MAX_SIG];

        trust(f, f->alice_pub, "alice");
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        d.b[7] ^= 0x01;
        assert_int_equal(trust_verify_digest(t, "x", &d, f->sig, f->sig_len, NULL, &err), -STACK_EREJECT);
        error_clear(&err);
        memcpy(sig, f->sig, f->sig_len);
        sig[f->sig_len - 3] ^= 0x40;
        assert_int_equal(trust_verify_digest(t, "x", &f->file_digest, sig, f->sig_len, NULL, &err), -STACK_EREJECT);
        error_clear(&err);
        /* Truncated, empty, and with a trailing byte. */
        assert_int_equal(trust_verify_digest(t, "x", &f->file_digest, f->sig, f->sig_len - 1, NULL, &err),
                         -STACK_EREJECT);
        error_clear(&err);
        assert_int_equal(trust_verify_digest(t, "x", &f->file_digest, f->sig, 0, NULL, &err), -STACK_EREJECT);
        error_clear(&err);
        memcpy(sig, f->sig, f->sig_len);
        sig[f->sig_len] = 0;
        assert_int_equal(trust_verify_digest(t, "x", &f->file_digest, sig, f->sig_len + 1, NULL, &err), -STACK_EREJECT);
        trust_free(t);
}

static void sign_digest_signature_verifies_like_sign_file(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        unsigned char sig[SIGN_MAX_SIG];
        size_t len = 0;

        assert_int_equal(sign_digest(f->alice_key, &f->file_digest, sig, &len, &err), 0);
        assert_true(len > 0 && len <= 72);
        trust(f, f->alice_pub, "alice");
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_verify_digest(t, "x", &f->file_digest, sig, len, NULL, &err), 0);
        trust_free(t);
}

static void signing_with_a_public_key_is_refused(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        unsigned char sig[SIGN_MAX_SIG];
        size_t len = 0;

        assert_int_equal(sign_digest(f->alice_pub, &f->file_digest, sig, &len, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "is a public key"));
}

static void trust_add_refuses_a_private_key(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        char *name = NULL, want[PATH_MAX + 64];

        assert_int_equal(trust_add(f->trusted, f->alice_key, &name, &err), -STACK_EFAIL);
        assert_null(name);
        snprintf(want, sizeof want, "%s is a private key: trust its .pub", f->alice_key);
        assert_string_equal(err.msg, want);
        assert_int_equal(trust_load(f->trusted, &t, NULL), 0);
        assert_int_equal(trust_count(t), 0);
        trust_free(t);
}

static void trust_add_refuses_a_name_taken_by_another_key(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        char other[PATH_MAX], *name = NULL;

        trust(f, f->alice_pub, "alice");
        /* The same key again keeps its first name, whatever the file is called. */
        path(other, f->dir, "copy-of-alice.pub");
        assert_int_equal(link(f->alice_pub, other), 0);
        trust(f, other, "alice");
        /* Another key under a taken name. */
        path(other, f->dir, "sub");
        assert_int_equal(mkdir(other, 0755), 0);
        path(other, f->dir, "sub/alice.pub");
        assert_int_equal(link(f->bob_pub, other), 0);
        assert_int_equal(trust_add(f->trusted, other, &name, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "another key is trusted as 'alice'"));
        assert_null(name);
}

static void trust_remove_by_name_and_by_fingerprint(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        char fp[24];

        trust(f, f->alice_pub, "alice");
        trust(f, f->bob_pub, "bob");
        assert_int_equal(trust_remove(f->trusted, "alice", &err), 0);
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_count(t), 1);
        trust_free(t);
        assert_int_equal(sign_fingerprint(f->bob_pub, fp, &err), 0);
        assert_int_equal(trust_remove(f->trusted, fp, &err), 0);
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_count(t), 0);
        trust_free(t);
        assert_int_equal(trust_remove(f->trusted, "alice", &err), -STACK_ENOTFOUND);
        assert_int_equal(err.code, STACK_ENOTFOUND);
}

static void fingerprint_of_key_equals_fingerprint_of_pub(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        char a[24], b[24], c[24];
        char bob_key[PATH_MAX];

        assert_int_equal(sign_fingerprint(f->alice_key, a, &err), 0);
        assert_int_equal(sign_fingerprint(f->alice_pub, b, &err), 0);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 23);
        assert_int_equal(strncmp(a, "sha256:", 7), 0);
        path(bob_key, f->dir, "bob.key");
        assert_int_equal(sign_fingerprint(bob_key, c, &err), 0);
        assert_string_not_equal(a, c);
}

static void empty_or_missing_trust_dir_has_no_trusted_keys(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;

        /* missing */
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_count(t), 0);
        trust_free(t);
        /* empty */
        assert_int_equal(mkdir(f->trusted, 0755), 0);
        assert_int_equal(trust_load(f->trusted, &t, &err), 0);
        assert_int_equal(trust_count(t), 0);
        assert_int_equal(trust_verify_digest(t, "index.json", &f->file_digest, f->sig, f->sig_len, NULL, &err),
                         -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "no trusted publisher keys (stack trust add KEY.pub)"));
        trust_free(t);
}

static void keygen_refuses_to_overwrite_and_keeps_the_key_private(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        char before[24], after[24];
        struct stat st;

        assert_int_equal(stat(f->alice_key, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(sign_fingerprint(f->alice_pub, before, &err), 0);
        assert_int_equal(sign_keygen(f->alice, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "already exists"));
        assert_int_equal(sign_fingerprint(f->alice_key, after, NULL), 0);
        assert_string_equal(before, after);
}

static void trust_load_refuses_a_private_key_dropped_into_the_store(void **state)
{
        struct fx *f = *state;
        struct error err = ERROR_INIT;
        struct trust *t = NULL;
        char *pem = NULL, p[PATH_MAX];
        size_t len = 0;

        assert_int_equal(mkdir(f->trusted, 0755), 0);
        assert_int_equal(fs_read_file(f->alice_key, 4096, &pem, &len), 0);
        path(p, f->trusted, "oops.pub");
        assert_int_equal(fs_write_atomic(p, pem, len, 0600), 0);
        free(pem);
        assert_int_equal(trust_load(f->trusted, &t, &err), -STACK_EFAIL);
        assert_non_null(strstr(err.msg, "is a private key"));
        assert_null(t);
        /* It can still be removed by name. */
        assert_int_equal(trust_remove(f->trusted, "oops", &err), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(signed_file_verifies_against_its_trusted_key, setup, teardown),
                cmocka_unit_test_setup_teardown(signature_by_an_untrusted_key_is_rejected, setup, teardown),
                cmocka_unit_test_setup_teardown(tampered_digest_or_signature_is_rejected, setup, teardown),
                cmocka_unit_test_setup_teardown(sign_digest_signature_verifies_like_sign_file, setup, teardown),
                cmocka_unit_test_setup_teardown(signing_with_a_public_key_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(trust_add_refuses_a_private_key, setup, teardown),
                cmocka_unit_test_setup_teardown(trust_add_refuses_a_name_taken_by_another_key, setup, teardown),
                cmocka_unit_test_setup_teardown(trust_remove_by_name_and_by_fingerprint, setup, teardown),
                cmocka_unit_test_setup_teardown(fingerprint_of_key_equals_fingerprint_of_pub, setup, teardown),
                cmocka_unit_test_setup_teardown(empty_or_missing_trust_dir_has_no_trusted_keys, setup, teardown),
                cmocka_unit_test_setup_teardown(keygen_refuses_to_overwrite_and_keeps_the_key_private, setup, teardown),
                cmocka_unit_test_setup_teardown(trust_load_refuses_a_private_key_dropped_into_the_store, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
