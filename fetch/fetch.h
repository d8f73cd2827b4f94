/* fetch.h - bring a version into the store from a catalog, a URL or a file, verified (spec/catalog.md).
 *
 * fetch_ref(store, "slug[@version]", opts, &res, err): loads the catalog's signed index (catalog.h), picks the
 * version, and unless the store already holds that bundle (same SHA-256: no request for it), streams it
 * straight into ingest (http.h -> ingest.h: no temporary copy), checks size and SHA-256 against the index,
 * and publishes it. When the catalog cannot be reached, a version the store holds still resolves
 * (res.offline); otherwise STACK_ENETWORK.
 * fetch_bundle(store, url_or_path, opts, &res, err): a bundle outside a catalog; it needs <bundle>.sig by a
 * trusted key unless opts->insecure (then recorded as insecure).
 * Release the result with fetch_result_release().
 */
#ifndef STACK_FETCH_H
#define STACK_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "fetch/http.h"
#include "store/index.h"
#include "store/manifest.h"
#include "store/store.h"

struct fetch_options {
        const char *catalog;       /* base URL; NULL: $STACK_CATALOG */
        bool insecure;             /* accept unsigned / untrusted content, recorded on the version */
        bool allow_unsigned;       /* `stack import`: no .sig is fine (recorded unsigned); a bad one is not */
        http_progress_fn progress; /* download progress, may be NULL */
        void *progress_ctx;
        manifest_warn_fn warn; /* warnings (stack.yaml keys, catalog unreachable), may be NULL */
        void *warn_ctx;
};

struct fetch_result {
        struct version_info v; /* the version as the store now has it */
        bool cached;           /* the store had the bundle: nothing downloaded */
        bool new_version;      /* this fetch added a version (else it was already stored) */
        bool offline;          /* the catalog could not be reached: resolved from the store */
        uint64_t downloaded;   /* bundle bytes transferred */
        uint64_t added;        /* bytes of new objects */
        unsigned requests;     /* requests made for the bundle (retries and resumes included) */
};

int fetch_ref(struct store *s, const char *ref, const struct fetch_options *o, struct fetch_result *ret,
              struct error *err);
int fetch_bundle(struct store *s, const char *url_or_path, const struct fetch_options *o, struct fetch_result *ret,
                 struct error *err);
void fetch_result_release(struct fetch_result *r);

#endif
