#!/usr/bin/env bash
# stack run on the real Docker Engine: a two-service stack (an httpd and a client that talks to it over the
# compose network) whose image ships inside the bundle as a `docker save` archive. Checks the page over the
# published port on 127.0.0.1, the limits and no-new-privileges on the containers, the data dir, stop / re-run
# (fast path, no image load), an upgrade, new versions that cannot start leaving the running one alone, a
# container killed outside stack, 300 remembered variables, rm keeping the data, an offline run from a
# catalog that went away, and the bad inputs (policy, Engine down, failing container, missing variable,
# corrupt image archive).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox:$$"
U=$$ # slugs (so compose projects and run dirs) are this run's own: suites sharing an Engine do not collide
# only this run's containers (slugs ending in $U): another suite on the same Engine keeps its own
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
jf() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"; }

# The image: busybox-static imported, saved into the bundle, then removed from the Engine.
build_busybox_image "$TAG" "$W" sh httpd wget echo sleep cat mkdir date
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

mkstack() { # DIR SLUG VERSION COMPOSE [extra stack.yaml lines]
  mkdir -p "$1/images" "$1/site"
  cat >"$1/stack.yaml" <<Y
slug: $2
name: E2E $2
flavor: DockerCompose
version: "$3"
description: end-to-end test stack
author: tests
license: MIT
images: [images/busybox.tar]
ports: [{service: web, port: 8080, label: Web page}]
resources: {cpus: 0.5, memory: 64m, pids: 64}
${5:-}
Y
  printf '%s\n' "$4" >"$1/compose.yaml"
  echo "<h1>hello from $2 $3</h1>" >"$1/site/index.html"
  cp "$W/busybox.tar" "$1/images/busybox.tar"
}
"$D" save -o "$W/busybox.tar" "$TAG"

