#!/usr/bin/env bash
# swarm-file-deploy.sh - run by hand, not by ctest: the swarm files test-policy-swarm writes are accepted by
# `docker stack deploy` on the local Engine (which must be a swarm manager: docker swarm init).
#
#   tests/manual/swarm-file-deploy.sh [BUILD_DIR]      (default: build)
#
# Each file is deployed as project swpol-<n> (every service at replicas 0: nothing is pulled, the digests are
# made up), its services are checked (0 replicas, io.stack.replicas label, endpoint mode dnsrr), then the stack
# is removed. Then the first file's routed service runs one task of a local image ($IMAGE, default
# stack-example/busybox:1) to show a host-mode port with no published port gets one the node picks.
# DOCKER=/usr/local/bin/docker checks another docker CLI (default: Debian's, /usr/bin/docker, 20.10).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
docker=${DOCKER:-/usr/bin/docker}
image=${IMAGE:-stack-example/busybox:1}
dir=$(mktemp -d)
projects=()
cleanup() {
  for p in "${projects[@]}"; do "$docker" stack rm "$p" >/dev/null 2>&1 || true; done
  [ -f "$dir/made" ] && xargs -r rm -f <"$dir/made"
  rm -rf "$dir"
}
trap cleanup EXIT

node=$("$docker" info -f '{{.Swarm.NodeID}}')
[ -n "$node" ] || { echo "the Engine is no swarm manager (docker swarm init)" >&2; exit 1; }
echo "docker CLI $("$docker" version -f '{{.Client.Version}}'), Engine $("$docker" version -f '{{.Server.Version}}'), node $node"
STACK_SWARM_FILES=$dir "$build/test-policy-swarm" >/dev/null
fail=0
for f in "$dir"/*.yml; do
  n=$(basename "$f" .yml)
  p=swpol-$$-$n
  sed -i "s/node1abc/$node/g" "$f"
  # configs' and secrets' files were the test's (gone with its temporary dir): docker reads them at deploy
  # (and env files): any quoted absolute path of the test's that is gone and is no bind ("src:dst")
  { grep -o '"/[^":]*stack-test-[^":]*"' "$f" || true; } | tr -d '"' | sort -u | while read -r cf; do
    [ -e "$cf" ] || { mkdir -p "$(dirname "$cf")" && echo A=1 >"$cf" && echo "$cf" >>"$dir/made"; }
  done
  projects+=("$p")
  if ! out=$("$docker" stack deploy --resolve-image never -c "$f" "$p" 2>&1); then
    echo "FAIL $n: $out"; fail=1; continue
  fi
  # stack deploy warns about options swarm ignores: the converter must leave none
  if grep -qi 'ignoring' <<<"$out"; then echo "FAIL $n: $out"; fail=1; fi
  for s in $("$docker" service ls -q --filter "label=com.docker.stack.namespace=$p"); do
    got=$("$docker" service inspect "$s" -f '{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}} {{index .Spec.Labels "io.stack.replicas"}} {{.Spec.EndpointSpec.Mode}}')
    read -r name reps want mode <<<"$got"
    if [ "$reps" != 0 ] || [ -z "$want" ] || [ "$mode" != dnsrr ]; then echo "FAIL $n: $got"; fail=1; fi
    echo "ok $n: $name replicas $reps (io.stack.replicas=$want) endpoint $mode"
  done
  "$docker" stack rm "$p" >/dev/null
done

# host mode, no published port: the node picks one
f=$dir/01.yml
sed -i "s|image: \"127.0.0.1:45000/nginx@sha256:a*\"|image: \"$image\"\n    command: [\"sh\", \"-c\", \"mkdir -p /w \&\& echo ok > /w/index.html \&\& httpd -f -p 80 -h /w\"]|" "$f"
sed -i '/pgdata/d; /^  db:/,$d' "$f"
p=swpol-port$$
projects+=("$p")
"$docker" stack deploy --resolve-image never -c "$f" "$p" >/dev/null
"$docker" service scale -d "${p}_web=1" >/dev/null
port=
for _ in $(seq 60); do
  port=$("$docker" service ps "${p}_web" --filter desired-state=running -q | head -1 |
    xargs -r "$docker" inspect -f '{{range .Status.PortStatus.Ports}}{{.PublishedPort}} {{end}}' 2>/dev/null | awk '{print $1}' || true)
  [ -n "$port" ] && [ "$port" != 0 ] && break
  sleep 1
done
if [ -n "$port" ] && curl -fsS --max-time 5 "http://127.0.0.1:$port/" | grep -q ok; then
  echo "ok port: the routed port 80 answers on host port $port (host mode, chosen by the node)"
else
  echo "FAIL port: no answer on a host-mode port ($port)"; "$docker" service ps --no-trunc "${p}_web"; fail=1
fi
exit $fail
