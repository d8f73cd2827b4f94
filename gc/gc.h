/* gc.h - remove what no root reaches (spec/store.md "gc").
 *
 * Calling sequence:
 *   struct gc_options o = GC_OPTIONS_INIT;      keep 2, not a dry run, no images
 *   gc_run(store, &o, &report, err)             1. takes the store lock exclusively (bounded wait, store.h)
 *                                               2. asks every root provider for its roots (gc_roots_add_*)
 *                                               3. sweeps the index in one transaction and commits it (a dry
 *                                                  run rolls it back): from here nothing points at what goes
 *                                               4. unlinks, in one pass over objects/ (4 threads, a fan-out
 *                                                  directory each at a time), every object file the index no
 *                                                  longer names; empties tmp/; removes orphan run dirs
 *                                               5. with o.images: images stack loaded only for what went
 *   gc_report_release(&report)                  always (safe on a zeroed report)
 *
 * A crash anywhere leaves only garbage for the next gc: files are unlinked only after the index stopped
 * naming them. Readers never wait (WAL); writers (import, fetch, run) wait for the lock, or gc waits for them.
 *
 * Root providers, each adding versions or trees it must keep. gc's own (gc.c `providers[]`), which see only
 * what lies below gc:
 *   runs     every version (and tree) of a run that has a row, whatever its state (`stack rm` deletes the row)
 *   pins     `stack pin SLUG@VER`
 *   newest   the newest o.keep versions of each stack, by fetch order
 * then the caller's (o.providers, from the layers above gc, which gc never includes), then
 *   snapshots the newest o.keep_snapshots data snapshot trees of each stack, and those the providers named
 *            with gc_roots_keep_snapshot() (run/snapshot.h)
 * orch_gc() (orch/orch.h) is gc_run() with the upgrade journal's provider ("rollback": each stack's rollback
 * target and both versions of an upgrade still pending, and the snapshots they need): the CLI and the daemon
 * call that; gc_run() alone would not keep them.
 */
#ifndef STACK_GC_H
#define STACK_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"

struct gc_roots;

/* A root provider from a layer above gc: adds to r (gc_roots_add_*) what it must keep. */
struct gc_provider {
        const char *name;
        int (*add)(void *ctx, struct store *s, struct gc_roots *r, struct error *err);
        void *ctx;
};

struct gc_options {
        unsigned keep; /* newest versions kept per stack, at least 1 */
        bool dry_run;  /* report what would go, change nothing (the Engine included) */
        bool images;   /* also remove from the Engine images stack loaded that only collected versions brought */
        unsigned keep_snapshots;             /* newest data snapshots kept per stack (run/snapshot.h) */
        const struct gc_provider *providers; /* the layers above's roots (orch_gc() fills them) */
        size_t n_providers;
};

#define GC_OPTIONS_INIT                        \
        {                                      \
                .keep = 2, .keep_snapshots = 3 \
        }

struct gc_report {
        bool dry_run;
        uint64_t kept_versions;                     /* versions that stay (every root) */
        uint64_t root_runs, root_pins, root_newest; /* versions each provider named (they may overlap) */
        uint64_t versions, stacks, trees, entries;  /* index rows removed */
        uint64_t objects, object_bytes;             /* object files removed and their bytes */
        uint64_t temp_files, temp_bytes;            /* tmp/ entries a crash left */
        uint64_t run_dirs;                          /* orphan run dirs and .new-/.old- leftovers */
        char **images;                              /* NULL-terminated refs removed from the Engine, or NULL */
        char **images_kept;                         /* "ref: why" for candidates left in place, or NULL */
};

/* The root set a provider adds to: a version (with its tree), a tree, a data snapshot (by id). */
int gc_roots_add_version(struct gc_roots *r, int64_t version_id, struct error *err);
int gc_roots_add_tree(struct gc_roots *r, const struct digest *tree, struct error *err);
int gc_roots_keep_snapshot(struct gc_roots *r, const char *id, struct error *err);

int gc_run(struct store *s, const struct gc_options *o, struct gc_report *ret, struct error *err);
void gc_report_release(struct gc_report *r);

#endif