GOOD="services:
  web:
    image: $TAG
    command: [httpd, -f, -p, \"8080\", -h, /www]
    volumes: [\"./site:/www:ro\"]
    ports: [\"$port:8080\"]
  client:
    image: $TAG
    command: [sh, -c, \"mkdir -p /data && while true; do wget -q -O /data/page.html http://web:8080/ && date > /data/ok; sleep 1; done\"]
    volumes: [\"./data:/data\"]"
mkstack "$W/web" e2eweb${U} 1.0 "$GOOD"
assert_exit 0 "$S" pack "$W/web" -o "$W/e2eweb${U}-1.0.stack"
"$D" rmi -f "$TAG" >/dev/null

info "1. first run: image loaded from the store, both services running, page answers on 127.0.0.1"
assert_exit 0 "$S" import "$W/e2eweb${U}-1.0.stack"
assert_exit 0 "$S" run e2eweb${U} --json
echo "$LAST_STDOUT" >"$W/run1.json"
assert_eq running "$(jf "$W/run1.json" state)" "state after run"
assert_eq 1 "$(jf "$W/run1.json" images_loaded)" "images loaded on the first run"
url=$(python3 -c 'import json,sys; print([a["url"] for a in json.load(open(sys.argv[1]))["addresses"] if a["url"].startswith("http:")][0])' "$W/run1.json")
assert_eq "http://127.0.0.1:$port" "$url" "address printed"
page=""; for _ in $(seq 1 50); do page=$(curl -s "$url/" || true); [ -n "$page" ] && break; sleep 0.1; done
assert_eq "<h1>hello from e2eweb${U} 1.0</h1>" "$page" "page over the published port"
web=$("$D" ps -q --filter label=com.docker.compose.project=stack-e2eweb${U} --filter label=com.docker.compose.service=web)
[ -n "$web" ] || die "no web container"
assert_eq "127.0.0.1" "$("$D" inspect -f '{{(index (index .HostConfig.PortBindings "8080/tcp") 0).HostIp}}' "$web")" "port bound to 127.0.0.1"
assert_eq 500000000 "$("$D" inspect -f '{{.HostConfig.NanoCpus}}' "$web")" "cpus limit"
assert_eq 67108864 "$("$D" inspect -f '{{.HostConfig.Memory}}' "$web")" "memory limit"
assert_eq 64 "$("$D" inspect -f '{{.HostConfig.PidsLimit}}' "$web")" "pids limit"
assert_eq 67108864 "$("$D" inspect -f '{{.HostConfig.MemorySwap}}' "$web")" "memory+swap limit (no swap)"
case "$("$D" inspect -f '{{.HostConfig.SecurityOpt}}' "$web")" in *no-new-privileges*) ;; *) die "no-new-privileges missing" ;; esac
assert_eq "$(jf "$W/run1.json" id)" "$("$D" inspect -f '{{index .Config.Labels "io.stack.run"}}' "$web")" "run label"
# The client reached web over the compose network and wrote into the stack's data dir, not the run dir.
for _ in $(seq 1 50); do [ -s "$STACK_HOME/data/e2eweb${U}/data/page.html" ] && break; sleep 0.1; done
assert_eq "<h1>hello from e2eweb${U} 1.0</h1>" "$(cat "$STACK_HOME/data/e2eweb${U}/data/page.html")" "client's copy in the data dir"
[ ! -e "$STACK_HOME/runs/e2eweb${U}/data/page.html" ] || die "state written into the run dir"

info "2. ps shows it running; stop; ps shows stopped"
assert_exit 0 "$S" ps --json
assert_eq running "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')" "ps state"
assert_eq "127.0.0.1:$port->8080/tcp" "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["ports"])')" "ps ports"
assert_exit 0 "$S" stop e2eweb${U}
[ -z "$("$D" ps -q --filter label=com.docker.compose.project=stack-e2eweb${U})" ] || die "containers still running after stop"
assert_exit 0 "$S" ps --json
assert_eq stopped "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')" "ps state after stop"

info "3. re-run: fast path from the existing run dir, no image load, same run id"
assert_exit 0 "$S" run e2eweb${U} --json
echo "$LAST_STDOUT" >"$W/run2.json"
assert_eq True "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fast_path"])' "$W/run2.json")" "fast path"
assert_eq 0 "$(jf "$W/run2.json" images_loaded)" "images loaded on re-run"
assert_eq "$(jf "$W/run1.json" id)" "$(jf "$W/run2.json" id)" "run id kept"
for _ in $(seq 1 50); do page=$(curl -s "$url/" || true); [ -n "$page" ] && break; sleep 0.1; done
assert_eq "<h1>hello from e2eweb${U} 1.0</h1>" "$page" "page after re-run"

info "3b. upgrade to 1.1: the 1.0 containers go, the new page answers, the data dir stays, one run remains"
cp -a "$W/web" "$W/web11"
sed -i 's/^version: .*/version: "1.1"/' "$W/web11/stack.yaml"
echo "<h1>hello from e2eweb${U} 1.1</h1>" >"$W/web11/site/index.html"
assert_exit 0 "$S" pack "$W/web11" -o "$W/e2eweb${U}-1.1.stack"
assert_exit 0 "$S" import "$W/e2eweb${U}-1.1.stack"
echo "kept across the upgrade" >"$STACK_HOME/data/e2eweb${U}/marker"
assert_exit 0 "$S" run e2eweb${U}@1.1 --json
echo "$LAST_STDOUT" >"$W/run3.json"
assert_eq False "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fast_path"])' "$W/run3.json")" "upgrade is not the fast path"
page=""; for _ in $(seq 1 50); do page=$(curl -s "$url/" || true); [ "$page" = "<h1>hello from e2eweb${U} 1.1</h1>" ] && break; sleep 0.1; done
assert_eq "<h1>hello from e2eweb${U} 1.1</h1>" "$page" "page after the upgrade"
assert_eq "kept across the upgrade" "$(cat "$STACK_HOME/data/e2eweb${U}/marker")" "data dir after the upgrade"
assert_exit 0 "$S" ps --json
assert_eq "1 1.1" "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), r[0]["version"])')" "runs after the upgrade"
[ -z "$("$D" ps -aq --filter label=io.stack.run="$(jf "$W/run1.json" id)")" ] || die "1.0 containers left after the upgrade"

info "3c. a new version that cannot start leaves the running one alone: refused by policy, corrupt image (exit 3)"
run11=$(jf "$W/run3.json" id)
web11=$("$D" ps -q --filter label=io.stack.run="$run11" --filter label=com.docker.compose.service=web)
[ -n "$web11" ] || die "no 1.1 web container"
cp -a "$W/web11" "$W/web12"
sed -i 's/^version: .*/version: "1.2"/' "$W/web12/stack.yaml"
printf '%s\n' "services:
  web:
    image: $TAG
    privileged: true
    command: [sleep, \"60\"]" >"$W/web12/compose.yaml"
assert_exit 0 "$S" pack "$W/web12" -o "$W/e2eweb${U}-1.2.stack"
cp -a "$W/web11" "$W/web13"
sed -i 's/^version: .*/version: "1.3"/' "$W/web13/stack.yaml"
head -c 4096 /dev/urandom >"$W/web13/images/busybox.tar"
assert_exit 0 "$S" pack "$W/web13" -o "$W/e2eweb${U}-1.3.stack"
assert_exit 0 "$S" import "$W/e2eweb${U}-1.2.stack"
assert_exit 0 "$S" import "$W/e2eweb${U}-1.3.stack"
for bad in 1.2 1.3; do
  assert_exit 3 "$S" run e2eweb${U}@$bad
  case "$bad:$LAST_STDERR" in 1.2:*privileged*|1.3:*images/busybox.tar*) ;; *) die "$bad refused for the wrong reason: $LAST_STDERR" ;; esac
  assert_eq true "$("$D" inspect -f '{{.State.Running}}' "$web11" 2>/dev/null)" "1.1's web container after refusing $bad"
  assert_exit 0 "$S" ps --json
  assert_eq "1 $run11 1.1 running" "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), r[0]["id"], r[0]["version"], r[0]["state"])')" "runs after refusing $bad"
  page=$(curl -s "$url/" || true)
  assert_eq "<h1>hello from e2eweb${U} 1.1</h1>" "$page" "1.1's page after refusing $bad"
  [ -z "$(ls -A "$STACK_HOME/runs" | grep -v "^e2eweb${U}\$" || true)" ] || die "a refused version left a dir in runs/: $(ls -A "$STACK_HOME/runs")"
