#!/usr/bin/env bash
# The Engine event watcher of `stack serve` (spec/run.md "Watching") across a real Engine restart: Debian's dockerd
# of the test's own (tests/lib/netns.sh netns_dockerd: its own network, mount and PID namespaces, data root and
# socket under the test's directory) runs two stacks, one without a restart policy and one with `restart: always`;
# `stack serve` (DOCKER_HOST on that socket) watches. The Engine is stopped as a service manager stops it (SIGTERM:
# it stops its containers and exits): meanwhile GET /runs answers with "engine": false, the runs keep their states
# (the watcher's own trouble fails no run) and the daemon's log says the stream was lost once. The same Engine is
# started again on the same data root: the watcher reconnects (said once), its reconcile records what the Engine
# says (the run without a restart policy: its container exited 0 when the Engine stopped it, so `stopped`, "its
# containers stopped outside stack", in the index, the run history, the log and /events), the `restart: always` run
# is running again, and an event after the restart (docker kill) reaches GET /runs and /events as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch_lib.sh" # db, run_id, wait_db, container
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/../lib/netns.sh"
set -euo pipefail
[ "$(id -u)" = 0 ] || die "an Engine of the test's own needs root (network namespaces, mounts)"
[ -x /usr/sbin/dockerd ] || die "no /usr/sbin/dockerd (run scripts/install-deps)"
S=$STACK_BIN
D=$(docker_cmd)
U=$$
T0=$(date +%s.%N)
new_home
new_tmpdir W
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

# --- the Engine: one dockerd in a namespace of the test's own; every docker and stack command below uses it ---
NS=wr$U
E=$W/e # short: the exec root holds containerd's sockets
EPID=
netns_new "$NS" || die "ip netns add $NS failed"
on_exit 'netns_dockerd_kill "$EPID" "$NS"; ip netns del "$NS"'
engine_start() {
  netns_dockerd "$NS" "$E" "$NS"
  EPID=$NETNS_DOCKERD_PID
  engine_wait "$E/docker.sock" "$EPID" || die "dockerd did not answer on $E/docker.sock: $(tail -20 "$E/dockerd.log")"
}
engine_start
export DOCKER_HOST="unix://$E/docker.sock"
TAG="stack-e2e/busybox-wr:$U"
build_busybox_image "$TAG" "$W/img" sh sleep
info "an Engine of our own answers on $E/docker.sock ($(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc -l)") s)"

