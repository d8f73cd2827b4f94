#!/usr/bin/env bash
# Registry images in the store (issue 21), measured in this one run against a real registry on loopback
# (Debian's docker-registry, tests/lib/registry.sh) and images built here: busybox + a 32 MiB base layer shared
# by app1 (+16 MiB of its own) and app2 (+8 MiB), named as 127.0.0.1:PORT/stacktest/NAME:1 by the bundles.
#  a. the first `stack run` of a stack naming app1 (pulls, pins, stores it; a fresh STACK_HOME each time)
#     against plain `docker-compose up -d` of the same compose file pulling the same image from the same
#     registry; the Engine without the images before each (target <= 1.3x);
#  b. the store bytes two stacks (app1, app2) add for their images against the bytes of their distinct layers
#     (target: at most +1%);
#  c. an offline first start that loads app1 from the store (the images step of `stack run --offline
#     --timings`, and the whole start) against `docker load` of a `docker save` file of it, each after
#     `docker image rm`, the registry stopped (target <= 1.0x).
# Median of 3 each, alternating. Needs the Docker Engine and docker-registry (scripts/install-deps).
# Run: bash tests/bench/registry.sh (or scripts/bench). Prints; never fails. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
export STACK_BIN=$PWD/${BUILD:-build}/stack STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
. tests/e2e/lib.sh
. tests/e2e/image_lib.sh
. tests/lib/registry.sh
. tests/bench/lib.sh # secs, median, ratio, fmt, mib
S=$STACK_BIN
D=$(docker_cmd)
U=$$
P=regbench$U # the docker-compose project of the baseline
new_tmpdir W
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-rba$U --filter label=com.docker.compose.project=$P | xargs -r $D rm -f"
on_exit "$D network ls -q --filter label=com.docker.compose.project=stack-rba$U | xargs -r $D network rm"
on_exit "docker-compose -p $P -f '$W/rba$U/compose.yaml' down"

objects_bytes() { find "$STACK_HOME/objects" -type f -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
mkstack() { # SLUG IMAGE: DIR $W/SLUG, packed as $W/SLUG.stack
  mkdir -p "$W/$1"
  printf 'slug: %s\nname: registry bench\nflavor: DockerCompose\nversion: "1"\ndescription: bench\nauthor: bench\nlicense: MIT\n' \
    "$1" >"$W/$1/stack.yaml"
  printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$2" >"$W/$1/compose.yaml"
  "$S" pack "$W/$1" -o "$W/$1.stack" >/dev/null
}
stack_run() { # ARGS...: `stack run ARGS --timings`, then `stack rm`; prints "IMAGES-STEP WHOLE" (seconds), or "- -"
  local s e out
  out=$(mktemp)
  s=$(date +%s.%N)
  if "$S" run "$@" --timings 2>"$out" >/dev/null; then
    e=$(date +%s.%N)
    echo "$(awk '$2 == "images" {print $3}' "$out" | grep . || echo -) $(echo "$e - $s" | bc -l)"
  else
    echo "- -"
  fi
  "$S" rm "$1" >/dev/null 2>&1 || true
  rm -f "$out"
}
# measure OURS THEIRS: 3 rounds, alternating (OURS gets the round's number); sets oim and owm (the median images
# step and whole run of OURS, a stack_run) and nm (the median of THEIRS, a secs).
measure() {
  local oi=() ow=() n=() r a b i
  for i in 1 2 3; do
    r=$("$1" "$i") # not read < <(...): that returns at the echo, before the run is removed
    read -r a b <<<"$r"
    oi+=("$a") ow+=("$b")
    n+=("$("$2")")
  done
  oim=$(median "${oi[@]}") owm=$(median "${ow[@]}") nm=$(median "${n[@]}")
}
home() { # N: a fresh STACK_HOME with both stacks imported
  export STACK_HOME="$W/home$1"
  mkdir -p "$STACK_HOME"
  "$S" import "$W/rba$U.stack" >/dev/null
  "$S" import "$W/rbb$U.stack" >/dev/null
}

registry_start "$W/reg"
regimg_setup "$W/img" $((32 << 20))
regimg_app app1 1 $((16 << 20))
regimg_app app2 1 $((8 << 20))
R1=$(regimg_ref app1 1) R2=$(regimg_ref app2 1)
mkstack rba$U "$R1"
mkstack rbb$U "$R2"
"$D" save -o "$W/app1.tar" "$R1"
"$D" save -o "$W/both.tar" "$R1" "$R2"
unique=$(python3 - "$W/both.tar" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
layers = {l for m in json.load(t.extractfile("manifest.json")) for l in m["Layers"]}
print(sum(t.getmember(l).size for l in layers))
PY
)
printf 'registry: conditions: %s; docker-registry %s on 127.0.0.1; Engine %s; %s; images busybox + %s base (shared) + %s (app1) / %s (app2) own; distinct layers %s\n' \
  "$(nproc) cores" "$(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo '?')" \
  "$("$D" version -f '{{.Server.Version}}' 2>/dev/null || echo '?')" "docker-compose $(docker-compose version --short 2>/dev/null || echo ?)" \
  "$(mib $((32 << 20)))" "$(mib $((16 << 20)))" "$(mib $((8 << 20)))" "$(mib "$unique")"

info "a. first run that pulls and stores vs docker-compose up -d pulling the same image"
ours_first() { # N
  home "a$1"
  regimg_rm_engine --all
  stack_run rba$U
}
theirs_first() {
  regimg_rm_engine --all
  secs docker-compose -p "$P" -f "$W/rba$U/compose.yaml" up -d || echo -
  docker-compose -p "$P" -f "$W/rba$U/compose.yaml" down >/dev/null 2>&1 || true
}
measure ours_first theirs_first
printf 'registry: a. first run pulling %s: stack run (pull, pin, store) %s, of which the images step %s; docker-compose up -d (pull) %s; ratio %s (target <= 1.3; median of 3)\n' \
  "$R1" "$(fmt "$owm")" "$(fmt "$oim")" "$(fmt "$nm")" "$(ratio "$owm" "$nm")"

info "b. store bytes for two stacks sharing the base layer"
home b
s0=$(objects_bytes)
if "$S" fetch --images rba$U >/dev/null 2>&1 && "$S" fetch --images rbb$U >/dev/null 2>&1; then
  added=$(($(objects_bytes) - s0))
  printf 'registry: b. two stacks sharing the base layer: the store adds %s for their images; their distinct layers are %s; %+.2f%% (target <= +1%%)\n' \
    "$(mib "$added")" "$(mib "$unique")" "$(echo "($added - $unique) * 100 / $unique" | bc -l)"
else
  printf 'registry: b. not measured: stack fetch --images failed\n'
fi

info "c. offline first start from the store vs docker load of a docker save file"
registry_stop
export STACK_HOME="$W/homea3" # its pin and layers come from a.3
ours_offline() {
  regimg_rm_engine --all
  stack_run rba$U --offline
}
theirs_load() {
  regimg_rm_engine --all
  secs "$D" load -i "$W/app1.tar" || echo -
}
measure ours_offline theirs_load
printf 'registry: c. offline first start after docker image rm: images loaded from the store %s (whole start %s); docker load -i of a docker save file %s; ratio %s (target <= 1.0; median of 3)\n' \
  "$(fmt "$oim")" "$(fmt "$owm")" "$(fmt "$nm")" "$(ratio "$oim" "$nm")"
