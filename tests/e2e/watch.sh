#!/usr/bin/env bash
# The Engine event watcher of `stack serve` (spec/run.md "Watching"), with real containers on the real Engine:
# a container allocating past its mem_limit is OOM-killed (failed "oom-killed", alert oom); one that exits 1
# under restart: always loops until stack stops the stack (failed "restart loop: ..." with its log lines);
# a healthcheck that starts failing makes the run unhealthy with the check's output, while the Engine's own
# probes are no alert; docker exec is an alert, docker update --memory too; every change reaches /events as a
# "run" or "alert" event and the run history; stack alerts lists and dismisses, as GET /alerts and POST
# /alerts/{id}/dismiss do. Then a stand-in Engine (on its own socket) that floods its first stream (200000
# health events: the API still answers within a second, the daemon does not grow), sends a truncated and an
# unknown event and closes its stream: the watcher says so once, reconnects with backoff, and fails no run.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh" # db, run_id, wait_db, container
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-watch:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^w[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D network ls --format '{{.Name}}' | grep -E '^stack-w[a-z]*$U' | xargs -r $D network rm >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin" "$W/rootfs/tmp"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh sleep cat head tail echo test touch true false; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE: a bundle imported into the store
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: watcher end-to-end test stack
author: tests
license: MIT
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
wait_grep() { # PATTERN FILE WHAT: grep -q, given time (an event follows the write it reports; a reader that
  # missed its wake-up gets it with the next keep-alive, JOBS_KEEPALIVE_S)
  for _ in $(seq 1 200); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  die "$3: no [$1] in $2: $(tail -c 600 "$2" 2>/dev/null); reader alive: $(kill -0 "$EV" 2>/dev/null && echo yes || echo no) $(cat "$W/events.err"); serve log: $(tail -25 "$LOG")"
}

# --- the daemon, with a notify-send that records what it was asked to show, and /events read from the start --
LOG=$W/serve.log
mkdir -p "$W/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s/notified"\n' "$W" >"$W/bin/notify-send"
chmod +x "$W/bin/notify-send"
PATH="$W/bin:$PATH" "$S" serve --port 0 2>"$LOG" &
PID=$!
on_exit "kill $PID 2>/dev/null"
for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
[ -n "$PORT" ] || die "daemon did not start: $(cat "$LOG")"
B="https://127.1:$PORT"
CERT=$STACK_HOME/keys/api-cert.pem
TOKEN=$("$S" token --ttl 300)
cu() { curl -sS --cacert "$CERT" -H "Authorization: Bearer $TOKEN" "$@"; }
cu -N "$B/events" >"$W/events" 2>"$W/events.err" &
EV=$!
on_exit "kill $EV 2>/dev/null"

info "watch_oom_kill_fails_the_run_with_oom_killed"
mkstack woom$U "services:
  hog:
    image: $TAG
    mem_limit: 16m
    command: [sh, -c, 'sleep 3; head -c 200m /dev/zero | tail']"
assert_exit 0 "$S" run woom$U --offline
R=$(run_id woom$U)
wait_db "SELECT state || ' ' || reason FROM runs WHERE id = '$R'" "failed oom-killed" 30 "OOM-killed run"
assert_eq true "$("$D" inspect -f '{{.State.OOMKilled}}' "$(container woom$U)")" "docker inspect OOMKilled"
wait_db "SELECT COUNT(*) FROM alerts WHERE run_id = '$R' AND kind = 'oom'" 1 5 "oom alert"
assert_eq "failed|oom-killed" "$(db "SELECT state, reason FROM run_history WHERE run_id = '$R' ORDER BY rowid DESC LIMIT 1")" "history"
wait_grep '"state":"failed","reason":"oom-killed"' "$W/events" "SSE run event"
wait_grep '^event: alert' "$W/events" "SSE alert event"
assert_exit 0 "$S" rm woom$U

info "watch_restart_loop_is_stopped_and_fails_with_its_log_lines"
mkstack wloop$U "services:
  crash:
    image: $TAG
    restart: always
    command: [sh, -c, 'sleep 2; echo boom; exit 1']"
assert_exit 0 "$S" run wloop$U --offline
R=$(run_id wloop$U)
wait_db "SELECT state FROM runs WHERE id = '$R'" failed 60 "restart loop"
reason=$(db "SELECT reason FROM runs WHERE id = '$R'")
case "$reason" in "restart loop: 5 restarts in 60 s; last log lines: boom"*) ;; *) die "reason: $reason" ;; esac
sleep 1
assert_eq exited "$("$D" inspect -f '{{.State.Status}}' "$(container wloop$U)")" "the looping container is stopped"
assert_eq 1 "$(db "SELECT COUNT(*) FROM alerts WHERE run_id = '$R' AND kind = 'restart-loop'")" "restart-loop alert"
assert_exit 0 "$S" rm wloop$U

