#!/usr/bin/env bash
# The managed registry (issue 23, run/swarm-registry.h), measured in this one run against Debian's docker-registry
# started by stack (tests/e2e/tool-swreg) and an image built here: busybox-static + a 32 MiB layer.
#  a. pushing it (tag, push through the Engine, tag removed) to a fresh registry, against pushing it again when
#     the registry has it (the Engine sends no layer);
#  b. a node without the image getting it: `docker pull HOST/REPO@sha256:...` from the managed registry, against
#     a `docker save` file copied over and `docker load -i` (the copy on this machine: cp), each after `docker image
#     rm` of it and of busybox (one Engine here: the pull and the load are what a new node does).
# Median of 3 each, alternating. Needs the Docker Engine and docker-registry (scripts/install-deps).
# Run: bash tests/bench/swarm-registry.sh (or scripts/bench). Prints; never fails. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
bench_conditions swarm-registry "docker save + cp + docker load -i of the same image, and a second push when the registry has it; one way"
export STACK_BIN=$PWD/${BUILD:-build}/stack
. tests/e2e/lib.sh
. tests/e2e/image_lib.sh
T=$(dirname "$STACK_BIN")/tool-swreg
D=$(docker_cmd)
NS=swregbench-$$
new_tmpdir W
on_exit "$D images --format '{{.Repository}}:{{.Tag}}' | grep -e '^$NS/' -e '/$NS/' | xargs -r $D rmi -f"

secs() { # CMD...: its wall time in seconds; "-" when CMD fails
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo -; return 0; }
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
fmt() { if [ "$1" != - ]; then printf '%.3f s' "$1"; else echo "failed"; fi; }
# fresh_registry: a new STACK_HOME whose registry runs on a free port; HOST is where
fresh_registry() {
  [ -z "${STACK_HOME:-}" ] || "$T" stop >/dev/null 2>&1 || true
  new_home
  on_exit "STACK_HOME='$STACK_HOME' '$T' stop"
  printf '{"swarm": {"registry_port": %s}}\n' "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" >"$STACK_HOME/config.json"
  HOST=$("$T" ensure)
}

build_busybox_image "$NS/bb:1" "$W/bb" sh cat
mkdir -p "$W/app"
head -c $((32 << 20)) /dev/urandom >"$W/app/blob"
printf 'FROM %s\nCOPY blob /blob\n' "$NS/bb:1" >"$W/app/Dockerfile"
"$D" build -q -t "$NS/app:1" "$W/app" >/dev/null 2>&1
ID=$("$D" image inspect -f '{{.Id}}' "$NS/app:1")
MIB=$(($("$D" image inspect -f '{{.Size}}' "$ID") >> 20))

first=() again=()
for i in 1 2 3; do
  fresh_registry
  first+=("$(secs "$T" push "$HOST" "$NS/app:1" "$ID")")
  again+=("$(secs "$T" push "$HOST" "$NS/app:1" "$ID")")
done
f=$(median "${first[@]}") a=$(median "${again[@]}")
printf 'swarm-registry: a. push of a %s MiB image of 2 layers: to a fresh registry %s, again (already there) %s; ratio %s (median of 3)\n' \
  "$MIB" "$(fmt "$f")" "$(fmt "$a")" "$(ratio "$a" "$f")"

REF=$("$T" push "$HOST" "$NS/app:1" "$ID" 2>/dev/null)
"$D" save -o "$W/app.tar" "$NS/app:1"
BB=$("$D" image inspect -f '{{.Id}}' "$NS/bb:1")
gone() { "$D" image rm -f "$ID" "$BB" >/dev/null 2>&1 || true; } # neither layer left, as on a new node
pulls=() loads=()
for i in 1 2 3; do
  gone
  pulls+=("$(secs "$D" pull -q "$REF")")
  gone
  rm -f "$W/copy.tar"
  loads+=("$(secs sh -c "cp '$W/app.tar' '$W/copy.tar' && '$D' load -q -i '$W/copy.tar'")")
done
p=$(median "${pulls[@]}") l=$(median "${loads[@]}")
printf 'swarm-registry: b. a node getting it: docker pull by digest from the managed registry %s; docker save file copied and docker load -i %s; ratio %s (median of 3)\n' \
  "$(fmt "$p")" "$(fmt "$l")" "$(ratio "$p" "$l")"
"$D" tag "$ID" "$NS/app:1" 2>/dev/null || true
