#!/usr/bin/env bash
# Run benchmark (issue 4, DESIGN.md section 9), one run:
#  - cold first `stack run` of a stack with an image archive, broken down into fetch / checkout / images / up /
#    wait (--timings), from a file:// catalog;
#  - warm `stack run` of the stack that ran before (stopped in between) against `docker-compose up -d` of the
#    same project in the same run dir (also from stopped), median of 7 each, alternating. Target <= 1.05 (issue
#    4); since issue 14 the re-run starts the containers through the Engine: target <= 0.6, and how many of the
#    7 took that path (`stack run --json` "relaunch"), then one re-run's --timings.
# BENCH_MODE=careful (the default) or plain: the same here but for where the store lives (plain: the machine's
# disk, /var/tmp if $TMPDIR is a tmpfs); both print the baseline's conditions (the same run dir, containers
# stopped before each run, the Engine's image cache warm). Prints; never fails. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
S=$PWD/$B/stack
D=/usr/bin/docker; [ -x "$D" ] || D=docker
MODE=${BENCH_MODE:-careful}
wdir=${TMPDIR:-/tmp}
[ "$MODE" = plain ] && [ "$(df -T "$wdir" | awk 'NR==2 {print $2}')" = tmpfs ] && wdir=/var/tmp
W=$(mktemp -d "$wdir/stack-bench-run.XXXXXX")
export STACK_HOME="$W/home" STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
cleanup() {
  "$S" rm benchweb --purge >/dev/null 2>&1 || true
  "$D" rmi -f stack-bench/busybox:1 >/dev/null 2>&1 || true
  chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs/bin" "$W/src/images" "$W/src/site" "$W/cat"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh httpd sleep; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - stack-bench/busybox:1 >/dev/null
"$D" save -o "$W/src/images/busybox.tar" stack-bench/busybox:1
"$D" rmi -f stack-bench/busybox:1 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/src/stack.yaml" <<Y
slug: benchweb
name: Bench web
flavor: DockerCompose
version: "1.0"
description: run benchmark
author: bench
license: MIT
images: [images/busybox.tar]
ports: [{service: web, port: 8080}]
Y
cat >"$W/src/compose.yaml" <<Y
services:
  web:
    image: stack-bench/busybox:1
    command: [httpd, -f, -p, "8080", -h, /www]
    volumes: ["./site:/www:ro"]
    ports: ["$port:8080"]
  worker:
    image: stack-bench/busybox:1
    command: [sleep, "3600"]
Y
echo hi >"$W/src/site/index.html"
"$S" pack "$W/src" -o "$W/cat/benchweb-1.0.stack" >/dev/null
"$S" keygen "$W/key" >/dev/null
"$S" catalog build "$W/cat" --key "$W/key.key" >/dev/null
"$S" trust add "$W/key.pub" >/dev/null
bundle=$(stat -c %s "$W/cat/benchweb-1.0.stack")

echo "cold first run (bundle $((bundle / 1024)) KiB with a $(($(stat -c %s "$W/src/images/busybox.tar") / 1024)) KiB image archive, file:// catalog):"
s=$(date +%s.%N)
"$S" run benchweb --catalog "file://$W/cat" --timings --quiet 2>&1 >/dev/null | sed 's/^timing: /  /'
e=$(date +%s.%N)
printf '  total    %.3f s\n' "$(echo "$e - $s" | bc -l)"

rundir="$STACK_HOME/runs/benchweb"
t() { local s e; s=$(date +%s.%N); "$@" >"$W/last.out" 2>/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
ours=(); base=(); engine=0
for _ in 1 2 3 4 5 6 7; do
  "$S" stop benchweb >/dev/null
  ours+=("$(t "$S" run benchweb --json)")
  grep -q '"relaunch": *"engine"' "$W/last.out" && engine=$((engine + 1))
  "$S" stop benchweb >/dev/null
  base+=("$(cd "$rundir" && PROJECT=benchweb DOMAIN=stack.localhost t docker-compose -p stack-benchweb -f .stack-compose.yaml up -d)")
done
om=$(median "${ours[@]}"); bm=$(median "${base[@]}")
spread() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | xargs printf '%.3f-%.3f'; }
printf 'warm run conditions (%s): store on %s under %s; stack run and the baseline alternate, each from stopped containers of the same project and run dir, the image in the Engine; load average %s\n' \
  "$MODE" "$(df -T "$W" | awk 'NR==2 {print $2}')" "$wdir" "$(cut -d' ' -f1-3 /proc/loadavg)"
ratio=$(echo "$om / $bm" | bc -l)
printf 'warm run: stack run %.3f s; baseline docker-compose up -d (same project, same run dir) %.3f s; ratio %.3f (target <= 1.05)\n' \
  "$om" "$bm" "$ratio"
printf 'warm re-run ratio (issues 14 and 24, median of 7 alternating, %d of 7 through the Engine): %.3f (target <= 0.45); spread stack run %s, baseline %s\n' \
  "$engine" "$ratio" "$(spread "${ours[@]}")" "$(spread "${base[@]}")"
printf '  each (s): stack run %s; docker-compose up -d %s\n' "$(printf '%.3f ' "${ours[@]}")" "$(printf '%.3f ' "${base[@]}")"
"$S" stop benchweb >/dev/null
echo "one warm re-run, --timings:"
"$S" run benchweb --timings --quiet 2>&1 >/dev/null | sed 's/^timing: /  /'
