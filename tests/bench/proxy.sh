#!/usr/bin/env bash
# Proxy benchmark (issue 11): requests/s and p99 latency of one small page through the front door
# (https://bench.stack.localhost:PORT, TLS from stack's CA, keep-alive, Caddy's reverse_proxy) against the same
# upstream on its loopback port directly (plain HTTP, keep-alive). The upstream is a second Caddy answering a
# static 2 KiB body, so the upstream itself is not the limit. CONNS (32), THREADS (2), SECS (10) tune wrk.
# Prints the ratio; never fails the suite. BUILD=build by default.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/bench/lib.sh # bench_conditions, secs, median, ratio, fmt, mib
B=${BUILD:-build}
S=$PWD/$B/stack
CONNS=${CONNS:-32} THREADS=${THREADS:-2} SECS=${SECS:-10}
[ -x "$S" ] || scripts/build >/dev/null
command -v wrk >/dev/null || { echo "proxy bench: wrk is not installed (scripts/install-deps)"; exit 0; }
command -v caddy >/dev/null || { echo "proxy bench: caddy is not installed (scripts/install-deps)"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/stack-bench-proxy.XXXXXX")
export STACK_HOME="$W/home"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export STACK_PROXY_PORT=$(free_port)
UP=$(free_port)
UP_PID=
cleanup() {
  "$S" proxy stop >/dev/null 2>&1 || true
  if [ -n "$UP_PID" ]; then kill "$UP_PID" 2>/dev/null || true; wait "$UP_PID" 2>/dev/null || true; fi
  chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT

body=$(head -c 2048 /dev/zero | tr '\0' 'x')
cat >"$W/upstream.json" <<JSON
{"admin":{"disabled":true},"logging":{"logs":{"default":{"level":"ERROR"}}},
 "apps":{"http":{"servers":{"up":{"listen":["127.0.0.1:$UP"],"protocols":["h1"],"automatic_https":{"disable":true},
  "routes":[{"handle":[{"handler":"static_response","status_code":200,"body":"$body"}]}]}}}}}
JSON
mkdir -p "$W/up"
HOME=$W/up XDG_CONFIG_HOME=$W/up XDG_DATA_HOME=$W/up caddy run --config "$W/upstream.json" >"$W/up.log" 2>&1 &
UP_PID=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$UP/" >/dev/null 2>&1 && break; sleep 0.1; done
"$S" proxy route bench "127.0.0.1:$UP" >/dev/null
URL="https://bench.stack.localhost:$STACK_PROXY_PORT/"
curl -fsS --cacert "$STACK_HOME/keys/ca.pem" "$URL" >/dev/null || { echo "proxy bench: the proxy does not answer"; exit 0; }

# wrk resolves names with getaddrinfo, which knows nothing of *.localhost: give it an /etc/hosts of its own in a
# private mount namespace (root or unprivileged user namespaces needed; the machine's file is not touched).
printf '127.0.0.1 localhost bench.stack.localhost\n' >"$W/hosts"
WRK=(unshare -m --propagation private sh -c 'mount --bind "$0" /etc/hosts && exec wrk "$@"' "$W/hosts")
if ! "${WRK[@]}" -d1s -c1 -t1 "http://127.0.0.1:$UP/" >/dev/null 2>&1; then
  WRK=(unshare -r -m --propagation private sh -c 'mount --bind "$0" /etc/hosts && exec wrk "$@"' "$W/hosts")
  "${WRK[@]}" -d1s -c1 -t1 "http://127.0.0.1:$UP/" >/dev/null 2>&1 \
    || { echo "proxy bench: cannot give wrk a hosts file (no mount namespace); skipped"; exit 0; }
fi

# measure NAME URL: one wrk run; sets RPS and P99_MS, prints a line.
measure() {
  local out p99
  out=$("${WRK[@]}" -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$2")
  RPS=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  P99_MS=$(awk -v v="$p99" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; print n }')
  printf '%-44s %10s req/s   p99 %8s\n' "$1" "$RPS" "$p99"
}
bench_conditions proxy "the same upstream (a second Caddy, 2 KiB static body) on its loopback port directly; one way"
echo "wrk: $THREADS threads, $CONNS keep-alive connections, ${SECS}s each, 2 KiB body, loopback ($(nproc) CPUs)"
measure "upstream directly (http://127.0.0.1:$UP/)" "http://127.0.0.1:$UP/"
d_rps=$RPS d_p99=$P99_MS
measure "through the proxy (https, stack's CA)" "$URL"
awk -v dr="$d_rps" -v pr="$RPS" -v dp="$d_p99" -v pp="$P99_MS" \
  'BEGIN { printf "proxy/direct: requests/s %.2fx, p99 %.2fx\n", pr / dr, pp / dp }'
