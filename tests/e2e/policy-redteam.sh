#!/usr/bin/env bash
# Variants of issue 18's hostile bundles written to get around the checks that closed them, on the real Engine
# (tests/unit/test-policy-redteam.c has the same cases at the policy): each refused with exit 3 and nothing
# created, where the variant had worked before its fix (a bind of the host's /etc, docker-compose sending the
# project to a port of the bundle's choosing).
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-redteam:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^rt[a-z]+$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D network ls --format '{{.Name}}' | grep -E '^stack-rt[a-z]+$U' | xargs -r $D network rm >/dev/null 2>&1 || true"
on_exit "$D rmi -f stack-e2e/rtbuildnet$U >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh echo sleep cat ls grep rm ln; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE [DOTENV]: a bundle imported into the store (DOTENV written byte for byte as .env)
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: policy red-team end-to-end test stack
author: tests
license: MIT
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  [ -z "${3:-}" ] || printf '%b' "$3" >"$dir/.env"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}

nothing() { # SLUG: the Engine holds no container or network of the stack, no run dir
  assert_eq "" "$("$D" ps -aq --filter label=io.stack.slug=$1)" "containers of the refused $1"
  assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=stack-$1)" "project containers of $1"
  assert_eq "" "$("$D" network ls -q --filter label=com.docker.compose.project=stack-$1)" "networks of $1"
  [ ! -e "$STACK_HOME/runs/$1" ] || die "the refused $1 left a run dir"
}

refused() { # SLUG WANT: stack run exits 3 with WANT in its message, nothing runs
  assert_exit 3 "$S" run "$1" --offline
  echo "$LAST_STDERR" | grep -qF -- "$2" || die "$1: the refusal does not say '$2': $LAST_STDERR"
  nothing "$1"
}

# listen PORT FILE: a one-shot TCP listener on 127.0.0.1:PORT that writes what connects into FILE
listen() {
  python3 - "$1" "$2" <<'P' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); s.settimeout(30)
try:
    c, _ = s.accept(); open(sys.argv[2], "wb").write(b"CONNECTED " + c.recv(100))
except Exception:
    pass
P
  on_exit "kill $! 2>/dev/null || true"
  sleep 0.5
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

