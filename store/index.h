/* index.h - index.db, the store's SQLite index (spec/store.md "Index"): stacks, versions, trees, entries,
 * objects. Reached through store_index(); opened and migrated by store_open().
 *
 * Calling sequence for a new version: write its objects through a staging (store.h), staging_commit(),
 * then index_publish() - one transaction, after which the version is visible. Reads (index_resolve,
 * index_list_versions, index_load_tree ...) never block writers (WAL).
 * struct version_info values come filled by the index; release each with version_info_release().
 */
#ifndef STACK_INDEX_H
#define STACK_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "manifest.h"
#include "tree.h"

#define INDEX_SCHEMA_VERSION 2

struct index;

struct version_info {
        int64_t id;
        char *slug, *version;
        struct digest tree;
        bool has_bundle;        /* bundle digest known */
        struct digest bundle;
        uint64_t bundle_size;
        char *signer;           /* NULL: unsigned */
        bool insecure;          /* fetched with --insecure */
        char *source;           /* where it came from (file path or URL) */
        char *name, *description, *flavor, *compose;
        int64_t fetched_at;     /* unix seconds */
        uint64_t n_files, size; /* regular files and their bytes */
};

struct publish_info {
        const struct digest *bundle; /* may be NULL */
        uint64_t bundle_size;
        const char *signer;          /* NULL: unsigned */
        bool insecure;
        const char *source;
};

/* Publish a finalized tree as a version of m->slug. When the same tree is already a version this only
 * refreshes its fetch time (it becomes the newest for its label) and *ret_new is false. */
int index_publish(struct index *ix, const struct tree *t, const struct digest *tree_digest, const struct manifest *m,
                  const char *compose_path, const struct publish_info *pi, int64_t *ret_id, bool *ret_new,
                  struct error *err);

/* SLUG, SLUG@VERSION: version NULL picks the newest (spec/store.md "Which version"). A missing stack or
 * version is STACK_EFAIL with a message saying what the store has. */
int index_resolve(struct index *ix, const char *slug, const char *version, struct version_info *ret, struct error *err);
/* Split "slug[@version]": slug into slug[size], *ret_version NULL or pointing into ref. STACK_EUSAGE when
 * malformed. */
int index_split_ref(const char *ref, char *slug, size_t size, const char **ret_version, struct error *err);
/* Parse "slug[@version]" and resolve it. */
int index_resolve_ref(struct index *ix, const char *ref, struct version_info *ret, struct error *err);
/* The version a bundle digest was published as (any bundle ever seen for it); STACK_EFAIL when none. */
int index_find_bundle(struct index *ix, const struct digest *bundle, struct version_info *ret, struct error *err);
/* A version by id. */
int index_get_version(struct index *ix, int64_t id, struct version_info *ret, struct error *err);
/* All versions (slug NULL) or one stack's, ordered by slug then newest first. */
int index_list_versions(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n, struct error *err);
void version_info_release(struct version_info *v);
void version_list_free(struct version_info *v, size_t n);

/* The tree of a version, rebuilt from its rows and finalized. */
int index_load_tree(struct index *ix, const struct digest *tree, struct tree *ret, struct error *err);

/* Runs (schema 2): one row per run of a stack; state is pending|starting|running|stopping|stopped|failed. */
struct run_row {
        char id[17];
        char *slug, *version, *state, *project, *run_dir, *reason;
        int64_t version_id;
        struct digest tree;
        int64_t created_at, updated_at, started_at, stopped_at;
};
int index_run_insert(struct index *ix, const struct run_row *r, struct error *err);
/* Set state (and reason, NULL to clear); sets updated_at, and started_at/stopped_at on running/stopped|failed. */
int index_run_set_state(struct index *ix, const char *id, const char *state, const char *reason, struct error *err);
/* By id, or (when no id matches) the newest run of a slug; STACK_EFAIL with a message when none. */
int index_run_get(struct index *ix, const char *id_or_slug, struct run_row *ret, struct error *err);
int index_run_list(struct index *ix, struct run_row **ret, size_t *ret_n, struct error *err);
int index_run_delete(struct index *ix, const char *id, struct error *err);
void run_row_release(struct run_row *r);
void run_rows_free(struct run_row *v, size_t n);
/* Permissions a person granted a stack (enum policy_perm bits), remembered across runs. */
int index_allow_get(struct index *ix, const char *slug, unsigned *ret, struct error *err);
int index_allow_set(struct index *ix, const char *slug, unsigned perms, struct error *err);

/* For verify and gc: every tree the index holds with its recorded digest, and every object row. */
int index_foreach_tree(struct index *ix, int (*fn)(void *ctx, const struct digest *tree), void *ctx, struct error *err);
int index_foreach_object(struct index *ix, int (*fn)(void *ctx, const struct digest *d, uint64_t size), void *ctx,
                         struct error *err);
/* Rows that point nowhere: versions whose tree row is missing, entries whose object row is missing. */
int index_count_dangling(struct index *ix, uint64_t *ret_versions, uint64_t *ret_entries, struct error *err);

struct index_counts {
        uint64_t stacks, versions, trees, entries, objects, object_bytes;
};
int index_counts(struct index *ix, struct index_counts *ret, struct error *err);

/* Used by store_open()/store_free() only. */
int index_open(const char *path, struct index **ret, struct error *err);
void index_free(struct index *ix);

#endif
