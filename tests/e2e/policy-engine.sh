#!/usr/bin/env bash
# What the Engine is asked for, on the real Engine (spec/run.md "What the Engine was asked for", "Backends",
# "Variables"): the compose tool runs in an environment stack wrote (a bundle .env naming another Engine, project
# and file changes nothing: the listener it names gets no connection), compose project names are injective in the
# slug (a.b and ab run side by side; rm --purge of one keeps the other's volume), and the judge of the created
# containers refuses, before anything starts, what the Engine was asked for beyond the grants.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-pe:$$"
U=pe$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D volume ls -q | grep -E '^stack-.*$U' | xargs -r $D volume rm -f >/dev/null 2>&1 || true"
on_exit "$D network ls -q --filter label=io.stack.test=$U | xargs -r $D network rm >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh echo sleep cat ls ln rmdir; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE [DOTENV]: a bundle imported into the store
  local dir="$W/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "${VER:-1}"
description: engine judge end-to-end test stack
author: tests
license: MIT
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  [ -z "${3:-}" ] || printf '%s\n' "$3" >"$dir/.env"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}

SLEEP="image: $TAG
    command: [sleep, \"3600\"]"

info "1. a bundle .env naming another Engine, project, file and profile: compose runs on stack's socket"
PORT_FILE=$W/listener.port COUNT_FILE=$W/listener.count
python3 - "$PORT_FILE" "$COUNT_FILE" <<'PY' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
n = 0
open(sys.argv[2], "w").write("0")
while True:
    c, _ = s.accept(); n += 1
    open(sys.argv[2], "w").write(str(n)); c.close()
PY
LISTENER=$!
on_exit "kill $LISTENER"
for _ in $(seq 50); do [ -s "$PORT_FILE" ] && break; sleep 0.1; done
PORT=$(cat "$PORT_FILE")
mkstack env$U "services:
  web:
    $SLEEP
  extra:
    $SLEEP
    profiles: [evil]" "DOCKER_HOST=tcp://127.0.0.1:$PORT
COMPOSE_PROJECT_NAME=evil$U
COMPOSE_FILE=other.yaml
COMPOSE_PROFILES=evil
DOCKER_TLS_VERIFY=1
COMPOSE_PATH_SEPARATOR=;"
printf 'services:\n  evil:\n    image: %s\n    privileged: true\n' "$TAG" >"$W/env$U/other.yaml"
assert_exit 0 "$S" pack "$W/env$U" -o "$W/env$U.stack"
assert_exit 0 "$S" import "$W/env$U.stack"
# the bundle's .env may not set the compose tools' own variables at all: refused before compose runs
assert_exit 3 "$S" run env$U --offline
case "$LAST_STDERR" in *".env sets DOCKER_HOST"*) ;; *) die "env$U: refusal [$LAST_STDERR]" ;; esac
assert_eq 0 "$(cat "$COUNT_FILE")" "connections to the .env's DOCKER_HOST"
assert_eq "" "$("$D" ps -aq --filter label=io.stack.slug=env$U)" "containers of the refused bundle"
assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=evil$U)" "containers of the .env's project"
# the person's shell does not choose them either: the compose process gets DOCKER_* and COMPOSE_* from stack
mkstack env2$U "services:
  web:
    $SLEEP
  extra:
    $SLEEP
    profiles: [evil]" "GREETING=hello"
cp "$W/env$U/other.yaml" "$W/env2$U/other.yaml"
assert_exit 0 "$S" pack "$W/env2$U" -o "$W/env2$U.stack"
assert_exit 0 "$S" import "$W/env2$U.stack"
COMPOSE_PROJECT_NAME=shell$U COMPOSE_FILE=other.yaml COMPOSE_PROFILES=evil COMPOSE_PATH_SEPARATOR=';' \
  assert_exit 0 "$S" run env2$U --offline
assert_eq "web" "$("$D" ps -a --filter label=com.docker.compose.project=stack-env2$U --format '{{.Label "com.docker.compose.service"}}')" \
  "the project's containers (no profile 'evil', no other.yaml)"
assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=shell$U)" "containers of the shell's project"
assert_exit 0 "$S" stop env2$U
assert_exit 0 "$S" rm env2$U --purge
assert_eq 0 "$(cat "$COUNT_FILE")" "connections to the .env's DOCKER_HOST after all"

info "2. slugs a.b and ab: two projects side by side; rm --purge of one keeps the other's volume"
for sl in "a.b$U" "ab$U"; do
  mkstack "$sl" "services:
  web:
    $SLEEP
    volumes: [\"data:/data\"]
volumes:
  data:"
done
assert_exit 0 "$S" run "a.b$U" --offline
assert_exit 0 "$S" run "ab$U" --offline
P1=$("$D" ps -q --filter "label=io.stack.slug=a.b$U")
P2=$("$D" ps -q --filter "label=io.stack.slug=ab$U")
[ -n "$P1" ] && [ -n "$P2" ] || die "both stacks run ($P1 / $P2)"
assert_eq "stack--a-db$U" "$("$D" inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$P1")" "a.b's project"
assert_eq "stack-ab$U" "$("$D" inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$P2")" "ab's project"
assert_eq "stack--a-db${U}_data" "$("$D" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$P1")" "a.b's volume"
"$D" exec "$P2" sh -c 'echo mine >/data/f'
assert_exit 0 "$S" run "a.b$U" --offline # a re-run of one leaves the other's container running
assert_eq "true" "$("$D" inspect -f '{{.State.Running}}' "$P2")" "ab's container after a.b's re-run"
assert_exit 0 "$S" rm "a.b$U" --purge
assert_eq "true" "$("$D" inspect -f '{{.State.Running}}' "$P2")" "ab's container after a.b's rm --purge"
"$D" volume inspect "stack-ab${U}_data" >/dev/null || die "ab's volume removed by a.b's rm --purge"
assert_eq "mine" "$("$D" exec "$P2" cat /data/f)" "ab's data"
"$D" volume inspect "stack--a-db${U}_data" >/dev/null 2>&1 && die "a.b's volume left by its rm --purge"

info "3. the judge: what the Engine was asked for beyond the grants never starts (ab$U is the victim)"
VICTIM=$("$D" inspect -f '{{.Name}}' "$P2" | tr -d /)
VNET=$("$D" inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$P2")
LPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# hostile SLUG EXPECTED-IN-MESSAGE COMPOSE: refused (exit 3) naming it (the judge's words, or the YAML policy's
# when it refuses first: "... needs permission" / "belongs to another stack"), no container of its project left,
# no volume it made left, the victim untouched
hostile() {
  local slug=$1 want=$2 file=$3 proj
  mkstack "$slug" "$file"
  assert_exit 3 "$S" run "$slug" --offline
  case "$LAST_STDERR" in
    *"$want"*) info "$slug: refused by the judge" ;;
    *"is not allowed (needs permission"* | *"belongs to another stack"*) info "$slug: refused by the YAML policy" ;;
    *) die "$slug: refusal [$LAST_STDERR] does not name [$want]" ;;
  esac
  proj=stack-$slug
  assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=$proj)" "$slug: containers left"
  assert_eq "" "$("$D" volume ls -q --filter label=com.docker.compose.project=$proj)" "$slug: volumes left"
  assert_eq "true" "$("$D" inspect -f '{{.State.Running}}' "$P2")" "$slug: the victim runs"
  assert_eq "mine" "$("$D" exec "$P2" cat /data/f)" "$slug: the victim's data"
  "$S" rm "$slug" --purge >/dev/null 2>&1 || true # the judge records a failed run; the YAML policy none
}
hostile merge$U "Privileged true needs permission 'privileged'" "services:
  web:
    $SLEEP
    !!merge innocent: {privileged: true}"
