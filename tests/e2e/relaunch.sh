#!/usr/bin/env bash
# Re-launch straight through the Engine (spec/run.md "Re-launch"): a two-service stack (web depends_on db with
# condition service_healthy; web routed through the front door, no published port) run, stopped and run again
# starts the SAME containers without the compose tool (a docker-compose wrapper on PATH logs every call), db
# healthy before web starts, and the front door answers on the port the Engine gave this time; a container
# removed by hand, a changed --env, a hand-edited stack.env, an image tag moved to another image and a failed run
# each fall back to compose up (saying why) and run; the next run after a fallback takes the engine path again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/busybox-relaunch:$U"
CA=$STACK_HOME/keys/ca.pem
P=$STACK_PROXY_PORT
export STACK_RUNTIME=docker-compose
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^rl[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img" httpd sh sleep true cat

# The compose tool, logged: every call stack makes appends its arguments to $LOG.
LOG=$W/compose.log
real=$(command -v docker-compose) || die "docker-compose is not installed"
mkdir -p "$W/bin"
printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$LOG" "$real" >"$W/bin/docker-compose"
chmod +x "$W/bin/docker-compose"
export PATH="$W/bin:$PATH"
: >"$LOG"

A=rla$U
mkdir -p "$W/$A"
cat >"$W/$A/stack.yaml" <<Y
slug: $A
name: E2E $A
flavor: DockerCompose
version: "1"
description: re-launch end-to-end test stack
author: tests
license: MIT
Y
printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' "$A" >"$W/$A/.env"
cat >"$W/$A/compose.yaml" <<Y
services:
  db:
    image: $TAG
    command: [sleep, "3600"]
    stop_grace_period: 1s # pid 1 ignores SIGTERM: do not wait 10 s on every stop
    healthcheck: {test: [CMD, "true"], interval: 1s, timeout: 2s, retries: 3}
  web:
    image: $TAG
    command: ["sh", "-c", "echo \"hello from $A \$\$GREETING\" >/www/index.html && exec httpd -f -p 8080 -h /www"]
    environment: {GREETING: "\${GREETING:-none}"}
    depends_on: {db: {condition: service_healthy}}
    stop_grace_period: 1s
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(\`\${PROJECT}.\${DOMAIN}\`)
      traefik.http.services.web.loadbalancer.server.port: "8080"
Y
assert_exit 0 "$S" pack "$W/$A" -o "$W/$A.stack"
assert_exit 0 "$S" import "$W/$A.stack"

jf() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }
cid() { "$D" ps -aq --no-trunc --filter "label=com.docker.compose.project=stack-$A" --filter "label=com.docker.compose.service=$1"; }
get() { curl -sS --max-time 10 --cacert "$CA" "https://$A.stack.localhost:$P/"; }
page() { local out=""; for _ in $(seq 1 50); do out=$(get 2>/dev/null || true); [ -n "$out" ] && break; sleep 0.1; done; echo "$out"; }
calls() { grep -c . "$LOG" || true; }
run_json() { # expected relaunch path; the run's stdout/stderr in LAST_*
  assert_exit 0 "$S" run $A --json --timings
  assert_eq "$1" "$(jf "$LAST_STDOUT" relaunch)" "relaunch path"
  assert_eq running "$(jf "$LAST_STDOUT" state)" "state"
}

info "relaunch_first_run_goes_through_compose_up"
run_json compose
grep -qE '^timing: (up|create\+judge) ' <<<"$LAST_STDERR" || die "no up (create+judge) step: $LAST_STDERR"
grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up not called: $(cat "$LOG")"
[ -f "$STACK_HOME/runs/$A/.stack-relaunch" ] || die "no record of the compose up"
db1=$(cid db) web1=$(cid web)
[ -n "$db1" ] && [ -n "$web1" ] || die "containers missing"
assert_eq "hello from $A none" "$(page)" "page through the front door"

info "relaunch_stopped_stack_starts_the_same_containers_through_the_engine"
assert_exit 0 "$S" stop $A
assert_eq exited "$("$D" inspect -f '{{.State.Status}}' "$web1")" "web stopped"
: >"$LOG"
port1=$("$D" inspect -f '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' "$web1" 2>/dev/null || true)
run_json engine
grep -q '^timing: engine-start ' <<<"$LAST_STDERR" || die "no engine-start step: $LAST_STDERR"
grep -qE '^timing: (up|create\+judge) ' <<<"$LAST_STDERR" && die "compose up step on the engine path: $LAST_STDERR"
assert_eq 0 "$(calls)" "docker-compose calls on the engine path ($(cat "$LOG"))"
assert_eq "$db1" "$(cid db)" "same db container"
assert_eq "$web1" "$(cid web)" "same web container"
assert_eq running "$("$D" inspect -f '{{.State.Status}}' "$web1")" "web running"
assert_eq "hello from $A none" "$(page)" "page through the front door after the engine path"
port2=$("$D" inspect -f '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}' "$web1")
assert_exit 0 "$S" proxy status
grep -qF "127.0.0.1:$port2" <<<"$LAST_STDOUT" || die "route not at the new port $port2 (was $port1): $LAST_STDOUT"
# Labels and limits as compose made them: the very containers, so their config is what compose gave them.
assert_eq "$A" "$("$D" inspect -f '{{index .Config.Labels "io.stack.slug"}}' "$web1")" "slug label"
# db was healthy before web started (depends_on condition: service_healthy).
python3 - "$("$D" inspect "$db1")" "$("$D" inspect "$web1")" <<'PY' || die "web started before db was healthy"
import json, sys
from datetime import datetime
def t(s):
    s = s.rstrip("Z")
    if "." in s:
        a, b = s.split(".")
        s = a + "." + b[:6]
    return datetime.fromisoformat(s)
db, web = json.loads(sys.argv[1])[0], json.loads(sys.argv[2])[0]
db_start, web_start = t(db["State"]["StartedAt"]), t(web["State"]["StartedAt"])
ok = [p for p in db["State"]["Health"]["Log"] if p["ExitCode"] == 0 and t(p["Start"]) >= db_start and t(p["End"]) <= web_start]
print("db started", db_start, "web started", web_start, "healthy probes before web:", len(ok), file=sys.stderr)
sys.exit(0 if ok else 1)
PY

info "relaunch_running_stack_run_again_stays_on_the_engine_path"
: >"$LOG"
run_json engine
assert_eq 0 "$(calls)" "docker-compose calls"

info "relaunch_removed_container_falls_back_to_compose_up"
assert_exit 0 "$S" stop $A
"$D" rm "$web1" >/dev/null
: >"$LOG"
run_json compose
grep -q 'gone' <<<"$(jf "$LAST_STDOUT" relaunch_reason)" || die "reason: $LAST_STDOUT"
grep -q '^timing: relaunch compose: .*gone' <<<"$LAST_STDERR" || die "no timings reason: $LAST_STDERR"
grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up not called"
web2=$(cid web)
[ -n "$web2" ] && [ "$web2" != "$web1" ] || die "web not recreated ($web2)"
assert_eq "$db1" "$(cid db)" "db kept"
assert_eq "hello from $A none" "$(page)" "page after the fallback"

info "relaunch_changed_env_falls_back_to_compose_up"
assert_exit 0 "$S" stop $A
: >"$LOG"
assert_exit 0 "$S" run $A --json --env GREETING=hi
assert_eq compose "$(jf "$LAST_STDOUT" relaunch)" "path with --env"
grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up not called with --env"
assert_eq "hello from $A hi" "$(page)" "page with the new value"
web3=$(cid web)

info "relaunch_after_a_fallback_takes_the_engine_path_again"
assert_exit 0 "$S" stop $A
: >"$LOG"
run_json engine
assert_eq 0 "$(calls)" "docker-compose calls"
assert_eq "$web3" "$(cid web)" "same web container"
assert_eq "hello from $A hi" "$(page)" "page"

info "relaunch_hand_edited_stack_env_falls_back_to_compose_up"
assert_exit 0 "$S" stop $A
echo "EXTRA=1" >>"$STACK_HOME/data/$A/stack.env"
: >"$LOG"
run_json compose
grep -q 'environment changed' <<<"$(jf "$LAST_STDOUT" relaunch_reason)" || die "reason: $LAST_STDOUT"
grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up not called"

info "relaunch_image_tag_moved_to_another_image_runs_the_pinned_image_again"
# The version's first run pinned its image (spec/run.md "Registry images"): a tag moved outside stack is moved
# back to the pinned image (loaded from the store), and the containers start as they are, through the Engine.
assert_exit 0 "$S" stop $A
old_image=$("$D" image inspect -f '{{.Id}}' "$TAG")
on_exit "$D rmi -f $old_image >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img2" httpd sh sleep true cat echo
new_image=$("$D" image inspect -f '{{.Id}}' "$TAG")
on_exit "$D rmi -f $new_image >/dev/null 2>&1 || true"
[ "$new_image" != "$old_image" ] || die "the second image has the same id"
: >"$LOG"
run_json engine
[ "$(jf "$LAST_STDOUT" images_loaded)" -ge 1 ] || die "the pinned image was not loaded from the store: $LAST_STDOUT"
assert_eq "$old_image" "$("$D" image inspect -f '{{.Id}}' "$TAG")" "the tag is back on the pinned image"
assert_eq "$old_image" "$("$D" inspect -f '{{.Image}}' "$(cid web)")" "web runs the pinned image"
! grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up was called"

info "relaunch_failed_run_is_not_relaunched_through_the_engine"
"$D" kill "$(cid db)" >/dev/null
assert_exit 0 "$S" ps --json
grep -q '"failed"' <<<"$LAST_STDOUT" || die "not failed after the kill: $LAST_STDOUT"
: >"$LOG"
run_json compose
assert_eq "the last run failed" "$(jf "$LAST_STDOUT" relaunch_reason)" "reason"
grep -qE ' up (-d|--no-start) ' "$LOG" || die "compose up not called"

assert_exit 0 "$S" rm $A --purge
assert_eq "" "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$A")" "containers gone after rm"
assert_exit 0 "$S" proxy stop
