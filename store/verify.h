/* verify.h - check the store against itself (spec/store.md "Verify").
 *
 * verify_store() re-hashes every object file, rebuilds every tree's digest from its rows, and looks for rows
 * that point nowhere. Damage: a referenced object missing, an object whose content does not match its name or
 * recorded size, a tree whose rows do not give its digest, a dangling row. Garbage (not damage): object files
 * nothing references, temp files a crash left. Each finding goes to report->problem(ctx, kind, detail) with
 * kind one of "missing", "corrupt", "bad-tree", "dangling", "extra", "temp". Returns 0 when there is no damage
 * (garbage or not), -STACK_ESTORE with a one-line summary when there is.
 */
#ifndef STACK_VERIFY_H
#define STACK_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store.h"

struct verify_report {
        uint64_t objects, bytes;                        /* object files re-hashed */
        uint64_t trees;                                 /* trees rebuilt */
        uint64_t missing, corrupt, bad_trees, dangling; /* damage */
        uint64_t extra, temp;                           /* garbage */
        void (*problem)(void *ctx, const char *kind, const char *detail);
        void *ctx;
};

int verify_store(struct store *s, struct verify_report *report, struct error *err);

/* verify_repair(): under the store lock held exclusively, verify, then drop the damaged rows in one transaction
 * (index_drop_damaged: missing or corrupt objects, bad trees, every tree that needs them, every version whose
 * tree went - recorded as lost, so `stack ls` names them and a fetch brings them back), unlink the corrupt
 * object files and every temp file, and verify again into *report. Returns what that second verify returns
 * (0: the store is whole). *ret lists the versions dropped; release it with verify_repair_report_release().
 * Refetching them is the caller's (fetch sits above the store). */
struct lost_version;
struct verify_repair_report {
        struct lost_version *lost;
        size_t n_lost;
        uint64_t removed_objects, removed_temp; /* files unlinked */
};
int verify_repair(struct store *s, struct verify_report *report, struct verify_repair_report *ret, struct error *err);
void verify_repair_report_release(struct verify_repair_report *rr);

#endif
