/* rundir.h - the run dir of a stack (spec/run.md "Run dir and data"): $STACK_HOME/runs/<slug>, a checkout of one
 * version's tree with the marker .stack-run naming that tree. A new version is prepared in a fresh dir beside
 * it and swapped in only once it is ready, so a version that cannot start leaves the running one as it was:
 *   rundir_new_id(id)                               12 random hex digits: a run id, or a suffix for the names
 *   rundir_path(s, slug, NULL, NULL, dir, n)        $STACK_HOME/runs/<slug>
 *   rundir_path(s, slug, "new", id, staged, n)      $STACK_HOME/runs/.<slug>.new-<id> (also "old", "config")
 *   rundir_marker_ok(dir, tree)                     does dir hold this tree (the re-launch fast path)
 *   rundir_checkout(s, t, tree, staged, err)        the tree checked out into a fresh dir (a stale one a crash
 *                                                   left is removed first), with the marker
 *   rundir_switch(staged, dir, aside, err)          staged becomes the run dir; the old one is moved to aside,
 *                                                   then removed (fs_swap_dir)
 */
#ifndef STACK_RUNDIR_H
#define STACK_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/digest.h"
#include "base/error.h"
#include "store/store.h"
#include "store/tree.h"

#define RUNDIR_MARKER ".stack-run"
#define RUNDIR_ID_LEN 12

void rundir_new_id(char out[RUNDIR_ID_LEN + 1]);
/* kind NULL: the run dir itself; else the name beside it, ".<slug>.<kind>-<suffix>". -ENAMETOOLONG when it does
 * not fit. */
int rundir_path(struct store *s, const char *slug, const char *kind, const char *suffix, char *buf, size_t size);
bool rundir_marker_ok(const char *dir, const struct digest *tree);
int rundir_checkout(struct store *s, const struct tree *t, const struct digest *tree, const char *dir,
                    struct error *err);
int rundir_switch(const char *staged, const char *dir, const char *aside, struct error *err);

#endif
