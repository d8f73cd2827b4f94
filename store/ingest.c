/* ingest.c - one streaming pass from bundle bytes to staged objects and a checked tree, on two threads.
 *
 * The calling thread (the producer): bytes (read_fn) -> whole-bundle SHA-256 -> a bounded chunk queue (pipe.c).
 * The consumer thread: the queue -> libarchive (zstd or gzip filter, tar format) -> per entry: limits, the
 * type/mode/path rules pack applies too (bundle.c, tree.c), content hashed and staged (store.c).
 * Either side's failure stops the other: a failing read_fn closes the queue with its code, a rejected entry
 * cancels the queue (the producer stops reading). The consumer is joined before ingest_read returns; stack.yaml
 * is parsed afterwards on the calling thread (warnings are reported there).
 * Nothing of the bundle is kept but its digest: no temporary copy of it is written.
 */
#include "ingest.h"

#include "bundle.h"
#include "base/fsutil.h"
#include "imagearchive.h"
#include "base/pipe.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

/* Files up to this size are read into memory and hashed before anything is written, so a file the store
 * already holds costs no write at all. */
#define SMALL_FILE_MAX (1024 * 1024)
#define READ_CHUNK     (256 * 1024)
/* The queue between the two threads: PIPE_CHUNKS x READ_CHUNK bytes (8 MiB: enough to ride out the moments
 * either thread waits for a CPU on a loaded machine). */
#define PIPE_CHUNKS 32

struct ingest {
        struct store *store;
        bool locked; /* holds the store's shared lock until ingest_free() */
        struct ingest_limits lim;
        struct staging *staging;
        struct tree tree;
        manifest_warn_fn warn;
        void *warn_ctx;
        ingest_cancel_fn cancel;
        void *cancel_ctx;

        /* the byte stream: read_fn, bundle_hash and bundle_size are the producer's (the calling thread) */
        ingest_read_fn read_fn;
        void *read_ctx;
        struct hasher bundle_hash;
        uint64_t bundle_size;
        /* the consumer thread's: the queue, what it took from it, its result and error */
        struct pipe *pipe;
        uint64_t fed;    /* compressed bytes handed to libarchive (the ratio limit's denominator) */
        int read_failed; /* a stack_code the producer closed the queue with, 0 if none */
        int consumer_r;
        struct error consumer_err;

        uint64_t n_entries, unpacked;
        char *manifest_text;
        size_t manifest_len;
        unsigned char *small; /* SMALL_FILE_MAX bytes */

        bool done;
        struct digest bundle_digest, tree_digest;
        struct manifest *manifest;
        char *compose_path;
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
        const char *s = getenv(name);
        char *end;
        unsigned long long v;

        if (!s || !*s)
                return dflt;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return dflt;
        switch (*end) {
        case 'k':
        case 'K': v <<= 10; break;
        case 'm':
        case 'M': v <<= 20; break;
        case 'g':
        case 'G': v <<= 30; break;
        default: break;
        }
        return v;
}

void ingest_limits_default(struct ingest_limits *ret)
{
        ret->max_entries = env_u64("STACK_MAX_ENTRIES", 100000);
        ret->max_unpacked = env_u64("STACK_MAX_UNPACKED", 16ULL << 30);
        ret->max_ratio = env_u64("STACK_MAX_RATIO", 200);
        ret->ratio_grace = 32ULL << 20;
}

int ingest_new(struct store *s, const struct ingest_limits *limits, struct ingest **ret, struct error *err)
{
        struct ingest *ing;
        int r;

        ing = calloc(1, sizeof *ing);
        if (!ing)
                return error_set(err, STACK_EFAIL, "out of memory");
        ing->store = s;
        if (limits)
                ing->lim = *limits;
        else
                ingest_limits_default(&ing->lim);
        tree_init(&ing->tree);
        ing->small = malloc(SMALL_FILE_MAX);
        if (!ing->small) {
                r = error_set(err, STACK_EFAIL, "out of memory");
                goto fail;
        }
        r = store_lock_shared(s, err);
        if (r < 0)
                goto fail;
        ing->locked = true;
        r = staging_new(s, &ing->staging, err);
        if (r < 0)
                goto fail;
        *ret = ing;
        return 0;
fail:
        ingest_free(ing);
        return r;
}

void ingest_set_warn(struct ingest *ing, manifest_warn_fn warn, void *ctx)
{
        ing->warn = warn;
        ing->warn_ctx = ctx;
}

