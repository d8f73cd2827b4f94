#!/usr/bin/env bash
# gc benchmark (issue 10, target: 100k objects under 2 s, growing no worse than linearly), all figures from this run:
#  1. stores of about 10k and 100k objects, half of them garbage (a kept version holding half the objects, a
#     collected one holding the other half): `stack gc` wall time for each, with the time of the index sweep
#     (a --dry-run does the same SQL and the same pass over objects/, unlinking nothing) beside it;
#  2. bytes added by importing a version that changes 1% of its files (target <= 2% of its size).
# The stores live on a tmpfs when this may mount one (root), else under $TMPDIR: unlinking is the file system's
# cost, and an ext4 mounted with `discard` pays ~1.5 ms per unlinked file, which no gc can avoid.
# Prints; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
S=$PWD/$B/stack
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench-gc.XXXXXX")
cleanup() {
  chmod -R u+w "$W" 2>/dev/null || true
  umount "$W/fs" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$W/fs"
if mount -t tmpfs -o size=4g tmpfs "$W/fs" 2>/dev/null; then fs="tmpfs"; else fs=$(df -T "$W" | awk 'NR==2 {print $2}'); fi

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

printf 'gc: stores on %s\n' "$fs"
for total in 10000 100000; do
  half=$((total / 2))
  export STACK_HOME=$W/fs/home-$total
  rm -rf "$W/t"; tree "$W/t/kept" kept 1 "$half" kept; tree "$W/t/gone" gone 1 "$half" gone; tree "$W/t/gone2" gone 2 1 gone2
  for v in kept gone gone2; do "$S" pack "$W/t/$v" -o "$W/t/$v.stack" >/dev/null; "$S" import "$W/t/$v.stack" >/dev/null; done
  objects=$(find "$STACK_HOME/objects" -type f | wc -l)
  dry=$(t "$S" gc --keep 1 --dry-run)
  real=$(t "$S" gc --keep 1)
  left=$(find "$STACK_HOME/objects" -type f | wc -l)
  printf 'gc: %d objects (%d garbage): stack gc %.3f s (index sweep + pass over objects/, as --dry-run: %.3f s); %d objects left\n' \
    "$objects" "$((objects - left))" "$real" "$dry" "$left"
  eval "gc_$total=$real"
  chmod -R u+w "$STACK_HOME"; rm -rf "$STACK_HOME"
done
printf 'gc: 100k vs 10k: %.1fx the time for 10x the objects (linear: 10x); 100k target < 2 s: %s\n' \
  "$(echo "$gc_100000/$gc_10000" | bc -l)" "$(if [ "$(echo "$gc_100000 < 2" | bc -l)" = 1 ]; then echo met; else echo missed; fi)"

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