SLEEP="image: $TAG
    command: [sleep, \"3600\"]"

info "1. a bundle .env setting DOCKER_HOST: refused before compose runs, nothing connects to its port"
port=$(freeport)
listen "$port" "$W/conn1"
mkstack rtdockerhost$U "services:
  web:
    $SLEEP" "DOCKER_HOST=tcp://127.0.0.1:$port\n"
refused rtdockerhost$U ".env sets DOCKER_HOST: a bundle's .env may not set DOCKER_* or COMPOSE_*"
[ ! -e "$W/conn1" ] || die "compose connected to the bundle's DOCKER_HOST: $(cat "$W/conn1")"

info "2. DOCKER_HOST after a lone carriage return (python-dotenv ends the line there): refused, nothing connects"
port=$(freeport)
listen "$port" "$W/conn2"
mkstack rtcr$U "services:
  web:
    $SLEEP" "A=x\rDOCKER_HOST=tcp://127.0.0.1:$port\n"
refused rtcr$U ".env:1: not valid dotenv: a carriage return that does not end a line"
[ ! -e "$W/conn2" ] || die "compose connected to the DOCKER_HOST hidden after a carriage return: $(cat "$W/conn2")"

info "3. .env COMPOSE_CONVERT_WINDOWS_PATHS=1 with a bind of .\\..\\..\\etc (was the host's /etc, writable): refused"
WINBIND="services:
  web:
    $SLEEP
    volumes:
      - {type: bind, source: '.\\..\\..\\..\\..\\..\\..\\..\\..\\..\\..\\..\\..\\etc', target: /host}"
mkstack rtwinenv$U "$WINBIND" "COMPOSE_CONVERT_WINDOWS_PATHS=1\n"
refused rtwinenv$U ".env sets COMPOSE_CONVERT_WINDOWS_PATHS"

info "4. the same bind with COMPOSE_CONVERT_WINDOWS_PATHS=1 in the person's shell: refused (host-bind)"
mkstack rtwinshell$U "$WINBIND"
COMPOSE_CONVERT_WINDOWS_PATHS=1 refused rtwinshell$U "(a '\\' is a path separator to compose on Windows settings) is not allowed (needs permission 'host-bind')"

info "5. a network whose subnet takes the host's own route to 198.51.100.7 into the stack: refused, route unchanged"
before=$(ip route get 198.51.100.7 2>/dev/null | head -1 || true)
mkstack rtroute$U "services:
  web:
    $SLEEP
    networks: {n: {ipv4_address: 198.51.100.7}}
networks:
  n: {ipam: {config: [{subnet: 198.51.100.0/24}]}}"
refused rtroute$U "network 'n': ipam.config (addresses the host then routes to the stack) is not allowed (needs permission 'host-network')"
assert_eq "$before" "$(ip route get 198.51.100.7 2>/dev/null | head -1 || true)" "the host's route to 198.51.100.7"

info "6. a network on the default bridge's interface (com.docker.network.bridge.name: docker0): refused"
mkstack rtbridge$U "services:
  web:
    $SLEEP
    networks: [n]
networks:
  n: {driver_opts: {com.docker.network.bridge.name: docker0}}"
refused rtbridge$U "driver_opts.com.docker.network.bridge.name (a setting of the host's network)"

info "7. a build on another stack's network (its RUN step read that stack's unpublished service): refused"
mkstack rtvic$U "services:
  db:
    image: $TAG
    command: [sh, -c, \"mkdir -p /w && echo topsecret$U > /w/index.html && exec busybox httpd -f -p 8080 -h /w\"]"
assert_exit 0 "$S" run rtvic$U --offline
vic=$("$D" ps -q --filter label=com.docker.compose.project=stack-rtvic$U)
[ -n "$vic" ] || die "the victim stack does not run"
mkdir -p "$W/rtbuildnet$U"
printf 'FROM %s\nRUN busybox wget -qO- http://db:8080/ > /loot\n' "$TAG" >"$W/rtbuildnet$U/Dockerfile"
mkstack rtbuildnet$U "services:
  web:
    image: stack-e2e/rtbuildnet$U
    build: {context: ., network: stack-rtvic${U}_default}
    command: [sh, -c, \"cat /loot; sleep 3600\"]"
refused rtbuildnet$U "build.network: stack-rtvic${U}_default (a network outside the stack) is not allowed (needs permission 'external')"
assert_eq "" "$("$D" images -q stack-e2e/rtbuildnet$U)" "an image built on the other stack's network"
assert_eq "$vic" "$("$D" ps -q --filter label=com.docker.compose.project=stack-rtvic$U)" "the victim's container"
assert_exit 0 "$S" rm rtvic$U --purge

info "8. a secret file inside a writable bind, swapped for a symlink to /etc/shadow before dockerd restarts: refused"
mkdir -p "$W/rtsecret$U/state" && echo init >"$W/rtsecret$U/state/s"
mkstack rtsecret$U "services:
  web:
    image: $TAG
    restart: on-failure
    command: [sh, -c, \"cat /run/secrets/s | grep -q root: && sleep 3600; rm -f /state/s; ln -s /etc/shadow /state/s; exit 1\"]
    volumes: [\"./state:/state\"]
    secrets: [s]
secrets:
  s: {file: ./state/s}"
refused rtsecret$U "bind of ./state/s inside the writable bind ./state"

info "9. logging.options.syslog-address without a driver (for a daemon whose default driver is syslog): refused"
mkstack rtlogopt$U "services:
  web:
    $SLEEP
    logging: {options: {syslog-address: \"tcp://127.0.0.1:1\"}}"
refused rtlogopt$U "logging.options.syslog-address without a driver"

info "10. a writable bind of the run dir (the container rewrote .stack-compose.yaml to bind /etc for the next run): refused"
mkstack rtrundir$U "services:
  web:
    $SLEEP
    volumes: [\".:/app\"]"
refused rtrundir$U "writable bind of ., which holds the effective compose file and the run's .env"

info "11. a bundle .env with DOCKER_SOCKET_LOCATION (the bundle's own variable, not the compose tool's): runs"
mkstack rtsockvar$U "services:
  web:
    $SLEEP
    environment: [\"WHERE=\${DOCKER_SOCKET_LOCATION}\"]" "DOCKER_SOCKET_LOCATION=/nowhere\n"
assert_exit 0 "$S" run rtsockvar$U --offline
c=$("$D" ps -q --filter label=com.docker.compose.project=stack-rtsockvar$U)
"$D" exec "$c" sh -c 'echo $WHERE' | grep -qx /nowhere || die "the .env value did not reach the container"
assert_exit 0 "$S" rm rtsockvar$U --purge

info "12. a bind of ./stack.env (redirected onto the data dir's remembered --env values, rewritten for the next run): refused"
mkstack rtstackenv$U "services:
  web:
    $SLEEP
    volumes: [\"./stack.env:/x/stack.env\"]"
assert_exit 3 "$S" run rtstackenv$U --offline --env TOKEN=secret$U
echo "$LAST_STDERR" | grep -qF "bind of ./stack.env (in the data dir it is stack's own stack.env" || die "12: $LAST_STDERR"
nothing rtstackenv$U

info "all red-team variants refused"
