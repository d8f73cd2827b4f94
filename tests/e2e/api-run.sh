#!/usr/bin/env bash
# POST /run end to end: the real daemon, a signed http catalog holding a real stack (a busybox httpd whose image
# ships in the bundle), the real Engine. An anonymous POST from the allowed origin streams "waiting for
# approval", stack ps shows it pending, stack approve runs it and the stream ends "running: <address>"; /events
# sees the state change; /runs, /runs/{id}, /runs/{id}/stop; stack deny ends a stream "denied: <reason>" after
# a pause longer than the server's idle timeout; requests from another origin, without a JSON content type or
# without Origin create no row; URLs outside the catalog, file: URLs and local paths are refused with nothing
# fetched; unknown slug 404; bad JSON / no slug 400; a bad token 401 from the allowed origin; Accept: JSON
# gets 202; a token and a trusted stack start without approval; pending requests expire; with no Engine the
# daemon still answers and says so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-api:$$"
U=$$
SLUG=e2eapi$U
ORIGIN=http://localhost:8123
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

# --- a real stack in a signed http catalog -----------------------------------------------------------------
mkdir -p "$W/rootfs/bin" "$W/rootfs/www" "$W/stk/images" "$W/stk/site" "$W/cat"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh httpd; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null
"$D" save -o "$W/stk/images/busybox.tar" "$TAG"
"$D" rmi -f "$TAG" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/stk/stack.yaml" <<Y
slug: $SLUG
name: API e2e
flavor: DockerCompose
version: "1.0"
description: started through POST /run
author: tests
license: MIT
images: [images/busybox.tar]
ports: [{service: web, port: 8080, label: Web page}]
Y
cat >"$W/stk/compose.yaml" <<Y
services:
  web:
    image: $TAG
    command: [httpd, -f, -p, "8080", -h, /www]
    volumes: ["./site:/www:ro"]
    ports: ["$port:8080"]
Y
echo "<h1>hello from the API</h1>" >"$W/stk/site/index.html"
run_ok pack "$S" pack "$W/stk" -o "$W/cat/$SLUG-1.0.stack"
run_ok keygen "$S" keygen "$W/pub"
run_ok "catalog build" "$S" catalog build "$W/cat" --key "$W/pub.key"
trust_key "$W/pub"
start_catalog "$W/cat"
BUNDLE_URL=$CATALOG_URL/$SLUG-1.0.stack