hostile proc$U "driver options type=proc" "services:
  web:
    $SLEEP
    volumes: [\"p:/hostproc\"]
volumes:
  p: {driver_opts: {type: proc, device: proc}}"
hostile vfrom$U "a container of another project" "services:
  web:
    $SLEEP
    volumes_from: [\"container:$VICTIM\"]"
hostile netns$U "NetworkMode container:" "services:
  web:
    $SLEEP
    network_mode: \"container:$VICTIM\""
hostile syslog$U "LogConfig.Type syslog" "services:
  web:
    $SLEEP
    logging: {driver: syslog, options: {syslog-address: \"tcp://127.0.0.1:$LPORT\"}}"
hostile oom$U "OomScoreAdj -1000" "services:
  web:
    $SLEEP
    oom_score_adj: -1000"
hostile vname$U "volume stack-ab${U}_data (of another project)" "services:
  web:
    $SLEEP
    volumes: [\"d:/d\"]
volumes:
  d: {name: stack-ab${U}_data}"
hostile xnet$U "network $VNET (of another project)" "services:
  web:
    $SLEEP
    networks: [x]
networks:
  x: {external: true, name: $VNET}"
# unlimited swap is not refused but rewritten by the policy (spec/run.md "Limits"): swap = memory
mkstack swap$U "services:
  web:
    $SLEEP
    mem_limit: 64m
    memswap_limit: -1"
assert_exit 0 "$S" run swap$U --offline
C=$("$D" ps -q --filter label=com.docker.compose.project=stack-swap$U)
assert_eq "67108864 67108864" "$("$D" inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}' "$C")" "swap$U: memory and swap"
assert_exit 0 "$S" rm swap$U --purge
assert_exit 0 "$S" rm "ab$U" --purge

info "4a. the re-launch fast path judges the containers it starts: one changed with docker update after it ran"
mkstack upd$U "services:
  web:
    $SLEEP"
assert_exit 0 "$S" run upd$U --offline
C=$("$D" ps -q --filter label=com.docker.compose.project=stack-upd$U)
[ -n "$C" ] || die "upd$U: no container"
assert_exit 0 "$S" stop upd$U
"$D" update --pids-limit=-1 "$C" >/dev/null
assert_exit 3 "$S" run upd$U --offline
case "$LAST_STDERR" in *PidsLimit*) ;; *) die "upd$U: refusal [$LAST_STDERR] does not name PidsLimit" ;; esac
assert_eq "exited" "$("$D" inspect -f '{{.State.Status}}' "$C")" "the changed container stays stopped"
assert_exit 0 "$S" rm upd$U --purge

info "4. the re-launch fast path judges before it starts: a bind source the container swapped for a symlink to /"
mkstack swap2$U "services:
  web:
    $SLEEP
    volumes: [\"./state:/state\", \"./state/sub:/host\"]"
set +e
"$S" run swap2$U --offline >"$W/swap.out" 2>"$W/swap.err"
rc=$?
set -e
if [ "$rc" = 3 ]; then
  info "the policy refuses the nested bind itself ($(cat "$W/swap.err")): nothing to swap"
else
  [ "$rc" = 0 ] || die "swap2: first run exited $rc: $(cat "$W/swap.err")"
  C=$("$D" ps -q --filter label=com.docker.compose.project=stack-swap2$U)
  if ! "$D" exec "$C" sh -c 'rmdir /state/sub && ln -s / /state/sub' 2>"$W/swap.exec"; then
    # the policy pinned the nested source in the outer bind (spec/run.md "Bind mounts"): it cannot be swapped
    grep -q 'busy' "$W/swap.exec" || die "swap2: the swap failed otherwise: $(cat "$W/swap.exec")"
    info "the nested bind source is pinned: $(cat "$W/swap.exec")"
    assert_exit 0 "$S" stop swap2$U
    assert_exit 0 "$S" run swap2$U --offline
  else
    assert_exit 0 "$S" stop swap2$U
    assert_exit 3 "$S" run swap2$U --offline --json
    case "$LAST_STDERR" in *"bind of "*"/state/sub (/) (outside the run dir and the data dir) needs permission 'host-bind'"*) ;;
      *) die "swap2: refusal [$LAST_STDERR]" ;; esac
    assert_eq "exited" "$("$D" inspect -f '{{.State.Status}}' "$C")" "the container with the swapped bind stays stopped"
  fi
  assert_exit 0 "$S" rm swap2$U --purge
fi
