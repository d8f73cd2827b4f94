/* imagearchive.h - an image archive stored as its parts (spec/store.md "Image archives"); store/imagearchive.c,
 * and store/imagearchive-refs.c for the references an archive names.
 *
 * A bundle file whose content is a plain (uncompressed) tar holding manifest.json at its root (docker save)
 * or index.json and oci-layout (OCI layout) is stored as one object per member with content (layers,
 * configs, manifests) plus a small recipe object that lists, in order, the archive's other bytes (header
 * blocks, padding, the end-of-archive blocks) verbatim and the member objects, so the exact archive comes
 * back as a stream. Anything else, and any tar libarchive cannot walk to its end, is stored whole.
 *
 * Writing (ingest, per file, under the store's shared lock):
 *   ia_sink_begin(store, staging, &k, err)     nothing decided yet
 *   ia_sink_write(k, data, len, err) ...       the file's bytes in order; a tar goes to an unnamed temp file
 *                                              in tmp/, anything else straight to a staged object
 *   ia_sink_end(k, &digest, &recipe, err)      the file's digest (of all its bytes); *recipe NULL when it was
 *                                              stored whole, else the recipe (caller owns it: tree_set_last_recipe)
 *   ia_sink_free(k)                            always (after end too); drops the temp file
 *
 * Reading (checkout, image load, verify; ia_file_stream() for a tree file whichever way it is stored):
 *   ia_open(store, &recipe_digest, &r, err)    reads and checks the recipe object
 *   ia_read(r, buf, n, err) ...                the archive's bytes in order; 0 at the end; a part missing or
 *                                              of the wrong size is STACK_ESTORE
 *   ia_skip(r, n) ...                          or move on without reading (for a reader that skips members)
 *   ia_size(r), ia_close(r)
 *
 * Describing (show): ia_describe(store, &recipe_digest, &json, err) gives {"images": [{"tags": [...],
 * "config": {...}, "layers": [{"name", "sha256", "size"}]}], "parts": [...]}.
 *
 * The image references an archive names, before asking the Engine whether it has them (run/images.c, run/run.c):
 *   ia_archive_refs(fd, &refs, err)            from a file (any archive: uncompressed, gzip or zstd)
 *   ia_archive_refs_stream(read, skip, ctx, &refs, err)   from a stream (ia_read/ia_skip over a recipe)
 *   strv_free(refs)
 */
#ifndef STACK_IMAGEARCHIVE_H
#define STACK_IMAGEARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/digest.h"
#include "base/error.h"
#include "store.h"
#include "tree.h"

#define IA_RECIPE_MAX (16 * 1024 * 1024) /* bytes a recipe object may have */

struct ia_sink;
int ia_sink_begin(struct store *s, struct staging *st, struct ia_sink **ret, struct error *err);
int ia_sink_write(struct ia_sink *k, const void *data, size_t len, struct error *err);
int ia_sink_end(struct ia_sink *k, struct digest *ret, struct tree_recipe **ret_recipe, struct error *err);
void ia_sink_free(struct ia_sink *k);

struct ia_reader;
int ia_open(struct store *s, const struct digest *recipe, struct ia_reader **ret, struct error *err);
ssize_t ia_read(struct ia_reader *r, void *buf, size_t n, struct error *err);
uint64_t ia_size(const struct ia_reader *r);
/* Move on n bytes without reading them (a part skipped whole is never opened); returns how many it moved. */
int64_t ia_skip(struct ia_reader *r, int64_t n);
void ia_close(struct ia_reader *r);

/* The bytes of a tree file in order, from its object or, when the store keeps it as its parts, assembled from its
 * recipe, handed to write() a buffer at a time (a write failure ends it with write's code). A copy that is
 * missing, short or of the wrong size is STACK_ESTORE naming e->path (run stack verify). */
typedef int (*ia_write_fn)(void *ctx, const void *buf, size_t n, struct error *err);
int ia_file_stream(struct store *s, const struct tree_entry *e, ia_write_fn write, void *ctx, struct error *err);

/* The parts a recipe names (for gc and verify): heap array, free(). */
int ia_recipe_parts(struct store *s, const struct digest *recipe, struct tree_part **ret, size_t *ret_n,
                    struct error *err);

int ia_describe(struct store *s, const struct digest *recipe, json_t **ret, struct error *err);

/* The image references an archive names (docker save: manifest.json RepoTags; OCI layout: index.json
 * annotations org.opencontainers.image.ref.name / io.containerd.image.name), read with libarchive from fd
 * (which is left at an unspecified offset). NULL-terminated heap array in *ret (strv_free); STACK_EREJECT
 * when the file is not such an archive. */
int ia_archive_refs(int fd, char ***ret, struct error *err);
/* The same, for an archive that is not a file (one assembled from its parts): read hands out up to n bytes (0 at
 * the end, a negative errno on failure, reported as STACK_ESTORE); skip (may be NULL) moves on n bytes without
 * reading them and returns how many it moved: members the reader does not need are then never read. */
typedef ssize_t (*ia_read_fn)(void *ctx, void *buf, size_t n);
typedef int64_t (*ia_skip_fn)(void *ctx, int64_t n);
int ia_archive_refs_stream(ia_read_fn read, ia_skip_fn skip, void *ctx, char ***ret, struct error *err);

#endif
