#!/usr/bin/env bash
# The compose tool is chosen by what its `version` reports, not by its name, and chosen again when it changes:
#   1. compose v2 installed as `docker-compose` (Debian 13 ships it so) runs the stack as v2: the container's
#      com.docker.compose.version label is v2's, $STACK_HOME/runtime says kind=v2. Needs a compose v2 binary:
#      $STACK_TEST_COMPOSE_V2 (e.g. Debian 13's docker-compose extracted from its .deb), else `docker compose`
#      when the plugin answers; skipped without one.
#   2. the same name replaced by docker-compose 1.29: re-detected, the next run is v1's (label 1.29.x).
#   3. STACK_RUNTIME=podman-compose runs podman-compose itself (not `podman compose`), with -p and -f, the limits it
#      drops as --podman-run-args, and without the options podman-compose 1.0.x refuses; its failure is exit 5 with
#      its last line; services with different memory limits (which it cannot keep without swap) exit 5 saying so.
#   4. STACK_RUNTIME naming no tool: exit 2; a tool whose `version` reports nothing stack knows: exit 5 naming
#      its output.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
if [ ! -x /usr/bin/docker-compose ]; then
  info "skipped: no docker-compose"
  exit 0
fi
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/busybox-tools:$U"
A=ctools$U
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$A | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
unset STACK_RUNTIME

V2=${STACK_TEST_COMPOSE_V2:-}
if [ -z "$V2" ] && "$D" compose version 2>/dev/null | grep -q 'Docker Compose version'; then
  V2=$(for d in "${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" /usr/local/lib/docker/cli-plugins \
    /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins; do
    [ -x "$d/docker-compose" ] && echo "$d/docker-compose" && break; done || true)
fi

# A PATH of our own first: `docker` without the compose plugin (so docker-compose is what is probed), and the
# docker-compose under test.
mkdir -p "$W/bin"
cat >"$W/bin/docker" <<EOF
#!/bin/sh
[ "\$1" = compose ] && { echo "docker: 'compose' is not a docker command." >&2; exit 1; }
exec $D "\$@"
EOF
chmod +x "$W/bin/docker"
export PATH="$W/bin:$PATH"

build_busybox_image "$TAG" "$W" sh sleep
"$D" save -o "$W/busybox.tar" "$TAG"
mkdir -p "$W/$A/images"
cp "$W/busybox.tar" "$W/$A/images/busybox.tar"
cat >"$W/$A/stack.yaml" <<Y
slug: $A
name: Compose tools
flavor: DockerCompose
version: "1.0"
description: which compose tool runs it
author: tests
license: MIT
images: [images/busybox.tar]
Y
cat >"$W/$A/compose.yaml" <<Y
services:
  app:
    image: $TAG
    command: [sh, -c, 'exec sleep 3600', yes]
    ports:
      - target: 5353
        protocol: UDP
Y
assert_exit 0 "$S" pack "$W/$A" -o "$W/$A.stack"
assert_exit 0 "$S" import "$W/$A.stack"

# run_with: run to running, print the container's compose version label, then rm --purge
run_with() {
  assert_exit 0 "$S" run "$A" --json
  local c
  c=$("$D" ps -q --filter "label=com.docker.compose.project=stack-$A" --filter label=com.docker.compose.service=app)
  [ -n "$c" ] || die "no app container"
  assert_eq '["sh","-c","exec sleep 3600","yes"]' "$("$D" inspect -f '{{json .Config.Cmd}}' "$c")" "command"
  "$D" inspect -f '{{index .Config.Labels "com.docker.compose.version"}}' "$c"
  assert_exit 0 "$S" rm "$A" --purge
}

if [ -n "$V2" ]; then
  info "1. compose v2 as docker-compose ($("$V2" version --short)): run as v2"
  ln -sf "$V2" "$W/bin/docker-compose"
  label=$(run_with)
  case "$label" in 1.*) die "ran by docker-compose 1.x ($label) although v2 is installed as docker-compose" ;; esac
  grep -qx 'kind=v2' "$STACK_HOME/runtime" || die "runtime: $(cat "$STACK_HOME/runtime")"
  grep -qx 'tool=docker-compose' "$STACK_HOME/runtime" || die "runtime: $(cat "$STACK_HOME/runtime")"
