#!/usr/bin/env bash
# What a compose file may reach outside its own stack, on the real Docker Engine (spec/run.md "Refused unless
# granted"): hostile bundles that mount the host's /proc or /etc through a named volume's driver_opts, build from
# the host's /etc through a context that only looks like a URL, send logs to a host-loopback port, nest a bind in
# a writable one so a restart follows a planted symlink (pinned: the attempt fails), or join another stack's container, are refused (exit 3)
# with nothing created, the other stack left running unchanged; `--allow other-containers` grants the join and
# docker inspect shows it; a volume `name:` of the bundle's choosing is made the stack's own, so two stacks
# naming the same volume do not share it.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-reach:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D volume ls -q | grep -E '^stack-[a-z]+$U' | xargs -r $D volume rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh echo sleep cat ls ln test rmdir mv; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE: a bundle imported into the store
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: policy reach end-to-end test stack
author: tests
license: MIT
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}

# nothing SLUG: the Engine holds no container, volume or network of the stack's project
nothing() {
  assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=stack-$1)" "containers of $1"
  assert_eq "" "$("$D" volume ls -q --filter label=com.docker.compose.project=stack-$1)" "volumes of $1"
  assert_eq "" "$("$D" network ls -q --filter label=com.docker.compose.project=stack-$1)" "networks of $1"
  [ ! -e "$STACK_HOME/runs/$1" ] || die "a refused run left a run dir"
}

# refused SLUG TEXT PERMISSION: stack run exits 3 naming TEXT and the permission, and nothing was created
refused() {
  assert_exit 3 "$S" run "$1" --offline
  echo "$LAST_STDERR" | grep -qF -- "$2" || die "$1: the refusal does not say '$2': $LAST_STDERR"
  echo "$LAST_STDERR" | grep -qF -- "needs permission '$3'" || die "$1: the refusal does not name $3: $LAST_STDERR"
  nothing "$1"
}