# --- the daemon ----------------------------------------------------------------------------------------------
LOG=$W/serve.log
SERVE_FLAGS=()
start_daemon() { # extra env as arguments (K=V ...); extra flags in SERVE_FLAGS
  env "$@" "$S" serve --port 0 --origin "$ORIGIN" --catalog "$CATALOG_URL" "${SERVE_FLAGS[@]}" 2>"$LOG" &
  PID=$!
  on_exit "kill $PID"
  for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" && break; sleep 0.1; done
  PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
  [ -n "$PORT" ] || die "daemon did not start: $(cat "$LOG")"
}
stop_daemon() { kill "$PID"; wait "$PID" || die "daemon exited non-zero: $(tail -5 "$LOG")"; }
# a notify-send that records what it was asked to show
mkdir -p "$W/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s/notified"\n' "$W" >"$W/bin/notify-send"
chmod +x "$W/bin/notify-send"
start_daemon PATH="$W/bin:$PATH"
CERT=$STACK_HOME/keys/api-cert.pem
B="https://127.1:$PORT"
cu() { curl -sS --cacert "$CERT" "$@"; }
# post NAME JSON CURL-ARGS...: POST /run, $W/NAME.h and $W/NAME.b; prints the status.
post() { local n=$1 body=$2; shift 2; cu -D "$W/$n.h" -o "$W/$n.b" -w '%{http_code}' -X POST --data-binary "$body" "$@" "$B/run"; }
anon=(-H "Origin: $ORIGIN" -H 'Content-Type: application/json')
rows() { sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM api_requests' 2>/dev/null || echo 0; }
row_state() { sqlite3 "$STACK_HOME/index.db" "SELECT state FROM api_requests WHERE id = '$1'"; }
wait_line() { # FILE TEXT: wait until FILE holds TEXT
  for _ in $(seq 1 300); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  die "no [$2] in $1: $(cat "$1" 2>/dev/null)"
}
wait_pid() { # PID SECONDS
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || { wait "$1" || true; return 0; }; sleep 0.1; done
  die "process $1 still running after $2 s"
}
TOKEN=$("$S" token --ttl 300)
auth=(-H "Authorization: Bearer $TOKEN")

info "events: subscribe before anything happens"
cu -N "${auth[@]}" "$B/events" >"$W/events" 2>/dev/null &
EV=$!
on_exit "kill $EV"
wait_line "$W/events" ': stack events'

info "1. anonymous POST /run with the bundle URL from the allowed origin waits, stack approve runs it"
cu -N -D "$W/s1.h" -X POST "${anon[@]}" --data-binary "{\"slug\": \"$BUNDLE_URL\"}" "$B/run" >"$W/s1" &
C1=$!
wait_line "$W/s1" "^waiting for approval: stack approve $SLUG   (request [0-9a-f]\{16\})$"
grep -qi '^content-type: text/plain; charset=utf-8' "$W/s1.h" || die "stream headers: $(cat "$W/s1.h")"
grep -qi "^access-control-allow-origin: $ORIGIN" "$W/s1.h" || die "stream has no CORS grant: $(cat "$W/s1.h")"
grep -qi '^connection: close' "$W/s1.h" || die "stream does not close its connection: $(cat "$W/s1.h")"
REQ=$(sed -n 's/.*(request \([0-9a-f]*\))$/\1/p' "$W/s1" | head -1)
assert_eq pending "$(row_state "$REQ")" "row state while waiting"
for _ in $(seq 1 50); do # the worker sets it right after the line
  ph=$(curl -s -i --max-time 10 --cacert "$STACK_HOME/keys/ca.pem" "https://$SLUG.stack.localhost:$STACK_PROXY_PORT/" || true)
  grep -q "waiting for approval" <<<"$ph" && break
  sleep 0.1
done
grep -q "^HTTP/2 503" <<<"$ph" && grep -q "$SLUG is waiting for approval" <<<"$ph" \
  || die "the front door does not say the stack waits for approval: $ph"
assert_eq "anonymous|$ORIGIN|$SLUG@1.0" "$(sqlite3 "$STACK_HOME/index.db" "SELECT who, origin, ref FROM api_requests WHERE id = '$REQ'")" "request row"
assert_exit 0 "$S" ps
case "$LAST_STDOUT" in *"$REQ"*"$SLUG@1.0"*pending*"anonymous from $ORIGIN"*) ;; *) die "ps does not list the pending request: $LAST_STDOUT" ;; esac
wait_line "$W/events" '"state":"pending"'
wait_line "$W/notified" "$SLUG (request $REQ): $SLUG@1.0, not in the store yet: fetched once approved. Run: stack approve $SLUG" # from the catalog, fetched once approved
assert_exit 0 "$S" approve "$SLUG"
wait_pid "$C1" 240
last=$(tail -1 "$W/s1")
assert_eq "running: https://$SLUG.stack.localhost:$STACK_PROXY_PORT" "$last" "last line of the approved stream"
grep -q '^fetch ' "$W/s1" && grep -q '^verify ' "$W/s1" && grep -q '^unpack ' "$W/s1" && grep -q '^images ' "$W/s1" \
  && grep -q '^up ' "$W/s1" || die "progress lines missing: $(cat "$W/s1")"
assert_eq "<h1>hello from the API</h1>" "$(curl -s "http://127.0.0.1:$port/")" "the stack's page"
assert_eq approved "$(row_state "$REQ")" "row after approve"
RUN=$(sqlite3 "$STACK_HOME/index.db" "SELECT run_id FROM api_requests WHERE id = '$REQ'")
[ -n "$RUN" ] || die "request row has no run id"
wait_line "$W/events" '"state":"running"'
grep -q 'event: progress' "$W/events" || die "/events has no progress events"
grep -q "^data: {\"request\":\"$REQ\",\"slug\":\"$SLUG\",\"state\":\"running\",\"run\":\"$RUN\"" "$W/events" \
  || die "/events state event: $(grep data "$W/events" | tail -3)"
