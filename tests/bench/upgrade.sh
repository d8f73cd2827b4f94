#!/usr/bin/env bash
# Upgrade benchmark (issue 12), one run on the real Engine, a stack with a 100 MiB data dir (100 files of 1 MiB)
# and a named volume:
#  - a successful `stack upgrade` 1.0 -> 2.0 (settle: 1), split into stop / snapshot / down / up / wait / health
#    (--timings), against the baseline `stack run` of another version (the same switch without snapshot or
#    health wait);
#  - an automatic rollback 2.0 -> 3.0 (3.0 exits 1), split into snapshot / down / up / wait and the rollback's
#    down / restore / up;
#  - the store bytes a second snapshot adds when 1% of the data dir (one 1 MiB file) changed: target <= 2 MiB,
#    against the first snapshot's bytes.
# Prints; never fails. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
bench_conditions upgrade "stack run of another version of the same stack (the switch without snapshot or health wait); one way"
B=${BUILD:-build}
S=$PWD/$B/stack
D=/usr/bin/docker; [ -x "$D" ] || D=docker
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench-upgrade.XXXXXX")
SLUG=upbench$$
TAG=stack-bench/upbusybox:$$
export STACK_HOME="$W/home" STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
cleanup() {
  "$S" rm $SLUG --purge >/dev/null 2>&1 || true
  "$D" volume ls -q --filter label=com.docker.compose.project=stack-$SLUG | xargs -r "$D" volume rm -f >/dev/null 2>&1 || true
  "$D" rmi -f $TAG >/dev/null 2>&1 || true
  chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh sleep echo; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - $TAG >/dev/null
"$D" save -o "$W/busybox.tar" $TAG
mk() { # VERSION SCRIPT
  mkdir -p "$W/s$1/images"
  cp "$W/busybox.tar" "$W/s$1/images/"
  printf 'slug: %s\nname: Bench\nflavor: DockerCompose\nversion: "%s"\ndescription: bench\nauthor: bench\nlicense: MIT\nimages: [images/busybox.tar]\nsettle: 1\n' $SLUG "$1" >"$W/s$1/stack.yaml"
  printf 'services:\n  app:\n    image: %s\n    init: true\n    command: [sh, -c, "%s"]\n    volumes: ["./data:/data", "vol:/vol"]\nvolumes:\n  vol: {}\n' $TAG "$2" >"$W/s$1/compose.yaml"
  "$S" pack "$W/s$1" -o "$W/$1.stack" >/dev/null
  "$S" import "$W/$1.stack" >/dev/null
}
mk 1.0 'echo v1 > /vol/v && exec sleep 100000'
mk 1.5 'echo v15 > /vol/v && exec sleep 100000'
mk 2.0 'echo v2 > /vol/v && exec sleep 100000'
mk 3.0 'echo v3 > /vol/v && exit 1'
"$S" run $SLUG@1.0 >/dev/null
python3 - "$STACK_HOME/data/$SLUG/data" <<'PY'
import os, random, sys
rnd = random.Random(12)
for i in range(100):
    with open(f"{sys.argv[1]}/f{i:03}", "wb") as f: f.write(rnd.getrandbits(8 << 20).to_bytes(1 << 20, "little"))
PY
timings() { grep '^timing:' "$1" | awk '{printf "%s %s s, ", $2, $3}'; echo; }
now() { date +%s.%N; }

t0=$(now); "$S" run $SLUG@1.5 --timings >/dev/null 2>"$W/base.err"; t1=$(now)
base=$(echo "$t1 - $t0" | bc)
"$S" run $SLUG@1.0 >/dev/null 2>&1
t0=$(now); "$S" upgrade $SLUG --to 2.0 --timings >"$W/up.out" 2>"$W/up.err"; rc=$?; t1=$(now)
up=$(echo "$t1 - $t0" | bc)
echo "successful upgrade 1.0 -> 2.0 (exit $rc): $up s; baseline stack run of another version: $base s; ratio $(echo "scale=2; $up / $base" | bc) (the settle time, 1 s, is in it)"
echo "  steps: $(timings "$W/up.err")"
t0=$(now); set +e; "$S" upgrade $SLUG --to 3.0 --timings >"$W/rb.out" 2>"$W/rb.err"; rc=$?; set -e; t1=$(now)
echo "automatic rollback 2.0 -> 3.0 (exit $rc): $(echo "$t1 - $t0" | bc) s"
echo "  steps (new: stop, snapshot, down, up, wait; rollback: down, restore, checkout, images, up, wait, up): $(timings "$W/rb.err")"
"$S" snapshot $SLUG >"$W/s1.out"
python3 - "$STACK_HOME/data/$SLUG/data" <<'PY'
import os, sys
with open(f"{sys.argv[1]}/f050", "wb") as f: f.write(os.urandom(1 << 20))
PY
"$S" snapshot $SLUG >"$W/s2.out"
first=$("$S" snapshots $SLUG --json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v[0]["added"], v[-1]["added"], v[0]["size"])')
set -- $first
echo "second snapshot after 1% of 100 MiB changed: $1 bytes added ($(echo "scale=2; $1 / 1048576" | bc) MiB; target <= 2 MiB); the first snapshot of the data added $2 bytes (ratio $(echo "scale=4; $1 / ($2 + 1)" | bc)); data $3 bytes"