info "watch_failing_healthcheck_makes_the_run_unhealthy_and_probes_are_no_alert"
mkstack whealth$U "services:
  web:
    image: $TAG
    command: [sh, -c, 'sleep 6; touch /tmp/bad; exec sleep 3600']
    healthcheck:
      test: [CMD-SHELL, 'test ! -e /tmp/bad || { echo probe says bad; exit 1; }']
      interval: 1s
      timeout: 2s
      retries: 1"
assert_exit 0 "$S" run whealth$U --offline
R=$(run_id whealth$U)
C=$(container whealth$U)
wait_db "SELECT state || ' ' || reason FROM runs WHERE id = '$R'" "unhealthy healthcheck failed: probe says bad" 30 "unhealthy run"
wait_grep '"state":"unhealthy"' "$W/events" "SSE unhealthy event"
assert_eq 0 "$(db "SELECT COUNT(*) FROM alerts WHERE run_id = '$R'" 2>/dev/null || echo 0)" "healthcheck probes are no alert"

info "watch_docker_exec_is_an_alert"
"$D" exec "$C" cat /proc/1/cmdline >/dev/null
wait_db "SELECT COUNT(*) FROM alerts WHERE run_id = '$R' AND kind = 'exec'" 1 10 "exec alert"
db "SELECT detail FROM alerts WHERE run_id = '$R' AND kind = 'exec'" | grep -qE "^docker exec into stack-whealth$U[-_]web[-_]1: cat /proc/1/cmdline\$" ||
  die "exec alert detail: $(db "SELECT detail FROM alerts WHERE kind = 'exec'")"

info "watch_docker_update_is_an_alert"
"$D" update --memory 96m --memory-swap 96m "$C" >/dev/null
wait_db "SELECT COUNT(*) FROM alerts WHERE run_id = '$R' AND kind = 'update'" 1 10 "update alert"
db "SELECT detail FROM alerts WHERE run_id = '$R' AND kind = 'update'" | grep -q 'Memory: [0-9]* -> 100663296' ||
  die "update detail: $(db "SELECT detail FROM alerts WHERE kind = 'update'")"
wait_grep "docker exec into" "$W/notified" "desktop notification"

info "alerts_are_listed_and_dismissed_by_the_cli_and_the_api"
assert_exit 0 "$S" alerts --json
n=$(jq length <<<"$LAST_STDOUT")
[ "$n" -ge 4 ] || die "stack alerts --json: $LAST_STDOUT"
ID=$(jq -r '.[0].id' <<<"$LAST_STDOUT")
assert_eq "$n" "$(cu "$B/alerts" | jq '.alerts | length')" "GET /alerts"
assert_eq "{\"dismissed\":\"$ID\"}" "$(cu -X POST "$B/alerts/$ID/dismiss" | jq -c .)" "POST /alerts/{id}/dismiss"
assert_eq 404 "$(cu -o /dev/null -w '%{http_code}' -X POST "$B/alerts/ffffffffffffffff/dismiss")" "unknown alert 404"
assert_eq $((n - 1)) "$(cu "$B/alerts" | jq '.alerts | length')" "GET /alerts after the dismissal"
assert_eq "$n" "$(cu "$B/alerts?all=1" | jq '.alerts | length')" "GET /alerts?all=1"
ID2=$(cu "$B/alerts" | jq -r '.alerts[0].id')
assert_exit 0 "$S" alerts --dismiss "$ID2"
assert_exit 1 "$S" alerts --dismiss nosuchalert
assert_exit 0 "$S" alerts
grep -q "wloop$U  *restart-loop  *stack-wloop$U[-_]crash[-_]1 " <<<"$LAST_STDOUT" || die "stack alerts: $LAST_STDOUT"
grep -q "whealth$U" <<<"$LAST_STDOUT" && die "stack alerts lists a dismissed alert: $LAST_STDOUT"
assert_exit 0 "$S" alerts --all
grep -q "whealth$U .*(dismissed)" <<<"$LAST_STDOUT" || die "stack alerts --all: $LAST_STDOUT"

