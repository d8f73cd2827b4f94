/* snapshot.h - a stack's data as a store tree: its data dir and its compose project's named volumes
 * (spec/run.md "Upgrades and snapshots").
 *
 * snapshot_take(store, slug, version, reason, &row, err): under the store's shared lock, walks
 * $STACK_HOME/data/<slug> and reads every named volume of project stack-<slug> through the Engine (a stopped
 * helper container that mounts it: GET /containers/{id}/archive), writes each file as an object (content the
 * store already has costs nothing), records the tree (index_put_tree) and one row in `snapshots`.
 * snapshot_restore(store, &row, err): the data dir and each volume become exactly what the snapshot holds
 * (files added since are removed, changed ones restored, owners, modes and times as recorded). The stack's
 * containers must be down (the caller's job). A snapshot of another stack is refused before anything changes.
 * snapshot_list(store, slug, ...), snapshot_get(store, id, ...), snapshot_forget(store, slug) (rm --purge),
 * snapshot_roots(store, keep, fn, ctx) (gc: the newest `keep` snapshot trees of each stack).
 *
 * snapshot_take_manual(store, slug, &h, &row, err): what `stack snapshot SLUG` and POST /stacks/{slug}/snapshot do:
 * snapshot_take with reason "manual" and the version of the stack's run ("-" when it has none).
 * snapshot_row_json(&row): the JSON object of one row, as `stack snapshots --json` and GET /snapshots give it.
 *
 * The table is the module's own (module "snapshot", index_module_db). Rows come filled; release with
 * snapshot_row_release() / snapshot_rows_free().
 */
#ifndef STACK_SNAPSHOT_H
#define STACK_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"

#define SNAPSHOT_SCHEMA_VERSION 1

struct snapshot_row {
        char id[17];          /* 12 hex */
        char *slug, *version; /* version: the label that ran when it was taken ("-" when none) */
        char *reason;         /* upgrade | rollback | manual | restore */
        int64_t created_at;   /* unix seconds */
        struct digest tree;
        uint64_t size;  /* bytes of file content in the snapshot */
        uint64_t added; /* bytes of new objects it added to the store */
        uint64_t files;
        char *volumes; /* the named volumes in it, space-separated ("" when none) */
        char *helper;  /* the image the helper container was created from (NULL: no volume) */
};

/* Step timings and warnings, may be NULL. */
struct snapshot_hooks {
        void (*warn)(void *ctx, const char *line);
        void *ctx;
};

int snapshot_take(struct store *s, const char *slug, const char *version, const char *reason,
                  const struct snapshot_hooks *h, struct snapshot_row *ret, struct error *err);
/* slug: the stack the caller restores into; a snapshot of another is STACK_EREJECT. */
int snapshot_restore(struct store *s, const char *slug, const struct snapshot_row *row, const struct snapshot_hooks *h,
                     struct error *err);
/* Newest first. */
int snapshot_list(struct store *s, const char *slug, struct snapshot_row **ret, size_t *ret_n, struct error *err);
/* By id (a unique prefix of at least 4 hex digits); STACK_ENOTFOUND when none. */
int snapshot_get(struct store *s, const char *id, struct snapshot_row *ret, struct error *err);
int snapshot_forget(struct store *s, const char *slug, unsigned *ret_n, struct error *err);
/* Every stack's newest `keep` snapshot trees, and every snapshot named by `pinned` (NULL-terminated ids, may be
 * NULL: the one an upgrade in progress or its rollback needs). */
int snapshot_roots(struct store *s, unsigned keep, const char *const *pinned,
                   int (*fn)(void *ctx, const struct digest *tree, struct error *err), void *ctx, uint64_t *ret_n,
                   struct error *err);
void snapshot_row_release(struct snapshot_row *r);
void snapshot_rows_free(struct snapshot_row *v, size_t n);
/* The version: the stack's run's, "-" when it has none. */
int snapshot_take_manual(struct store *s, const char *slug, const struct snapshot_hooks *h, struct snapshot_row *ret,
                         struct error *err);
/* How snapshot_take reads one volume's archive (GET /containers/{id}/archive?path=/vol, in Docker's "vol/..."
 * or Podman's "/..." layout), without keeping anything: *ret_meta the snapshot.meta lines it would write (one
 * per entry kept, "volumes/<name>/..."; free()), *ret_files the files. An entry outside the layout, or an archive
 * with entries of which none could be kept, is STACK_ERUNTIME. For tests. */
int snapshot_read_volume_archive(struct store *s, const char *name, int fd, char **ret_meta, uint64_t *ret_files,
                                 struct error *err);
/* {id, slug, version, reason, created_at, tree, size, added, files, volumes}; NULL: out of memory. */
json_t *snapshot_row_json(const struct snapshot_row *r);

#endif
