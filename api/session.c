/* session.c - one-time login links and the daemon's in-memory sessions (session.h). */
#include "session.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "base/digest.h"
#include "base/fsutil.h"

#define USED_KEPT 64 /* consumed links remembered, to say "used already" rather than "not valid" */

struct session {
        char id[LOGIN_TOKEN_HEX + 1];
        int64_t expires_at;
};

struct sessions {
        pthread_mutex_t lock;
        struct session s[SESSIONS_MAX];
        struct digest used[USED_KEPT];
        size_t n_used;
};

static int random_hex(char out[LOGIN_TOKEN_HEX + 1])
{
        struct digest d;
        ssize_t n = getrandom(d.b, sizeof d.b, 0);

        if (n != (ssize_t)sizeof d.b)
                return -EIO;
        digest_to_hex(&d, out);
        mbedtls_platform_zeroize(&d, sizeof d);
        return 0;
}

static bool is_token(const char *t)
{
        return t && strlen(t) == LOGIN_TOKEN_HEX && strspn(t, "0123456789abcdef") == LOGIN_TOKEN_HEX;
}

static int token_path(const char *home, const struct digest *h, char *buf, size_t size)
{
        char hex[DIGEST_HEX_LEN + 1];

        digest_to_hex(h, hex);
        return fs_path(buf, size, "%s/keys/login/%s", home, hex);
}

int login_token_create(const char *home, int ttl_s, int64_t now, char token[LOGIN_TOKEN_HEX + 1], struct error *err)
{
        char dir[PATH_MAX], path[PATH_MAX], body[32];
        struct digest h;
        int r;

        if (ttl_s < 1)
                ttl_s = LOGIN_TTL_DEFAULT;
        if (random_hex(token) < 0)
                return error_set(err, STACK_EFAIL, "no random bytes for a login link");
        digest_buffer(token, LOGIN_TOKEN_HEX, &h);
        if (fs_path(dir, sizeof dir, "%s/keys/login", home) < 0 || token_path(home, &h, path, sizeof path) < 0)
                return error_set(err, STACK_ESTORE, "store path too long: %s", home);
        r = fs_mkdir_p(dir, 0700);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot make %s", dir);
        snprintf(body, sizeof body, "%lld\n", (long long)(now + ttl_s));
        r = fs_write_atomic(path, body, strlen(body), 0600);
        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "cannot write the login link to %s", dir);
        return 0;
}

int sessions_new(struct sessions **ret)
{
        struct sessions *ss = calloc(1, sizeof *ss);

        if (!ss)
                return -ENOMEM;
        pthread_mutex_init(&ss->lock, NULL);
        *ret = ss;
        return 0;
}

/* Takes the link's file for this caller alone (rename is atomic), then reads and removes it. */
static int consume(const char *home, const struct digest *h, int64_t *ret_expires)
{
        char path[PATH_MAX], taken[PATH_MAX + 16], *text = NULL, *end;
        size_t len = 0;
        int r;

        if (token_path(home, h, path, sizeof path) < 0 || fs_path(taken, sizeof taken, "%s.taken", path) < 0)
                return -ENAMETOOLONG;
        if (rename(path, taken) != 0)
                return -errno;
        r = fs_read_file(taken, 64, &text, &len);
        unlink(taken);
        if (r < 0)
                return r;
        *ret_expires = strtoll(text, &end, 10);
        r = end == text ? -EINVAL : 0;
        free(text);
        return r;
}

int sessions_login(struct sessions *ss, const char *home, const char *token, int64_t now, char id[LOGIN_TOKEN_HEX + 1],
                   struct error *err)
{
        struct digest h;
        int64_t expires = 0;
        size_t slot = 0;
        int r;

        if (!is_token(token))
                return error_set(err, STACK_ENOTFOUND, "this login link is not valid");
        digest_buffer(token, LOGIN_TOKEN_HEX, &h);
        pthread_mutex_lock(&ss->lock);
        r = consume(home, &h, &expires);
        if (r == -ENOENT) {
                bool used = false;
                for (size_t i = 0; i < ss->n_used && i < USED_KEPT; i++)
                        used |= digest_equal(&ss->used[i], &h);
                pthread_mutex_unlock(&ss->lock);
                if (used)
                        return error_set(err, STACK_EREJECT, "this login link was used already");
                return error_set(err, STACK_ENOTFOUND, "this login link is not valid");
        }
        if (r < 0) {
                pthread_mutex_unlock(&ss->lock);
                return error_errno(err, STACK_ESTORE, r, "cannot read the login link");
        }
        ss->used[ss->n_used++ % USED_KEPT] = h;
        if (expires <= now) {
                pthread_mutex_unlock(&ss->lock);
                return error_set(err, STACK_EREJECT, "this login link has expired");
        }
        for (size_t i = 0; i < SESSIONS_MAX; i++) {
                if (ss->s[i].expires_at <= now) { /* a free or dead slot */
                        slot = i;
                        break;
                }
                if (ss->s[i].expires_at < ss->s[slot].expires_at)
                        slot = i;
        }
        if (random_hex(id) < 0) {
                pthread_mutex_unlock(&ss->lock);
                return error_set(err, STACK_EFAIL, "no random bytes for a session");
        }
        memcpy(ss->s[slot].id, id, LOGIN_TOKEN_HEX + 1);
        ss->s[slot].expires_at = now + SESSION_TTL;
        pthread_mutex_unlock(&ss->lock);
        return 0;
}

bool sessions_check(struct sessions *ss, const char *id, int64_t now)
{
        bool ok = false;

        if (!ss || !is_token(id))
                return false;
        pthread_mutex_lock(&ss->lock);
        for (size_t i = 0; i < SESSIONS_MAX; i++) {
                unsigned char diff = 0;
                for (size_t k = 0; k < LOGIN_TOKEN_HEX; k++)
                        diff |= (unsigned char)(ss->s[i].id[k] ^ id[k]);
                ok |= diff == 0 && ss->s[i].expires_at > now;
        }
        pthread_mutex_unlock(&ss->lock);
        return ok;
}

void sessions_free(struct sessions *ss)
{
        if (!ss)
                return;
        pthread_mutex_destroy(&ss->lock);
        mbedtls_platform_zeroize(ss, sizeof *ss);
        free(ss);
}