assert_exit 1 "$S" approve "$REQ"
case "$LAST_STDERR" in *"no pending request"*) ;; *) die "second approve: $LAST_STDERR" ;; esac

info "2. /runs, /runs/{id} (run and request), /runs/{id}/stop"
cu "${auth[@]}" "$B/runs" >"$W/runs.json"
python3 - "$W/runs.json" "$RUN" "https://$SLUG.stack.localhost:$STACK_PROXY_PORT" <<'PY' || die "/runs: $(cat "$W/runs.json")"
import json, sys
d = json.load(open(sys.argv[1])); r = [x for x in d["runs"] if x["id"] == sys.argv[2]]
assert d["engine"] is True and r and r[0]["state"] == "running" and r[0]["ports"], d
assert r[0]["addresses"] and r[0]["addresses"][0]["url"] == sys.argv[3], r[0]["addresses"]
PY
assert_eq 200 "$(cu -o "$W/run.json" -w '%{http_code}' "${auth[@]}" "$B/runs/$RUN")" "GET /runs/{run}"
assert_eq 200 "$(cu -o "$W/req.json" -w '%{http_code}' "${auth[@]}" "$B/runs/$REQ")" "GET /runs/{request}"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["request"]["state"]=="approved" and d["run"]["id"]==sys.argv[2], d' "$W/req.json" "$RUN" \
  || die "GET /runs/{request}: $(cat "$W/req.json")"
assert_eq 404 "$(cu -o /dev/null -w '%{http_code}' "${auth[@]}" "$B/runs/0123456789abcdef")" "GET /runs/unknown"
assert_eq 401 "$(cu -o /dev/null -w '%{http_code}' "$B/runs/$RUN")" "GET /runs/{id} without a token"
assert_eq 404 "$(cu -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" "$B/runs/0123456789abcdef/stop")" "stop unknown"
assert_eq 404 "$(cu -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" "$B/runs/$SLUG/stop")" "stop by slug is not an id"
assert_eq 200 "$(cu -o "$W/stop.json" -w '%{http_code}' -X POST "${auth[@]}" "$B/runs/$RUN/stop")" "POST /runs/{id}/stop"
assert_eq stopped "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$W/stop.json")" "state after stop"
[ -z "$("$D" ps -q --filter label=com.docker.compose.project=stack-$SLUG)" ] || die "containers still run after stop"
wait_line "$W/events" "\"state\":\"stopped\",\"run\":\"$RUN\""
assert_eq 200 "$(cu -o /dev/null -w '%{http_code}' "${auth[@]}" "$B/stacks")" "GET /stacks"

info "3. stack deny ends the stream with denied: <reason>, after a pause longer than the idle timeout"
cu -N -X POST "${anon[@]}" --data-binary "{\"slug\": \"$SLUG\"}" "$B/run" >"$W/s3" &
C3=$!
wait_line "$W/s3" '^waiting for approval'
sleep 32 # the server closes idle connections after 30 s: a waiting stream must survive that
assert_exit 0 "$S" deny "$SLUG" --reason "not now"
wait_pid "$C3" 10
assert_eq "denied: not now" "$(tail -1 "$W/s3")" "last line of a denied stream"
assert_eq 2 "$(wc -l <"$W/s3")" "a denied stream's lines"
grep -q '^: keep-alive$' "$W/events" || die "/events sent no keep-alive comment in 32 s"

