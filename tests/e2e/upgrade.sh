#!/usr/bin/env bash
# stack upgrade on the real Engine (spec/run.md "Upgrades and snapshots"): v1 writes to a bind-mounted ./data and
# a named volume at start; v2 is good; v3 writes to both and exits 1, so its upgrade rolls back with the data dir
# and the volume exactly as before (file lists and hashes). Then stack rollback, a snapshot / restore round
# trip compared file by file, gc keeping snapshots, and the bad inputs: a stack not running, the running version
# as target, a target the policy refuses, the Engine gone mid-upgrade, another stack's snapshot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
. "$(dirname "$0")/upgrade_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/upbusybox:$$"
U=$$
A=upa$U # the stack the test upgrades
B=upb$U # another stack (its snapshot must not restore into A)
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r $D rm -f"
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$B | xargs -r $D rm -f"
on_exit "$D volume ls -q --filter label=com.docker.compose.project=stack-$A | xargs -r $D volume rm -f"
on_exit "$D volume ls -q --filter label=com.docker.compose.project=stack-$B | xargs -r $D volume rm -f"
on_exit "$D rmi -f $TAG"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

upgrade_setup

mkstack "$W/a1" $A 1.0 "$V1"
mkstack "$W/a2" $A 2.0 "$V2"
mkstack "$W/a3" $A 3.0 "$V3"
mkstack "$W/b1" $B 1.0 "$V1"

DATA=$STACK_HOME/data/$A/data

info "1. not running: upgrade starts what stack run would (--to 1.0) and says so"
assert_exit 0 "$S" upgrade $A --to 1.0
case "$LAST_STDOUT" in *"is not running"*) ;; *) die "no 'not running' note: $LAST_STDOUT" ;; esac
assert_eq running "$(ps_field $A state)" "state after the first upgrade"
assert_eq 1.0 "$(ps_field $A version)" "version after the first upgrade"
for _ in $(seq 1 50); do [ -f "$DATA/sub/one" ] && [ -f "$(vol_dir $A)/keep" ] && break; sleep 0.1; done
echo "user file" >"$DATA/user.txt"
ln -s /etc/hostname "$DATA/link"
chmod 0700 "$DATA/sub"

info "2. the running version as target: nothing done, exit 0"
id1=$(ps_field $A id)
assert_exit 0 "$S" upgrade $A --to 1.0
case "$LAST_STDOUT" in *"nothing to do"*) ;; *) die "no 'nothing to do': $LAST_STDOUT" ;; esac
assert_eq "$id1" "$(ps_field $A id)" "the run is the same"

info "3. a broken version (writes, then exits 1): rolled back, data dir and volume exactly as before"
before_data=$(digest "$DATA")
before_vol=$(digest "$(vol_dir $A)")
assert_exit 5 "$S" upgrade $A --to 3.0
case "$LAST_STDERR" in *"rolled back"*"v3 is broken"*) ;; *) die "no 'rolled back' with the log line: $LAST_STDERR" ;; esac
assert_eq running "$(ps_field $A state)" "state after the rollback"
assert_eq 1.0 "$(ps_field $A version)" "version after the rollback"
assert_eq "$before_data" "$(digest "$DATA")" "data dir after the rollback"
assert_eq "$before_vol" "$(digest "$(vol_dir $A)")" "volume after the rollback"
[ ! -e "$DATA/added-by-v3" ] || die "a file v3 added is still there"
assert_eq keep "$(cat "$(vol_dir $A)/keep")" "a volume file v3 changed"
assert_eq /etc/hostname "$(readlink "$DATA/link")" "symlink restored"

info "4. a target the policy refuses: exit 3 before anything stops"
mkdir -p "$W/a4"
mkstack "$W/a4" $A 4.0 "$V2" "    privileged: true"
cid=$("$D" ps -q --filter label=com.docker.compose.project=stack-$A)
assert_exit 3 "$S" upgrade $A --to 4.0
assert_eq "$cid" "$("$D" ps -q --filter label=com.docker.compose.project=stack-$A)" "the container still runs"
assert_eq 1.0 "$(ps_field $A version)" "version after the refusal"

info "5. a good version: upgraded, v2 runs with the data v1 left"
assert_exit 0 "$S" upgrade $A --to 2.0
case "$LAST_STDOUT" in *"upgraded $A: 1.0 -> 2.0"*) ;; *) die "no 'upgraded': $LAST_STDOUT" ;; esac
assert_eq 2.0 "$(ps_field $A version)" "version after the upgrade"
for _ in $(seq 1 50); do [ "$(cat "$DATA/version")" = v2 ] && break; sleep 0.1; done
assert_eq v2 "$(cat "$DATA/version")" "v2 wrote"
assert_eq "user file" "$(cat "$DATA/user.txt")" "data kept through the upgrade"

info "5b. gc keeps the rollback target (1.0: neither running nor among the newest) and the snapshots"
assert_exit 0 "$S" gc --keep 1
assert_exit 0 "$S" ls $A --json
echo "$LAST_STDOUT" | grep -q '"1.0"' || die "gc collected the rollback target: $LAST_STDOUT"

info "6. stack rollback: v1 with the data from before the upgrade (the v2 data snapshot first)"
assert_exit 0 "$S" rollback $A
case "$LAST_STDOUT" in *"rolled back $A: 2.0 -> 1.0"*) ;; *) die "no 'rolled back': $LAST_STDOUT" ;; esac
assert_eq 1.0 "$(ps_field $A version)" "version after stack rollback"
assert_eq "$before_data" "$(digest "$DATA")" "data dir after stack rollback"
assert_eq "$before_vol" "$(digest "$(vol_dir $A)")" "volume after stack rollback"
assert_exit 0 "$S" snapshots $A --json
reasons=$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(" ".join(x["reason"] for x in json.load(sys.stdin)))')
assert_eq "rollback upgrade upgrade" "$reasons" "snapshot reasons, newest first"

