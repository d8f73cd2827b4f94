#!/usr/bin/env bash
# Store benchmark (issue 2, DESIGN.md section 9), all figures measured in this one run:
#  1. SHA-256 throughput of the store's digest vs mbedTLS (bench-hash).
#  2. `stack import` of a 256 MiB (unpacked) mixed bundle vs the naive `zstd -dc | tar -x` + `sha256sum` of
#     the same bundle (median of 3 runs each, page cache warm for both).
#  3. Peak RSS of that import.
#  4. Ingesting version N+1 that changes 1% of the files: bytes it adds to the store (target <= 2%).
# Prints; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
S=$B/stack
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench.XXXXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

"$B/bench-hash"

. tests/bench/lib.sh
bench_conditions store "zstd -dc | tar -x + sha256sum of the same bundle, and mbedTLS for the hash; one way"
mixed_tree "$W/tree"
"$S" pack "$W/tree" -o "$W/bench.stack" >/dev/null
unpacked=$(du -sb --apparent-size "$W/tree" | cut -f1)
bundle=$(stat -c %s "$W/bench.stack")
nfiles=$(find "$W/tree" -type f | wc -l)
printf 'bundle: %d files, %.1f MiB unpacked, %.1f MiB zstd\n' "$nfiles" "$(echo "$unpacked/1048576" | bc -l)" \
  "$(echo "$bundle/1048576" | bc -l)"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
naive() {
  rm -rf "$W/naive"; mkdir "$W/naive"
  zstd -dc "$W/bench.stack" | tar -x -C "$W/naive"
  find "$W/naive" -type f -print0 | xargs -0 sha256sum >/dev/null
}
ours() {
  chmod -R u+w "$W/home" 2>/dev/null || true; rm -rf "$W/home"
  STACK_HOME="$W/home" "$S" import "$W/bench.stack"
}
cat "$W/bench.stack" >/dev/null   # warm the page cache for both
naive; ours >/dev/null; sync     # one warm-up run each
n=(); o=()
for _ in 1 2 3; do
  sync; n+=("$(t naive)")
  sync; o+=("$(t ours)")
done
nm=$(median "${n[@]}"); om=$(median "${o[@]}")
printf 'import: stack import %.3f s (%.0f MB/s unpacked, durable: 2 syncfs); baseline zstd -dc | tar -x + sha256sum %.3f s; ratio %.2f\n' \
  "$om" "$(echo "$unpacked/$om/1000000" | bc -l)" "$nm" "$(echo "$om/$nm" | bc -l)"

chmod -R u+w "$W/home"; rm -rf "$W/home"
rss=$( { STACK_HOME="$W/home" /usr/bin/time -f '%M' "$S" import "$W/bench.stack" >/dev/null; } 2>&1 | tail -1)
printf 'memory: peak RSS of stack import %.1f MiB\n' "$(echo "$rss/1024" | bc -l)"

# Version N+1: 1% of the files change (every 100th file gets one line appended), plus stack.yaml.
python3 - "$W/tree" <<'PY'
import os, sys
root = sys.argv[1]; files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for p in files[::100]:
    with open(p, "a") as f: f.write("changed in 1.1\n")
y = open(root + "/stack.yaml").read().replace('version: "1.0"', 'version: "1.1"'); open(root + "/stack.yaml", "w").write(y)
PY
"$S" pack "$W/tree" -o "$W/bench-1.1.stack" >/dev/null
before=$(du -sb "$W/home/objects" | cut -f1)
STACK_HOME="$W/home" "$S" import "$W/bench-1.1.stack" >/dev/null
after=$(du -sb "$W/home/objects" | cut -f1)
printf 'dedup: version N+1 changing 1%% of %d files added %.2f%% of its %.1f MiB to the store (target <= 2%%)\n' \
  "$nfiles" "$(echo "($after-$before)*100/$unpacked" | bc -l)" "$(echo "$unpacked/1048576" | bc -l)"
