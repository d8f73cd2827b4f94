/* images.h - the images stack itself loaded into the Engine (spec/store.md "gc"): one row per image reference
 * and the image archive (a store object) it was loaded from. gc --images removes from the Engine only images
 * recorded here, so an image a person pulled or built is never touched.
 *
 * Calling sequence: run.c calls images_record() after each successful image load (under the store's shared
 * lock); gc calls images_list() and, for each reference it removed from the Engine (or found gone there),
 * images_forget(). Each function migrates the module's table first (index_module_db). Free a list with
 * loaded_images_free().
 */
#ifndef STACK_IMAGES_H
#define STACK_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"

#define IMAGES_SCHEMA_VERSION 1

struct loaded_image {
        char *ref;             /* as the archive names it, e.g. "nginx:alpine" */
        struct digest archive; /* the object the image was loaded from */
};

/* refs: NULL-terminated (ia_archive_refs); an archive that names none records nothing. */
int images_record(struct store *s, const struct digest *archive, char *const *refs, struct error *err);
int images_list(struct store *s, struct loaded_image **ret, size_t *ret_n, struct error *err);
int images_forget(struct store *s, const char *ref, struct error *err);
void loaded_images_free(struct loaded_image *v, size_t n);

/* An image archive of the store (a bundle's, or a registry image's tree: spec/run.md "Image load"), read from its
 * object, or when the store keeps it as its parts (te->recipe) assembled from them as a stream (never on disk):
 * its references are read first (and appended to *ret_refs when it is not NULL); when the Engine lacks any (or
 * always, with force: the references are moved back to the archive's images) it goes to POST /images/load,
 * *ret_loaded is incremented and the load recorded. Under the store's shared lock, like run.c's. */
struct engine;
struct tree_entry;
int images_load_entry(struct store *s, struct engine *e, const struct tree_entry *te, const char *what, bool force,
                      unsigned *ret_loaded, char ***ret_refs, struct error *err);

#endif
