#!/usr/bin/env bash
# The Engine API version stack speaks, and what it does when the Engine cannot be asked (spec/run.md "Engine").
# A stand-in Engine (fake_engine.py) on its own unix socket claims the API versions of Docker Engine 29 and
# later (newest 1.55, MinAPIVersion 1.44) and refuses anything below 1.44 with dockerd's HTTP 400; it passes
# everything else to this machine's real Engine. Through it: run, snapshot (volumes read through the Engine),
# stop, re-run through the Engine, upgrade, rollback and gc --images all work, and every request stack made
# named API 1.52 (the newest stack knows). An Engine older than 1.41, one that refuses the version it reported,
# and one whose floor is above 1.52: one line, exit 5, nothing changed. An Engine refusal of an image inspect
# (stack run): exit 5 with the Engine's message, never 3 (bundle rejected). ps with no Engine: "unknown". rm with no Engine,
# or an Engine that refuses everything: the row, run dir (and data with --purge) go, one line says what may be
# left. A compose call that does not finish: stopped after STACK_COMPOSE_TIMEOUT, exit 5.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/upgrade_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/evbusybox:$$"
U=$$
A=ev$U
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r $D rm -f"
on_exit "$D network ls -q --filter label=com.docker.compose.project=stack-$A | xargs -r $D network rm"
on_exit "$D volume ls -q --filter label=com.docker.compose.project=stack-$A | xargs -r $D volume rm -f"
on_exit "$D rmi -f $TAG"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
REAL=${DOCKER_HOST:-unix:///var/run/docker.sock}
case "$REAL" in unix://*) ;; *) die "DOCKER_HOST=$REAL: this test needs a unix socket" ;; esac
FAKE=$STACK_SRC/tests/e2e/fake_engine.py
info "real Engine: $("$D" version --format '{{.Server.Version}} (API {{.Server.APIVersion}}, min {{.Server.MinAPIVersion}})')"

# fake NAME ARGS...: a stand-in Engine on $W/NAME.sock (log $W/NAME.log), stopped at exit
fake() {
  local name=$1 i
  shift
  python3 "$FAKE" "$W/$name.sock" "$W/$name.log" "$@" >"$W/$name.out" 2>&1 &
  on_exit "kill $!"
  for i in $(seq 1 100); do grep -q ready "$W/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  cat "$W/$name.out" >&2
  die "fake Engine $name did not start"
}
# one_line: stderr of the last command is exactly one line
one_line() { [ "$(printf '%s\n' "$LAST_STDERR" | wc -l)" = 1 ] || die "$1: not one line: $LAST_STDERR"; }
state_of() { ps_field "$A" state; }

upgrade_setup
mkstack "$W/a1" $A 1.0 "$V1"
mkstack "$W/a2" $A 2.0 "$V2"

info "1. an Engine with API 1.55 and MinAPIVersion 1.44 (Docker Engine 29's floor): stack speaks 1.52"
fake new --api 1.55 --min 1.44 --upstream "${REAL#unix://}"
NEW=unix://$W/new.sock
DOCKER_HOST=$NEW assert_exit 0 "$S" run $A@1.0
for _ in $(seq 1 50); do [ -f "$(vol_dir $A)/keep" ] && break; sleep 0.1; done
[ -f "$(vol_dir $A)/keep" ] || die "the container did not write its volume"
assert_eq running "$(DOCKER_HOST=$NEW state_of)" "state through the new Engine"
DOCKER_HOST=$NEW assert_exit 0 "$S" snapshot $A
DOCKER_HOST=$NEW assert_exit 0 "$S" snapshots $A --json
snap=$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["files"], r["volumes"])')
assert_eq "4 stack-${A}_vol" "$snap" "snapshot through the new Engine (files: 2 in the data dir, 2 in the volume)"
DOCKER_HOST=$NEW assert_exit 0 "$S" stop $A
DOCKER_HOST=$NEW assert_exit 0 "$S" run $A@1.0
assert_eq running "$(DOCKER_HOST=$NEW state_of)" "state after the re-run"
before_vol=$(digest "$(vol_dir $A)")
DOCKER_HOST=$NEW assert_exit 0 "$S" upgrade $A --to 2.0 --settle 1
assert_eq v2 "$(cat "$(vol_dir $A)/version")" "volume after the upgrade"
DOCKER_HOST=$NEW assert_exit 0 "$S" rollback $A
assert_eq "$before_vol" "$(digest "$(vol_dir $A)")" "volume after the rollback (restored through the Engine)"
DOCKER_HOST=$NEW assert_exit 0 "$S" gc --images
grep '^stack ' "$W/new.log" >"$W/stack.log" || die "stack made no request through the new Engine"
info "$(wc -l <"$W/stack.log") requests from stack, $(grep -vc '^stack ' "$W/new.log" || true) from the compose tool"
bad=$(awk '$3 !~ /^\/v1\.52\// && $3 !~ /^\/(_ping|version)$/' "$W/stack.log" | head -3)
[ -z "$bad" ] || die "requests not in API 1.52: $bad"
bad=$(awk '$4 == 400' "$W/stack.log" | head -3)
[ -z "$bad" ] || die "requests the Engine refused: $bad"
grep -q ' /v1.52/containers/.*/archive' "$W/stack.log" || die "no volume archive went through the new Engine"

