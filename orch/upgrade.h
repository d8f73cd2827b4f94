/* upgrade.h - `stack upgrade`, `stack rollback`, `stack restore`: a new version either runs healthy or the stack
 * is back as it was, data included (spec/run.md "Upgrades and snapshots").
 *
 * orch_upgrade(store, slug, opts, &res, err): resolve the target (opts->to, else the catalog's newest, else with
 * offline the store's newest) -> nothing when it is the version that runs -> run_start() prepares it beside
 * the old one (checkout, policy, images) -> snapshot (run/snapshot.h) -> old down, new up -> health wait
 * (healthchecks, else every container keeps running for the settle time) -> done. A failure after the
 * snapshot rolls back: new down, snapshot restored, old up; -STACK_ERUNTIME "... rolled back: <why>".
 * Every step is first written to the journal (table `upgrades`), so a process killed at any point is finished
 * by orch_recover(), which every `stack` command calls first.
 * With opts->pull the target's registry images are pulled again and pinned to what comes; when the target is the
 * version that runs, that is an upgrade of its own (the same snapshot, health wait and rollback, which also puts
 * the old pins back, so the old images run again).
 * orch_rollback(store, slug, ...): back to the version before the last completed upgrade, with the snapshot
 * taken before it, after snapshotting the data as it is now (reason rollback).
 * orch_restore(store, slug, snapshot_id, ...): stop, restore, start the same version again.
 * Release results with upgrade_result_release() (also after a failure).
 */
#ifndef STACK_UPGRADE_H
#define STACK_UPGRADE_H

#include <stdbool.h>

#include "orch/orch.h"
#include "run/snapshot.h"

#define UPGRADE_SETTLE_S 5 /* seconds every container must keep running when none has a healthcheck */

struct upgrade_options {
        struct orch_options orch; /* catalog, offline, run.warn / run.step (steps: snapshot, down, up, health,
                                     restore) */
        const char *to;           /* --to VER, or NULL */
        bool pull;                /* --pull: re-resolve the registry images' tags (run/regimages.h); the running
                                     version again, pinned to what comes, is an upgrade too */
        int settle_s;             /* <0: UPGRADE_SETTLE_S */
        void (*say)(void *ctx, const char *line); /* what happens, one line at a time (stdout), may be NULL */
        void *say_ctx;
};

struct upgrade_result {
        char *from, *to; /* version labels */
        char *snapshot;  /* the snapshot taken before the switch, or NULL */
        bool nothing;    /* the target already runs */
        bool fresh;      /* the stack had no run: started as stack run would */
        bool rolled_back;
        struct run_info info; /* the run now */
};

int orch_upgrade(struct store *s, const char *slug, const struct upgrade_options *o, struct upgrade_result *ret,
                 struct error *err);
int orch_rollback(struct store *s, const char *slug, const struct upgrade_options *o, struct upgrade_result *ret,
                  struct error *err);
int orch_restore(struct store *s, const char *slug, const char *snapshot_id, const struct upgrade_options *o,
                 struct upgrade_result *ret, struct error *err);
/* Finish every interrupted upgrade whose process is gone (complete its rollback, or report it completed).
 * Returns 0 when nothing is left pending; an Engine still gone keeps the journal for the next command. */
int orch_recover(struct store *s, void (*say)(void *ctx, const char *line), void *ctx, struct error *err);
/* `stack upgrade --abandon SLUG`: every unfinished journal row of slug (one whose rollback could not complete:
 * the Engine gone, its snapshot collected, the old version failing) marked abandoned, so no command tries it
 * again. *ret_said (free()) says what state the stack is left in: its run as recorded, the data as the last
 * version that ran left it, and the snapshot taken before the upgrade when it still exists. STACK_EFAIL when
 * nothing is pending; an upgrade whose process still runs is refused. */
int upgrade_abandon(struct store *s, const char *slug, char **ret_said, struct error *err);
/* `stack rm SLUG`: its unfinished rows abandoned (a removed stack is never started again by a recovery);
 * all: (rm --purge) every journal row of slug deleted. */
int upgrade_forget(struct store *s, const char *slug, bool all, struct error *err);
/* For gc: the version each stack rolls back to and the snapshots the journal needs (pending or last upgrade). */
int upgrade_roots(struct store *s, int64_t **ret_versions, size_t *ret_nv, char ***ret_snapshots, size_t *ret_ns,
                  struct error *err);
void upgrade_result_release(struct upgrade_result *r);

#endif
