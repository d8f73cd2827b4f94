# Shared by the benchmarks (source it).

# mixed_tree DIR: the 256 MiB mixed stack tree the store and fetch benchmarks both measure (seeded: the same
# bytes every time).
mixed_tree() {
# A mixed tree: 4 x 32 MiB incompressible blobs (like image layers), 64 x 1 MiB incompressible files,
# 1600 text-like files of 16-64 KiB (compressible), 2048 small config-sized files.
python3 - "$1" <<'PY'
import os, random, sys, base64
root = sys.argv[1]; rnd = random.Random(42)
os.makedirs(root + "/images"); os.makedirs(root + "/lib"); os.makedirs(root + "/docs"); os.makedirs(root + "/conf")
def blob(n): return rnd.getrandbits(8 * n).to_bytes(n, "little")
for i in range(4):
    with open(f"{root}/images/layer{i}.tar", "wb") as f:
        for _ in range(32): f.write(blob(1 << 20))
for i in range(64):
    with open(f"{root}/lib/mod{i:02}.so", "wb") as f: f.write(blob(1 << 20))
words = [base64.b32encode(blob(5)).decode().lower() for _ in range(4000)]
for i in range(1600):
    n = rnd.randint(16, 64) * 1024; out = []; size = 0
    while size < n:
        w = rnd.choice(words); out.append(w); size += len(w) + 1
    with open(f"{root}/docs/page{i:04}.md", "w") as f: f.write(" ".join(out)[:n])
for i in range(2048):
    with open(f"{root}/conf/c{i:04}.conf", "w") as f: f.write(f"key{i} = {rnd.random()}\n" * rnd.randint(1, 40))
open(f"{root}/stack.yaml", "w").write('slug: bench\nname: Bench\nflavor: DockerCompose\nversion: "1.0"\n'
    'description: benchmark\nauthor: bench\nlicense: MIT\n')
open(f"{root}/compose.yaml", "w").write("services:\n  app:\n    image: busybox\n")
PY
}

# secs CMD...: CMD's wall time in seconds; fails when CMD does. median V...: the median of the values that are not
# "-" ("-" when none is). ratio A B: A/B to two decimals ("n/a" when either is "-"). fmt V: "1.234 s", or why not.
# mib BYTES: "1.50 MiB".
secs() {
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || return 1
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }
ratio() { if [ "$1" != - ] && [ "$2" != - ]; then printf '%.2f' "$(echo "$1/$2" | bc -l)"; else echo "n/a"; fi; }
fmt() { if [ "$1" != - ]; then printf '%.3f s' "$1"; else echo "not measured (stack failed)"; fi; }
mib() { printf '%.2f MiB' "$(echo "$1/1048576" | bc -l)"; }

# bench_conditions NAME BASELINE [DIR]: one line saying under what conditions NAME's baseline was measured: the
# baseline itself, the file system of DIR (default $TMPDIR or /tmp), the page cache (never dropped: warm), the
# load average, the CPUs, and BENCH_MODE (careful unless plain; a bench without a plain way says it has one way).
bench_conditions() {
  local dir=${3:-${TMPDIR:-/tmp}} fs
  fs=$(df -T "$dir" 2>/dev/null | awk 'NR==2 {print $2}')
  printf '%s conditions: baseline %s; work dir %s on %s; page cache warm (never dropped); load average %s; %s CPUs; mode %s\n' \
    "$1" "$2" "$dir" "${fs:-?}" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "${BENCH_MODE:-careful}"
}
