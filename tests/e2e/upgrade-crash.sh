#!/usr/bin/env bash
# kill -9 at several points of stack upgrade (STACK_TEST_KILL_AT, test-only, spec/run.md "Upgrades and
# snapshots"): the next stack command finishes it. Before the switch: nothing changed. After the snapshot, after
# the old version went down, after the new one came up (and after the old one was stopped, before its snapshot): the rollback is completed (the old version runs, data
# dir and volume exactly as before). After the health wait: the upgrade is reported complete. In the middle of
# a rollback: the rollback is completed. A rollback that cannot complete (no Engine): said once, then retried
# without a word; a new upgrade of the stack is refused naming --abandon; stack upgrade --abandon clears it and
# says what state the stack is in; rm --purge clears the journal of the stack.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/upgrade_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/upcbusybox:$$"
U=$$
A=upc$U
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r $D rm -f"
on_exit "$D volume ls -q --filter label=com.docker.compose.project=stack-$A | xargs -r $D volume rm -f"
on_exit "$D rmi -f $TAG"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

upgrade_setup
mkstack "$W/a1" $A 1.0 "$V1"
mkstack "$W/a2" $A 2.0 "$V2"
mkstack "$W/a3" $A 3.0 "$V3"
DATA=$STACK_HOME/data/$A/data
assert_exit 0 "$S" run $A@1.0
for _ in $(seq 1 50); do [ -f "$DATA/sub/one" ] && [ -f "$(vol_dir $A)/keep" ] && break; sleep 0.1; done
echo "user file" >"$DATA/user.txt"

# killed POINT TARGET: the upgrade killed at POINT exits 137; the next command (ps) finishes it (its stderr
# in $LAST_STDERR)
killed() {
  set +e
  STACK_TEST_KILL_AT=$1 "$S" upgrade $A --to "$2" >"$W/out" 2>&1
  local rc=$?
  set -e
  [ "$rc" = 137 ] || { cat "$W/out" >&2; die "upgrade killed at $1 exited $rc, expected 137"; }
  assert_exit 0 "$S" ps
}

for point in after-prepare after-stop after-snapshot after-down after-up; do
  info "killed at $point: the next command leaves 1.0 running with its data as before"
  before_data=$(digest "$DATA")
  before_vol=$(digest "$(vol_dir $A)")
  killed $point 2.0
  case $point in
  after-prepare) want="before anything stopped" ;;
  *) want="completing its rollback" ;;
  esac
  case "$LAST_STDERR" in *"$want"*) ;; *) die "$point: ps did not say '$want': $LAST_STDERR" ;; esac
  assert_eq running "$(ps_field $A state)" "$point: state"
  assert_eq 1.0 "$(ps_field $A version)" "$point: version"
  assert_eq "$before_data" "$(digest "$DATA")" "$point: data dir"
  assert_eq "$before_vol" "$(digest "$(vol_dir $A)")" "$point: volume"
  assert_exit 0 "$S" ps
  case "$LAST_STDERR" in *upgrade*) die "$point: a second command still finds the upgrade: $LAST_STDERR" ;; esac
done

info "killed after the health wait: the next command reports the upgrade completed"
killed after-health 2.0
case "$LAST_STDERR" in *"had completed"*) ;; *) die "after-health: no completion report: $LAST_STDERR" ;; esac
assert_eq 2.0 "$(ps_field $A version)" "after-health: version"
assert_eq running "$(ps_field $A state)" "after-health: state"

info "killed in the middle of an automatic rollback (after the restore): completed by the next command"
for _ in $(seq 1 50); do [ "$(cat "$DATA/version")" = v2 ] && break; sleep 0.1; done
before_data=$(digest "$DATA")
before_vol=$(digest "$(vol_dir $A)")
killed after-restore 3.0
case "$LAST_STDERR" in *"completing its rollback"*) ;; *) die "after-restore: $LAST_STDERR" ;; esac
assert_eq 2.0 "$(ps_field $A version)" "after-restore: version"
assert_eq running "$(ps_field $A state)" "after-restore: state"
assert_eq "$before_data" "$(digest "$DATA")" "after-restore: data dir"
assert_eq "$before_vol" "$(digest "$(vol_dir $A)")" "after-restore: volume"
# stuck POINT: an upgrade to 3.0 killed at POINT, whose rollback the next commands cannot complete (no Engine)
NOENGINE=unix://$W/no-engine.sock
stuck() {
  set +e
  STACK_TEST_KILL_AT=$1 "$S" upgrade $A --to 3.0 >"$W/out" 2>&1
  local rc=$?
  set -e
  [ "$rc" = 137 ] || { cat "$W/out" >&2; die "upgrade killed at $1 exited $rc, expected 137"; }
}
pending() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM upgrades WHERE slug = ? AND state NOT IN (\"done\",\"rolled-back\",\"abandoned\",\"reverted\")", (sys.argv[2],)).fetchone()[0])' "$STACK_HOME/index.db" "$1"; }

info "a rollback that cannot complete: said once, then quiet; upgrade refused; upgrade --abandon clears it"
stuck after-down
DOCKER_HOST=$NOENGINE assert_exit 0 "$S" ls $A
case "$LAST_STDERR" in *"completing its rollback"*"still to be rolled back"*"upgrade --abandon $A"*) ;; *) die "first command: $LAST_STDERR" ;; esac
for _ in 1 2; do
  DOCKER_HOST=$NOENGINE assert_exit 0 "$S" ls $A
  case "$LAST_STDERR" in *rollback* | *upgrade*) die "said again: $LAST_STDERR" ;; esac
done
DOCKER_HOST=$NOENGINE assert_exit 5 "$S" upgrade $A --to 3.0
case "$LAST_STDERR" in *"could not complete its rollback"*"stack upgrade --abandon $A"*) ;; *) die "upgrade over a stuck one: $LAST_STDERR" ;; esac
assert_eq 1 "$(pending $A)" "journal rows pending before --abandon"
DOCKER_HOST=$NOENGINE assert_exit 0 "$S" upgrade --abandon $A
# the old version went down before the kill and the new one never came up: no run is left
case "$LAST_STDOUT" in *"abandoned the upgrade of $A (it was at rollback"*"no run (stack run $A starts one)"*"snapshot "*"stack restore $A "*) ;; *) die "--abandon: $LAST_STDOUT" ;; esac
assert_eq 0 "$(pending $A)" "journal rows pending after --abandon"
assert_exit 0 "$S" ps
case "$LAST_STDERR" in *rollback* | *upgrade*) die "the abandoned upgrade is still spoken of: $LAST_STDERR" ;; esac
assert_exit 1 "$S" upgrade --abandon $A
case "$LAST_STDERR" in *"nothing to abandon"*) ;; *) die "--abandon twice: $LAST_STDERR" ;; esac
assert_exit 0 "$S" run $A@2.0
assert_eq running "$(ps_field $A state)" "state after the abandon and a run"

info "rm --purge clears the journal of a stuck rollback"
stuck after-down
DOCKER_HOST=$NOENGINE assert_exit 0 "$S" rm $A --purge
assert_eq 0 "$(pending $A)" "journal rows after rm --purge"
assert_exit 0 "$S" ps
case "$LAST_STDERR" in *rollback* | *upgrade*) die "the purged stack's upgrade is still spoken of: $LAST_STDERR" ;; esac
assert_eq - "$(ps_field $A state)" "row after rm --purge"
info "ok"
