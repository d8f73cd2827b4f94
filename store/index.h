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

#include "base/digest.h"
#include "base/error.h"
#include "manifest.h"
#include "tree.h"

#define INDEX_SCHEMA_VERSION 6

struct index;

struct version_info {
        int64_t id;
        char *slug, *version;
        struct digest tree;
        bool has_bundle; /* bundle digest known */
        struct digest bundle;
        uint64_t bundle_size;
        char *signer;  /* NULL: unsigned */
        bool insecure; /* fetched with --insecure */
        char *source;  /* where it came from (file path or URL) */
        char *name, *description, *flavor, *compose;
        int64_t fetched_at;     /* unix seconds */
        uint64_t n_files, size; /* regular files and their bytes */
        uint64_t image_bytes;   /* bytes of the registry images kept for it (section "Registry images" below) */
};

struct publish_info {
        const struct digest *bundle; /* may be NULL */
        uint64_t bundle_size;
        const char *signer; /* NULL: unsigned */
        bool insecure;
        const char *source;
};

/* Publish a finalized tree as a version of m->slug. When the same tree is already a version this only
 * refreshes its fetch time (it becomes the newest for its label) and *ret_new is false. */
int index_publish(struct index *ix, const struct tree *t, const struct digest *tree_digest, const struct manifest *m,
                  const char *compose_path, const struct publish_info *pi, int64_t *ret_id, bool *ret_new,
                  struct error *err);

/* A finalized tree that is no version (a data snapshot, run/snapshot.h): its trees, entries and objects rows,
 * in one transaction (objects staged and committed first). Only a gc root keeps it (spec/store.md "gc"). */
int index_put_tree(struct index *ix, const struct tree *t, const struct digest *tree_digest, struct error *err);

/* SLUG, SLUG@VERSION: version NULL picks the newest (spec/store.md "Which version"). A missing stack or
 * version is STACK_ENOTFOUND with a message saying what the store has (out of memory is STACK_EFAIL). */
int index_resolve(struct index *ix, const char *slug, const char *version, struct version_info *ret, struct error *err);
/* Split "slug[@version]": slug into slug[size], *ret_version NULL or pointing into ref. STACK_EUSAGE when
 * malformed. */
int index_split_ref(const char *ref, char *slug, size_t size, const char **ret_version, struct error *err);
/* Parse "slug[@version]" and resolve it. */
int index_resolve_ref(struct index *ix, const char *ref, struct version_info *ret, struct error *err);
/* The version a bundle digest was published as (any bundle ever seen for it); STACK_ENOTFOUND when none. */
int index_find_bundle(struct index *ix, const struct digest *bundle, struct version_info *ret, struct error *err);
/* A version by id. */
int index_get_version(struct index *ix, int64_t id, struct version_info *ret, struct error *err);
/* All versions (slug NULL) or one stack's, ordered by slug then newest first. */
int index_list_versions(struct index *ix, const char *slug, struct version_info **ret, size_t *ret_n,
                        struct error *err);
void version_info_release(struct version_info *v);
void version_list_free(struct version_info *v, size_t n);

/* The tree of a version, rebuilt from its rows and finalized. */
int index_load_tree(struct index *ix, const struct digest *tree, struct tree *ret, struct error *err);

/* For verify and gc: every tree the index holds with its recorded digest, and every object row. */
int index_foreach_tree(struct index *ix, int (*fn)(void *ctx, const struct digest *tree), void *ctx, struct error *err);
int index_foreach_object(struct index *ix, int (*fn)(void *ctx, const struct digest *d, uint64_t size), void *ctx,
                         struct error *err);
/* The recipe an object is assembled from (spec/store.md "Image archives"): 1 with *ret set, 0 when it has none. */
int index_object_recipe(struct index *ix, const struct digest *object, struct digest *ret, struct error *err);
/* Rows that point nowhere: versions whose tree row is missing, entries whose object row is missing. */
int index_count_dangling(struct index *ix, uint64_t *ret_versions, uint64_t *ret_entries, struct error *err);

struct index_counts {
        uint64_t stacks, versions, trees, entries, objects, object_bytes;
};
int index_counts(struct index *ix, struct index_counts *ret, struct error *err);

/* Pins (gc roots, spec/store.md "gc"): pin true adds version_id, false removes it; *ret_changed (may be NULL)
 * says whether a row changed. index_list_pins() gives the pinned version ids (heap array, free()). */
int index_set_pin(struct index *ix, int64_t version_id, bool pin, bool *ret_changed, struct error *err);
int index_list_pins(struct index *ix, int64_t **ret, size_t *ret_n, struct error *err);

/* gc's sweep of the index, set-based and in one transaction (spec/store.md "gc"):
 *   index_sweep_begin(ix, err)                  BEGIN IMMEDIATE; empty root sets (temp tables)
 *   index_sweep_keep_version() / _keep_tree()   the roots, any number
 *   index_sweep_run(ix, &counts, err)           deletes every version not kept, then its bundles and pins,
 *                                               stacks left without versions, trees neither a version nor a
 *                                               root holds, their entries, and objects no entry references
 *   index_foreach_object(...)                   what survives (the same connection sees the transaction)
 *   index_sweep_end(ix, commit, err)            COMMIT, or ROLLBACK when commit is false (a dry run); call it
 *                                               after any successful begin, whatever failed in between */