info "4. requests that create nothing"
n0=$(rows)
assert_eq 403 "$(post o1 "{\"slug\":\"$SLUG\"}" -H 'Origin: https://evil.example' -H 'Content-Type: application/json')" "another origin"
assert_eq 415 "$(post o2 "{\"slug\":\"$SLUG\"}" -H "Origin: $ORIGIN" -H 'Content-Type: text/plain')" "no JSON content type"
assert_eq 403 "$(post o3 "{\"slug\":\"$SLUG\"}" -H 'Content-Type: application/json')" "no Origin, no token"
assert_eq 401 "$(post o4 "{\"slug\":\"$SLUG\"}" "${anon[@]}" -H 'Authorization: Bearer x.y.z')" "bad token from the allowed origin"
clear_log
assert_eq 403 "$(post u1 '{"slug":"http://127.0.0.1:1/other.stack"}' "${anon[@]}")" "URL outside the catalog"
assert_eq 403 "$(post u2 "{\"slug\":\"$CATALOG_URL.evil.example/$SLUG-1.0.stack\"}" "${anon[@]}")" "URL sharing the catalog's prefix"
assert_eq 403 "$(post u3 "{\"slug\":\"file://$W/cat/$SLUG-1.0.stack\"}" "${anon[@]}")" "file: URL"
assert_eq 403 "$(post u4 "{\"slug\":\"$W/cat/$SLUG-1.0.stack\"}" "${anon[@]}")" "local path"
assert_eq 403 "$(post u5 "{\"slug\":\"./$SLUG-1.0.stack\"}" "${anon[@]}")" "relative path"
assert_eq 0 "$(requests_matching .)" "requests the refused URLs made to the catalog"
assert_eq 404 "$(post u6 "{\"slug\":\"$CATALOG_URL/nosuch.stack\"}" "${anon[@]}")" "URL under the catalog, not in its index"
assert_eq 0 "$(requests_matching 'nosuch')" "the unknown bundle fetched"
assert_eq 404 "$(post u7 '{"slug":"nosuch'$U'"}' "${anon[@]}")" "unknown slug"
assert_eq 400 "$(post j1 '{"slug": ' "${anon[@]}")" "malformed JSON"
assert_eq 400 "$(post j2 '{"name": "x"}' "${anon[@]}")" "no slug"
assert_eq 400 "$(post j3 '["x"]' "${anon[@]}")" "not an object"
assert_eq 400 "$(post j4 '{"slug": "UPPER case"}' "${anon[@]}")" "not a slug"
for f in o1 o2 o3 o4 u1 u2 u3 u4 u5 u6 u7 j1 j2 j3 j4; do
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["error"]' "$W/$f.b" || die "$f: not a JSON error: $(cat "$W/$f.b")"
done
assert_eq "$n0" "$(rows)" "rows after the refused requests"

info "5. Accept: application/json gets 202 at once; a token alone still waits"
assert_eq 202 "$(post a1 "{\"slug\":\"$SLUG\"}" "${anon[@]}" -H 'Accept: application/json')" "Accept: application/json"
A1=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="pending"; print(d["id"])' "$W/a1.b")
assert_eq pending "$(row_state "$A1")" "202 row"
assert_eq 202 "$(post a2 "{\"slug\":\"$SLUG\"}" "${auth[@]}" -H 'Accept: application/json')" "token, untrusted stack"
A2=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="pending"; print(d["id"])' "$W/a2.b")
assert_exit 0 "$S" deny "$A1"
assert_exit 0 "$S" deny "$A2"
assert_eq "denied denied" "$(row_state "$A1") $(row_state "$A2")" "rows after deny by id"

info "6. a token and a trusted stack start at once; anonymous still waits for the trusted stack"
assert_exit 0 "$S" trust-stack add "$SLUG"
assert_exit 0 "$S" trust-stack ls
assert_eq "$SLUG" "$LAST_STDOUT" "trust-stack ls"
cu -N -X POST "${auth[@]}" --data-binary "{\"slug\": \"$SLUG\", \"version\": \"1.0\"}" "$B/run" >"$W/s6" &
C6=$!
wait_pid "$C6" 240
head -1 "$W/s6" | grep -q "^starting $SLUG@1.0 (request " || die "trusted stream's first line: $(cat "$W/s6")"
! grep -q 'waiting for approval' "$W/s6" || die "a trusted stack waited: $(cat "$W/s6")"
assert_eq "running: https://$SLUG.stack.localhost:$STACK_PROXY_PORT" "$(tail -1 "$W/s6")" "trusted stream's last line"
assert_eq 202 "$(post a3 "{\"slug\":\"$SLUG\"}" "${anon[@]}" -H 'Accept: application/json')" "anonymous, trusted stack"
assert_eq pending "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"])' "$W/a3.b")" "anonymous request for a trusted stack"
assert_exit 0 "$S" deny "$SLUG"
assert_exit 0 "$S" trust-stack rm "$SLUG"
assert_exit 1 "$S" trust-stack rm "$SLUG"

