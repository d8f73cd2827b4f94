#!/usr/bin/env bash
# API benchmark (issue 9): `stack serve` on a free loopback port, driven by wrk over HTTPS with keep-alive:
#  - GET /health (no auth), what the catalog website calls first;
#  - GET /runs with Authorization: Bearer <stack token> (JWT verify + an index read per request).
# Prints requests/s and the p99 latency of each (wrk --latency). CONNS (32), THREADS (2) and SECS (10) tune
# wrk. Prints; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
B=${BUILD:-build}
S=$PWD/$B/stack
CONNS=${CONNS:-32} THREADS=${THREADS:-2} SECS=${SECS:-10}
[ -x "$S" ] || scripts/build >/dev/null
command -v wrk >/dev/null || { echo "api bench: wrk is not installed (scripts/install-deps)"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench-api.XXXXXX")
export STACK_HOME="$W/home"
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT

"$S" serve --port 0 2>"$W/serve.log" &
PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$W/serve.log" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$W/serve.log")
[ -n "$PORT" ] || { echo "api bench: the daemon did not start: $(cat "$W/serve.log")"; exit 0; }
curl -sS --cacert "$STACK_HOME/keys/api-cert.pem" "https://127.1:$PORT/health" >/dev/null

# measure NAME PATH [WRK ARGS]: one wrk run; prints "NAME: R req/s, p99 L (N requests, E errors)".
measure() {
  local name=$1 path=$2; shift 2
  local out rps p99 reqs errs
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$@" "https://127.1:$PORT$path")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  printf '%-34s %10s req/s   p99 %8s   (%s requests, %s non-2xx)\n' "$name" "$rps" "$p99" "$reqs" "${errs:-0}"
}
bench_conditions api "wrk against GET /health and GET /runs of stack serve itself (no other server); one way: no store or download in it"
echo "wrk: $THREADS threads, $CONNS keep-alive connections, ${SECS}s each, HTTPS on loopback ($(nproc) CPUs)"
measure "GET /health" /health
measure "GET /runs (Bearer JWT)" /runs -H "Authorization: Bearer $("$S" token --ttl 300)"
