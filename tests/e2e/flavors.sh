#!/usr/bin/env bash
# Flavors by content (spec/bundle.md "Flavors", spec/run.md "Flavors"): a static-site bundle that says
# `flavor: DockerCompose` (the catalog's 2048) imports with one warning, is recorded as StaticWebsite, runs with
# no container and no Engine (DOCKER_HOST points nowhere), is served by the real proxy from its run dir over
# strict TLS, survives `stack proxy stop` and the next run, answers the "stopped" placeholder after stop, and
# is forgotten by rm.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
new_home
new_tmpdir W
U=$$
P=$STACK_PROXY_PORT
CA=$STACK_HOME/keys/ca.pem
get() { curl -sS --max-time 10 --cacert "$CA" "$@"; }

manifest() { # SLUG FLAVOR
  cat <<Y
slug: $1
name: E2E $1
flavor: $2
version: "1"
description: flavors end-to-end test stack
author: tests
license: MIT
Y
}

info "flavors_static_site_that_says_compose_imports_with_a_warning"
T=flst$U
mkdir -p "$W/$T/css"
manifest $T DockerCompose >"$W/$T/stack.yaml"
printf '<!doctype html><html><head><link rel="stylesheet" href="css/site.css"></head><body><h1 id="t">tiles of %s</h1></body></html>\n' $T >"$W/$T/index.html"
printf 'h1 { color: #776e65; }\n' >"$W/$T/css/site.css"
assert_exit 0 "$S" pack "$W/$T" -o "$W/$T.stack"
assert_exit 0 "$S" import "$W/$T.stack"
grep -q "stack.yaml says flavor DockerCompose, but the bundle's content makes it StaticWebsite.*it runs as StaticWebsite" <<<"$LAST_STDERR" \
  || die "no flavor warning: $LAST_STDERR"
[ "$(grep -c 'says flavor' <<<"$LAST_STDERR")" = 1 ] || die "more than one flavor warning: $LAST_STDERR"
assert_exit 0 "$S" show $T
grep -q "^flavor: *StaticWebsite" <<<"$LAST_STDOUT" || die "show: $LAST_STDOUT"
assert_exit 0 "$S" ls --json
assert_eq StaticWebsite "$(jq -r --arg s $T '.[] | select(.slug == $s) | .flavor' <<<"$LAST_STDOUT" | head -1)" "ls --json flavor"

info "flavors_static_site_runs_without_a_container_or_the_engine"
assert_exit 0 env DOCKER_HOST=unix://$W/no-engine.sock "$S" run $T
grep -qF "https://$T.stack.localhost:$P" <<<"$LAST_STDOUT" || die "run does not print the https address: $LAST_STDOUT"
assert_eq "$(cat "$W/$T/index.html")" "$(get "https://$T.stack.localhost:$P/")" "index.html through the front door"
assert_eq "$(cat "$W/$T/css/site.css")" "$(get "https://$T.stack.localhost:$P/css/site.css")" "the css file"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' --max-time 10 --cacert "$CA" "https://$T.stack.localhost:$P/css/site.css")
grep -q "^text/css" <<<"$ctype" || die "css content type: $ctype"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" "https://$T.stack.localhost:$P/stack.yaml")
assert_eq 404 "$code" "stack.yaml is not served"
D=$(docker_cmd)
[ -z "$("$D" ps -aq --filter "label=io.stack.slug=$T")" ] || die "a static site has containers"
[ -z "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$T")" ] || die "a static site has a compose project"
assert_exit 0 env DOCKER_HOST=unix://$W/no-engine.sock "$S" ps --json
assert_eq running "$(jq -r --arg s $T '.[] | select(.slug == $s) | .state' <<<"$LAST_STDOUT")" "ps state"
assert_exit 0 "$S" ps
grep -qF "https://$T.stack.localhost:$P" <<<"$LAST_STDOUT" || die "ps shows no address: $LAST_STDOUT"

info "flavors_static_site_survives_a_proxy_restart_and_the_next_run"
assert_exit 0 "$S" proxy stop
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://$T.stack.localhost:$P/" || true)
[ "$code" != 200 ] || die "proxy stopped but the site answers"
assert_exit 0 "$S" run $T
assert_eq "$(cat "$W/$T/index.html")" "$(get "https://$T.stack.localhost:$P/")" "served again after the next run"
assert_exit 0 "$S" proxy status
grep -qF "files: $STACK_HOME/runs/$T" <<<"$LAST_STDOUT" || die "proxy status: $LAST_STDOUT"

info "flavors_static_site_stop_is_the_placeholder_and_rm_forgets_it"
assert_exit 0 env DOCKER_HOST=unix://$W/no-engine.sock "$S" stop $T
out=$(get -i "https://$T.stack.localhost:$P/")
grep -q "^HTTP/2 503" <<<"$out" || die "stopped placeholder status: $out"
grep -q "is stopped" <<<"$out" || die "stopped placeholder text: $out"
assert_exit 0 "$S" ps --json
assert_eq stopped "$(jq -r --arg s $T '.[] | select(.slug == $s) | .state' <<<"$LAST_STDOUT")" "ps state after stop"
assert_exit 0 env DOCKER_HOST=unix://$W/no-engine.sock "$S" rm $T
[ ! -e "$STACK_HOME/runs/$T" ] || die "rm left the run dir"
assert_exit 0 "$S" proxy status
grep -qF "$T.stack.localhost" <<<"$LAST_STDOUT" && die "route still there after rm: $LAST_STDOUT"
info "ok"