done
assert_eq "<h1>hello from e2eweb${U} 1.1</h1>" "$(cat "$STACK_HOME/runs/e2eweb${U}/site/index.html")" "run dir after the refusals"

info "4. a container killed outside stack: ps no longer says running"
"$D" kill $("$D" ps -q --filter label=com.docker.compose.project=stack-e2eweb${U}) >/dev/null
assert_exit 0 "$S" ps --json
st=$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')
case "$st" in stopped|failed) ;; *) die "ps says '$st' after docker kill" ;; esac

info "5. rm: containers gone, run dir gone, data and version stay"
assert_exit 0 "$S" rm e2eweb${U}
[ -z "$("$D" ps -aq --filter label=com.docker.compose.project=stack-e2eweb${U})" ] || die "containers left after rm"
[ ! -e "$STACK_HOME/runs/e2eweb${U}" ] || die "run dir left after rm"
[ -s "$STACK_HOME/data/e2eweb${U}/data/page.html" ] || die "rm lost the stack's data"
assert_exit 0 "$S" show e2eweb${U}
assert_exit 0 "$S" ps --json
assert_eq "[]" "$(echo "$LAST_STDOUT" | tr -d ' \n')" "runs after rm"

info "6. offline: fetched from a catalog that then goes away; --offline still runs it"
new_tmpdir CAT
cp "$W/e2eweb${U}-1.0.stack" "$CAT/"
assert_exit 0 "$S" keygen "$W/pub"
assert_exit 0 "$S" catalog build "$CAT" --key "$W/pub.key"
new_home
assert_exit 0 "$S" trust add "$W/pub.pub"
start_catalog "$CAT"
assert_exit 0 "$S" run e2eweb${U} --catalog "$CATALOG_URL" --quiet
assert_exit 0 "$S" rm e2eweb${U}
stop_catalog
assert_exit 0 "$S" run e2eweb${U} --offline
case "$LAST_STDOUT" in "e2eweb${U} 1.0 is running"*) ;; *) die "offline run: $LAST_STDOUT" ;; esac
assert_exit 6 "$S" run nosuchstack --offline
assert_exit 0 "$S" rm e2eweb${U} --purge
[ ! -e "$STACK_HOME/data/e2eweb${U}" ] || die "--purge kept the data dir"

info "7. policy: a privileged service is refused before anything starts (exit 3)"
mkstack "$W/priv" e2epriv${U} 1.0 "services:
  web:
    image: $TAG
    privileged: true
    command: [sleep, \"60\"]"
assert_exit 0 "$S" pack "$W/priv" -o "$W/priv.stack"
assert_exit 0 "$S" import "$W/priv.stack"
assert_exit 3 "$S" run e2epriv${U}
case "$LAST_STDERR" in *"'web'"*privileged*) ;; *) die "policy message: $LAST_STDERR" ;; esac
assert_eq 1 "$(printf '%s\n' "$LAST_STDERR" | wc -l)" "policy error lines"
[ -z "$("$D" ps -aq --filter label=com.docker.compose.project=stack-e2epriv${U})" ] || die "a refused stack started"