else
  info "1. skipped: no compose v2 (set STACK_TEST_COMPOSE_V2 to a compose v2 binary)"
fi

info "2. docker-compose 1.29 under the same name: re-detected, run as v1"
rm -f "$W/bin/docker-compose"
ln -s /usr/bin/docker-compose "$W/bin/docker-compose"
label=$(run_with)
case "$label" in 1.*) ;; *) die "not run by docker-compose 1.x: label '$label'" ;; esac
grep -qx 'kind=v1' "$STACK_HOME/runtime" || die "runtime: $(cat "$STACK_HOME/runtime")"

info "3. STACK_RUNTIME=podman-compose runs podman-compose"
cat >"$W/bin/podman-compose" <<EOF
#!/bin/sh
if [ "\$1" = version ]; then printf 'podman-composer version  1.0.3\npodman version 4.3.1\n'; exit 0; fi
echo "\$*" >>"$W/podman-compose.args"
echo "Error: no podman socket here"
exit 1
EOF
chmod +x "$W/bin/podman-compose"
assert_exit 5 env STACK_RUNTIME=podman-compose "$S" run "$A"
case "$LAST_STDERR" in *"podman-compose up failed"*"no podman socket here"*) ;; *) die "message: $LAST_STDERR" ;; esac
# with the limits it does not pass to podman itself (memswap_limit, pids_limit) as --podman-run-args
swap=$(sed -n 's/^ *memswap_limit: *\([0-9]*\)$/\1/p' "$STACK_HOME/runs/$A/.stack-compose.yaml" | head -n1)
pids=$(sed -n 's/^ *pids_limit: *\([0-9]*\)$/\1/p' "$STACK_HOME/runs/$A/.stack-compose.yaml" | head -n1)
[ -n "$swap" ] && [ -n "$pids" ] || die "no memswap_limit/pids_limit in the effective file"
grep -Eq "^-p stack-$A -f .*/.stack-compose.yaml --podman-run-args=--memory-swap=$swap --pids-limit=$pids up (-d|--no-start) --remove-orphans$" "$W/podman-compose.args" ||
  die "podman-compose arguments: $(cat "$W/podman-compose.args")"
! grep -q -- --project-directory "$W/podman-compose.args" || die "--project-directory given to podman-compose"
assert_exit 0 "$S" rm "$A" --purge
# one --memory-swap serves every container: services with different memory limits are refused in one line,
# before podman-compose creates anything
B=ctoolsb$U
mkdir -p "$W/$B/images"
cp "$W/busybox.tar" "$W/$B/images/busybox.tar"
sed "s/^slug: .*/slug: $B/" "$W/$A/stack.yaml" >"$W/$B/stack.yaml"
printf 'services:\n  app: {image: %s, command: [sleep, "3600"]}\n  db: {image: %s, command: [sleep, "3600"], mem_limit: 32m}\n' \
  "$TAG" "$TAG" >"$W/$B/compose.yaml"
assert_exit 0 "$S" pack "$W/$B" -o "$W/$B.stack"
assert_exit 0 "$S" import "$W/$B.stack"
: >"$W/podman-compose.args"
assert_exit 5 env STACK_RUNTIME=podman-compose "$S" run "$B"
case "$LAST_STDERR" in *"services app and db have different memory limits"*) ;; *) die "message: $LAST_STDERR" ;; esac
! grep -q " up " "$W/podman-compose.args" || die "podman-compose up ran: $(cat "$W/podman-compose.args")"
assert_exit 0 "$S" rm "$B" --purge

info "4. STACK_RUNTIME naming no tool; a tool that reports something else"
assert_exit 2 env STACK_RUNTIME=podman "$S" run "$A"
rm -f "$W/bin/docker-compose"
printf '#!/bin/sh\necho "hello from an impostor"\n' >"$W/bin/docker-compose"
chmod +x "$W/bin/docker-compose"
assert_exit 5 env STACK_RUNTIME=docker-compose "$S" run "$A"
case "$LAST_STDERR" in *"hello from an impostor"*) ;; *) die "message: $LAST_STDERR" ;; esac
[ "$(echo "$LAST_STDERR" | wc -l)" = 1 ] || die "more than one line: $LAST_STDERR"
[ -z "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$A")" ] || die "a container started"
info "compose tools: chosen by what they report${V2:+ (v2: $("$V2" version --short))}, v1 1.29, podman-compose"
