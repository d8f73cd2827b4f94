/* orch.h - the one fetch-then-run sequence the CLI (`stack run`) and the HTTPS daemon both call.
 *
 * orch_run(store, "slug[@version]", opts, &info, err): resolve the ref in the store (index.h); when the store
 * lacks it, fetch it from the catalog (fetch.h) unless opts->offline (then STACK_ENETWORK naming what is
 * missing); then run_start() with the resolved version (run.h). Release info with run_info_release(), also
 * after a failure. The parts below (fetch/, run/) never call each other: this is where they meet.
 */
#ifndef STACK_ORCH_H
#define STACK_ORCH_H

#include <stdbool.h>

#include "fetch/http.h"
#include "run/run.h"
#include "store/error.h"
#include "store/store.h"

struct orch_options {
        /* fetching a version the store lacks */
        const char *catalog;       /* base URL; NULL: $STACK_CATALOG */
        bool insecure;             /* accept unsigned / untrusted content, recorded on the version */
        bool offline;              /* never fetch */
        http_progress_fn progress; /* download progress, may be NULL */
        void *progress_ctx;
        /* running it; run.warn and run.step also get the fetch's warnings and its "fetch" timing */
        struct run_options run;
};

int orch_run(struct store *s, const char *ref, const struct orch_options *o, struct run_info *ret, struct error *err);
/* Only the first half: the resolved (fetched when missing) version in *ret (version_info_release() it);
 * `stack config` then calls run_config(). */
int orch_resolve(struct store *s, const char *ref, const struct orch_options *o, struct version_info *ret,
                 struct error *err);

#endif
