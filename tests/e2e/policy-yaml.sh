#!/usr/bin/env bash
# YAML the policy does not understand is refused, and what it understands runs exactly as judged (issue 18,
# "fail closed on what we do not understand"): a merge key spelled `!!merge innocent:` or `!!merge "<<":`
# (merged by PyYAML, so by docker-compose 1.29) carrying privileged/host network/the Docker socket, a tag
# beyond the core schema, an unknown compose key: each refused with exit 3 and no container; a bundle using
# anchors and merge keys (plain `<<` and `!!merge`) runs with exactly the merged values and no extra power, and
# its effective file has no tags, anchors, aliases or merge keys.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-policyyaml:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^py[a-z]+$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D network ls --format '{{.Name}}' | grep -E '^stack-py[a-z]+$U' | xargs -r $D network rm >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh echo sleep cat id; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE: a bundle imported into the store
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: policy YAML end-to-end test stack
author: tests
license: MIT
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}

no_container() { # SLUG: nothing of the stack exists on the Engine, no run dir
  assert_eq "" "$("$D" ps -aq --filter label=io.stack.slug=$1)" "containers of the refused $1"
  assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=stack-$1)" "project containers of the refused $1"
  [ ! -e "$STACK_HOME/runs/$1" ] || die "the refused $1 left a run dir"
}

refused() { # SLUG WANT: stack run exits 3 with WANT in its one-line message, nothing runs
  assert_exit 3 "$S" run "$1" --offline
  echo "$LAST_STDERR" | grep -qF -- "$2" || die "$1: the refusal does not say '$2': $LAST_STDERR"
  no_container "$1"
}

SLEEP="image: $TAG
    command: [sleep, \"3600\"]"

info "1. !!merge innocent: {privileged, host network, the Docker socket}: merged, judged, refused"
mkstack pymergea$U "services:
  web:
    $SLEEP
    !!merge innocent: {privileged: true, network_mode: host, volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]}"
refused pymergea$U "service 'web': privileged: true is not allowed (needs permission 'privileged')"
echo "$LAST_STDERR" | grep -qF -- "--allow privileged --allow host-network --allow docker-socket" ||
  die "the refusal does not list every permission the merged mapping asks for: $LAST_STDERR"

info "2. !!merge \"<<\": *x (an anchor carrying host pid and SYS_ADMIN): refused"
mkstack pymergeb$U "x-power: &x {pid: host, cap_add: [SYS_ADMIN], volumes: [\"/:/host\"]}
services:
  web:
    $SLEEP
    !!merge \"<<\": *x"
refused pymergeb$U "service 'web': pid: host is not allowed (needs permission 'host-pid')"

info "3. a tag beyond the core schema, and an unknown compose key: refused with the key's path"
mkstack pytag$U "services:
  web:
    $SLEEP
    cap_add: !foo [SYS_ADMIN]"
refused pytag$U "service 'web': cap_add: YAML tag '!foo' is not allowed"
mkstack pykey$U "services:
  web:
    $SLEEP
    devices_extra: [\"/dev/sda:/dev/sda\"]"
refused pykey$U "service 'web': unknown compose key 'devices_extra' (stack refuses what it does not know"

info "4. anchors and merge keys (plain << and !!merge) run with exactly the merged values, nothing more"
mkstack pybenign$U "x-base: &base
  image: $TAG
  command: [sleep, \"3600\"]
  environment: {FROM_BASE: \"yes\"}
  labels: {tier: base}
x-more: &more
  working_dir: /tmp
  user: \"1000\"
services:
  web:
    <<: [*base, *more]
    environment: {OWN: !!str no}
    hostname: webhost
  api:
    !!merge innocent: *base
    stop_signal: SIGKILL"
assert_exit 0 "$S" run pybenign$U --offline
eff="$STACK_HOME/runs/pybenign$U/.stack-compose.yaml"
[ -f "$eff" ] || eff=$(find "$STACK_HOME/runs/pybenign$U" -name '.stack-compose.yaml' | head -1)
[ -f "$eff" ] || die "no effective file"
! grep -nE '(^|[ :\[{,-])[&*!][A-Za-z<!]|<<|innocent|x-base|x-more' "$eff" ||
  die "the effective file keeps a tag, anchor, alias, merge key or extension: $(cat "$eff")"
web=$("$D" ps -q --filter label=io.stack.slug=pybenign$U --filter label=com.docker.compose.service=web)
api=$("$D" ps -q --filter label=io.stack.slug=pybenign$U --filter label=com.docker.compose.service=api)
[ -n "$web" ] && [ -n "$api" ] || die "pybenign$U: web '$web' / api '$api' not running"
for c in "$web" "$api"; do
  assert_eq "false" "$("$D" inspect -f '{{.HostConfig.Privileged}}' "$c")" "Privileged"
  nm=$("$D" inspect -f '{{.HostConfig.NetworkMode}}' "$c")
  [ "$nm" != host ] || die "NetworkMode is host"
  assert_eq "" "$("$D" inspect -f '{{.HostConfig.PidMode}}' "$c")" "PidMode"
  assert_eq "[]" "$("$D" inspect -f '{{.HostConfig.CapAdd}}' "$c" | sed 's/<no value>/[]/')" "CapAdd"
  assert_eq "" "$("$D" inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$c")" "mounts"
done
env_of() { "$D" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" | grep -E '^(FROM_BASE|OWN)=' | sort | tr '\n' ' '; }
# web: its own environment wins whole (a merge is shallow), the rest from base and more in order
assert_eq "OWN=no " "$(env_of "$web")" "web's environment"
assert_eq "/tmp" "$("$D" inspect -f '{{.Config.WorkingDir}}' "$web")" "web's working_dir from x-more"
assert_eq "1000" "$("$D" inspect -f '{{.Config.User}}' "$web")" "web's user from x-more"
assert_eq "webhost" "$("$D" inspect -f '{{.Config.Hostname}}' "$web")" "web's own hostname"
assert_eq "base" "$("$D" inspect -f '{{index .Config.Labels "tier"}}' "$web")" "web's label from base"
# api: merged through the !!merge spelling exactly as through <<
assert_eq "FROM_BASE=yes " "$(env_of "$api")" "api's environment"
assert_eq "SIGKILL" "$("$D" inspect -f '{{.Config.StopSignal}}' "$api")" "api's own stop_signal"
assert_eq "1000" "$("$D" exec "$web" id -u)" "uid inside web"
assert_exit 0 "$S" rm pybenign$U --purge
assert_eq "" "$("$D" ps -aq --filter label=io.stack.slug=pybenign$U)" "containers left"