info "7. SIGTERM ends the daemon (and its /events stream)"
stop_daemon
wait_pid "$EV" 10

info "8. expiry (STACK_API_REQUEST_EXPIRY), and no Engine: the daemon answers and says so"
start_daemon STACK_API_REQUEST_EXPIRY=2 DOCKER_HOST=unix://$W/no-engine.sock
B="https://127.1:$PORT"
cu -N -X POST "${anon[@]}" --data-binary "{\"slug\": \"$SLUG\"}" "$B/run" >"$W/s8" &
C8=$!
wait_pid "$C8" 15
assert_eq expired "$(tail -1 "$W/s8")" "last line of an expired request"
E8=$(sed -n 's/.*(request \([0-9a-f]*\))$/\1/p' "$W/s8" | head -1)
assert_eq expired "$(row_state "$E8")" "row of an expired request"
assert_exit 1 "$S" approve "$E8"
TOKEN=$("$S" token)
assert_eq 200 "$(cu -o "$W/runs8.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$B/runs")" "/runs without an Engine"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["engine"] is False and d["runs"], d' "$W/runs8.json" \
  || die "/runs without an Engine: $(cat "$W/runs8.json")"
stop_daemon
grep -q 'stack serve: stopped' "$LOG" || die "no stopped line: $(tail -3 "$LOG")"

info "9. --auto-approve: logged loudly, approved at once; without an Engine the stream ends failed: <reason>"
SERVE_FLAGS=(--auto-approve)
start_daemon DOCKER_HOST=unix://$W/no-engine.sock
B="https://127.1:$PORT"
grep -q 'WARNING: --auto-approve' "$LOG" || die "no --auto-approve warning at start: $(cat "$LOG")"
cu -N -X POST "${anon[@]}" --data-binary "{\"slug\": \"$SLUG\"}" "$B/run" >"$W/s9" &
C9=$!
wait_pid "$C9" 30
case "$(tail -1 "$W/s9")" in "failed: "*) ;; *) die "last line without an Engine: $(cat "$W/s9")" ;; esac
grep -q '^approved: starting' "$W/s9" || die "auto-approved stream: $(cat "$W/s9")"
grep -q 'AUTO-APPROVE: request [0-9a-f]* for '"$SLUG"'@1.0' "$LOG" || die "no AUTO-APPROVE log line: $(cat "$LOG")"
stop_daemon
SERVE_FLAGS=()

info "10. at most 32 requests in flight: one more is 503 (its row expired); SIGTERM expires the waiting ones"
start_daemon DOCKER_HOST=unix://$W/no-engine.sock
B="https://127.1:$PORT"
for i in $(seq 1 32); do
  assert_eq 202 "$(post busy "{\"slug\":\"$SLUG\"}" "${anon[@]}" -H 'Accept: application/json')" "request $i of 32"
done
assert_eq 503 "$(post busy "{\"slug\":\"$SLUG\"}" "${anon[@]}" -H 'Accept: application/json')" "request 33"
assert_eq 200 "$(cu -o /dev/null -w '%{http_code}' "$B/health")" "/health while 32 wait"
assert_eq 32 "$(sqlite3 "$STACK_HOME/index.db" "SELECT COUNT(*) FROM api_requests WHERE state = 'pending'")" "pending rows"
stop_daemon
assert_eq 0 "$(sqlite3 "$STACK_HOME/index.db" "SELECT COUNT(*) FROM api_requests WHERE state = 'pending'")" "pending rows after SIGTERM"
assert_eq 32 "$(sqlite3 "$STACK_HOME/index.db" "SELECT COUNT(*) FROM api_requests WHERE reason = 'stack serve stopped'")" "rows expired at stop"
info "ok"
