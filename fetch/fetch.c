/* fetch.c - catalog -> verified, streamed ingest -> store; and bundles fetched by URL or path. */
#include "fetch.h"
#include "catalog.h"
#include "sign.h"
#include "base/fsutil.h"
#include "store/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fetch_result_release(struct fetch_result *r)
{
        if (r)
                version_info_release(&r->v);
}

static int load_trust(struct store *s, struct trust **ret, struct error *err)
{
        char dir[PATH_MAX];
        int r = fs_path(dir, sizeof dir, "%s/keys/trusted", store_home(s));

        if (r < 0)
                return error_errno(err, STACK_ESTORE, r, "trusted keys path");
        return trust_load(dir, ret, err);
}

/* The .sig read beside a bundle: a DER ECDSA P-256 signature is at most 72 bytes; anything near this bound is
 * not a signature, and saying so beats reading it. */
#define FETCH_MAX_SIG_FILE 4096

/* FILE.sig beside a local bundle into *ret (heap) and *ret_len. Only "no such file" means unsigned (*ret NULL,
 * 0 returned); a .sig that is present but unreadable, not a regular file or larger than FETCH_MAX_SIG_FILE is
 * STACK_EREJECT: a signature that does not check out refuses the bundle whatever its size. O_NONBLOCK: a fifo
 * named FILE.sig must not hang the import. */
