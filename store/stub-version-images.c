/* stub-version-images.c - TEMPORARY (branch s6-export only, see stub-version-images.h): the version_images
 * records kept in memory for the process's life (weak symbols: the coordinator's store/index-images.c replaces
 * them). Enough for the unit test to record a pin and for export to read it back. */
#include "index.h"

/* Compiled only while index.h lacks the records: once they are there this file is empty, never a second definition
 * the linker could pick instead of store/index-images.c's. */
#ifndef IMAGE_TREE_FILE
#include "stub-version-images.h"

#include <stdlib.h>
#include <string.h>

struct stub_pins {
        const struct index *ix;
        int64_t version_id;
        struct version_image *v;
        size_t n;
};
static struct stub_pins *stub_pins;
static size_t stub_n;

static int copy_images(const struct version_image *v, size_t n, struct version_image **ret)
{
        struct version_image *c = calloc(n ? n : 1, sizeof *c);

        if (!c)
                return -1;
        for (size_t i = 0; i < n; i++) {
                c[i] = v[i];
                c[i].ref = v[i].ref ? strdup(v[i].ref) : NULL;
                c[i].repo_digest = v[i].repo_digest ? strdup(v[i].repo_digest) : NULL;
                c[i].image_id = v[i].image_id ? strdup(v[i].image_id) : NULL;
        }
        *ret = c;
        return 0;
}

__attribute__((weak)) int index_version_images(struct index *ix, int64_t version_id, struct version_image **ret,
                                               size_t *ret_n, struct error *err)
{
        for (size_t i = stub_n; i-- > 0;) /* the last set wins */
                if (stub_pins[i].ix == ix && stub_pins[i].version_id == version_id) {
                        if (copy_images(stub_pins[i].v, stub_pins[i].n, ret) < 0)
                                return error_set(err, STACK_EFAIL, "out of memory");
                        *ret_n = stub_pins[i].n;
                        return 0;
                }
        *ret = NULL;
        *ret_n = 0;
        return 0;
}

__attribute__((weak)) int index_set_version_images(struct index *ix, int64_t version_id, const struct version_image *v,
                                                   size_t n, struct error *err)
{
        struct stub_pins *p = realloc(stub_pins, (stub_n + 1) * sizeof *p);

        if (!p)
                return error_set(err, STACK_EFAIL, "out of memory");
        stub_pins = p;
        p[stub_n] = (struct stub_pins){ix, version_id, NULL, n};
        if (copy_images(v, n, &p[stub_n].v) < 0)
                return error_set(err, STACK_EFAIL, "out of memory");
        stub_n++;
        return 0;
}

__attribute__((weak)) void version_images_free(struct version_image *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].ref);
                free(v[i].repo_digest);
                free(v[i].image_id);
        }
        free(v);
}

#endif
