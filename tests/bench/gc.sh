#!/usr/bin/env bash
# gc benchmark (issues 10 and 24), all figures from this run:
#  1. a store of about 10k objects, half of them garbage (a kept version holding half the objects, a collected
#     one holding the other half): `stack gc` wall time, with the time of the index sweep (a --dry-run does the
#     same SQL and the same pass over objects/, unlinking nothing) beside it;
#  2. the same with about 100k objects, against its floor: `rm` of exactly the files that gc removes (listed
#     by one gc of a copy), each on a fresh copy of the store, alternating, median of RUNS (5) with the spread,
#     on a quiet machine and with other work running (a CPU burner and a writer that fsyncs 32 MiB again and
#     again). Target: gc <= 1.3x the floor both ways, and < 2 s for 100k objects on tmpfs;
#  3. bytes added by importing a version that changes 1% of its files (target <= 2% of its size).
# BENCH_MODE=careful (the default, the project's conditions): the stores on a tmpfs when this may mount one
# (root), else under $TMPDIR. BENCH_MODE=plain: the stores on the machine's disk (under $TMPDIR, /var/tmp if
# that is a tmpfs), as a person's machine keeps them. Either way the previous round's copies are deleted
# (and synced) before a round starts, and the page cache holds the copies (just made).
# Prints; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
S=$PWD/$B/stack
MODE=${BENCH_MODE:-careful}
RUNS=${RUNS:-5}
base=${TMPDIR:-/tmp}
[ "$MODE" = plain ] && [ "$(df -T "$base" | awk 'NR==2 {print $2}')" = tmpfs ] && base=/var/tmp
W=$(mktemp -d "$base/stack-bench-gc.XXXXXX")
LOAD_PIDS=()
load_stop() {
  for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  LOAD_PIDS=()
}
cleanup() {
  load_stop
  chmod -R u+w "$W" 2>/dev/null || true
  umount "$W/fs" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$W/fs"
if [ "$MODE" != plain ] && mount -t tmpfs -o size=4g tmpfs "$W/fs" 2>/dev/null; then fs="tmpfs"; else
  fs="$(df -T "$W" | awk 'NR==2 {print $2}') ($(findmnt -no OPTIONS -T "$W" | tr ',' '\n' | grep -x -E 'discard|nodiscard' || echo 'no discard'))"
fi

# tree DIR SLUG VERSION NFILES SEED: a stack of NFILES small distinct files
tree() {
  python3 - "$@" <<'PY'
import os, sys
d, slug, ver, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
for k in range(0, n, 1000):
    os.makedirs("%s/f/%03d" % (d, k // 1000), exist_ok=True)
for i in range(n):
    with open("%s/f/%03d/%06d" % (d, i // 1000, i), "w") as f:
        f.write("%s object %d of %s\n" % (seed, i, slug) * 4)
open(d + "/stack.yaml", "w").write('slug: %s\nname: Bench\nflavor: DockerCompose\nversion: "%s"\n'
    'description: gc benchmark\nauthor: bench\nlicense: MIT\n' % (slug, ver))
open(d + "/compose.yaml", "w").write("services:\n  app:\n    image: busybox\n")
PY
}
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
spread() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | xargs printf '%.3f-%.3f'; }
# store HOME TOTAL: a store of TOTAL objects, half of them garbage for `gc --keep 1`
store() {
  local half=$(($2 / 2))
  rm -rf "$W/t"; tree "$W/t/kept" kept 1 "$half" kept; tree "$W/t/gone" gone 1 "$half" gone; tree "$W/t/gone2" gone 2 1 gone2
  for v in kept gone gone2; do
    "$S" pack "$W/t/$v" -o "$W/t/$v.stack" >/dev/null; STACK_HOME=$1 "$S" import "$W/t/$v.stack" >/dev/null
  done
  rm -rf "$W/t"
}
# The other work of a busy machine: a CPU burner and a writer that fsyncs.
load_start() {
  bash -c 'while :; do :; done' &
  LOAD_PIDS+=($!)
  bash -c 'while :; do dd if=/dev/zero of="$1" bs=1M count=32 conv=fsync status=none; done' _ "$W/load.bin" &
  LOAD_PIDS+=($!)
}
rm_floor() { (cd "$1" && xargs -d '\n' -a "$W/gone.lst" rm -f); }

printf 'gc: stores on %s, mode %s (%s); the copies of each round made just before it (page cache warm), the previous round'"'"'s deleted and synced first; load average at start %s\n' \
  "$fs" "$MODE" "$([ "$MODE" = plain ] && echo "on the disk" || echo "tmpfs when root may mount one")" "$(cut -d' ' -f1-3 /proc/loadavg)"
H=$W/fs/home-10000
store "$H" 10000
objects=$(find "$H/objects" -type f | wc -l)
dry=$(STACK_HOME=$H t "$S" gc --keep 1 --dry-run)
gc_10000=$(STACK_HOME=$H t "$S" gc --keep 1)
left=$(find "$H/objects" -type f | wc -l)
printf 'gc: %d objects (%d garbage): stack gc %.3f s (index sweep + pass over objects/, as --dry-run: %.3f s); %d objects left\n' \
  "$objects" "$((objects - left))" "$gc_10000" "$dry" "$left"
rm -rf "$H"

H=$W/fs/home-100000
store "$H" 100000
objects=$(find "$H/objects" -type f | wc -l)
dry=$(STACK_HOME=$H t "$S" gc --keep 1 --dry-run)
# The files gc removes: one gc of a copy, its objects/ listed before and after.
cp -a "$H" "$W/fs/list"
(cd "$W/fs/list" && find objects -type f | sort) >"$W/before.lst"
STACK_HOME=$W/fs/list "$S" gc --keep 1 >/dev/null
(cd "$W/fs/list" && find objects -type f | sort) >"$W/after.lst"
comm -23 "$W/before.lst" "$W/after.lst" >"$W/gone.lst"
rm -rf "$W/fs/list"
garbage=$(wc -l <"$W/gone.lst")
for cond in quiet busy; do
  g=(); f=(); loads=()
  [ "$cond" = busy ] && load_start
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$W/fs/g" "$W/fs/r"; sync
    cp -a "$H" "$W/fs/g"; cp -a "$H" "$W/fs/r"; sync
    if [ $((i % 2)) = 1 ]; then
      g+=("$(STACK_HOME=$W/fs/g t "$S" gc --keep 1)"); sync; f+=("$(t rm_floor "$W/fs/r")")
    else
      f+=("$(t rm_floor "$W/fs/r")"); sync; g+=("$(STACK_HOME=$W/fs/g t "$S" gc --keep 1)")
    fi
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  done
  load_stop
  rm -rf "$W/fs/g" "$W/fs/r"
  gm=$(median "${g[@]}"); fm=$(median "${f[@]}")
  ratio=$(echo "$gm/$fm" | bc -l)
  printf 'gc %s (%s): %d objects (%d garbage), median of %d alternating: stack gc %.3f s (spread %s) vs its floor, rm of exactly those %d files, %.3f s (spread %s); ratio %.2f (target <= 1.3: %s); load average during: %s\n' \
    "$cond" "$([ "$cond" = busy ] && echo "a CPU burner and a writer fsyncing 32 MiB in a loop" || echo "nothing of ours running beside it")" \
    "$objects" "$garbage" "$RUNS" "$gm" "$(spread "${g[@]}")" "$garbage" "$fm" "$(spread "${f[@]}")" "$ratio" \
    "$([ "$(echo "$ratio <= 1.3" | bc -l)" = 1 ] && echo met || echo missed)" "${loads[*]}"
  eval "gc_$cond=$gm"
done
printf 'gc: 100k vs 10k: %.1fx the time for 10x the objects (linear: 10x); index sweep as --dry-run %.3f s; 100k on %s %.3f s (target < 2 s on tmpfs: %s)\n' \
  "$(echo "$gc_quiet/$gc_10000" | bc -l)" "$dry" "$fs" "$gc_quiet" \
  "$(if [ "$fs" != tmpfs ]; then echo "not on tmpfs here"; elif [ "$(echo "$gc_quiet < 2" | bc -l)" = 1 ]; then echo met; else echo missed; fi)"
rm -rf "$H"

# Bytes added by a version that changes 1% of its files (1000 files of 16 KiB, 10 of them changed).
export STACK_HOME=$W/fs/home-dedup
rm -rf "$W/t"; mkdir -p "$W/t/v/f"
python3 - "$W/t/v" <<'PY'
import os, random, sys
d = sys.argv[1]; rnd = random.Random(7)
for i in range(1000):
    with open("%s/f/%04d" % (d, i), "wb") as f: f.write(rnd.getrandbits(8 * 16384).to_bytes(16384, "little"))
open(d + "/stack.yaml", "w").write('slug: dedup\nname: Bench\nflavor: DockerCompose\nversion: "1"\n'
    'description: gc benchmark\nauthor: bench\nlicense: MIT\n')
open(d + "/compose.yaml", "w").write("services:\n  app:\n    image: busybox\n")
PY
"$S" pack "$W/t/v" -o "$W/t/v1.stack" >/dev/null
"$S" import "$W/t/v1.stack" >/dev/null
size=$(du -sb --apparent-size "$W/t/v" | cut -f1)
python3 - "$W/t/v" <<'PY'
import sys
d = sys.argv[1]
for i in range(0, 1000, 100):
    with open("%s/f/%04d" % (d, i), "ab") as f: f.write(b"changed in 2\n")
y = open(d + "/stack.yaml").read().replace('version: "1"', 'version: "2"'); open(d + "/stack.yaml", "w").write(y)
PY
"$S" pack "$W/t/v" -o "$W/t/v2.stack" >/dev/null
added=$("$S" import "$W/t/v2.stack" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_added"])')
printf 'dedup: a version changing 1%% of its 1000 files added %d bytes, %.2f%% of its %.1f MiB (target <= 2%%)\n' \
  "$added" "$(echo "$added*100/$size" | bc -l)" "$(echo "$size/1048576" | bc -l)"
