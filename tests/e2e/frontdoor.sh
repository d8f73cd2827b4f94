#!/usr/bin/env bash
# The front door for runs (spec/proxy.md "Routes from runs"): real stacks on the Docker Engine that publish no
# port and carry only hub-style traefik labels, reached through the real Caddy stack manages with strict TLS
# against stack's own CA; a stack whose root compose file only includes another; stop -> the "stopped"
# placeholder, rm -> the route gone; a second stack naming another's host refused (exit 3: it needs the
# `route` permission, and granted, the host is still the first stack's) while the first keeps answering; no caddy on PATH -> the stack still starts, with a warning (and one naming a rule it cannot read);
# no container gets the Docker socket; the daemon's placeholder while a request waits is in api-run.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/busybox-frontdoor:$U"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export STACK_PROXY_PORT=$(free_port)
P=$STACK_PROXY_PORT
CA=$STACK_HOME/keys/ca.pem
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^fd[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img" httpd sh

mkstack() { # SLUG DIR-SETUP: stack.yaml + .env written, DIR filled by the caller, packed and imported
  local dir="$W/$1"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: front door end-to-end test stack
author: tests
license: MIT
Y
  printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' "$1" >"$dir/.env"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
web() { # SITE-TEXT [HOST]: a hub-style service, no published port
  cat <<Y
services:
  web:
    image: $TAG
    command: ["sh", "-c", "echo '$1' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    labels:
      traefik.enable: "true"
      traefik.http.routers.web.rule: Host(\`${2:-\${PROJECT\}.\${DOMAIN\}}\`)
      traefik.http.services.web.loadbalancer.server.port: "8080"
Y
}
get() { curl -sS --max-time 10 --cacert "$CA" "$@"; }

info "frontdoor_routes_a_stack_with_only_hub_labels_over_strict_tls"
A=fda$U
mkdir -p "$W/$A" && web "hello from $A" >"$W/$A/compose.yaml"
mkstack $A
assert_exit 0 "$S" run $A
grep -qF "https://$A.stack.localhost:$P" <<<"$LAST_STDOUT" || die "run does not print the https address: $LAST_STDOUT"
assert_eq "hello from $A" "$(get "https://$A.stack.localhost:$P/")" "body through the front door"
ports=$("$D" ps --filter "label=io.stack.slug=$A" --format '{{.Ports}}')
grep -q "^127.0.0.1:[0-9]*->8080/tcp" <<<"$ports" || die "routed port not published on loopback: $ports"

info "frontdoor_ps_shows_the_https_address"
assert_exit 0 "$S" ps
grep -qF "https://$A.stack.localhost:$P" <<<"$LAST_STDOUT" || die "ps: $LAST_STDOUT"

info "frontdoor_routes_a_stack_whose_root_compose_only_includes_another"
I=fdi$U
mkdir -p "$W/$I/app" && web "included $I" >"$W/$I/app/compose.yaml"
printf 'include:\n  - app/compose.yaml\n' >"$W/$I/compose.yaml"
mkstack $I
assert_exit 0 "$S" run $I
assert_eq "included $I" "$(get "https://$I.stack.localhost:$P/")" "body of the included stack"

info "frontdoor_refuses_a_second_stack_claiming_a_host_and_the_first_keeps_it"
B=fdb$U
mkdir -p "$W/$B" && web "intruder" "$A.stack.localhost" >"$W/$B/compose.yaml"
mkstack $B
assert_exit 3 "$S" run $B
grep -qF "route for '$A.stack.localhost'" <<<"$LAST_STDERR" && grep -qF "needs permission 'route'" <<<"$LAST_STDERR" \
  || die "another stack's name needs the route permission: $LAST_STDERR"
[ -z "$("$D" ps -q --filter "label=io.stack.slug=$B")" ] || die "the refused stack has containers"
assert_eq "hello from $A" "$(get "https://$A.stack.localhost:$P/")" "first stack still answers"
# granted, the name is still first come: the front door refuses to hand it over
assert_exit 3 "$S" run $B --allow route
grep -q "$A.stack.localhost is already the address of stack $A; stack $B cannot claim it" <<<"$LAST_STDERR" \
  || die "conflict message: $LAST_STDERR"
[ -z "$("$D" ps -q --filter "label=io.stack.slug=$B")" ] || die "the refused stack has containers"
assert_eq "hello from $A" "$(get "https://$A.stack.localhost:$P/")" "first stack still answers"

info "frontdoor_stop_serves_the_stopped_placeholder"
assert_exit 0 "$S" stop $A
out=$(get -i "https://$A.stack.localhost:$P/")
grep -q "^HTTP/2 503" <<<"$out" || die "stopped placeholder status: $out"
grep -q "stopped" <<<"$out" || die "stopped placeholder text: $out"

info "frontdoor_rm_forgets_the_route"
assert_exit 0 "$S" rm $A
assert_exit 0 "$S" proxy status
grep -qF "$A.stack.localhost" <<<"$LAST_STDOUT" && die "route still there after rm: $LAST_STDOUT"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" "https://$A.stack.localhost:$P/" || true)
[ "$code" != 200 ] && [ "$code" != 503 ] || die "removed host still answers: $code"

info "frontdoor_without_caddy_the_stack_starts_with_a_warning"
assert_exit 0 "$S" proxy stop
mkdir -p "$W/nocaddy"
for d in ${PATH//:/ }; do
  for f in "$d"/*; do
    n=${f##*/}
    [ "$n" = caddy ] || [ -e "$W/nocaddy/$n" ] || ln -s "$f" "$W/nocaddy/$n" 2>/dev/null || true
  done
done
C=fdc$U
mkdir -p "$W/$C" && { web "no caddy"; echo '      traefik.http.routers.odd.rule: PathPrefix(`/odd`)'; } >"$W/$C/compose.yaml"
mkstack $C
assert_exit 0 env PATH="$W/nocaddy" "$S" run $C
grep -q "the front door is not available (the proxy is not installed: no caddy on PATH" <<<"$LAST_STDERR" \
  || die "no warning without caddy: $LAST_STDERR"
grep -q "is running" <<<"$LAST_STDOUT" || die "not running without caddy: $LAST_STDOUT"
grep -q "service 'web': .*traefik.http.routers.odd.rule" <<<"$LAST_STDERR" || die "no warning naming the odd rule: $LAST_STDERR"

info "frontdoor_no_container_gets_the_docker_socket"
checked=0
ids=$("$D" ps -aq --filter label=io.stack.slug)
for id in $ids; do
  # another test's container may be gone between ps and inspect: only ours count, and ours are there
  slug=$("$D" inspect -f '{{index .Config.Labels "io.stack.slug"}}' "$id" 2>/dev/null) || continue
  case $slug in fd*$U) ;; *) continue ;; esac
  mounts=$("$D" inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$id") || die "inspect $id failed"
  grep -q docker.sock <<<"$mounts" && die "$id mounts docker.sock"
  checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || die "no container of this test was there to check"
for s in $I $C; do "$S" rm $s >/dev/null 2>&1 || true; done
info "ok"
