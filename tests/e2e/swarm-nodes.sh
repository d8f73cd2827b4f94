#!/usr/bin/env bash
# stack on a Docker Swarm of three real Engines (issue 23, spec/run.md "Swarm"): tests/lib/swarm.sh starts a
# manager and two workers, each dockerd in its own network namespace, joined by veth links; stack, its front
# door and its managed registry run in the manager's namespace and talk to its Engine (DOCKER_HOST), as a person
# runs stack on the manager. The two-service stack (tests/e2e/swarm_lib.sh): db (a data dir and a volume) lands on
# the manager, which holds its data; web (placement node.role==worker) on a worker, which pulls its image from the
# managed registry by digest; the front door on the manager answers for web on the worker. Then: the worker
# running web drained: web moves to the other worker and the front door follows (after `stack ps` at the
# latest); both workers cut off from the registry: an upgrade whose image they must pull fails with exit 5
# naming the node and the image, and 1.0 keeps running; the node running web disappears (its dockerd killed, the
# other worker drained so nothing takes its place): `stack ps` says its task is lost.
# Needs root (network namespaces), Debian's docker.io, docker-registry and caddy. Runs in about a minute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/swarm_lib.sh"
. "$(dirname "$0")/../lib/swarm.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces for the swarm's nodes)"
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/swnbusybox:$U"
A=swm$U
T0=$(date +%s)

swarm_cluster_up 3
info "swarm of 3 nodes up in $(($(date +%s) - T0)) s (manager $SWARM_MGR_ADDR, registry $SWARM_REGISTRY)"
export DOCKER_HOST="unix://$SWARM_MGR_SOCK" # every docker command of this test: the manager's Engine
D=$(docker_cmd)
# stack in the manager's namespace (its environment: STACK_HOME, STACK_PROXY_PORT, DOCKER_HOST, passes through).
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- "%s" "$@"\n' "$(swarm_ns 1)" "$STACK_BIN" >"$W/stack"
chmod 755 "$W/stack"
S=$W/stack
SWSTACK_IN="swarm_in 1" # curl through the front door from the manager's namespace
H1=$(swarm_hostname 1) H2=$(swarm_hostname 2) H3=$(swarm_hostname 3)
index_of() { case "$1" in "$H2") echo 2 ;; "$H3") echo 3 ;; "$H1") echo 1 ;; *) die "no node named [$1]" ;; esac; }
printf '{"swarm": {"engines": {"%s": "unix://%s", "%s": "unix://%s", "%s": "unix://%s"}}}\n' \
  "$H1" "$(swarm_sock 1)" "$H2" "$(swarm_sock 2)" "$H3" "$(swarm_sock 3)" >"$STACK_HOME/config.json"

info "swarm_nodes_cluster_carries_overlay_host_ports_and_the_registry"
swstack_image # on the manager only; the workers start with no image
swarm_registry_start "$W/reg0"
swarm_verify "$TAG"
swarm_registry_stop # stack starts its own on the same address
"$D" rmi -f "$SWARM_REGISTRY/swarmtest/busybox:$$" >/dev/null 2>&1 || true
for id in $(swarm_docker 2 ps -aq); do swarm_docker 2 rm -f "$id" >/dev/null 2>&1 || true; done
for id in $(swarm_docker 2 images -q); do swarm_docker 2 rmi -f "$id" >/dev/null 2>&1 || true; done
assert_eq "" "$(swarm_docker 2 images -q)" "images left on node 2 after the check"

WEB_ON_WORKERS="      placement:
        constraints: [node.role==worker]"
swstack_mk $A 1.0 "" "$WEB_ON_WORKERS"
# 1.1: another image (one more applet: another layer digest), which the workers do not have yet.
TAG2="stack-e2e/swnbusybox2:$U"
build_busybox_image "$TAG2" "$W/img2" sh httpd sleep mkdir echo cat date rm true
"$D" save -o "$W/busybox2.tar" "$TAG2"
SWSTACK_TAG=$TAG2 SWSTACK_TAR=$W/busybox2.tar swstack_mk $A 1.1 "" "$WEB_ON_WORKERS"
"$D" rmi -f "$TAG" "$TAG2" >/dev/null # stack loads them from the bundles
assert_exit 0 "$S" import "$W/$A-1.0.stack"
assert_exit 0 "$S" import "$W/$A-1.1.stack"

info "swarm_nodes_run_places_db_on_the_data_node_and_web_on_a_worker"
assert_exit 0 "$S" run $A@1.0 --swarm
swstack_wait_replicas $A "stack-${A}_db 1/1
stack-${A}_web 1/1" 30
assert_eq "$H1" "$(swstack_task_node $A db)" "node of db (the one holding its data)"
cons=$("$D" service inspect -f '{{json .Spec.TaskTemplate.Placement.Constraints}}' "stack-${A}_db")
grep -qF "node.id==$(swarm_node_id 1)" <<<"$cons" || die "db constraints: $cons"
WEB=$(swstack_task_node $A web)
case "$WEB" in "$H2" | "$H3") ;; *) die "web runs on [$WEB], not on a worker" ;; esac
w=$(index_of "$WEB")
swarm_docker "$w" images --digests --format '{{.Repository}}@{{.Digest}}' | grep -q "^$SWARM_REGISTRY/" ||
  die "the worker $WEB has no image from the managed registry $SWARM_REGISTRY: $(swarm_docker "$w" images --digests)"