static int read_sig_file(const char *path, char **ret, size_t *ret_len, struct error *err)
{
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int fd, r = 0;

        *ret = NULL;
        *ret_len = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
                int e = errno;
                if (e == ENOENT && lstat(path, &st) < 0 && errno == ENOENT)
                        return 0;
                if (e == ENOENT)
                        return error_set(err, STACK_EREJECT, "the signature %s is a symlink to nothing: refused", path);
                return error_set(err, STACK_EREJECT, "cannot read the signature %s (%s): refused", path, strerror(e));
        }
        if (fstat(fd, &st) < 0) {
                r = error_set(err, STACK_EREJECT, "cannot read the signature %s (%s): refused", path, strerror(errno));
                goto done;
        }
        if (!S_ISREG(st.st_mode)) {
                r = error_set(err, STACK_EREJECT, "the signature %s is not a regular file: refused", path);
                goto done;
        }
        /* One byte more than the bound, so a file that grew since fstat is still caught. */
        buf = malloc(FETCH_MAX_SIG_FILE + 1);
        if (!buf) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto done;
        }
        while (st.st_size <= FETCH_MAX_SIG_FILE && len <= FETCH_MAX_SIG_FILE) {
                ssize_t n = read(fd, buf + len, FETCH_MAX_SIG_FILE + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = error_set(err, STACK_EREJECT, "cannot read the signature %s (%s): refused", path,
                                      strerror(errno));
                        goto done;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (st.st_size > FETCH_MAX_SIG_FILE || len > FETCH_MAX_SIG_FILE) {
                r = error_set(err, STACK_EREJECT, "the signature %s is larger than %d bytes, so it is not one: refused",
                              path, FETCH_MAX_SIG_FILE);
                goto done;
        }
        *ret = buf;
        *ret_len = len;
        buf = NULL;
done:
        free(buf);
        close(fd);
        return r;
}

static void warn(const struct fetch_options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const struct fetch_options *o, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_vsay(o->warn, o->warn_ctx, fmt, ap);
        va_end(ap);
}

/* Stream `url` (or read fd when >= 0) through ingest; checks against want (digest, size) when given, and
 * returns the ingest for the caller's last checks before publishing. */
static int stream_ingest(struct store *s, const struct fetch_options *o, const char *url, int fd,
                         const struct digest *want, uint64_t want_size, struct ingest **ret_ing,
                         struct fetch_result *res, struct error *err)
{
        struct http_stream *hs = NULL;
        struct ingest *ing = NULL;
        int r;

        r = ingest_new(s, NULL, &ing, err);
        if (r < 0)
                return r;
        ingest_set_warn(ing, o->warn, o->warn_ctx);
        if (fd >= 0) {
                r = ingest_read_fd(ing, fd, err);
        } else {
                r = http_stream_open(url, want_size, &hs, err);
                if (r == 0) {
                        http_stream_set_progress(hs, o->progress, o->progress_ctx);
                        ingest_set_cancel(ing, http_stream_cancel, hs);
                        r = ingest_read(ing, http_stream_read, hs, err);
                        res->requests = http_stream_requests(hs);
                }
        }
        http_stream_free(hs);
        if (r < 0)
                goto fail;
        res->downloaded = ingest_bundle_size(ing);
        if (want && !digest_equal(want, ingest_bundle_digest(ing))) {
                char a[DIGEST_HEX_LEN + 1], b[DIGEST_HEX_LEN + 1];
                digest_to_hex(want, a);
                digest_to_hex(ingest_bundle_digest(ing), b);
                r = error_set(err, STACK_EREJECT,
                              "%s: sha256 %.16s... differs from the signed index's %.16s...: refused", url, b, a);
                goto fail;
        }
        if (want_size && ingest_bundle_size(ing) != want_size) {
                r = error_set(err, STACK_EREJECT, "%s: %llu bytes, the signed index says %llu: refused", url,
                              (unsigned long long)ingest_bundle_size(ing), (unsigned long long)want_size);
                goto fail;
        }
        *ret_ing = ing;
        return 0;
fail:
        ingest_free(ing);
        return r;
}

static int publish(struct store *s, struct ingest *ing, const char *signer, bool insecure, const char *source,
                   struct fetch_result *res, struct error *err)
{
        struct publish_info pi = {
                .bundle = ingest_bundle_digest(ing),
                .bundle_size = ingest_bundle_size(ing),
                .signer = signer,
                .insecure = insecure && !signer,
                .source = source,
        };
        int64_t id;
        int r;

        r = ingest_publish(ing, &pi, &id, &res->new_version, err);
        if (r < 0)
                return r;
        res->added = ingest_bytes_added(ing);
        return index_get_version(store_index(s), id, &res->v, err);
}

int fetch_ref(struct store *s, const char *ref, const struct fetch_options *o, struct fetch_result *ret,
              struct error *err)
{
        struct error cerr = ERROR_INIT;
        struct trust *t = NULL;
        struct catalog *c = NULL;
        struct ingest *ing = NULL;
        const struct catalog_version *cv;
        const char *version = NULL, *base = o->catalog ? o->catalog : getenv("STACK_CATALOG");
        const struct manifest *m;
        char slug[128];
        int r;

        memset(ret, 0, sizeof *ret);
        r = index_split_ref(ref, slug, sizeof slug, &version, err);
        if (r < 0)
                return r;
        if (!base || !*base) {
                /* No catalog configured: what the store has still resolves. */
                r = index_resolve(store_index(s), slug, version, &ret->v, &cerr);
                if (r == 0) {
                        ret->cached = ret->offline = true;
                        return 0;
                }
                return error_set(err, STACK_EUSAGE,
                                 "no catalog configured (set STACK_CATALOG or pass --catalog URL) and %s", cerr.msg);
        }
        r = load_trust(s, &t, err);
        if (r < 0)
                goto done;
        r = catalog_load(s, base, t, o->insecure, &c, &cerr);
        if (r == -STACK_ENETWORK) {
                struct error serr = ERROR_INIT;
                if (index_resolve(store_index(s), slug, version, &ret->v, &serr) == 0) {
                        warn(o, "catalog could not be reached (%s): using %s %s from the store", cerr.msg, ret->v.slug,
                             ret->v.version);
                        ret->cached = ret->offline = true;
                        r = 0;
                        goto done;
                }
                r = error_set(err, STACK_ENETWORK, "catalog could not be reached (%s), and %s is not in the store",
                              cerr.msg, ref);
                goto done;
        }
        if (r < 0) {
                r = error_set(err, cerr.code, "%s", cerr.msg);
                goto done;
        }
        r = catalog_find(c, slug, version, &cv, err);
        if (r < 0)
                goto done;
        if (index_find_bundle(store_index(s), &cv->sha256, &ret->v, NULL) == 0) {
                /* Same bytes as a bundle already stored: no request for it. They must be what the index says. */
                if (strcmp(ret->v.slug, slug) || strcmp(ret->v.version, cv->version)) {
                        r = error_set(err, STACK_EREJECT,
                                      "catalog lists %s %s with the sha256 of %s %s already in the store: refused",
                                      slug, cv->version, ret->v.slug, ret->v.version);
                        goto done;
                }
                ret->cached = true;
                goto done;
        }
        r = stream_ingest(s, o, cv->url, -1, &cv->sha256, cv->size, &ing, ret, err);
        if (r < 0)
                goto done;
        m = ingest_manifest(ing);
        if (strcmp(m->slug, slug) || strcmp(m->version, cv->version)) {
                r = error_set(err, STACK_EREJECT,
                              "%s: its stack.yaml says %s %s, the catalog lists it as %s %s: refused", cv->url, m->slug,
                              m->version, slug, cv->version);
                goto done;
        }
        r = publish(s, ing, c->signer, o->insecure, cv->url, ret, err);
done:
        if (r < 0)
                fetch_result_release(ret);
        ingest_free(ing);
        catalog_free(c);
        trust_free(t);
        return r;
}

int fetch_bundle(struct store *s, const char *url_or_path, const struct fetch_options *o, struct fetch_result *ret,
                 struct error *err)
{
        bool is_url = strstr(url_or_path, "://") != NULL;
        struct http_response sigr = {0};
        struct trust *t = NULL;
        struct ingest *ing = NULL;
        char *sig = NULL, sig_path[PATH_MAX];
        size_t sig_len = 0;
        const char *signer = NULL;
        int fd = -1, r;

        memset(ret, 0, sizeof *ret);
        r = load_trust(s, &t, err);
        if (r < 0)
                goto done;
        /* The signature first: without one (and without --insecure) nothing is downloaded. */
        if (is_url && !http_is_file_url(url_or_path)) {
                char *sig_url = NULL;
                struct error serr = ERROR_INIT;
                if (asprintf(&sig_url, "%s.sig", url_or_path) < 0) {
                        r = error_set(err, STACK_EFAIL, "out of memory");
                        goto done;
                }
                r = http_get(sig_url, FETCH_MAX_SIG_FILE, NULL, NULL, &sigr, &serr);
                free(sig_url);
                if (r == 0) {
                        sig = sigr.body;
                        sig_len = sigr.len;
                } else if (!(serr.code == STACK_ENETWORK && serr.http_status == 404)) {
                        /* Only "no such file" is unsigned; a .sig that cannot be had is not a missing one. */
                        r = error_set(err, serr.code, "%s", serr.msg);
                        goto done;
                }
        } else {
                /* A local file, named by path or file:// URL: its .sig is read beside it. */
                char *path = NULL;
                r = is_url ? http_file_path(url_or_path, &path, err) : 0;
                if (r == 0 && (r = fs_path(sig_path, sizeof sig_path, "%s.sig", path ? path : url_or_path)) < 0)
                        r = error_errno(err, STACK_EFAIL, r, "%s.sig", url_or_path);
                free(path);
                if (r == 0)
                        r = read_sig_file(sig_path, &sig, &sig_len, err);
                if (r < 0)
                        goto done;
                /* A file:// bundle is streamed by http.c; a path is read here. */
                if (!is_url && (fd = open(url_or_path, O_RDONLY | O_CLOEXEC)) < 0) {
                        r = error_errno(err, STACK_EFAIL, errno, "cannot open %s", url_or_path);
                        goto done;
                }
        }
        r = 0;
        if (!sig && !o->insecure && !o->allow_unsigned) {
                /* No signature: unless the bundle itself is missing (then that is the error), refuse. */
                if (is_url && (r = http_probe(url_or_path, err)) < 0)
                        goto done;
                r = error_set(err, STACK_EREJECT, "%s has no signature (%s.sig): refused (--insecure to accept)",
                              url_or_path, url_or_path);
                goto done;
        }
        r = stream_ingest(s, o, url_or_path, fd, NULL, 0, &ing, ret, err);
        if (r < 0)
                goto done;
        if (sig) {
                struct error verr = ERROR_INIT;
                r = trust_verify_digest(t, url_or_path, ingest_bundle_digest(ing), sig, sig_len, &signer, &verr);
                if (r < 0 && !o->insecure) {
                        error_set(err, verr.code, "%s", verr.msg);
                        goto done;
                }
                if (r < 0)
                        signer = NULL;
                r = 0;
        }
        if (!signer && (sig || !o->allow_unsigned))
                warn(o, "%s is not signed by a trusted key: stored as insecure", url_or_path);
        {
                char source[PATH_MAX];
                if (is_url || !realpath(url_or_path, source))
                        snprintf(source, sizeof source, "%s", url_or_path);
                r = publish(s, ing, signer, o->insecure && (sig || !o->allow_unsigned), source, ret, err);
        }
done:
        if (r < 0)
                fetch_result_release(ret);
        if (fd >= 0)
                close(fd);
        if (sig != sigr.body)
                free(sig);
        http_response_release(&sigr);
        ingest_free(ing);
        trust_free(t);
        return r;
}
