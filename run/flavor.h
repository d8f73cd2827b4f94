/* flavor.h - the runs of the flavors that are not a compose file of the bundle's own (spec/run.md "Flavors").
 * The flavor is the version's recorded one (store/bundle.h bundle_flavor(): by content).
 *
 * StaticWebsite: no container, no image, no Engine. run.c hands these over before it looks for the Engine:
 *   flavor_static_start(s, v, o, &info, err)     from run_start() when v is a StaticWebsite: the version
 *        checked out into the run dir $STACK_HOME/runs/<slug> (kept when it holds this tree), the row
 *        starting -> running, and one route in info->routes: <slug>.stack.localhost served from the run dir
 *        (run_route.root; orch/ gives it to the proxy). o->routes_check is called before anything changes; a
 *        compose version of the stack that runs is taken down (run_remove) only after that.
 *   flavor_static_stop(s, id_or_slug, &row, err)          from run_stop(): the row goes stopped
 *   flavor_static_remove(s, id_or_slug, purge, &row, err) from run_remove(): run dir (data dir with purge), row
 *        Both return 1 (and leave *row empty) when the run is not a StaticWebsite: the caller carries on.
 *   flavor_row_static(s, row)      run_list(): such a row keeps its recorded state (no container to ask)
 */
#ifndef STACK_FLAVOR_H
#define STACK_FLAVOR_H

#include <stdbool.h>

#include "run/run.h"

bool flavor_is_static(const char *flavor);
bool flavor_row_static(struct store *s, const struct run_row *row);
int flavor_static_start(struct store *s, const struct version_info *v, const struct run_options *o, struct run_info *ret,
                        struct error *err);
int flavor_static_stop(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err);
int flavor_static_remove(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, struct error *err);

#endif