assert_eq swarm "$(swstack_ps $A 'r["backend"]')" "ps backend"
grep -qF "$WEB" <<<"$(swstack_ps $A '[t["node"] for s in r["services"] if s["name"].endswith("web") for t in s["tasks"]]')" ||
  grep -qF "$(swarm_node_id "$w")" <<<"$(swstack_ps $A '[t["node"] for s in r["services"] if s["name"].endswith("web") for t in s["tasks"]]')" ||
  die "ps does not name $WEB as web's node: $("$S" ps --json)"
assert_eq "hello from $A 1.0" "$(swstack_get $A)" "page through the front door (web on $WEB)"

info "swarm_nodes_drained_worker_moves_web_and_the_front_door_follows"
other=$((5 - w)) # the other worker: 2 <-> 3
"$D" node update --availability drain "$WEB" >/dev/null
for _ in $(seq 1 150); do [ "$(swstack_task_node $A web)" = "$(swarm_hostname $other)" ] && break; sleep 0.2; done
assert_eq "$(swarm_hostname $other)" "$(swstack_task_node $A web)" "node of web after draining $WEB"
# What is expected: the front door routes to the running tasks' host-mode ports; after a move, `stack ps` (which
# reads the tasks) brings the route up to date at the latest.
page=$(swstack_get $A 5)
if [ "$page" != "hello from $A 1.0" ]; then
  info "the front door did not follow the move by itself; stack ps"
  assert_exit 0 "$S" ps
  page=$(swstack_get $A 15)
fi
assert_eq "hello from $A 1.0" "$page" "page after draining $WEB (web now on $(swarm_hostname $other))"
"$D" node update --availability active "$WEB" >/dev/null
WEB=$(swarm_hostname $other) w=$other other=$((5 - w))

info "swarm_nodes_worker_without_the_registry_fails_the_deploy_naming_node_and_image"
swarm_block_registry 2
swarm_block_registry 3
assert_exit 5 "$S" upgrade $A --to 1.1
grep -qE "$H2|$H3" <<<"$LAST_STDERR" || die "the failure does not name the worker: $LAST_STDERR"
grep -qE "swnbusybox2|$SWARM_REGISTRY" <<<"$LAST_STDERR" || die "the failure does not name the image: $LAST_STDERR"
assert_eq 1.0 "$(swstack_ps $A 'r["version"]')" "version after the failed deploy"
swstack_wait_replicas $A "stack-${A}_db 1/1
stack-${A}_web 1/1" 60
page=$(swstack_get $A 10)
if [ "$page" != "hello from $A 1.0" ]; then
  assert_exit 0 "$S" ps
  page=$(swstack_get $A 15)
fi
assert_eq "hello from $A 1.0" "$page" "1.0's page after the failed deploy"
swarm_unblock_registry 2
swarm_unblock_registry 3

info "swarm_nodes_gc_images_cleans_the_nodes_it_reaches_and_names_the_others"
# node 2's Engine named in config.json, node 3's not; on node 2 an image of the managed registry that nothing
# there uses (1.1's, pulled by hand: its upgrade was rolled back)
printf '{"swarm": {"engines": {"%s": "unix://%s"}}}\n' "$H2" "$(swarm_sock 2)" >"$STACK_HOME/config.json"
swarm_docker 2 pull -q "$SWARM_REGISTRY/stack-e2e/swnbusybox2:$U" >/dev/null || die "node 2 cannot pull 1.1's image"
assert_exit 0 "$S" gc --images --json
python3 - "$LAST_STDOUT" "$H2" "$H3" "$SWARM_REGISTRY/stack-e2e/swnbusybox2" <<'PY' || die "gc --images report: $LAST_STDOUT"
import json, sys
r, h2, h3, ref = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
assert any(i.startswith("node %s: %s" % (h2, ref)) for i in r["images"]), r["images"]
assert any(k.startswith("node %s: not reached" % h3) for k in r["images_kept"]), r["images_kept"]
PY
swarm_docker 2 images --format '{{.Repository}}' | grep -qF "stack-e2e/swnbusybox2" &&
  die "1.1's image is still on node 2: $(swarm_docker 2 images)"
wnode=$(index_of "$(swstack_task_node $A web)")
swarm_docker "$wnode" images --digests --format '{{.Repository}}@{{.Digest}}' | grep -q "^$SWARM_REGISTRY/" ||
  die "gc removed the image web runs on node $wnode: $(swarm_docker "$wnode" images --digests)"
assert_eq "hello from $A 1.0" "$(swstack_get $A 10)" "1.0's page after gc --images"

info "swarm_nodes_a_node_that_disappears_has_its_tasks_lost"
WEB=$(swstack_task_node $A web)
case "$WEB" in "$H2" | "$H3") ;; *) die "web runs on [$WEB], not on a worker: $("$D" service ps --no-trunc "stack-${A}_web")" ;; esac
w=$(index_of "$WEB") other=$((5 - w))
"$D" node update --availability drain "$(swarm_hostname $other)" >/dev/null # nothing takes web's place
swarm_node_kill "$w"
swarm_wait_node_state "$w" down 30
assert_exit 0 "$S" ps
grep -qi "lost" <<<"$LAST_STDOUT$LAST_STDERR" || die "ps does not say a task is lost: $LAST_STDOUT $LAST_STDERR"
grep -qF "$WEB" <<<"$LAST_STDOUT$LAST_STDERR" || die "ps does not name the node that disappeared ($WEB): $LAST_STDOUT"
assert_eq 0 "$(swstack_ps $A '[s["running"] for s in r["services"] if s["name"].endswith("web")][0]')" \
  "web's running tasks after its node disappeared"
assert_eq 1 "$(swstack_ps $A '[s["running"] for s in r["services"] if s["name"].endswith("db")][0]')" \
  "db's running tasks (on the manager)"
info "ok ($(($(date +%s) - T0)) s)"