struct index_sweep {
        uint64_t versions, stacks, trees, entries, objects, object_bytes; /* rows deleted; bytes of those objects */
};
int index_sweep_begin(struct index *ix, struct error *err);
int index_sweep_keep_version(struct index *ix, int64_t id, struct error *err);
int index_sweep_keep_tree(struct index *ix, const struct digest *tree, struct error *err);
int index_sweep_run(struct index *ix, struct index_sweep *ret, struct error *err);
int index_sweep_end(struct index *ix, bool commit, struct error *err);

/* Registry images pinned to a version (spec/store.md "Registry images"; store/index-images.c): for each image
 * reference the version's compose file names that no bundle archive provides, the image it runs as. tree is a
 * store tree with one file, IMAGE_TREE_FILE (the `docker save` archive of the image, stored as its parts); all
 * zero (stored false) when the image was not kept. gc keeps the trees of the versions it keeps.
 *   index_version_images(ix, version_id, &v, &n, err)    the version's pins, by ref (version_images_free)
 *   index_set_version_images(ix, version_id, v, n, err)  replaces them all in one transaction (a new pin of the
 *                                                        version, or the old one put back)
 *   index_image_shared_bytes(ix, version_id, &bytes, err)  bytes of the version's image parts that another
 *                                                        version's images use too */
#define IMAGE_TREE_FILE "image.tar"
struct version_image {
        char *ref;         /* as the compose file names it, e.g. "127.0.0.1:5000/app:1" */
        char *repo_digest; /* "repo@sha256:..." (the registry's manifest), or NULL: the Engine had it from no registry */
        char *image_id;    /* "sha256:...": the image's config digest */
        struct digest tree; /* zero when not stored */
        bool stored;
        uint64_t size;   /* bytes of the archive */
        unsigned layers; /* layers of the image */
        int64_t pinned_at;
};
int index_version_images(struct index *ix, int64_t version_id, struct version_image **ret, size_t *ret_n,
                         struct error *err);
int index_set_version_images(struct index *ix, int64_t version_id, const struct version_image *v, size_t n,
                             struct error *err);
int index_image_shared_bytes(struct index *ix, int64_t version_id, uint64_t *ret, struct error *err);
void version_images_free(struct version_image *v, size_t n);

/* verify --repair: in one transaction, drop the rows of the given objects (missing or corrupt) and trees (whose
 * rows do not give their digest), every tree that references a dropped object or whose rows point nowhere, and
 * every version whose tree is gone. Each such version is recorded in the lost table (listed by `stack ls`, gone
 * once it is published again) and returned in *ret (free with lost_versions_free()). */
struct lost_version {
        char *slug, *version;
};
int index_drop_damaged(struct index *ix, const struct digest *objects, size_t n_objects, const struct digest *trees,
                       size_t n_trees, struct lost_version **ret, size_t *ret_n, struct error *err);
int index_list_lost(struct index *ix, struct lost_version **ret, size_t *ret_n, struct error *err);
void lost_versions_free(struct lost_version *v, size_t n);

/* For a module that keeps its own tables in index.db (spec/store.md "Module tables"): index_module_db() applies
 * the missing steps of the module's schema record (DB_SCHEMA(), store/db.h) in one transaction, records its
 * version in module_schemas (cheap when already current: call it before each use) and gives the connection to
 * run the module's statements on through store/db.h. A module reaches only its own tables this way.
 * index_db() is the index's own connection, for the store's files and the tests; it migrates nothing. */
struct db;
struct db_schema;
int index_module_db(struct index *ix, const struct db_schema *schema, struct db **ret, struct error *err);
struct db *index_db(struct index *ix);
/* index_module_db() then db_prepare(): a statement on the module's tables, and their connection. */
struct sqlite3_stmt;
struct db_rows;
int index_module_prepare(struct index *ix, const struct db_schema *schema, const char *sql, struct db **ret_db,
                         struct sqlite3_stmt **ret, const char *job, struct error *err);
/* index_module_db() then db_begin(): a transaction on the module's tables; end it with db_end(*ret_db, r, err). */
int index_module_begin(struct index *ix, const struct db_schema *schema, struct db **ret_db, struct error *err);
/* index_module_db() then db_query_rows(): the rows of a query on the module's tables. */
int index_module_rows(struct index *ix, const struct db_schema *schema, const char *sql, const char *param,
                      const struct db_rows *how, void *ret_array, size_t *ret_n, struct error *err);
/* index_module_db() then db_exec_texts() / db_read_int64(). */
int index_module_exec(struct index *ix, const struct db_schema *schema, const char *sql, const char *text1,
                      const char *text2, const char *job, unsigned *ret_changes, struct error *err);
/* index_module_db() then db_vwrite(): one write on the module's tables, parameters as db_write() takes them. */
int index_module_write(struct index *ix, const struct db_schema *schema, const char *sql, const char *job,
                       unsigned *ret_changes, struct error *err, const char *types, ...);
int index_module_int64(struct index *ix, const struct db_schema *schema, const char *sql, const char *text,
                       int64_t dflt, int64_t *ret, const char *job, struct error *err);
/* Whether a module's table exists yet, without creating it (a store that never upgraded has no journal). */
bool index_has_table(struct index *ix, const char *table);

/* Used by store_open()/store_free() only. */
int index_open(const char *path, struct index **ret, struct error *err);
void index_free(struct index *ix);

#endif
