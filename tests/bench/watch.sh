#!/usr/bin/env bash
# Watcher benchmark (issue 22, spec/run.md "Watching"), on the real Engine:
#  - the delay from a container's exit (exit 3, no restart policy) and from an OOM kill to the run's state
#    change in GET /runs (polled every 20 ms) and to the SSE "run" event on /events, measured from the Engine's
#    own State.FinishedAt; median of 5 each (target: under 1 s);
#  - the daemon's CPU use while it watches 20 running containers with an /events reader connected (the page
#    open), from /proc/<pid>/stat over 30 s (target: under 2% of one core).
# Prints; never fails. BUILD=build by default.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
bench_conditions watch "the Engine's own State.FinishedAt for the delays, /proc/PID/stat for the daemon's CPU; one way"
B=${BUILD:-build}
S=$PWD/$B/stack
D=/usr/bin/docker; [ -x "$D" ] || D=docker
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench-watch.XXXXXX")
export STACK_HOME="$W/home" STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
TAG=stack-bench/busybox-watch:1
PID=
cleanup() {
  for s in bwexit bwoom bwmany; do "$S" rm "$s" >/dev/null 2>&1 || true; done
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  "$D" rmi -f "$TAG" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh sleep head tail; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null
mkstack() { # SLUG COMPOSE
  mkdir -p "$W/$1"
  printf 'slug: %s\nname: %s\nflavor: DockerCompose\nversion: "1"\ndescription: watch bench\nauthor: bench\nlicense: MIT\n' \
    "$1" "$1" >"$W/$1/stack.yaml"
  printf '%s\n' "$2" >"$W/$1/compose.yaml"
  "$S" pack "$W/$1" -o "$W/$1.stack" >/dev/null && "$S" import "$W/$1.stack" >/dev/null
}
mkstack bwexit "services:
  app:
    image: $TAG
    command: [sh, -c, 'sleep 3; exit 3']"
mkstack bwoom "services:
  hog:
    image: $TAG
    mem_limit: 16m
    command: [sh, -c, 'sleep 3; head -c 200m /dev/zero | tail']"
many="services:"
for i in $(seq 1 20); do many="$many
  s$i:
    image: $TAG
    command: [sleep, '3600']"; done
mkstack bwmany "$many"

"$S" serve --port 0 2>"$W/serve.log" &
PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$W/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$W/serve.log")
TOKEN=$("$S" token --ttl 300)

# monitor RUN_ID: once the run's container has exited, "<GET /runs delay> <SSE delay>" in seconds from its
# State.FinishedAt.
cat >"$W/monitor.py" <<'PY'
import datetime, http.client, json, ssl, subprocess, sys, threading, time
port, token, cert, run, docker, project = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=cert)
hdr = {"Authorization": "Bearer " + token, "Host": "127.0.0.1:" + port}
seen = {}
def sse():
    c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=60)
    c.request("GET", "/events", headers=hdr)
    r = c.getresponse()
    while "sse" not in seen:
        line = r.fp.readline().decode()
        if not line:
            return
        if line.startswith("data: ") and '"id":"%s"' % run in line and '"state":"failed"' in line:
            seen["sse"] = time.time()
threading.Thread(target=sse, daemon=True).start()
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=60)
deadline = time.time() + 60
while "runs" not in seen and time.time() < deadline:
    c.request("GET", "/runs", headers=hdr)
    runs = json.loads(c.getresponse().read())["runs"]
    if any(x["id"] == run and x["state"] == "failed" for x in runs):
        seen["runs"] = time.time()
    time.sleep(0.02)
while "sse" not in seen and time.time() < deadline:
    time.sleep(0.02)
cid = subprocess.check_output([docker, "ps", "-aq", "--filter", "label=com.docker.compose.project=" + project]).split()[0]
fin = subprocess.check_output([docker, "inspect", "-f", "{{.State.FinishedAt}}", cid]).decode().strip()
# 2026-12-05T23:01:02.123456789Z -> seconds
base, frac = fin.rstrip("Z").split(".")
t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
t += float("0." + frac)
print("%.3f %.3f" % (seen.get("runs", float("nan")) - t, seen.get("sse", float("nan")) - t))
PY

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
trial() { # SLUG: one exit measured
  "$S" run "$1" --offline >/dev/null 2>&1 || { echo "nan nan"; return; }
  local id
  id=$(sqlite3 "$STACK_HOME/index.db" "SELECT id FROM runs WHERE slug = '$1'")
  python3 "$W/monitor.py" "$PORT" "$TOKEN" "$STACK_HOME/keys/api-cert.pem" "$id" "$D" "stack-$1" 2>>"$W/monitor.err" || echo "nan nan"
  "$S" rm "$1" >/dev/null 2>&1
}
for slug in bwexit bwoom; do
  : >"$W/$slug.txt"
  for _ in $(seq 1 "${TRIALS:-5}"); do trial "$slug" >>"$W/$slug.txt"; done
  what=$([ "$slug" = bwexit ] && echo "container exit" || echo "OOM kill")
  printf 'watch: %-15s -> GET /runs: median %s s; -> SSE run event: median %s s (%s trials: %s)\n' "$what" \
    "$(cut -d' ' -f1 "$W/$slug.txt" | median)" "$(cut -d' ' -f2 "$W/$slug.txt" | median)" "${TRIALS:-5}" \
    "$(tr '\n' ',' <"$W/$slug.txt" | sed 's/,$//')"
done

[ -s "$W/monitor.err" ] && echo "watch: the monitor failed: $(tail -3 "$W/monitor.err")"
"$S" run bwmany --offline >/dev/null 2>&1 || echo "watch: bwmany did not start"
n=$("$D" ps -q --filter label=com.docker.compose.project=stack-bwmany | wc -l)
curl -sS -N --cacert "$STACK_HOME/keys/api-cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.1:$PORT/events" >/dev/null 2>&1 &
EV=$!
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
t0=$(ticks)
sleep 30
t1=$(ticks)
kill "$EV" 2>/dev/null
hz=$(getconf CLK_TCK)
awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "watch: daemon CPU while watching %d containers with /events open: %.2f%% of one core over 30 s (target < 2%%)\n", n, d / hz / 30 * 100}'
