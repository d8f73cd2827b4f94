/* swarm.h - what orchestration does across a swarm's nodes (spec/run.md "Swarm": "gc on every node").
 *
 * orch_swarm_gc_images(s, dry, rep, err): after gc --images on the Engine stack talks to, the same rule on every
 * node of the swarm that Engine manages: images pulled from stack's registry (references under its host:port)
 * that no container on the node uses are removed. stack reaches a node through the Engine socket config.json
 * names for it ("swarm": {"engines": {"<hostname>": "unix:///path"}}; the manager's own node needs none); a node
 * it cannot reach is said in rep->images_kept ("node H: not reached: why"), removed images in rep->images
 * ("node H: REF"). An Engine that is no swarm manager: nothing to do (0).
 */
#ifndef STACK_ORCH_SWARM_H
#define STACK_ORCH_SWARM_H

#include <stdbool.h>

#include "base/error.h"
#include "gc/gc.h"
#include "store/store.h"

int orch_swarm_gc_images(struct store *s, bool dry, struct gc_report *rep, struct error *err);

#endif
