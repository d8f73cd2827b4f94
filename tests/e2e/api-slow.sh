#!/usr/bin/env bash
# The API stays available (spec/api.md "Slow clients"): 70 TLS slow-loris connections that each send one header
# line every 2 s, plus idle TCP sockets that never start TLS, do not lock out another client (/health answers
# within 2 s all along), and every one of them is cut within the request deadline (10 s, not reset by what
# they trickle). Then an anonymous POST /run from the allowed origin for a stack that is running changes
# nothing about it: the front door keeps answering with the running stack (no "waiting" placeholder), before
# and after `stack deny`, and its container is the same one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/busybox-apislow:$U"
ORIGIN=http://localhost:8123
CA=$STACK_HOME/keys/ca.pem
P=$STACK_PROXY_PORT
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^slow[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"

LOG=$W/serve.log
"$S" serve --port 0 --origin "$ORIGIN" 2>"$LOG" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
[ -n "$PORT" ] || die "daemon did not start: $(cat "$LOG")"
CERT=$STACK_HOME/keys/api-cert.pem

info "api_slow_loris_clients_are_cut_within_the_deadline_and_others_get_through"
python3 - "$PORT" "$CERT" >"$W/slow.out" 2>&1 <<'PY' || die "slow loris: $(cat "$W/slow.out")"
import select, socket, ssl, subprocess, sys, time
port, cert = int(sys.argv[1]), sys.argv[2]
DEADLINE, SLACK = 10, 3
ctx = ssl.create_default_context(cafile=cert)
conns = []  # [sock, opened_at, closed_at]
t0 = time.monotonic()
for i in range(70):
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.1:{port}\r\n".encode())
        conns.append([s, time.monotonic(), None])
    except (OSError, ssl.SSLError):  # cut at once to make room: closed at open
        conns.append([raw, time.monotonic(), time.monotonic()])
idle = [[socket.create_connection(("127.0.0.1", port), timeout=5), time.monotonic(), None] for _ in range(5)]
print(f"opened 70 slow TLS + 5 idle TCP connections in {time.monotonic() - t0:.1f}s")

def health():
    t = time.monotonic()
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", cert, f"https://127.1:{port}/health"],
                       capture_output=True, text=True)
    return r.returncode == 0 and r.stdout == "OK", time.monotonic() - t, r.stderr.strip()

checks, last_send, end = [], time.monotonic(), time.monotonic() + DEADLINE + SLACK + 2
next_check = time.monotonic() + 1
while time.monotonic() < end:
    now = time.monotonic()
    if now - last_send >= 2:  # one more header line on every open slow connection: it never goes idle
        last_send = now
        for c in conns:
            if c[2] is None:
                try:
                    c[0].sendall(b"X-Slow: still here\r\n")
                except (OSError, ssl.SSLError):
                    c[2] = now
    for c in conns + idle:
        if c[2] is None:
            r, _, _ = select.select([c[0]], [], [], 0)
            if r:
                try:
                    if c[0].recv(1024) == b"":
                        c[2] = now
                except (OSError, ssl.SSLError):
                    c[2] = now
    if now >= next_check:
        next_check = now + 3
        checks.append(health())
    time.sleep(0.2)
print("health checks (ok, seconds):", [(ok, round(t, 2)) for ok, t, _ in checks])
assert checks and all(ok and t < 2 for ok, t, _ in checks), f"/health was slow or refused during the attack: {checks}"
open_ = [c for c in conns + idle if c[2] is None]
assert not open_, f"{len(open_)} slow connections still open after {DEADLINE + SLACK + 2}s"
worst = max(c[2] - c[1] for c in conns + idle)
print(f"every slow connection cut; the longest lived {worst:.1f}s")
assert worst <= DEADLINE + SLACK, f"a slow connection lived {worst:.1f}s (deadline {DEADLINE}s)"
PY
info "$(tr '\n' ' ' <"$W/slow.out")"
kill -0 "$PID" 2>/dev/null || die "daemon died under the slow clients"
grep -q 'connection closed: no complete request within the deadline' "$LOG" || die "no deadline cut in the log"

info "api_anonymous_run_of_a_running_stack_changes_nothing"
build_busybox_image "$TAG" "$W/img" httpd sh
A=slow$U
mkdir -p "$W/$A"
cat >"$W/$A/stack.yaml" <<Y
slug: $A
name: E2E $A
flavor: DockerCompose
version: "1"
description: a running stack an anonymous request must not touch
author: tests
license: MIT
Y
printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' "$A" >"$W/$A/.env"
cat >"$W/$A/compose.yaml" <<Y
services:
  web:
    image: $TAG
    command: ["sh", "-c", "echo 'running $A' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(\`\${PROJECT}.\${DOMAIN}\`)
      traefik.http.services.web.loadbalancer.server.port: "8080"
Y
assert_exit 0 "$S" pack "$W/$A" -o "$W/$A.stack"
assert_exit 0 "$S" import "$W/$A.stack"
assert_exit 0 "$S" run "$A"
get() { curl -sS --max-time 10 --cacert "$CA" "$@"; }
assert_eq "running $A" "$(get "https://$A.stack.localhost:$P/")" "the running stack through the front door"
cid=$("$D" ps -q --filter "label=io.stack.slug=$A")
[ -n "$cid" ] || die "no container for $A"
code=$(curl -sS --cacert "$CERT" -o "$W/post.b" -w '%{http_code}' -X POST -H "Origin: $ORIGIN" \
  -H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary "{\"slug\": \"$A\"}" "https://127.1:$PORT/run")
assert_eq 202 "$code" "anonymous POST /run of a running stack: $(cat "$W/post.b")"
REQ=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/post.b")
sleep 2 # the worker would have switched the front door by now
assert_eq pending "$(sqlite3 "$STACK_HOME/index.db" "SELECT state FROM api_requests WHERE id = '$REQ'")" "request state"
for i in 1 2 3; do
  assert_eq "running $A" "$(get "https://$A.stack.localhost:$P/")" "front door while an anonymous request waits ($i)"
  sleep 0.5
done
assert_exit 0 "$S" deny "$A" --reason "not asked for"
sleep 2
assert_eq "running $A" "$(get "https://$A.stack.localhost:$P/")" "front door after stack deny"
assert_eq "$cid" "$("$D" ps -q --filter "label=io.stack.slug=$A")" "the same container runs"
assert_exit 0 "$S" rm "$A"
kill "$PID"
wait "$PID" || die "daemon exited non-zero: $(tail -5 "$LOG")"