mkstack() { # SLUG RESTART: a bundle of one service imported into the store; its container exits 0 on SIGTERM
  local dir="$W/$1"
  mkdir -p "$dir"
  printf 'slug: %s\nname: E2E %s\nflavor: DockerCompose\nversion: "1"\ndescription: watcher restart test\nauthor: tests\nlicense: MIT\n' \
    "$1" "$1" >"$dir/stack.yaml"
  cat >"$dir/compose.yaml" <<Y
services:
  app:
    image: $TAG
    restart: "$2"
    command: [sh, -c, 'trap "exit 0" TERM; while :; do sleep 1; done']
Y
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
wait_grep() { # PATTERN FILE SECONDS WHAT
  for _ in $(seq 1 $(($3 * 10))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  die "$4: no [$1] in $2: $(tail -c 600 "$2" 2>/dev/null); serve log: $(tail -8 "$LOG")"
}

NO=wrno$U AL=wral$U
mkstack "$NO" no
mkstack "$AL" always
# stack run in the Engine's PID namespace: it checks its containers' processes by the ids the Engine reports
assert_exit 0 netns_dockerd_in "$EPID" "$S" run "$NO" --offline
assert_exit 0 netns_dockerd_in "$EPID" "$S" run "$AL" --offline
RNO=$(run_id "$NO") RAL=$(run_id "$AL")
CNO=$(container "$NO") CAL=$(container "$AL")

# --- the daemon, and /events read from the start ---
LOG=$W/serve.log
"$S" serve --port 0 2>"$LOG" &
PID=$!
on_exit "kill $PID 2>/dev/null"
for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
[ -n "$PORT" ] || die "daemon did not start: $(cat "$LOG")"
B="https://127.1:$PORT"
TOKEN=$("$S" token --ttl 300)
cu() { curl -sS --max-time 10 --cacert "$STACK_HOME/keys/api-cert.pem" -H "Authorization: Bearer $TOKEN" "$@"; }
cu -N --max-time 600 "$B/events" >"$W/events" 2>"$W/events.err" &
on_exit "kill $! 2>/dev/null"
states() { cu "$B/runs" | jq -r --arg a "$RNO" --arg b "$RAL" \
  '[.engine, (.runs[] | select(.id == $a) | .state), (.runs[] | select(.id == $b) | .state)] | join(" ")'; }
assert_eq "true running running" "$(states)" "GET /runs before the restart"
sleep 1 # the watcher's first stream is open (it reconciles, then reads)

info "engine_stopped_leaves_the_runs_as_they_are_and_the_outage_is_said_once"
netns_dockerd_stop "$EPID" 30
EPID=
engine_ping "$E/docker.sock" && die "dockerd still answers after SIGTERM"
wait_grep 'reconnecting (the runs keep their states meanwhile)' "$LOG" 10 "the lost stream said"
sleep 2.5 # a few reconnect attempts fail meanwhile (backoff 0.5, 1, 2 s)
# (GET /runs, as stack ps, shows a run it could not check as unknown, with what is recorded; nothing is written)
assert_eq "false unknown unknown" "$(states)" "GET /runs while the Engine is down"
cu "$B/runs" | jq -r '.runs[].reason' | grep -c '^recorded running; the Engine could not be asked: ' | grep -qx 2 ||
  die "GET /runs reasons while the Engine is down: $(cu "$B/runs" | jq -c '[.runs[].reason]')"
assert_eq "running|running" "$(db "SELECT group_concat(state, '|') FROM (SELECT state FROM runs WHERE id IN ('$RNO', '$RAL') ORDER BY slug DESC)")" "the index while the Engine is down"
assert_eq 0 "$(db "SELECT COUNT(*) FROM run_history WHERE run_id IN ('$RNO', '$RAL')" 2>/dev/null || echo 0)" "no run changed by the watcher while the Engine is down"
assert_eq 1 "$(grep -c 'reconnecting' "$LOG")" "the outage said once (not once per retry): $(grep watch "$LOG")"
grep -q '"event": *"run"\|^event: run' "$W/events" && die "a run event while the Engine is down: $(cat "$W/events")"

info "engine_restarted_the_watcher_reconnects_and_reconciles"
T1=$(date +%s.%N)
engine_start
wait_db "SELECT state || ' ' || reason FROM runs WHERE id = '$RNO'" "stopped its containers stopped outside stack" 20 \
  "the run without a restart policy, reconciled by the watcher"
info "reconciled $(printf '%.1f' "$(echo "$(date +%s.%N) - $T1" | bc -l)") s after the Engine was started again"
assert_eq "exited 0" "$("$D" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$CNO")" "what the Engine says of it"
assert_eq "stopped|its containers stopped outside stack" \
  "$(db "SELECT state, reason FROM run_history WHERE run_id = '$RNO' ORDER BY rowid DESC LIMIT 1")" "its history"
wait_grep "\"id\":\"$RNO\",\"slug\":\"$NO\",\"state\":\"stopped\",\"reason\":\"its containers stopped outside stack\"" \
  "$W/events" 5 "SSE run event of the reconcile"
grep -q "watch: $NO is stopped: its containers stopped outside stack" "$LOG" || die "the log: $(grep watch "$LOG")"
for _ in $(seq 1 100); do
  [ "$("$D" inspect -f '{{.State.Status}}' "$CAL")" = running ] && break
  sleep 0.1
done
assert_eq running "$("$D" inspect -f '{{.State.Status}}' "$CAL")" "the Engine restarted the restart: always container"
assert_eq running "$(db "SELECT state FROM runs WHERE id = '$RAL'")" "the restart: always run in the index"
assert_eq "true stopped running" "$(states)" "GET /runs after the restart"
assert_eq 0 "$(db "SELECT COUNT(*) FROM run_history WHERE run_id = '$RAL' AND state != 'running'")" \
  "the restart: always run was never anything but running"

info "an_event_after_the_restart_reaches_the_index_and_events"
"$D" kill "$CAL" >/dev/null
wait_db "SELECT state || ' ' || reason FROM runs WHERE id = '$RAL'" "failed exited 137" 10 "docker kill after the restart"
wait_grep "\"id\":\"$RAL\",\"slug\":\"$AL\",\"state\":\"failed\",\"reason\":\"exited 137\"" "$W/events" 5 "SSE run event"
assert_eq "true stopped failed" "$(states)" "GET /runs after docker kill"
wait_grep "the Engine's event stream is back" "$LOG" 15 "the reconnect said"
assert_eq 1 "$(grep -c 'reconnecting' "$LOG")" "one outage said: $(grep watch "$LOG")"
assert_eq 1 "$(grep -c "event stream is back" "$LOG")" "the reconnect said once"
grep -q 'watch: .*not JSON\|watch: an event without' "$LOG" && die "bad events said: $(grep watch "$LOG")"
assert_exit 0 "$S" rm "$NO"
assert_exit 0 "$S" rm "$AL"
kill "$PID"
wait "$PID" || die "serve exited non-zero: $(tail -5 "$LOG")"
info "ok ($(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc -l)") s)"
