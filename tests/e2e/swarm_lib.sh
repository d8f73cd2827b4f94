# swarm_lib.sh - what the swarm tests (swarm.sh, swarm-nodes.sh) and tests/bench/swarm.sh share: the two-service
# test stack and how to read what swarm made of it. Source it after lib.sh and image_lib.sh, with S, D (the
# docker client of the Engine stack talks to: `$(docker_cmd)` or a function), W and TAG set. Run directly (CTest
# runs every tests/e2e/*.sh; this one is excluded as a helper) it only defines functions.
#
# The stack (spec/run.md "Swarm"): the project is stack-SLUG, so swarm names its services stack-SLUG_web and
# stack-SLUG_db and labels them com.docker.stack.namespace=stack-SLUG.
#   web  busybox httpd on 8080 serving "hello from SLUG VERSION", routed by the front door (hub-style traefik
#        labels, no published port in the bundle); stateless. WEB_DEPLOY (extra lines under `deploy:`) places it.
#   db   writes VERSION into ./data/version and the named volume's /vol/version at start, then waits; stateful
#        (the data dir and the volume), so stack places it on the node that holds the data.
# Both stop at once on SIGTERM (a shell loop, not a PID 1 that ignores it).

# swstack_image: the busybox test image as TAG, saved to $W/busybox.tar for the bundles (removed from the Engine
# by the caller's on_exit).
swstack_image() {
  build_busybox_image "$TAG" "$W/img" sh httpd sleep mkdir echo cat date rm ping wget hostname head
  "$(docker_cmd)" save -o "$W/busybox.tar" "$TAG"
}

# swstack_mk SLUG VERSION [broken] [WEB-DEPLOY-LINES] [EXTRA-STACK-YAML]: the bundle in $W/SLUG-VERSION, packed
# into $W/SLUG-VERSION.stack (not imported). broken: its web exits 1 at start and its db changes the data first
# (data/marker, data/added-by-VERSION, the volume) so that a rollback has something to restore. SWSTACK_TAG and
# SWSTACK_TAR: another image (and its saved file) than TAG's.
swstack_mk() {
  local slug=$1 ver=$2 broken=${3:-} deploy=${4:-} d="$W/$1-$2" web db tag=${SWSTACK_TAG:-$TAG}
  local tar=${SWSTACK_TAR:-$W/busybox.tar}
  mkdir -p "$d/images"
  cat >"$d/stack.yaml" <<Y
slug: $slug
name: E2E $slug
flavor: DockerCompose
version: "$ver"
description: swarm end-to-end test stack
author: tests
license: MIT
images: [images/busybox.tar]
${5:-}
Y
  web="mkdir -p /www && echo 'hello from $slug $ver' >/www/index.html && httpd -p 8080 -h /www && trap 'exit 0' TERM && while :; do sleep 1; done"
  db="mkdir -p /data && echo $ver >/data/version && echo $ver >/vol/version && trap 'exit 0' TERM && while :; do sleep 1; done"
  if [ "$broken" = broken ]; then
    web="echo '$slug $ver is broken' >&2; exit 1"
    db="echo changed-by-$ver >/data/marker && echo junk >/data/added-by-$ver && echo $ver >/vol/version && trap 'exit 0' TERM && while :; do sleep 1; done"
  fi
  cat >"$d/compose.yaml" <<Y
services:
  web:
    image: $tag
    command: ["sh", "-c", "$web"]
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(\`$slug.stack.localhost\`)
      traefik.http.services.web.loadbalancer.server.port: "8080"
${deploy:+    deploy:
$deploy}
  db:
    image: $tag
    command: ["sh", "-c", "$db"]
    volumes: ["./data:/data", "vol:/vol"]
volumes:
  vol: {}
Y
  cp "$tar" "$d/images/busybox.tar"
  "$S" pack "$d" -o "$W/$slug-$ver.stack" >/dev/null || die "stack pack of $slug $ver failed"
}

# swstack_services SLUG: "NAME REPLICAS" of the stack's services on the swarm, one a line, sorted ("" when none).
swstack_services() {
  $D service ls --filter "label=com.docker.stack.namespace=stack-$1" --format '{{.Name}} {{.Replicas}}' | sort
}

# swstack_wait_replicas SLUG WANT [SECONDS]: until swstack_services prints WANT (e.g. "stack-x_db 1/1\n...").
swstack_wait_replicas() {
  local got=
  for _ in $(seq 1 $((${3:-60} * 5))); do
    got=$(swstack_services "$1")
    [ "$got" = "$2" ] && return 0
    sleep 0.2
  done
  die "services of $1: expected [$2], got [$got]; their tasks:
$($D service ps --no-trunc --format '{{.Name}} {{.Node}} {{.DesiredState}} {{.CurrentState}} {{.Error}}' \
    $($D service ls -q --filter "label=com.docker.stack.namespace=stack-$1") 2>&1 | head -n 12)"
}

# swstack_task_node SLUG SERVICE: the hostname of the node running the service's task (the running one).
swstack_task_node() {
  $D service ps --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' "stack-$1_$2" 2>/dev/null |
    awk '$2 == "Running" {print $1; exit}'
}

# swstack_ps SLUG FIELD-EXPRESSION: from `stack ps --json`, a Python expression over r (the stack's entry).
swstack_ps() {
  "$S" ps --json | python3 -c '
import json, sys
rs = [x for x in json.load(sys.stdin) if x["slug"] == sys.argv[1]]
r = rs[0] if rs else None
print(eval(sys.argv[2]))' "$1" "$2"
}

# swstack_get SLUG: the page through the front door (https://SLUG.stack.localhost:$STACK_PROXY_PORT/, stack's CA),
# retried for up to SECONDS (default 20) until it answers 200; "" when it never does. SWSTACK_IN: a command
# prefix to run curl where the front door is (swarm_in 1 on the multi-node cluster).
swstack_get() {
  local out=
  for _ in $(seq 1 $((${2:-20} * 2))); do
    out=$(${SWSTACK_IN:-} curl -fsS --max-time 5 --cacert "$STACK_HOME/keys/ca.pem" "https://$1.stack.localhost:$STACK_PROXY_PORT/" 2>/dev/null) &&
      break
    out=
    sleep 0.5
  done
  printf '%s\n' "$out"
}

# swstack_cleanup SLUG...: the stacks' services (and a probe namespace's), containers and volumes taken off the
# Engine, on the swarm or by compose (for on_exit).
swstack_cleanup() {
  local slug ns
  for slug in "$@"; do
    for ns in "stack-$slug" "stack-$slug-probe"; do
      $D stack rm "$ns" >/dev/null 2>&1 || true
    done
    $D ps -aq --filter "label=com.docker.compose.project=stack-$slug" | xargs -r $D rm -f >/dev/null 2>&1 || true
  done
  for slug in "$@"; do # the tasks' containers go asynchronously; their volumes only after them
    for _ in $(seq 1 100); do
      [ -z "$($D ps -aq --filter "label=com.docker.stack.namespace=stack-$slug")" ] && break
      sleep 0.2
    done
    $D volume ls -q --filter "label=com.docker.stack.namespace=stack-$slug" | xargs -r $D volume rm -f >/dev/null 2>&1 || true
    $D volume ls -q --filter "label=com.docker.compose.project=stack-$slug" | xargs -r $D volume rm -f >/dev/null 2>&1 || true
  done
}