info "8. a required variable nothing provides: named before anything starts (exit 3); --env provides it"
mkstack "$W/vars" e2evars${U} 1.0 "services:
  web:
    image: $TAG
    command: [httpd, -f, -p, \"8080\", -h, /www]
    environment: [\"SECRET=\${NEEDED_SECRET:?set NEEDED_SECRET}\"]
    volumes: [\"./site:/www:ro\"]"
assert_exit 0 "$S" pack "$W/vars" -o "$W/vars.stack"
assert_exit 0 "$S" import "$W/vars.stack"
assert_exit 3 "$S" run e2evars${U}
case "$LAST_STDERR" in *NEEDED_SECRET*) ;; *) die "missing variable not named: $LAST_STDERR" ;; esac
[ -z "$("$D" ps -aq --filter label=com.docker.compose.project=stack-e2evars${U})" ] || die "started without its variable"
assert_exit 0 "$S" run e2evars${U} --env NEEDED_SECRET=s3cret
[ "$(stat -c %a "$STACK_HOME/data/e2evars${U}/stack.env")" = 600 ] || die "env file is not private"
assert_exit 0 "$S" rm e2evars${U} --purge

# envstack NAME SLUG ENVIRONMENT [DOTENV]: an httpd stack whose environment list is ENVIRONMENT, packed and
# imported; web_env SLUG: the environment its web container got.
envstack() {
  mkstack "$W/$1" "$2" 1.0 "services:
  web:
    image: $TAG
    command: [httpd, -f, -p, \"8080\", -h, /www]
    environment: $3
    volumes: [\"./site:/www:ro\"]"
  [ -z "${4:-}" ] || echo "$4" >"$W/$1/.env"
  assert_exit 0 "$S" pack "$W/$1" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
web_env() {
  "$D" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
    "$("$D" ps -q --filter label=com.docker.compose.project=stack-$1 --filter label=com.docker.compose.service=web)"
}

info "8a. a variable the bundle's .env provides counts on the first run (read from the new checkout)"
envstack dotenv e2edotenv${U} "[\"FROM_DOTENV=\${FROM_DOTENV:?set in .env}\"]" "FROM_DOTENV=shipped"
assert_exit 0 "$S" run e2edotenv${U}
case "$(web_env e2edotenv${U})" in *FROM_DOTENV=shipped*) ;; *) die ".env value did not reach the container" ;; esac
assert_exit 0 "$S" rm e2edotenv${U} --purge

info "8b. 300 remembered variables all reach compose (the env list grows)"
envstack env e2eenv${U} "[\"FIRST=\${V1:?}\", \"LAST=\${V300:?}\"]"
mkdir -p "$STACK_HOME/data/e2eenv${U}"
for i in $(seq 1 299); do echo "V$i=value$i"; done >"$STACK_HOME/data/e2eenv${U}/stack.env"
assert_exit 0 "$S" run e2eenv${U} --env V300=value300
envs=$(web_env e2eenv${U})
case "$envs" in *FIRST=value1*) ;; *) die "V1 did not reach the container: $envs" ;; esac
case "$envs" in *LAST=value300*) ;; *) die "V300 did not reach the container: $envs" ;; esac
assert_eq 300 "$(grep -c '^V' "$STACK_HOME/data/e2eenv${U}/stack.env")" "remembered variables"
assert_exit 0 "$S" rm e2eenv${U} --purge

info "9. a container that exits at once: state failed with its last log lines (exit 5)"
mkstack "$W/fail" e2efail${U} 1.0 "services:
  web:
    image: $TAG
    command: [sh, -c, \"echo about to fail; exit 3\"]"
assert_exit 0 "$S" pack "$W/fail" -o "$W/fail.stack"
assert_exit 0 "$S" import "$W/fail.stack"
assert_exit 5 "$S" run e2efail${U} --timeout 20
case "$LAST_STDERR" in *"exited with code 3"*"about to fail"*) ;; *) die "failure message: $LAST_STDERR" ;; esac
assert_exit 0 "$S" ps --json
assert_eq failed "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print([r for r in json.load(sys.stdin) if r["slug"]==sys.argv[1]][0]["state"])' "e2efail${U}")" "failed state"
assert_exit 0 "$S" logs e2efail${U}
case "$LAST_STDOUT" in *"about to fail"*) ;; *) die "stack logs does not show the service's output: $LAST_STDOUT" ;; esac
assert_exit 0 "$S" rm e2efail${U} --purge

info "10. image archive corrupt (exit 3); Engine not running (exit 5)"
mkstack "$W/bad" e2ebad${U} 1.0 "services:
  web:
    image: stack-e2e/never:1
    command: [sleep, \"60\"]"
head -c 4096 /dev/urandom >"$W/bad/images/busybox.tar"
assert_exit 0 "$S" pack "$W/bad" -o "$W/bad.stack"
assert_exit 0 "$S" import "$W/bad.stack"
assert_exit 3 "$S" run e2ebad${U}
case "$LAST_STDERR" in *images/busybox.tar*) ;; *) die "corrupt image message: $LAST_STDERR" ;; esac
DOCKER_HOST=unix:///nonexistent.sock assert_exit 5 "$S" run e2eweb${U}
case "$LAST_STDERR" in *"not running"*) ;; *) die "engine-down message: $LAST_STDERR" ;; esac
info PASS
