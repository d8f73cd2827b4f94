#!/usr/bin/env bash
# The public catalog's compose shapes, run on docker-compose 1.29 against the real Engine: small stacks built
# from the locally built busybox image, each written the way published stacks are (compose v2 syntax), run with
# `stack run` to `running`, checked inside the container, then removed by `stack rm --purge` (containers,
# networks and volumes gone).
#   shape 1 "app":    a .env with PROJECT/DOMAIN, a named volume, configs with inline content, boolean and
#                     number environment values, restart: no, a healthcheck with start_interval, env_file in
#                     the long syntax (one file required, one optional and absent), a `$` that is no variable
#   shape 2 "recipe": include: of stacks/db/compose.yaml (a shipped bind and an env_file, both relative to the
#                     included file) with a compose.override.yaml beside the main file
#   shapes 4-6: minimal reproductions of what kept the catalog's dify, posthog and conversational-genai from
#                     running on 1.29 (a version string, command/entrypoint null, yes/on in a command list, a
#                     UDP port, a profiled service whose build dir is not shipped, extends.file with depends_on)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
if ! command -v docker-compose >/dev/null 2>&1; then
  info "skipped: no docker-compose"
  exit 0
fi
new_home
new_tmpdir W
TAG="stack-e2e/busybox-shapes:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=docker-compose

build_busybox_image "$TAG" "$W" sh sleep cat env test true
"$D" save -o "$W/busybox.tar" "$TAG"

manifest() { # DIR SLUG
  mkdir -p "$1/images"
  cp "$W/busybox.tar" "$1/images/busybox.tar"
  cat >"$1/stack.yaml" <<Y
slug: $2
name: Shape $2
flavor: DockerCompose
version: "1.0"
description: a catalog shape
author: tests
license: MIT
images: [images/busybox.tar]
Y
  printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' "$2" >"$1/.env"
}

# container SLUG SERVICE: its container id
container() {
  "$D" ps -q --filter "label=com.docker.compose.project=stack-$1" --filter "label=com.docker.compose.service=$2"
}

# run_shape SLUG: pack, import, run to running
run_shape() {
  assert_exit 0 "$S" pack "$W/$1" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
  assert_exit 0 "$S" run "$1" --json
  assert_eq running "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" "$1 state"
}

# rm_shape SLUG: rm --purge leaves no container, network or volume of the project
rm_shape() {
  assert_exit 0 "$S" rm "$1" --purge
  [ -z "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$1")" ] || die "$1: containers left after rm --purge"
  [ -z "$("$D" network ls -q --filter "label=com.docker.compose.project=stack-$1")" ] || die "$1: networks left after rm --purge"
  [ -z "$("$D" volume ls -q --filter "label=com.docker.compose.project=stack-$1")" ] || die "$1: volumes left after rm --purge"
  [ ! -e "$STACK_HOME/runs/$1" ] || die "$1: run dir left after rm --purge"
}

