#!/usr/bin/env bash
# stack run / config / rm / ps on the real Docker Engine for what the policy decides: variables from the
# bundle's .env resolved before they are judged (a named volume chosen by a variable with a default), an
# invalid .env, a permission the stack.yaml does not declare granted with --allow (warned, remembered), a
# refusal naming every permission and the command, `stack config` printing the effective file and changing
# nothing, `stack rm --purge` of a run whose effective file compose rejects, and a multi-line failure reason
# that stays one line in `stack ps`.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-policy:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D volume ls -q | grep -E '^stack-[a-z]+$U' | xargs -r $D volume rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh echo sleep cat ls; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE [DOTENV]: a bundle imported into the store
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: policy end-to-end test stack
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

info "1. a variable with a default selects a declared named volume; the .env is read on the first run"
mkstack vol$U "services:
  web:
    $SLEEP
    volumes: [\"\${VOLUME_HTDOCS:-\${VOLUME_PATH}htdocs}:/htdocs\"]
    environment: {GREETING: \"\${GREETING}\"}
volumes:
  htdocs:" "PROJECT=vol$U
DOMAIN=stack.localhost
VOLUME_PATH=
GREETING=hello"
assert_exit 0 "$S" run vol$U --offline
web=$("$D" ps -q --filter label=com.docker.compose.project=stack-vol$U)
[ -n "$web" ] || die "no container for vol$U"
assert_eq "stack-vol${U}_htdocs" "$("$D" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$web")" "the named volume"
"$D" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$web" | grep -qx GREETING=hello || die "GREETING from .env"

info "2. stack rm --purge of a run whose effective file compose rejects removes it all"
printf 'services: [this is not a compose file\n' >"$STACK_HOME/runs/vol$U/.stack-compose.yaml"
assert_exit 0 "$S" rm vol$U --purge
assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=stack-vol$U)" "containers left"
assert_eq "" "$("$D" network ls -q --filter label=com.docker.compose.project=stack-vol$U)" "networks left"
assert_eq "" "$("$D" volume ls -q --filter label=com.docker.compose.project=stack-vol$U)" "volumes left"
[ ! -e "$STACK_HOME/runs/vol$U" ] || die "run dir left"
[ ! -e "$STACK_HOME/data/vol$U" ] || die "data dir left"
assert_exit 0 "$S" ps --json
assert_eq "[]" "$(echo "$LAST_STDOUT" | tr -d ' \n')" "rows left"

info "3. an invalid .env: one line naming file:line, exit 3, nothing started"
mkstack badenv$U "services:
  web:
    $SLEEP" "A=1
B=\"unterminated"
assert_exit 3 "$S" run badenv$U --offline
echo "$LAST_STDERR" | grep -q '\.env:2' || die "message does not name .env:2: $LAST_STDERR"
assert_eq 1 "$(echo "$LAST_STDERR" | wc -l)" "lines of the message"
assert_eq "" "$("$D" ps -aq --filter label=com.docker.compose.project=stack-badenv$U)" "containers of a refused run"
[ ! -e "$STACK_HOME/runs/badenv$U" ] || die "a refused run left a run dir"

info "4. a refusal names every permission the stack needs and the command"
mkstack perms$U "services:
  web:
    $SLEEP
    volumes: [\"/var/run/docker.sock:/var/run/docker.sock:ro\", \"/srv:/srv:ro\"]"
assert_exit 3 "$S" run perms$U --offline
echo "$LAST_STDERR" | grep -qF "stack run perms$U --allow docker-socket --allow host-bind" ||
  die "refusal does not give the command: $LAST_STDERR"
[ ! -e "$STACK_HOME/runs/perms$U" ] || die "a refused run left a run dir"

info "5. stack config prints the effective file and changes nothing"
mkstack conf$U "services:
  web:
    $SLEEP
    volumes: [\"\${DATA_VOLUME:-confdata}:/data\", \"./state:/state\"]
volumes:
  confdata:" "PROJECT=other
GREETING=hi"
before=$(cd "$STACK_HOME" && find . -path ./objects -prune -o -print | sort; sqlite3 "$STACK_HOME/index.db" 'select count(*) from runs' 2>/dev/null || true)
assert_exit 0 "$S" config conf$U --offline --env X=1
echo "$LAST_STDOUT" | grep -q 'confdata:/data' || die "config does not show the resolved volume: $LAST_STDOUT"
echo "$LAST_STDOUT" | grep -q "io.stack.slug" || die "config does not show the labels"
echo "$LAST_STDOUT" | grep -q "$STACK_HOME/data/conf$U/state:/state" || die "config does not show the redirect"
echo "$LAST_STDERR" | grep -q "sets PROJECT=other" || die "no warning for the .env's PROJECT: $LAST_STDERR"
after=$(cd "$STACK_HOME" && find . -path ./objects -prune -o -print | sort; sqlite3 "$STACK_HOME/index.db" 'select count(*) from runs' 2>/dev/null || true)
assert_eq "$before" "$after" "files and rows after stack config"
assert_exit 3 "$S" config perms$U --offline
echo "$LAST_STDERR" | grep -qF -- "--allow docker-socket --allow host-bind" || die "config does not refuse alike"

info "6. --allow docker-socket on a stack that does not declare it: warned, runs, remembered"
mkstack sock$U "services:
  web:
    $SLEEP
    volumes: [\"\${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock:ro\"]" "DOCKER_SOCKET_LOCATION=/var/run/docker.sock"
assert_exit 3 "$S" run sock$U --offline
echo "$LAST_STDERR" | grep -q "needs permission 'docker-socket'" || die "the resolved socket is not docker-socket"
assert_exit 0 "$S" run sock$U --offline --allow docker-socket
echo "$LAST_STDERR" | grep -q "does not ask for it" || die "no warning for an undeclared permission: $LAST_STDERR"
assert_exit 0 "$S" config sock$U --offline
assert_exit 0 "$S" rm sock$U

info "7. a failed run with a multi-line reason is one line in stack ps, whole in --json"
mkstack fail$U "services:
  web:
    image: $TAG
    command: [sh, -c, \"echo first line; echo second line; exit 3\"]"
assert_exit 5 "$S" run fail$U --offline --timeout 20
assert_exit 0 "$S" ps
assert_eq 2 "$(echo "$LAST_STDOUT" | wc -l)" "lines of stack ps (header + one run)"
assert_exit 0 "$S" ps --json
python3 -c 'import json,sys; r=json.loads(sys.argv[1])[0]["reason"]; sys.exit(0 if "\n" in r else 1)' "$LAST_STDOUT" ||
  die "the whole reason is not in --json"
assert_exit 0 "$S" logs fail$U
echo "$LAST_STDOUT" | head -3 | grep -q "exited with code 3; last log lines" || die "stack logs does not start with the reason"
assert_exit 0 "$S" rm fail$U --purge
info "ok"
