#!/usr/bin/env bash
# One front door per machine (spec/proxy.md "One front door per machine"): two stores on one machine, real
# stacks on the Engine. The second store's proxy on the first one's port is refused with a message naming the
# first store and STACK_PROXY_PORT (its stack still starts); only one Caddy listens on the port (Caddy binds with
# SO_REUSEPORT: two would split the connections); with its own port each store serves its own stack, 100
# requests each, no stray answer; two stores starting on one port at the same moment: one proxy; a store's
# directory deleted: its proxy gone within 10 s; a proxy whose supervisor was killed and whose store is gone
# is stopped by `stack proxy stop` from another store; a registry another user could write is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
D=$(docker_cmd)
new_tmpdir W
U=$$
TAG="stack-e2e/busybox-fdstores:$U"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port)
P2=$(free_port)
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
H1=$W/store-one H2=$W/store-two
mkdir -p "$H1" "$H2"
on_exit "STACK_HOME='$H1' STACK_PROXY_PORT=$P1 '$S' proxy stop; STACK_HOME='$H2' STACK_PROXY_PORT=$P2 '$S' proxy stop"
on_exit "_e2e_rm_projects '$H1'; _e2e_rm_projects '$H2'"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img" httpd sh

# alive PID: a process that runs (a zombie does not).
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
# listeners PORT: how many sockets listen on 127.0.0.1:PORT (SO_REUSEPORT lets several).
listeners() { ss -Hltn "sport = :$1" | wc -l; }
# at STORE PORT CMD...: run CMD with STACK_HOME=STORE and STACK_PROXY_PORT=PORT.
at() { local h=$1 p=$2; shift 2; STACK_HOME=$h STACK_PROXY_PORT=$p "$@"; }
mkstack() { # HOME SLUG: a one-service stack answering "hello from SLUG" behind a traefik label, imported into HOME
  local dir="$W/$2"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $2
name: E2E $2
flavor: DockerCompose
version: "1"
description: two stores, one front door each
author: tests
license: MIT
Y
  printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' "$2" >"$dir/.env"
  cat >"$dir/compose.yaml" <<Y
services:
  web:
    image: $TAG
    command: ["sh", "-c", "echo 'hello from $2' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(\`\${PROJECT}.\${DOMAIN}\`)
      traefik.http.services.web.loadbalancer.server.port: "8080"
Y
  assert_exit 0 env STACK_HOME="$1" "$S" pack "$dir" -o "$W/$2.stack"
  assert_exit 0 env STACK_HOME="$1" "$S" import "$W/$2.stack"
}
# hammer HOME SLUG PORT N: N requests to https://SLUG.stack.localhost:PORT/ with HOME's CA; every answer must
# be SLUG's page.
hammer() {
  local out bad
  out=$(for _ in $(seq 1 "$4"); do
    curl -sS --max-time 10 --cacert "$1/keys/ca.pem" "https://$2.stack.localhost:$3/" 2>&1 || echo "curl failed"
  done)
  bad=$(grep -vc "^hello from $2\$" <<<"$out" || true)
  [ "$bad" = 0 ] || die "$bad of $4 requests to $2 on :$3 got another answer: $(grep -v "^hello from $2\$" <<<"$out" | sort | uniq -c | head -5)"
}
A=fsa$U B=fsb$U

info "frontdoor_stores_the_first_store_takes_the_port"
mkstack "$H1" $A
mkstack "$H2" $B
assert_exit 0 at "$H1" $P1 "$S" run $A
grep -q "https://$A.stack.localhost:$P1" <<<"$LAST_STDOUT" || die "run does not print the address: $LAST_STDOUT"
hammer "$H1" $A $P1 100

info "frontdoor_stores_a_second_store_on_the_same_port_is_refused_by_name_and_its_stack_still_runs"
assert_exit 0 at "$H2" $P1 "$S" run $B
grep -q "front door is not available (127.0.0.1:$P1 is the front door of the store $H1 (proxy pid [0-9]*); .*STACK_PROXY_PORT" \
  <<<"$LAST_STDERR" || die "no warning naming the other store: $LAST_STDERR"
assert_exit 5 at "$H2" $P1 "$S" proxy start
grep -q "127.0.0.1:$P1 is the front door of the store $H1 .*STACK_HOME=$H1 stack proxy stop.*STACK_PROXY_PORT" \
  <<<"$LAST_STDERR" || die "proxy start message: $LAST_STDERR"
assert_eq 1 "$(listeners $P1)" "listeners on :$P1"
assert_eq false "$(at "$H2" $P1 "$S" proxy status --json | jq -r .running)" "second store's proxy running"
hammer "$H1" $A $P1 100
# The second store's stack answers at its published port meanwhile.
port=$(at "$H2" $P1 "$S" ps --json | jq -r --arg s $B '.[] | select(.slug == $s) | .addresses[]? | select(test("^http://")) ' | head -1)
[ -z "$port" ] || assert_eq "hello from $B" "$(curl -sS --max-time 10 "$port/")" "published port of $B"

info "frontdoor_stores_each_store_on_its_own_port_serves_its_own_stack"
assert_exit 0 at "$H2" $P2 "$S" proxy start
hammer "$H1" $A $P1 100
hammer "$H2" $B $P2 100
assert_eq 1 "$(listeners $P1)" "listeners on :$P1"
assert_eq 1 "$(listeners $P2)" "listeners on :$P2"
# Neither door answers for the other store's stack (a 404, not the other page).
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$H1/keys/ca.pem" "https://$B.stack.localhost:$P1/")
assert_eq 404 "$code" "$B on the first store's door"

info "frontdoor_stores_two_stores_starting_on_one_port_at_once_make_one_proxy"
P3=$(free_port)
H3=$W/store-three H4=$W/store-four
mkdir -p "$H3" "$H4"
on_exit "STACK_HOME='$H3' STACK_PROXY_PORT=$P3 '$S' proxy stop; STACK_HOME='$H4' STACK_PROXY_PORT=$P3 '$S' proxy stop"
set +e
at "$H3" $P3 "$S" proxy start 2>"$W/e3" &
p3=$!
at "$H4" $P3 "$S" proxy start 2>"$W/e4" &
p4=$!
wait $p3; r3=$?
wait $p4; r4=$?
set -e
assert_eq "0 5" "$(printf '%s\n' $r3 $r4 | sort -n | tr '\n' ' ' | sed 's/ $//')" "exit codes of two simultaneous starts"
grep -q "is the front door of the store" "$W/e3" "$W/e4" || die "the refused start does not name the other store: $(cat "$W/e3" "$W/e4")"
assert_eq 1 "$(listeners $P3)" "listeners on :$P3"

info "frontdoor_stores_a_deleted_store_leaves_no_proxy_running"
pid1=$(at "$H1" $P1 "$S" proxy status --json | jq -r .pid)
[ "$pid1" -gt 0 ] || die "no proxy pid for the first store"
at "$H1" $P1 "$S" rm $A >/dev/null 2>&1 || true
chmod -R u+w "$H1" && rm -rf "$H1"
for i in $(seq 1 100); do
  alive "$pid1" || break
  sleep 0.1
done
! alive "$pid1" || die "the deleted store's proxy (pid $pid1) still runs after 10 s"
assert_eq 0 "$(listeners $P1)" "listeners on :$P1 after the store was deleted"
info "the deleted store's proxy was gone after $((i / 10)).$((i % 10)) s"
# Its port is free for another store now.
assert_exit 0 at "$H2" $P1 "$S" proxy stop
assert_exit 0 at "$H2" $P1 "$S" proxy start
hammer "$H2" $B $P1 20
assert_exit 0 at "$H2" $P1 "$S" proxy stop

info "frontdoor_stores_an_orphan_without_its_supervisor_is_stopped_from_another_store"
# The store that won the race above: kill its supervisor (Caddy's parent) so nothing watches its directory,
# delete the store, and stop the orphan from the second store.
for h in "$H3" "$H4"; do
  pid=$(at "$h" $P3 "$S" proxy status --json | jq -r .pid)
  [ "$pid" -gt 0 ] && break
done
sup=$(awk '{print $4}' /proc/$pid/stat)
kill -KILL "$sup"
sleep 0.3
chmod -R u+w "$h" && rm -rf "$h"
sleep 1
alive "$pid" || die "Caddy died with its supervisor; this case tests nothing"
assert_exit 0 at "$H2" $P3 "$S" proxy stop
for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
! alive "$pid" || die "the orphan proxy (pid $pid) still runs"
assert_eq 0 "$(listeners $P3)" "listeners on :$P3 after the orphan was stopped"
info "frontdoor_stores_a_registry_others_can_write_or_a_symlink_is_refused"
# The registry decides which proxy may run: one another user could write (or a symlink to elsewhere) is refused.
P5=$(free_port)
H5=$W/store-five
mkdir -p "$H5" "$W/xdg-open/stack" "$W/xdg-link" "$W/elsewhere"
chmod 700 "$W/xdg-open" "$W/xdg-link" && chmod 777 "$W/xdg-open/stack"
ln -s "$W/elsewhere" "$W/xdg-link/stack"
for x in xdg-open xdg-link; do
  assert_exit 5 env XDG_RUNTIME_DIR="$W/$x" STACK_HOME="$H5" STACK_PROXY_PORT=$P5 "$S" proxy start
  grep -q "cannot use the front door registry" <<<"$LAST_STDERR" || die "$x: $LAST_STDERR"
  assert_eq 0 "$(listeners $P5)" "listeners on :$P5 with the $x registry"
done
[ -z "$(ls -A "$W/elsewhere")" ] || die "a marker was written through the symlink"
info "ok"