info "watch_stack_stop_is_not_an_outside_change"
assert_exit 0 "$S" stop whealth$U
sleep 1
assert_eq stopped "$(db "SELECT state FROM runs WHERE id = '$R'")" "stopped by stack stays stopped"
assert_exit 0 "$S" rm whealth$U
kill "$PID"
wait "$PID" || die "serve exited non-zero: $(tail -5 "$LOG")"

info "watch_survives_an_engine_that_closes_its_stream_and_sends_bad_events"
cat >"$W/fake.py" <<'PY'
import socketserver, sys, time
from http.server import BaseHTTPRequestHandler
log = open(sys.argv[2], "a", buffering=1)
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    flooded = False
    def log_message(self, *a): pass
    def reply(self, code, body):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        log.write(self.path + "\n")
        if self.path.endswith("/_ping"):
            return self.reply(200, "OK")
        if self.path.endswith("/version"):
            return self.reply(200, '{"ApiVersion":"1.43","MinAPIVersion":"1.24","Version":"24.0.0"}')
        if "/events" in self.path:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            if not H.flooded:  # the first stream: a container flapping its health many times a second
                H.flooded = True
                ev = ('{"Type":"container","Action":"health_status: %s","Actor":{"ID":"c0ffee","Attributes":'
                      '{"name":"wfake-1","io.stack.run":"00000000000000aa"}},"timeNano":%d}\n')
                t0 = time.time_ns()
                for i in range(int(sys.argv[3])):
                    self.wfile.write((ev % ("healthy" if i % 2 else "unhealthy", t0 + i)).encode())
            self.wfile.write(b'{"Type":"container","Action":"die","Act\n')
            self.wfile.write(b'{"Type":"container","Action":"frobnicate","Actor":{"ID":"abc","Attributes":{}},"timeNano":1}\n')
            self.wfile.flush()
            time.sleep(0.2)
            self.close_connection = True
            return
        return self.reply(500, '{"message":"the stand-in knows nothing"}')
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(sys.argv[1], H).serve_forever()
PY
python3 "$W/fake.py" "$W/fake.sock" "$W/fake.log" 200000 &
FAKE=$!
on_exit "kill $FAKE 2>/dev/null"
for _ in $(seq 1 50); do [ -S "$W/fake.sock" ] && break; sleep 0.1; done
db "INSERT INTO runs(id, slug, version_id, tree, state, project, run_dir, created_at, updated_at)
    VALUES('00000000000000aa', 'wfake$U', 1, 'x', 'running', 'stack-wfake$U', '/nonexistent', 1, 1)"
DOCKER_HOST="unix://$W/fake.sock" "$S" serve --port 0 2>"$LOG" &
PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
slowest=0
for _ in $(seq 1 20); do # the API answers during the flood (200000 events in the first stream)
  t=$(curl -sS -o /dev/null -w '%{time_total}' --cacert "$CERT" "https://127.1:$PORT/health")
  slowest=$(awk -v a="$slowest" -v b="$t" 'BEGIN {print (b > a) ? b : a}')
  sleep 0.2
done
sleep 1
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
info "flood: /health at most ${slowest} s; RSS ${rss0} kB -> ${rss1} kB"
awk -v s="$slowest" 'BEGIN {exit !(s < 1)}' || die "GET /health took $slowest s during the flood"
# (an ASan build keeps freed memory in quarantine: its RSS says nothing about bounds; its leak check at exit does)
ldd "$S" 2>/dev/null | grep -q libasan || [ $((rss1 - rss0)) -lt 20000 ] ||
  die "the flood grew the daemon by $((rss1 - rss0)) kB"
kill "$PID"
wait "$PID" || die "serve (stand-in Engine) exited non-zero: $(tail -5 "$LOG")"
streams=$(grep -c '/events' "$W/fake.log" || true)
[ "$streams" -ge 2 ] && [ "$streams" -le 6 ] || die "event streams opened in 5 s (backoff 0.5, 1, 2 s): $streams"
assert_eq 1 "$(grep -c 'reconnecting' "$LOG")" "the outage is said once: $(cat "$LOG")"
assert_eq 1 "$(grep -c 'not JSON' "$LOG")" "a truncated event is said once"
assert_eq running "$(db "SELECT state FROM runs WHERE id = '00000000000000aa'")" "no run failed by the watcher's trouble"
db "DELETE FROM runs WHERE id = '00000000000000aa'"
info "ok"