info "7. snapshot / restore round trip, file by file"
assert_exit 0 "$S" snapshot $A
snap=$(echo "$LAST_STDOUT" | sed -n 's/^snapshot \([0-9a-f]*\) .*/\1/p')
[ -n "$snap" ] || die "no snapshot id in: $LAST_STDOUT"
(cd "$DATA" && find . | LC_ALL=C sort) >"$W/list-before"
echo changed >"$DATA/user.txt"
echo new >"$DATA/new.txt"
vol_mode=$(stat -c '%a %u:%g' "$(vol_dir $A)")
vol_before=$(digest "$(vol_dir $A)")
echo changed >"$(vol_dir $A)/keep"
echo added >"$(vol_dir $A)/added"
chmod 0711 "$(vol_dir $A)"
chown 123:456 "$(vol_dir $A)"
assert_exit 0 "$S" restore $A "$snap"
assert_eq "$vol_mode" "$(stat -c '%a %u:%g' "$(vol_dir $A)")" "the volume's root mode and owner restored"
assert_eq "$vol_before" "$(digest "$(vol_dir $A)")" "volume after restore"
assert_eq running "$(ps_field $A state)" "running after restore"
(cd "$DATA" && find . | LC_ALL=C sort) >"$W/list-after"
cmp "$W/list-before" "$W/list-after" || die "file list differs after restore"
assert_eq "user file" "$(cat "$DATA/user.txt")" "changed file restored"
assert_eq keep "$(cat "$(vol_dir $A)/keep")" "changed volume file restored"
[ ! -e "$(vol_dir $A)/added" ] || die "a file added to the volume is still there"
assert_eq "$before_data" "$(digest "$DATA")" "data dir after restore"

info "8. another stack's snapshot is refused (exit 3), nothing changes"
assert_exit 0 "$S" run $B
assert_exit 0 "$S" snapshot $B
bsnap=$(echo "$LAST_STDOUT" | sed -n 's/^snapshot \([0-9a-f]*\) .*/\1/p')
assert_exit 3 "$S" restore $A "$bsnap"
case "$LAST_STDERR" in *"of stack '$B', not '$A'"*) ;; *) die "refusal does not name the stacks: $LAST_STDERR" ;; esac
assert_eq running "$(ps_field $A state)" "A still running"

info "9. gc keeps the snapshots (newest 3) and the rollback target"
assert_exit 0 "$S" gc --keep 1
assert_exit 0 "$S" snapshots $A --json
first=$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
assert_exit 0 "$S" restore $A "$first"

info "10. the Engine gone mid-upgrade: exit 5; the next command completes the rollback"
assert_exit 0 "$S" import "$W/$A-2.0.stack" # gc --keep 1 collected it: no root held it after stack rollback
assert_exit 5 env STACK_TEST_ENGINE_GONE_AT=after-down "$S" upgrade $A --to 2.0
case "$LAST_STDERR" in *"the next stack command completes it"*) ;; *) die "no pending-rollback message: $LAST_STDERR" ;; esac
assert_exit 0 env DOCKER_HOST=unix:///nonexistent/engine.sock "$S" ls $A
case "$LAST_STDERR" in *"still to be rolled back"*) ;; *) die "ls with the Engine still gone: $LAST_STDERR" ;; esac
assert_exit 0 "$S" ps
# said once (by ls): ps completes it without saying it again, and says it is done
case "$LAST_STDERR" in *"completing its rollback"*) die "said twice: $LAST_STDERR" ;; *"rolled back $A"*) ;; *) die "ps did not complete the rollback: $LAST_STDERR" ;; esac
assert_eq running "$(ps_field $A state)" "state after the completed rollback"
assert_eq 1.0 "$(ps_field $A version)" "version after the completed rollback"

info "11. rm keeps the snapshots; rm --purge drops them"
assert_exit 0 "$S" rm $A
assert_exit 0 "$S" snapshots $A --json
[ "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -gt 0 ] || die "rm dropped the snapshots"
assert_exit 0 "$S" rm $B --purge
assert_exit 0 "$S" snapshots $B --json
assert_eq "[]" "$LAST_STDOUT" "snapshots after rm --purge"
info "12. no --to, a catalog configured: the catalog's newest (its signed index read), not the store's newest"
mkdir -p "$W/cat"
cp "$W/$A-1.0.stack" "$W/$A-2.0.stack" "$W/cat/"
assert_exit 0 "$S" keygen "$W/k"
assert_exit 0 "$S" catalog build "$W/cat" --key "$W/k.key"
assert_exit 0 "$S" trust add "$W/k.pub"
start_catalog "$W/cat"
assert_exit 0 "$S" run $A@1.0
assert_exit 0 env STACK_CATALOG="$CATALOG_URL" "$S" upgrade $A
assert_eq 2.0 "$(ps_field $A version)" "version after the catalog upgrade"
grep -q 'index.json' "$CATALOG_LOG" || die "the catalog's index was not read"

info "13. a stopped stack: upgraded all the same, and it says so"
assert_exit 0 "$S" stop $A
assert_exit 0 "$S" upgrade $A --to 1.0
case "$LAST_STDOUT" in *"is stopped (not running)"*"upgraded $A: 2.0 -> 1.0"*) ;; *) die "no 'is stopped' note: $LAST_STDOUT" ;; esac
assert_eq running "$(ps_field $A state)" "state after upgrading a stopped stack"
assert_exit 0 "$S" rm $A
info "ok"