SLEEP="image: $TAG
    command: [sleep, \"3600\"]"

info "1. a named volume mounting the host's /proc (writable core_pattern) through driver_opts: refused"
mkstack proc$U "services:
  web:
    $SLEEP
    volumes: [\"p:/hostproc\"]
volumes:
  p:
    driver_opts: {type: proc, device: proc}"
refused proc$U "volume 'p': driver_opts type: proc" host-bind

info "2. an overlay with lowerdir=/etc (the host's /etc/shadow): refused"
mkstack ovl$U "services:
  web:
    $SLEEP
    volumes: [\"o:/hostetc\"]
volumes:
  o:
    driver: local
    driver_opts: {type: overlay, device: overlay, o: \"lowerdir=/etc,upperdir=/tmp/u$U,workdir=/tmp/w$U\"}"
refused ovl$U "driver_opts type: overlay" host-bind

info "3. a build context that only looks like a URL (/etc/://.. is /etc to compose v1): refused, nothing built"
mkstack ctx$U "services:
  web:
    image: stack-e2e/ctx$U
    build: {context: \"/etc/://..\", dockerfile_inline: \"FROM scratch\\nCOPY shadow /\"}
    command: [sleep, \"3600\"]"
refused ctx$U "build.context '/etc/://..'" host-bind
assert_eq "" "$("$D" images -q stack-e2e/ctx$U)" "an image built from the host's /etc"

info "4. syslog logging to a host-loopback port: refused, nothing connects"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkstack log$U "services:
  web:
    $SLEEP
    logging: {driver: syslog, options: {syslog-address: \"tcp://127.0.0.1:$port\"}}"
refused log$U "logging.driver: syslog" logging

info "5. a bind nested in a writable bind, restarted by dockerd after trying to plant a symlink to /: pinned"
# First start: after 2 s, try to replace state/sub (bound at /host) with a symlink to / and exit 1, so dockerd
# restarts it (restart: on-failure) and resolves ./state/sub again. Later starts stay up to be looked at.
mkstack nest$U "services:
  web:
    image: $TAG
    restart: on-failure
    command: [sh, -c, \"test -e /host/etc/shadow && echo HOSTROOT && sleep 3600; test -e /state/ran && sleep 3600; echo > /state/ran; sleep 2; rmdir /state/sub; mv /state/sub /state/moved; ln -sn / /state/sub; echo attempted; exit 1\"]
    volumes: [\"./state:/state\", \"./state/sub:/host\"]"
assert_exit 0 "$S" run nest$U --offline
nest=$("$D" ps -aq --filter label=com.docker.compose.project=stack-nest$U)
[ -n "$nest" ] || die "no container for nest$U"
for _ in $(seq 1 60); do
  [ "$("$D" inspect -f '{{.RestartCount}} {{.State.Status}}' "$nest")" != "0 running" ] &&
    [ "$("$D" inspect -f '{{.State.Status}}' "$nest")" = running ] && break
  sleep 0.5
done
assert_eq running "$("$D" inspect -f '{{.State.Status}}' "$nest")" "nest$U restarted by dockerd"
[ "$("$D" inspect -f '{{.RestartCount}}' "$nest")" -ge 1 ] || die "dockerd did not restart nest$U"
logs=$("$D" logs "$nest" 2>&1)
echo "$logs" | grep -q attempted || die "the attempt did not run: $logs"
echo "$logs" | grep -q "rmdir.*busy" || die "rmdir /state/sub was not refused as busy: $logs"
echo "$logs" | grep -q "HOSTROOT" && die "after the restart /host was the host's root: $logs"
"$D" exec "$nest" test -e /host/etc/shadow && die "/host shows the host's /etc/shadow"
[ -d "$STACK_HOME/data/nest$U/state/sub" ] && [ ! -L "$STACK_HOME/data/nest$U/state/sub" ] ||
  die "state/sub in the data dir is no longer a directory"
[ ! -e "$STACK_HOME/data/nest$U/state/moved" ] || die "the container moved state/sub away"
# /host is the data dir's state/sub: a file written there from the host shows inside
echo mark$U >"$STACK_HOME/data/nest$U/state/sub/mark"
assert_eq mark$U "$("$D" exec "$nest" cat /host/mark)" "/host is the data dir's state/sub"
"$D" inspect -f '{{range .Mounts}}{{println .Source .Destination .RW}}{{end}}' "$nest" |
  grep -qx "$STACK_HOME/data/nest$U/state/sub /state/sub true" ||
  die "no pin of state/sub at /state/sub: $("$D" inspect -f '{{json .Mounts}}' "$nest")"
assert_exit 0 "$S" rm nest$U --purge

info "5b. the catalog's archivebox shape: ./data in one service, ./data/sonic in another: both run, pinned"
mkstack arch$U "services:
  web:
    $SLEEP
    volumes: [\"./data:/data\"]
  sonic:
    $SLEEP
    volumes: [\"./data/sonic:/var/lib/sonic/store\"]"
assert_exit 0 "$S" run arch$U --offline
for svc in web sonic; do
  c=$("$D" ps -q --filter label=com.docker.compose.project=stack-arch$U --filter label=com.docker.compose.service=$svc)
  [ -n "$c" ] || die "no $svc container for arch$U"
  assert_eq running "$("$D" inspect -f '{{.State.Status}}' "$c")" "arch$U $svc"
done
c=$("$D" ps -q --filter label=com.docker.compose.project=stack-arch$U --filter label=com.docker.compose.service=web)
"$D" inspect -f '{{range .Mounts}}{{println .Source .Destination}}{{end}}' "$c" |
  grep -qx "$STACK_HOME/data/arch$U/data/sonic /data/sonic" || die "web has no pin of data/sonic"
assert_exit 0 "$S" rm arch$U --purge

info "6. volumes_from another stack's container: refused, the other stack runs on unchanged"
mkstack vic$U "services:
  db:
    image: $TAG
    command: [sh, -c, \"echo secret$U > /data/secret; sleep 3600\"]
    volumes: [\"data:/data\"]
volumes:
  data:"
assert_exit 0 "$S" run vic$U --offline
vic=$("$D" ps -q --filter label=com.docker.compose.project=stack-vic$U)
[ -n "$vic" ] || die "no container for vic$U"
vicname=$("$D" inspect -f '{{.Name}}' "$vic" | sed 's,^/,,')
before=$("$D" inspect -f '{{.Id}} {{.State.StartedAt}} {{.RestartCount}} {{range .Mounts}}{{.Name}}{{end}}' "$vic")
mkstack thief$U "services:
  web:
    image: $TAG
    command: [sh, -c, \"cat /data/secret; sleep 3600\"]
    volumes_from: [\"container:$vicname\"]"
refused thief$U "volumes_from: container:$vicname" other-containers
assert_eq "$before" "$("$D" inspect -f '{{.Id}} {{.State.StartedAt}} {{.RestartCount}} {{range .Mounts}}{{.Name}}{{end}}' "$vic")" \
  "the other stack's container"
assert_eq running "$("$D" inspect -f '{{.State.Status}}' "$vic")" "the other stack's state"

info "7. granted with --allow other-containers: it runs, and docker inspect shows the container it joined"
# other-containers alone is not enough: the joined container's volume belongs to another project, which the
# judge of what the Engine was asked for refuses without external (spec/run.md "What the Engine was asked for")
assert_exit 3 "$S" run thief$U --offline --allow other-containers
case "$LAST_STDERR" in *"needs permission 'external'"*) ;; *) die "thief$U without external: $LAST_STDERR" ;; esac
assert_exit 0 "$S" run thief$U --offline --allow other-containers --allow external
thief=$("$D" ps -q --filter label=com.docker.compose.project=stack-thief$U)
[ -n "$thief" ] || die "no container for thief$U"
vicid=$("$D" inspect -f '{{.Id}}' "$vic")
"$D" inspect -f '{{range .HostConfig.VolumesFrom}}{{println .}}{{end}}' "$thief" | grep -Eq "^($vicname|$vicid)(:|\$)" ||
  die "VolumesFrom does not name $vicname: $("$D" inspect -f '{{.HostConfig.VolumesFrom}}' "$thief")"
assert_eq "secret$U" "$("$D" exec "$thief" cat /data/secret)" "what the granted join reads"
assert_exit 0 "$S" rm thief$U --purge

info "8. two stacks naming the same volume each get their own: no stack reads another's data"
# (not a one-letter volume name: compose v2 reads "v:/v" as a Windows path, drive v:)
for s in na$U nb$U; do
  mkstack $s "services:
  web:
    image: $TAG
    command: [sh, -c, \"test -e /v/owner || echo $s > /v/owner; sleep 3600\"]
    volumes: [\"vol:/v\"]
volumes:
  vol:
    name: shared$U"
  assert_exit 0 "$S" run $s --offline
done
for s in na$U nb$U; do
  c=$("$D" ps -q --filter label=com.docker.compose.project=stack-$s)
  [ -n "$c" ] || die "no container for $s"
  assert_eq "stack-${s}_shared$U" "$("$D" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$c")" "the volume of $s"
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "$D" exec "$c" test -e /v/owner && break
    sleep 0.5
  done
  assert_eq "$s" "$("$D" exec "$c" cat /v/owner)" "who wrote $s's volume"
done
[ -z "$("$D" volume ls -q --filter name=^shared$U\$)" ] || die "a volume named shared$U outside any project"
for s in na$U nb$U vic$U; do assert_exit 0 "$S" rm $s --purge; done

info "9. the catalog's tmpfs volume (kong's shape) runs, and the Engine mounts a tmpfs"
mkstack tmp$U "services:
  web:
    $SLEEP
    volumes: [\"tv:/t\"]
volumes:
  tv:
    driver_opts: {type: tmpfs, device: tmpfs}"
assert_exit 0 "$S" run tmp$U --offline
c=$("$D" ps -q --filter label=com.docker.compose.project=stack-tmp$U)
[ -n "$c" ] || die "no container for tmp$U"
"$D" exec "$c" cat /proc/mounts | grep -q "^tmpfs /t tmpfs" || die "/t is not a tmpfs"
assert_exit 0 "$S" rm tmp$U --purge
info "ok"