info "shape 1: .env, named volume, inline config, booleans, restart: no, start_interval, env_file long syntax"
A=shapeapp$U
mkdir -p "$W/$A"
manifest "$W/$A" "$A"
echo "FROM_ENV_FILE=yes" >"$W/$A/app.env"
cat >"$W/$A/compose.yaml" <<Y
name: \${PROJECT}
services:
  app:
    image: $TAG
    command: [sh, -c, "echo stored > /data/v && sleep 3600"]
    restart: no
    environment:
      FEATURE: true
      WORKERS: 4
      PRICE: "5\$ each"
      HOST: \${PROJECT}.\${DOMAIN}
    env_file:
      - path: app.env
        required: true
      - path: local.env
        required: false
    labels:
      traefik.enable: true
      traefik.http.routers.app.rule: Host(\`\${PROJECT}.\${DOMAIN}\`)
    volumes: [appdata:/data]
    configs:
      - source: appconf
        target: /etc/app.conf
    healthcheck:
      test: [CMD, test, -f, /data/v]
      interval: 2s
      start_period: 5s
      start_interval: 1s
configs:
  appconf:
    content: |
      greeting = hello
      enabled = true
volumes:
  appdata:
Y
run_shape "$A"
c=$(container "$A" app)
[ -n "$c" ] || die "shape 1: no container"
assert_eq "greeting = hello
enabled = true" "$("$D" exec "$c" cat /etc/app.conf)" "config content in the container"
envs=$("$D" exec "$c" env)
for want in FEATURE=true WORKERS=4 'PRICE=5$ each' "HOST=$A.stack.localhost" FROM_ENV_FILE=yes; do
  grep -qxF "$want" <<<"$envs" || die "shape 1: $want not in the container's environment: $envs"
done
assert_eq true "$("$D" inspect -f '{{index .Config.Labels "traefik.enable"}}' "$c")" "boolean label as v2 writes it"
assert_eq no "$("$D" inspect -f '{{.HostConfig.RestartPolicy.Name}}' "$c")" "restart: no"
assert_eq "stack-${A}_appdata" "$("$D" inspect -f '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Name}}{{end}}{{end}}' "$c")" "the named volume"
for _ in $(seq 1 50); do [ "$("$D" exec "$c" cat /data/v 2>/dev/null)" = stored ] && break; sleep 0.2; done
assert_eq stored "$("$D" exec "$c" cat /data/v)" "written into the named volume"
rm_shape "$A"

info "shape 2: include: of stacks/db/compose.yaml with a compose.override.yaml"
R=shaperecipe$U
mkdir -p "$W/$R/stacks/db/init"
manifest "$W/$R" "$R"
echo "seeded" >"$W/$R/stacks/db/init/seed.txt"
echo "DB_FROM_ENV_FILE=1" >"$W/$R/stacks/db/db.env"
cat >"$W/$R/stacks/db/compose.yaml" <<Y
services:
  db:
    image: $TAG
    command: [sleep, "3600"]
    env_file: db.env
    environment: {DB_READY: true}
    volumes: ["./init:/init:ro", "dbdata:/var/lib/db"]
volumes:
  dbdata:
Y
cat >"$W/$R/compose.yaml" <<Y
include:
  - stacks/db/compose.yaml
services:
  web:
    image: $TAG
    command: [sleep, "3600"]
    environment: {MODE: base, KEEP: kept}
    depends_on: [db]
Y
cat >"$W/$R/compose.override.yaml" <<Y
services:
  web:
    environment:
      - MODE=override
  db:
    environment: {DB_EXTRA: from-override}
Y
run_shape "$R"
db=$(container "$R" db)
web=$(container "$R" web)
[ -n "$db" ] && [ -n "$web" ] || die "shape 2: missing containers"
assert_eq seeded "$("$D" exec "$db" cat /init/seed.txt)" "bind rebased to the included file's dir"
envs=$("$D" exec "$db" env)
for want in DB_FROM_ENV_FILE=1 DB_READY=true DB_EXTRA=from-override; do
  grep -qxF "$want" <<<"$envs" || die "shape 2: $want not in db's environment: $envs"
done
envs=$("$D" exec "$web" env)
for want in MODE=override KEEP=kept; do
  grep -qxF "$want" <<<"$envs" || die "shape 2: $want not in web's environment: $envs"
done
assert_eq "stack-${R}_dbdata" "$("$D" inspect -f '{{range .Mounts}}{{if eq .Destination "/var/lib/db"}}{{.Name}}{{end}}{{end}}' "$db")" "the included stack's named volume"
rm_shape "$R"

info "shape 3: an override that adds privileged is refused before anything starts"
P=shapepriv$U
mkdir -p "$W/$P"
manifest "$W/$P" "$P"
printf 'services:\n  app:\n    image: %s\n    command: [sleep, "3600"]\n' "$TAG" >"$W/$P/compose.yaml"
printf 'services:\n  app:\n    privileged: true\n' >"$W/$P/compose.override.yaml"
assert_exit 0 "$S" pack "$W/$P" -o "$W/$P.stack"
assert_exit 0 "$S" import "$W/$P.stack"
assert_exit 3 "$S" run "$P"
case "$LAST_STDERR" in *"privileged: true"*) ;; *) die "shape 3: refusal does not name privileged: $LAST_STDERR" ;; esac
[ -z "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$P")" ] || die "shape 3: a container started"

info "shape 4 (dify): v2-only values, a UDP port in the long syntax, a profiled service whose build dir is not shipped"
Y4=shapedify$U
mkdir -p "$W/$Y4"
manifest "$W/$Y4" "$Y4"
cat >"$W/$Y4/compose.yaml" <<Y
version: "3.8-custom"
services:
  api:
    image: $TAG
    entrypoint: null
    command: [sh, -c, 'exec sleep 3600', yes, on]
    ports:
      - target: 5353
        protocol: UDP
  couchbase-server:
    build: ./couchbase-server
    profiles: [couchbase]
Y
run_shape "$Y4"
c=$(container "$Y4" api)
[ -n "$c" ] || die "shape 4: no api container"
assert_eq '["sh","-c","exec sleep 3600","yes","on"]' "$("$D" inspect -f '{{json .Config.Cmd}}' "$c")" "yes/on in the command list stay strings"
assert_eq "127.0.0.1" "$("$D" inspect -f '{{range $p, $b := .NetworkSettings.Ports}}{{if eq $p "5353/udp"}}{{(index $b 0).HostIp}}{{end}}{{end}}' "$c")" "5353/udp published on loopback"
[ -z "$(container "$Y4" couchbase-server)" ] || die "shape 4: the couchbase profile's service started"
rm_shape "$Y4"

info "shape 5 (posthog): extends.file of a base service with depends_on"
Y5=shapeposthog$U
mkdir -p "$W/$Y5"
manifest "$W/$Y5" "$Y5"
cat >"$W/$Y5/compose.base.yaml" <<Y
services:
  temporal:
    image: $TAG
    command: [sleep, "3600"]
    depends_on:
      db: {condition: service_started}
Y
cat >"$W/$Y5/compose.yaml" <<Y
services:
  db:
    image: $TAG
    command: [sleep, "3600"]
  temporal:
    extends:
      file: compose.base.yaml
      service: temporal
    environment: {ROLE: temporal}
Y
run_shape "$Y5"
t=$(container "$Y5" temporal)
[ -n "$t" ] && [ -n "$(container "$Y5" db)" ] || die "shape 5: missing containers"
grep -qxF ROLE=temporal <<<"$("$D" exec "$t" env)" || die "shape 5: the extending service's environment is missing"
case "$("$D" inspect -f '{{json .HostConfig.SecurityOpt}}' "$t")" in
  *no-new-privileges*) ;;
  *) die "shape 5: the extending service lost no-new-privileges: $("$D" inspect -f '{{json .HostConfig.SecurityOpt}}' "$t")" ;;
esac
rm_shape "$Y5"

info "shape 6 (conversational-genai): a recipe including a stack with a profiled service whose build dir is not shipped"
Y6=shapegenai$U
mkdir -p "$W/$Y6/stacks/dify"
manifest "$W/$Y6" "$Y6"
cat >"$W/$Y6/stacks/dify/compose.yaml" <<Y
services:
  dify:
    image: $TAG
    command: [sleep, "3600"]
  couchbase-server:
    build: ./couchbase-server
    profiles: [couchbase]
Y
cat >"$W/$Y6/compose.yaml" <<Y
include:
  - ./stacks/dify/compose.yaml
services:
  ui:
    image: $TAG
    command: [sleep, "3600"]
    depends_on: [dify]
Y
run_shape "$Y6"
[ -n "$(container "$Y6" ui)" ] && [ -n "$(container "$Y6" dify)" ] || die "shape 6: missing containers"
[ -z "$(container "$Y6" couchbase-server)" ] || die "shape 6: the couchbase profile's service started"
rm_shape "$Y6"

info "6 shapes ran on docker-compose 1.29 and were removed"
