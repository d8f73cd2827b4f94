/* flavor.h - the runs of the flavors that are not a compose file of the bundle's own (spec/run.md "Flavors").
 * The flavor is the version's recorded one (store/bundle.h bundle_flavor(): by content); runner_of_flavor()
 * and runner_of_row() (runner.h) map it to its runner.
 *
 * StaticWebsite (runner_static, runner.h): no container, no image, no Engine.
 *   start   the version checked out into the run dir $STACK_HOME/runs/<slug> (kept when it holds this tree), the
 *           row starting -> running, and one route in info->routes: <slug>.stack.localhost served from the run
 *           dir (run_route.root; orch/ gives it to the proxy). o->routes_check is called before anything
 *           changes; a compose version of the stack that runs is removed by its runner only after that.
 *   stop    the row goes stopped;  remove: run dir (data dir with purge), row;  status: none (the recorded state
 *           stands: no container to ask)
 *
 * DockerService (runner_service): the compose runner (policy, effective file, 127.0.0.1 publishing), with two
 * hooks:
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

struct engine;
/* stack-<slug>:<first 12 hex digits of the tree> (the slug reduced to [a-z0-9] runs joined by '-') */
int flavor_service_tag(const struct version_info *v, char *buf, size_t size);
/* The single port the Dockerfile's EXPOSE instructions name (0 when none or several; *ret_n: how many). */
unsigned flavor_dockerfile_port(const char *dockerfile, unsigned *ret_n);
int flavor_service_compose(struct store *s, const struct version_info *v, const struct tree *t,
                           const char *compose_path, manifest_warn_fn warn, void *warn_ctx, struct error *err);
int flavor_service_build(struct store *s, struct engine *e, const struct version_info *v, const struct tree *t,
                         const struct run_options *o, struct error *err);

#endif
