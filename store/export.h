/* export.h - a version and the registry images it runs with, as one bundle file another machine imports
 * (spec/bundle.md "Export bundles").
 *
 * Calling sequence:
 *   index_resolve_ref(store_index(s), "slug[@version]", &v, err)   the version (index.h)
 *   export_version(s, &v, out_path, &opts, &res, err)              write the bundle; res holds no memory
 *
 * The bundle is the version's tree as `stack pack` writes a folder (store/pack.h's writer: pax tar + zstd,
 * sorted, normalised, reproducible), its files streamed out of the store. For each registry image pinned to the
 * version (index_version_images()) that the store holds, the docker save archive is added as
 * images/registry/<n>-<name>.tar and listed at the end of stack.yaml's `images:` (stack.yaml rewritten through
 * base/yamltree.h, every other key kept), so `stack run` of the imported version loads it as a bundle image. An
 * image the store does not hold is left out with a warning (opts.warn), or refused (STACK_EFAIL) with
 * opts.require_images. A version with no image to add exports its own tree unchanged: imported, it is the same
 * tree digest.
 *
 * Written to a temp file beside out_path and renamed into place only on success: a failed export leaves no
 * output. A store copy missing or damaged is STACK_ESTORE; an output that cannot be written STACK_EFAIL.
 */
#ifndef STACK_EXPORT_H
#define STACK_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "index.h"
#include "manifest.h"
#include "store.h"

struct export_options {
        bool require_images;   /* an image the store does not hold fails the export */
        manifest_warn_fn warn; /* may be NULL: one line per image left out */
        void *warn_ctx;
};

struct export_result {
        uint64_t n_entries;   /* archive entries written */
        uint64_t size;        /* bytes of the bundle file */
        struct digest sha256; /* SHA-256 of the bundle file */
        size_t n_images;      /* registry images added */
        size_t n_missing;     /* registry images left out: the store does not hold them */
        uint64_t image_bytes; /* bytes of the added image archives */
};

int export_version(struct store *s, const struct version_info *v, const char *out_path,
                   const struct export_options *opts, struct export_result *ret, struct error *err);

#endif