info "2. ps when no Engine answers: unknown (the row keeps what was recorded)"
DOCKER_HOST=unix://$W/nobody.sock assert_exit 0 "$S" ps --json
echo "$LAST_STDOUT" | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin) if x["slug"] == sys.argv[1]][0]
assert r["state"] == "unknown", r
assert r["reason"].startswith("recorded running"), r
assert "not running" in r["reason"], r' $A || die "ps --json with no Engine: $LAST_STDOUT"
DOCKER_HOST=unix://$W/nobody.sock assert_exit 0 "$S" ps
echo "$LAST_STDOUT" | grep -q " $A .* unknown " || die "ps with no Engine: $LAST_STDOUT"
assert_eq running "$(state_of)" "state with the Engine back"

info "3. Engines stack cannot speak to: one line, exit 5, nothing changed"
fake old --api 1.30 --min 1.12
DOCKER_HOST=unix://$W/old.sock assert_exit 5 "$S" run $A@2.0
one_line "API 1.30"
case "$LAST_STDERR" in *"API 1.30"*"API 1.41"*) ;; *) die "old Engine message: $LAST_STDERR" ;; esac
DOCKER_HOST=unix://$W/old.sock assert_exit 5 "$S" snapshot $A
one_line "API 1.30 (snapshot)"
fake refusing --api 1.41 --floor 1.44 # reports 1.41 and no MinAPIVersion, then refuses 1.41 as dockerd does
DOCKER_HOST=unix://$W/refusing.sock assert_exit 5 "$S" run $A@2.0
one_line "refused version"
case "$LAST_STDERR" in *"refuses API 1.41"*"Minimum supported API version is 1.44"*) ;; *) die "refused version: $LAST_STDERR" ;; esac
fake future --api 1.60 --min 1.53
DOCKER_HOST=unix://$W/future.sock assert_exit 5 "$S" run $A@2.0
one_line "floor above 1.52"
case "$LAST_STDERR" in *"accepts API 1.53 and newer only"*"1.52"*) ;; *) die "floor above ours: $LAST_STDERR" ;; esac
assert_eq running "$(state_of)" "state after the refusals"
assert_eq 1.0 "$(ps_field $A version)" "version after the refusals"

info "4. an Engine that refuses an image inspect: exit 5 with its message, not 3"
fake noinspect --api 1.55 --min 1.44 --upstream "${REAL#unix://}" --refuse-image-inspect
DOCKER_HOST=unix://$W/noinspect.sock assert_exit 5 "$S" run $A@2.0
case "$LAST_STDERR" in *"simulated refusal of the image inspect"*) ;; *) die "image inspect refused: $LAST_STDERR" ;; esac
assert_eq running "$(state_of)" "state after the refused inspect"

info "5. rm with no Engine: the row and run dir go; one line says the containers may be left"
assert_exit 0 env DOCKER_HOST=unix://$W/nobody.sock "$S" rm $A
case "$LAST_STDERR" in *"may be left on the Engine"*"not running"*) ;; *) die "rm without an Engine: $LAST_STDERR" ;; esac
[ ! -e "$STACK_HOME/runs/$A" ] || die "rm left the run dir"
assert_eq - "$(state_of)" "row after rm"
[ -n "$("$D" ps -q --filter label=com.docker.compose.project=stack-$A)" ] || die "the containers were not there to be left"
"$D" ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r "$D" rm -f >/dev/null

info "6. rm --purge through an Engine that refuses everything: completes, says why"
assert_exit 0 "$S" run $A@1.0
DOCKER_HOST=unix://$W/refusing.sock assert_exit 0 "$S" rm $A --purge
case "$LAST_STDERR" in *"may be left on the Engine"*"Minimum supported API version is 1.44"*) ;; *) die "rm --purge refused: $LAST_STDERR" ;; esac
[ ! -e "$STACK_HOME/runs/$A" ] && [ ! -e "$STACK_HOME/data/$A" ] || die "rm --purge left the run or data dir"
assert_exit 0 "$S" snapshots $A --json
assert_eq "[]" "$LAST_STDOUT" "snapshots after rm --purge"
"$D" ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r "$D" rm -f >/dev/null
"$D" network ls -q --filter label=com.docker.compose.project=stack-$A | xargs -r "$D" network rm >/dev/null

info "7. a compose call that does not finish: stopped after STACK_COMPOSE_TIMEOUT, exit 5"
mkdir -p "$W/bin"
real_compose=$(command -v docker-compose)
printf '#!/bin/sh\nfor a; do [ "$a" = up ] && exec sleep 60; done\nexec %s "$@"\n' "$real_compose" >"$W/bin/docker-compose"
chmod +x "$W/bin/docker-compose"
H2=$W/home2
mkdir -p "$H2"
STACK_HOME=$H2 assert_exit 0 "$S" import "$W/$A-1.0.stack"
t0=$(date +%s)
STACK_HOME=$H2 PATH="$W/bin:$PATH" STACK_COMPOSE_TIMEOUT=2 assert_exit 5 "$S" run $A@1.0
t=$(($(date +%s) - t0))
case "$LAST_STDERR" in *"up did not finish within 2 s"*STACK_COMPOSE_TIMEOUT*) ;; *) die "compose timeout: $LAST_STDERR" ;; esac
[ "$t" -lt 30 ] || die "the compose timeout took $t s"
STACK_HOME=$H2 assert_exit 0 "$S" rm $A --purge
chmod -R u+w "$H2"
info PASS
