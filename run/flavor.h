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
 *
 * DockerService: the same path as a compose stack (policy, effective file, 127.0.0.1 publishing), with two
 * hooks in run_start():
 *   flavor_service_compose(s, v, t, compose_path, warn, ctx, err)   after the checkout, before the policy:
 *        the generated one-service compose file (service = slug, image = flavor_service_tag(), routed at
 *        <slug>.stack.localhost to the Dockerfile's single EXPOSE port by traefik-style labels)
 *   flavor_service_build(s, e, v, t, o, err)   after the bundle's image archives are loaded: POST /build of
 *        the tree (a tar streamed from the store) unless the Engine has the tag already; o->step "build"
 */
#ifndef STACK_FLAVOR_H
#define STACK_FLAVOR_H

#include <stdbool.h>

#include "run/run.h"

bool flavor_is_static(const char *flavor);
bool flavor_row_static(struct store *s, const struct run_row *row);
int flavor_static_start(struct store *s, const struct version_info *v, const struct run_options *o,
                        struct run_info *ret, struct error *err);
int flavor_static_stop(struct store *s, const char *id_or_slug, struct run_row *ret, struct error *err);
int flavor_static_remove(struct store *s, const char *id_or_slug, bool purge, struct run_row *ret, struct error *err);

struct engine;
bool flavor_is_service(const char *flavor);
/* stack-<slug>:<first 12 hex digits of the tree> (the slug reduced to [a-z0-9] runs joined by '-') */
int flavor_service_tag(const struct version_info *v, char *buf, size_t size);
/* The single port the Dockerfile's EXPOSE instructions name (0 when none or several; *ret_n: how many). */
unsigned flavor_dockerfile_port(const char *dockerfile, unsigned *ret_n);
int flavor_service_compose(struct store *s, const struct version_info *v, const struct tree *t,
                           const char *compose_path, manifest_warn_fn warn, void *warn_ctx, struct error *err);
int flavor_service_build(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                         const struct run_options *o, struct error *err);

#endif
