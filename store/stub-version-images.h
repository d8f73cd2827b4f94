/* stub-version-images.h - TEMPORARY (branch s6-export only): the registry-image records the coordinator is adding
 * to store/index.h (issue 21), so export builds and is tested before they land. DELETE this file and
 * store/stub-version-images.c at the merge: index.h then declares the same interface and defines IMAGE_TREE_FILE,
 * and the includes of this header (store/export.c, tests/unit/test-export.c) sit in #ifndef IMAGE_TREE_FILE. */
#ifndef STACK_STUB_VERSION_IMAGES_H
#define STACK_STUB_VERSION_IMAGES_H

#include "index.h"

#ifndef IMAGE_TREE_FILE
#define IMAGE_TREE_FILE "image.tar"
struct version_image {
        char *ref;          /* as the compose file names it, e.g. "127.0.0.1:5000/app:1" */
        char *repo_digest;  /* "repo@sha256:..." (the registry's manifest), or NULL */
        char *image_id;     /* "sha256:...": the image's config digest */
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
void version_images_free(struct version_image *v, size_t n);
#endif

#endif
