#!/usr/bin/env bash
# Image layers as objects (issue 14), measured in this one run:
#  1. store bytes version 2 adds when its 26 MiB image archive differs from version 1's by one 1 MiB layer
#     (target <= 3 MiB), against the archive's size (what storing it whole adds);
#  2. that version 2 runs: `stack run` after `docker rmi`, the image streamed from its parts to the Engine;
#     the time of that load against `docker load -i` of the same archive file (median of 3 each).
# Needs the Docker Engine. Prints; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
bench_conditions layers "docker load -i of the same image archive file, and the archive size for the bytes a version adds; one way"
B=${BUILD:-build}
S=$PWD/$B/stack
D=/usr/bin/docker
[ -x "$D" ] || D=docker
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench.XXXXXX")
U=$$
SLUG=lybench$U
BASE="ly-bench/base:$U" MID="ly-bench/mid:$U" APP="ly-bench/app"
export STACK_HOME="$W/home" STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
cleanup() {
  "$S" rm "$SLUG" >/dev/null 2>&1 || true
  ids=$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$SLUG" 2>/dev/null || true)
  [ -z "$ids" ] || "$D" rm -f $ids >/dev/null 2>&1 || true
  "$D" rmi -f "$BASE" "$MID" "$APP:$U-1" "$APP:$U-2" >/dev/null 2>&1 || true
  chmod -R u+w "$W" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/base/bin" "$W/mid" "$W/v1" "$W/v2"
cp /bin/busybox "$W/base/bin/busybox"
ln -s busybox "$W/base/bin/sh"
ln -s busybox "$W/base/bin/sleep"
tar -C "$W/base" -c . | "$D" import - "$BASE" >/dev/null
head -c $((23 << 20)) /dev/urandom >"$W/mid/big"
printf 'FROM %s\nCOPY big /big\n' "$BASE" >"$W/mid/Dockerfile"
"$D" build -q -t "$MID" "$W/mid" >/dev/null 2>&1
for v in 1 2; do
  head -c $((1 << 20)) /dev/urandom >"$W/v$v/own"
  printf 'FROM %s\nCOPY own /own\n' "$MID" >"$W/v$v/Dockerfile"
  "$D" build -q -t "$APP:$U-$v" "$W/v$v" >/dev/null 2>&1
  d="$W/stack$v"
  mkdir -p "$d/images"
  printf 'slug: %s\nname: layers bench\nflavor: DockerCompose\nversion: "%s"\ndescription: bench\nauthor: bench\nlicense: MIT\nimages: [images/app.tar]\n' \
    "$SLUG" "$v" >"$d/stack.yaml"
  printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$APP:$U-$v" >"$d/compose.yaml"
  "$D" save -o "$d/images/app.tar" "$APP:$U-$v"
  "$S" pack "$d" -o "$W/v$v.stack" >/dev/null
done
"$D" rmi -f "$APP:$U-1" "$APP:$U-2" "$MID" "$BASE" >/dev/null

objects_bytes() { find "$STACK_HOME/objects" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
archive=$(stat -c %s "$W/stack2/images/app.tar")
"$S" import "$W/v1.stack" >/dev/null
s1=$(objects_bytes)
"$S" import "$W/v2.stack" >/dev/null
s2=$(objects_bytes)
added=$((s2 - s1))
printf 'layers: image archive %.1f MiB; version 1 stores %.1f MiB; version 2 adds %.2f MiB (target <= 3 MiB; stored whole it adds %.1f MiB): %.3f of the archive\n' \
  "$(echo "$archive/1048576" | bc -l)" "$(echo "$s1/1048576" | bc -l)" "$(echo "$added/1048576" | bc -l)" \
  "$(echo "$archive/1048576" | bc -l)" "$(echo "$added/$archive" | bc -l)"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ours() { # the images step of `stack run --timings` with the image absent: streamed from its parts
  "$D" rmi -f "$APP:$U-2" >/dev/null 2>&1 || true
  "$S" run "$SLUG@2" --timings 2>&1 >/dev/null | awk '$2 == "images" {print $3}'
}
theirs() {
  "$D" rmi -f "$APP:$U-2" >/dev/null 2>&1 || true
  "$D" load -q -i "$W/stack2/images/app.tar" >/dev/null
}
loaded=$("$S" run "$SLUG@2" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["images_loaded"])')
printf 'layers: version 2 after docker rmi: %s (state, images loaded from the parts)\n' "$loaded"
"$S" rm "$SLUG" >/dev/null
o=() n=()
for _ in 1 2 3; do
  o+=("$(ours)")
  "$S" rm "$SLUG" >/dev/null
  n+=("$(t theirs)")
done
om=$(median "${o[@]}") nm=$(median "${n[@]}")
printf 'layers: image load in stack run (streamed from its parts) %.3f s; docker load -i of the archive file %.3f s; ratio %.2f (median of 3)\n' \
  "$om" "$nm" "$(echo "$om/$nm" | bc -l)"
