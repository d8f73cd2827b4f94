/* ingest.h - one bundle into the store in one streaming pass (spec/store.md "Ingest", spec/bundle.md).
 *
 * Calling sequence:
 *   ingest_new(store, limits or NULL, &ing, err)     takes the store's shared lock (gc waits)
 *   ingest_set_warn(), ingest_set_cancel()           optional
 *   ingest_read(ing, read_fn, ctx, err)              pulls every byte through read_fn: hashes the whole
 *     (or ingest_read_fd)                            bundle, decompresses (zstd or gzip), checks every entry,
 *                                                    writes file contents as staged objects, parses stack.yaml
 *                                                    (read_fn and the hash on the calling thread, the rest on
 *                                                    a thread of its own, ended before this returns)
 *   ingest_bundle_digest() ... ingest_manifest()     what was read: the caller checks digest / signature here
 *   ingest_publish(ing, info, &id, &is_new, err)     objects made durable, then one index transaction
 *   ingest_free(ing)                                 always; removes staged temp files never published
 *
 * Until ingest_publish() succeeds nothing is visible: a rejected or abandoned ingest leaves the index as it
 * was and no object under its name (only temp files, which ingest_free removes). Rejections are STACK_EREJECT
 * with one line naming the entry and the rule; a failing read_fn keeps its own code and message (network,
 * I/O). spec/store.md "Ingest" describes the two threads.
 */
#ifndef STACK_INGEST_H
#define STACK_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/digest.h"
#include "base/error.h"
#include "index.h"
#include "manifest.h"
#include "store.h"

struct ingest_limits {
        uint64_t max_entries;  /* archive entries (files, dirs, links) */
        uint64_t max_unpacked; /* bytes of file content in all */
        uint64_t max_ratio;    /* unpacked bytes per compressed byte ... */
        uint64_t ratio_grace;  /* ... checked once this many bytes are unpacked */
};

/* Defaults (spec/bundle.md "Limits"), lowered or raised by STACK_MAX_ENTRIES, STACK_MAX_UNPACKED (bytes,
 * K/M/G suffixes) and STACK_MAX_RATIO. */
void ingest_limits_default(struct ingest_limits *ret);

/* Hand out the next chunk of the bundle: return its length with *ret_buf set, 0 at the end, or a negative
 * stack_code after error_set(err, ...). The chunk must stay valid until the next call. Always called on the
 * thread that called ingest_read(); it is not called again once the ingest has refused the bundle. */
typedef ssize_t (*ingest_read_fn)(void *ctx, const void **ret_buf, struct error *err);

/* Called on ingest's own thread once it has refused the bundle or failed, while read_fn may be blocked
 * waiting for bytes (a stalled server): make the blocked or next read_fn call return an error soon. Its
 * error is not reported (the refusal is). */
typedef void (*ingest_cancel_fn)(void *ctx);

struct ingest;

int ingest_new(struct store *s, const struct ingest_limits *limits, struct ingest **ret, struct error *err);
/* Warnings (unknown stack.yaml keys) go here; without it they are dropped. */
void ingest_set_warn(struct ingest *ing, manifest_warn_fn warn, void *ctx);
/* Optional, before ingest_read(): how to stop a read_fn that blocks (http_stream_cancel for a download). */
void ingest_set_cancel(struct ingest *ing, ingest_cancel_fn cancel, void *ctx);
int ingest_read(struct ingest *ing, ingest_read_fn read_fn, void *ctx, struct error *err);
int ingest_read_fd(struct ingest *ing, int fd, struct error *err);

/* Valid after a successful ingest_read(). */
const struct digest *ingest_bundle_digest(const struct ingest *ing);
uint64_t ingest_bundle_size(const struct ingest *ing);
const struct digest *ingest_tree_digest(const struct ingest *ing);
const struct manifest *ingest_manifest(const struct ingest *ing);
const struct tree *ingest_tree(const struct ingest *ing);
/* The compose file's path in the bundle (from stack.yaml or the default names). */
const char *ingest_compose_path(const struct ingest *ing);
/* Bytes of new objects written (what this bundle added to the store). */
uint64_t ingest_bytes_added(const struct ingest *ing);

int ingest_publish(struct ingest *ing, const struct publish_info *info, int64_t *ret_id, bool *ret_new,
                   struct error *err);
void ingest_free(struct ingest *ing);

#endif