void ingest_set_cancel(struct ingest *ing, ingest_cancel_fn cancel, void *ctx)
{
        ing->cancel = cancel;
        ing->cancel_ctx = ctx;
}

void ingest_free(struct ingest *ing)
{
        if (!ing)
                return;
        staging_free(ing->staging);
        if (ing->locked)
                store_unlock(ing->store);
        tree_release(&ing->tree);
        manifest_free(ing->manifest);
        free(ing->manifest_text);
        free(ing->compose_path);
        free(ing->small);
        free(ing);
}

static la_ssize_t archive_read_cb(struct archive *a, void *ctx, const void **buf)
{
        struct ingest *ing = ctx;
        ssize_t n = pipe_read(ing->pipe, buf);

        if (n < 0) {
                ing->read_failed = (int)-n;
                archive_set_error(a, EIO, "read failed");
                return -1;
        }
        ing->fed += (uint64_t)n;
        return n;
}

/* libarchive's own error, unless the producer's read_fn failed first (then its message is the one reported). */
static int archive_fail(struct ingest *ing, struct archive *a, struct error *err, const char *what)
{
        if (ing->read_failed)
                return -ing->read_failed;
        return error_set(err, STACK_EREJECT, "bundle is corrupt: %s: %s", what,
                         archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

static int not_a_bundle(struct ingest *ing, struct archive *a, struct error *err)
{
        if (ing->read_failed)
                return -ing->read_failed;
        return error_set(err, STACK_EREJECT, "bundle is not a zstd or gzip compressed tar archive (%s)",
                         archive_error_string(a) ? archive_error_string(a) : "unrecognised");
}

static int check_growth(struct ingest *ing, const char *path, uint64_t add, struct error *err)
{
        ing->unpacked += add;
        if (ing->unpacked > ing->lim.max_unpacked)
                return error_set(err, STACK_EREJECT,
                                 "bundle unpacks to more than %llu bytes (at '%s'): refused (STACK_MAX_UNPACKED)",
                                 (unsigned long long)ing->lim.max_unpacked, path);
        if (ing->unpacked > ing->lim.ratio_grace && ing->unpacked / (ing->fed ? ing->fed : 1) > ing->lim.max_ratio)
                return error_set(err, STACK_EREJECT,
                                 "bundle's compression ratio exceeds %llu:1 (at '%s'): refused as a decompression bomb",
                                 (unsigned long long)ing->lim.max_ratio, path);
        return 0;
}

/* n more bytes of an entry at *pos: counted against the limits, then kept in ing->small (small) or written to
 * the sink. */
static int add_data(struct ingest *ing, const char *path, bool small, struct ia_sink *sink, uint64_t *pos,
                    const void *data, size_t n, struct error *err)
{
        int r = check_growth(ing, path, n, err);

        if (r == 0 && small && *pos + n > SMALL_FILE_MAX)
                r = error_set(err, STACK_EREJECT, "bundle is corrupt: entry '%s' is longer than its header says", path);
        if (r < 0)
                return r;
        if (small)
                memcpy(ing->small + *pos, data, n);
        else if ((r = ia_sink_write(sink, data, n, err)) < 0)
                return r;
        *pos += n;
        return 0;
}

/* Read one regular file's content, stage it, return its digest. Holes of sparse entries read as zeros. */
static int read_file(struct ingest *ing, struct archive *a, const char *path, uint64_t declared, struct digest *ret,
                     uint64_t *ret_size, struct ia_sink *sink, struct tree_recipe **ret_recipe, struct error *err)
{
        static const unsigned char zeros[READ_CHUNK];
        bool small = declared <= SMALL_FILE_MAX;
        uint64_t pos = 0;
        int r;

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                int ar = archive_read_data_block(a, &buf, &size, &offset);

                if (ar == ARCHIVE_EOF)
                        break;
                if (ar < ARCHIVE_WARN)
                        return archive_fail(ing, a, err, path);
                if (offset < 0 || (uint64_t)offset < pos)
                        return error_set(err, STACK_EREJECT, "bundle is corrupt: entry '%s' has overlapping data",
                                         path);
                /* A sparse hole: zeros, written and hashed like any other bytes. */
                while (pos < (uint64_t)offset) {
                        size_t z =
                                (uint64_t)offset - pos > sizeof zeros ? sizeof zeros : (size_t)((uint64_t)offset - pos);
                        r = add_data(ing, path, small, sink, &pos, zeros, z, err);
                        if (r < 0)
                                return r;
                }
                r = add_data(ing, path, small, sink, &pos, buf, size, err);
                if (r < 0)
                        return r;
        }
        if (small) {
                if (!strcmp(path, "stack.yaml")) {
                        ing->manifest_text = malloc(pos + 1);
                        if (!ing->manifest_text)
                                return error_set(err, STACK_EFAIL, "out of memory");
                        memcpy(ing->manifest_text, ing->small, pos);
                        ing->manifest_text[pos] = 0;
                        ing->manifest_len = pos;
                }
                r = staging_put_buffer(ing->staging, ing->small, pos, ret, err);
        } else {
                r = ia_sink_end(sink, ret, ret_recipe, err); /* an image archive is stored as its parts */
        }
        if (r < 0)
                return r;
        *ret_size = pos;
        return 0;
}

static int read_entry(struct ingest *ing, struct archive *a, struct archive_entry *e, struct error *err)
{
        const char *raw = archive_entry_pathname(e);
        char path[TREE_MAX_PATH + 1];
        mode_t type = archive_entry_filetype(e);
        struct digest d = {{0}};
        uint64_t size = 0;
        int r;

        if (++ing->n_entries > ing->lim.max_entries)
                return error_set(err, STACK_EREJECT, "bundle has more than %llu entries: refused (STACK_MAX_ENTRIES)",
                                 (unsigned long long)ing->lim.max_entries);
        if (!raw)
                return error_set(err, STACK_EREJECT, "bundle is corrupt: entry %llu has no path",
                                 (unsigned long long)ing->n_entries);
        /* `tar -czf b.stack -C dir .` (how published bundles are made) starts with a "./" entry: the root itself. */
        if (type == AE_IFDIR && raw[strspn(raw, "./")] == 0 && strchr(raw, '.') && !strstr(raw, ".."))
                return 0;
        r = tree_path_normalize(raw, path, err);
        if (r < 0)
                return -STACK_EREJECT;
        if (archive_entry_hardlink(e))
                return error_set(err, STACK_EREJECT, "bundle entry '%s' is a hard link (to '%.200s'): not allowed",
                                 path, archive_entry_hardlink(e));
        if (type == AE_IFREG) {
                uint64_t declared = archive_entry_size_is_set(e) ? (uint64_t)archive_entry_size(e) : 0;
                if (declared > ing->lim.max_unpacked -
                                       (ing->unpacked < ing->lim.max_unpacked ? ing->unpacked : ing->lim.max_unpacked))
                        return error_set(
                                err, STACK_EREJECT,
                                "bundle unpacks to more than %llu bytes (at '%s'): refused (STACK_MAX_UNPACKED)",
                                (unsigned long long)ing->lim.max_unpacked, path);
                if (!strcmp(path, "stack.yaml") && declared > MANIFEST_MAX_SIZE)
                        return error_set(err, STACK_EREJECT, "stack.yaml is larger than %d bytes", MANIFEST_MAX_SIZE);
                struct ia_sink *sink = NULL;
                struct tree_recipe *recipe = NULL;
                r = declared > SMALL_FILE_MAX ? ia_sink_begin(ing->store, ing->staging, &sink, err) : 0;
                if (r == 0)
                        r = read_file(ing, a, path, declared, &d, &size, sink, &recipe, err);
                ia_sink_free(sink);
                if (r == 0)
                        r = bundle_add_entry(&ing->tree, path, archive_entry_mode(e), size, &d,
                                             archive_entry_symlink(e), err);
                if (r == 0 && recipe && tree_set_last_recipe(&ing->tree, recipe) < 0)
                        r = error_set(err, STACK_EFAIL, "ingest: image archive '%s' has no entry", path);
                else if (r < 0)
                        tree_recipe_free(recipe);
                return r;
        }
        return bundle_add_entry(&ing->tree, path, archive_entry_mode(e), size, &d, archive_entry_symlink(e), err);
}

static int find_compose(struct ingest *ing, struct error *err)
{
        const char *compose = NULL;
        int r = bundle_check_content(&ing->tree, ing->manifest, &compose, err);

        if (r < 0 || !compose)
                return r;
        ing->compose_path = strdup(compose);
        return ing->compose_path ? 0 : error_set(err, STACK_EFAIL, "out of memory");
}

/* The flavor the content makes the bundle (bundle_flavor()) is the one recorded; a stack.yaml that says
 * otherwise is a warning naming both. */
static void flavor_by_content(struct ingest *ing)
{
        int f = bundle_flavor(&ing->tree, ing->compose_path);
        char line[256];

        if (f < 0 || (enum manifest_flavor)f == ing->manifest->flavor)
                return;
        if (ing->warn) {
                snprintf(line, sizeof line,
                         "stack.yaml says flavor %s, but the bundle's content makes it %s (%s): it runs as %s",
                         manifest_flavor_name(ing->manifest->flavor), manifest_flavor_name((enum manifest_flavor)f),
                         f == FLAVOR_DOCKER_COMPOSE   ? "it has a compose file"
                         : f == FLAVOR_DOCKER_SERVICE ? "a Dockerfile and no compose file"
                                                      : "an index.html and no compose file or Dockerfile",
                         manifest_flavor_name((enum manifest_flavor)f));
                ing->warn(ing->warn_ctx, line);
        }
        ing->manifest->flavor = (enum manifest_flavor)f;
}

static int finish(struct ingest *ing, struct error *err)
{
        int r;

        r = tree_finalize(&ing->tree, err);
        if (r < 0)
                return r;
        if (!ing->manifest_text) {
                const struct tree_entry *e = tree_find(&ing->tree, "stack.yaml");
                return error_set(err, STACK_EREJECT,
                                 e ? "bundle's stack.yaml is not a regular file"
                                   : "bundle has no stack.yaml at its root");
        }
        r = manifest_parse(ing->manifest_text, ing->manifest_len, &ing->manifest, ing->warn, ing->warn_ctx, err);
        if (r < 0)
                return r;
        r = find_compose(ing, err);
        if (r < 0)
                return r;
        flavor_by_content(ing);
        return tree_digest(&ing->tree, &ing->tree_digest) < 0 ? error_set(err, STACK_EFAIL, "out of memory") : 0;
}

/* The consumer: the whole archive from the queue, every entry checked and staged, then the rest of the queue
 * drained (bytes after the tar's end are part of the bundle the producer hashes). */
static int consume(struct ingest *ing, struct error *err)
{
        struct archive *a;
        struct archive_entry *e;
        bool first = true;
        int r = 0, ar;

        a = archive_read_new();
        if (!a)
                return error_set(err, STACK_EFAIL, "out of memory");
        if (bundle_archive_open(a, ing, archive_read_cb) != ARCHIVE_OK) {
                r = not_a_bundle(ing, a, err);
                goto done;
        }
        while ((ar = bundle_archive_next(a, &first, &e)) > 0) {
                r = read_entry(ing, a, e, err);
                if (r < 0)
                        goto done;
        }
        if (ar == BUNDLE_UNCOMPRESSED)
                r = error_set(err, STACK_EREJECT,
                              "bundle is an uncompressed tar: a bundle is compressed with zstd or gzip");
        else if (ar == BUNDLE_NOT_ARCHIVE)
                r = not_a_bundle(ing, a, err);
        else if (ar < 0)
                r = archive_fail(ing, a, err, "reading entry header");
        if (r < 0)
                goto done;
        if (ing->n_entries == 0) {
                r = error_set(err, STACK_EREJECT, "bundle is an empty archive");
                goto done;
        }
        for (;;) {
                const void *buf;
                la_ssize_t n = archive_read_cb(a, ing, &buf);
                if (n < 0) {
                        r = -ing->read_failed;
                        goto done;
                }
                if (n == 0)
                        break;
        }
done:
        archive_read_free(a);
        return r;
}

static void *consumer_main(void *ctx)
{
        struct ingest *ing = ctx;

        ing->consumer_r = consume(ing, &ing->consumer_err);
        if (ing->consumer_r < 0) {
                pipe_cancel(ing->pipe); /* the producer stops at its next write ... */
                if (ing->cancel)
                        ing->cancel(ing->cancel_ctx); /* ... or now, if its read_fn waits for bytes */
        }
        return NULL;
}

/* r (negative), with the message the side that failed recorded in from. */
static int copy_error(struct error *err, const struct error *from, int r)
{
        if (!from->code)
                return error_set(err, stack_code_of(r), "cannot read the bundle");
        if (err && !err->code)
                *err = *from;
        return r;
}

int ingest_read(struct ingest *ing, ingest_read_fn read_fn, void *ctx, struct error *err)
{
        struct error perr = ERROR_INIT;
        pthread_t consumer;
        int r, pr = 0;

        if (ing->done || ing->read_fn)
                return error_set(err, STACK_EFAIL, "ingest_read: called twice");
        ing->read_fn = read_fn;
        ing->read_ctx = ctx;
        digest_init(&ing->bundle_hash);
        r = pipe_new(PIPE_CHUNKS, READ_CHUNK, &ing->pipe);
        if (r < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        r = pthread_create(&consumer, NULL, consumer_main, ing);
        if (r != 0) {
                pipe_free(ing->pipe);
                ing->pipe = NULL;
                return error_errno(err, STACK_EFAIL, r, "cannot start the ingest thread");
        }
        /* The producer: every byte of the bundle hashed and queued, until its end, a read error, or the
         * consumer's cancel. */
        for (;;) {
                const void *buf;
                ssize_t n = read_fn(ctx, &buf, &perr);

                if (n < 0) {
                        pr = (int)n;
                        pipe_close(ing->pipe, pr);
                        break;
                }
                if (n == 0) {
                        pipe_close(ing->pipe, 0);
                        break;
                }
                digest_update(&ing->bundle_hash, buf, (size_t)n);
                ing->bundle_size += (uint64_t)n;
                if (pipe_write(ing->pipe, buf, (size_t)n) < 0)
                        break; /* cancelled: the consumer's error is the one */
        }
        pthread_join(consumer, NULL);
        pipe_free(ing->pipe);
        ing->pipe = NULL;
        /* The consumer's own failure (a rejected entry, a store error) wins; a read error is reported with the
         * code and message read_fn gave it. */
        if (ing->consumer_r < 0 && !ing->read_failed)
                return copy_error(err, &ing->consumer_err, ing->consumer_r);
        if (pr < 0)
                return copy_error(err, &perr, pr);
        if (ing->consumer_r < 0)
                return copy_error(err, &ing->consumer_err, ing->consumer_r);
        digest_final(&ing->bundle_hash, &ing->bundle_digest);
        r = finish(ing, err);
        if (r == 0)
                ing->done = true;
        return r;
}

struct fd_reader {
        int fd;
        unsigned char buf[READ_CHUNK];
};

static ssize_t fd_read(void *ctx, const void **ret_buf, struct error *err)
{
        struct fd_reader *fr = ctx;

        for (;;) {
                ssize_t n = read(fr->fd, fr->buf, sizeof fr->buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_errno(err, STACK_EFAIL, errno, "cannot read bundle");
                *ret_buf = fr->buf;
                return n;
        }
}

int ingest_read_fd(struct ingest *ing, int fd, struct error *err)
{
        struct fd_reader *fr = malloc(sizeof *fr);
        int r;

        if (!fr)
                return error_set(err, STACK_EFAIL, "out of memory");
        fr->fd = fd;
        r = ingest_read(ing, fd_read, fr, err);
        free(fr);
        return r;
}

const struct digest *ingest_bundle_digest(const struct ingest *ing)
{
        return ing->done ? &ing->bundle_digest : NULL;
}

uint64_t ingest_bundle_size(const struct ingest *ing)
{
        return ing->bundle_size;
}

const struct digest *ingest_tree_digest(const struct ingest *ing)
{
        return ing->done ? &ing->tree_digest : NULL;
}

const struct manifest *ingest_manifest(const struct ingest *ing)
{
        return ing->manifest;
}

const struct tree *ingest_tree(const struct ingest *ing)
{
        return &ing->tree;
}

const char *ingest_compose_path(const struct ingest *ing)
{
        return ing->compose_path;
}

uint64_t ingest_bytes_added(const struct ingest *ing)
{
        return staging_bytes_written(ing->staging);
}

int ingest_publish(struct ingest *ing, const struct publish_info *info, int64_t *ret_id, bool *ret_new,
                   struct error *err)
{
        int r;

        if (!ing->done)
                return error_set(err, STACK_EFAIL, "ingest_publish: nothing read");
        r = staging_commit(ing->staging, err);
        if (r < 0)
                return r;
        return index_publish(store_index(ing->store), &ing->tree, &ing->tree_digest, ing->manifest, ing->compose_path,
                             info, ret_id, ret_new, err);
}
