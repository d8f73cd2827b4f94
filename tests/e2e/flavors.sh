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

assert_exit 1 "$S" logs $T
grep -q "$T is a StaticWebsite: it has no container and no logs" <<<"$LAST_STDERR" || die "logs: $LAST_STDERR"
assert_exit 1 "$S" config $T
grep -q "$T is a StaticWebsite: it has no compose file" <<<"$LAST_STDERR" || die "config: $LAST_STDERR"

info "flavors_static_site_survives_a_proxy_restart_and_the_next_run"
assert_exit 0 "$S" proxy stop
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$CA" "https://$T.stack.localhost:$P/" || true)
[ "$code" != 200 ] || die "proxy stopped but the site answers"
assert_exit 0 "$S" run --offline $T
assert_eq "$(cat "$W/$T/index.html")" "$(get "https://$T.stack.localhost:$P/")" "served again after the next run"
assert_exit 0 "$S" proxy status
grep -qF "files: $STACK_HOME/runs/$T" <<<"$LAST_STDOUT" || die "proxy status: $LAST_STDOUT"

info "flavors_chromium_trusting_only_the_stack_ca_shows_the_page"
# Headless Chromium (playwright-core, tests/browser/page-text.mjs) with an NSS db that trusts only
# $STACK_HOME/keys/ca.pem and no certificate flags; the same Chromium with an empty db is refused.
for c in node npm certutil; do command -v $c >/dev/null || die "$c is missing (run scripts/install-deps)"; done
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (run scripts/install-deps)"
BR=$STACK_SRC/tests/browser
if [ ! -f "$BR/node_modules/playwright-core/package.json" ]; then
  (cd "$BR" && npm ci --no-audit --no-fund) >"$W/npm.log" 2>&1 || die "npm ci failed: $(tail -5 "$W/npm.log")"
fi
mkdir -p "$W/chome/.pki/nssdb" "$W/bare/.pki/nssdb"
certutil -N -d "sql:$W/chome/.pki/nssdb" --empty-password
certutil -A -d "sql:$W/chome/.pki/nssdb" -n stack -t C,, -i "$CA"
certutil -N -d "sql:$W/bare/.pki/nssdb" --empty-password
page() { # HOME URL SHOT
  HOME=$1 TMPDIR=$W timeout 120 node "$BR/page-text.mjs" --url "$2" --shot "$3" --selector h1
}
out=$(page "$W/chome" "https://$T.stack.localhost:$P/" "$W/static.png")
assert_eq "tiles of $T" "$(jq -r .text <<<"$out")" "the page Chromium shows (error: $(jq -r .error <<<"$out"))"
assert_eq 200 "$(jq -r .status <<<"$out")" "Chromium's status"
out=$(page "$W/bare" "https://$T.stack.localhost:$P/" "$W/untrusted.png")
grep -q "ERR_CERT_AUTHORITY_INVALID" <<<"$(jq -r .error <<<"$out")" || die "an untrusting Chromium was not refused: $out"

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

# ---- DockerService -------------------------------------------------------------------------------------
. "$(dirname "$0")/image_lib.sh"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
BASE="fl-busybox:$U"
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^fl[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(stack-fl[a-z]*$U:|fl-(busybox|shipped):$U\$)' | xargs -r $D rmi -f >/dev/null 2>&1 || true"
build_busybox_image "$BASE" "$W/img" httpd sh

info "flavors_docker_service_builds_from_the_local_image_runs_and_answers_via_the_proxy"
V=flsvc$U
mkdir -p "$W/$V/site"
manifest $V DockerService >"$W/$V/stack.yaml"
echo "served by the image of $V" >"$W/$V/site/index.html"
cat >"$W/$V/Dockerfile" <<DF
FROM $BASE
COPY site/ /www/
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
DF
assert_exit 0 "$S" pack "$W/$V" -o "$W/$V.stack"
assert_exit 0 "$S" import "$W/$V.stack"
grep -q "says flavor" <<<"$LAST_STDERR" && die "a DockerService that says so got a flavor warning: $LAST_STDERR"
assert_exit 0 "$S" run --timings $V
grep -q "^timing: build" <<<"$LAST_STDERR" || die "the first run did not build: $LAST_STDERR"
grep -qF "https://$V.stack.localhost:$P" <<<"$LAST_STDOUT" || die "run does not print the https address: $LAST_STDOUT"
assert_eq "served by the image of $V" "$(get "https://$V.stack.localhost:$P/")" "the built service through the front door"
tree=$(jq -r --arg s $V '.[] | select(.slug == $s) | .tree' <<<"$("$S" ls --json)" | head -1)
IMG="stack-$V:${tree:0:12}"
"$D" image inspect "$IMG" >/dev/null || die "no image $IMG"
cid=$("$D" ps -q --filter "label=io.stack.slug=$V")
[ -n "$cid" ] || die "no container for $V"
assert_eq "$IMG" "$("$D" inspect -f '{{.Config.Image}}' "$cid")" "the container runs the built image"
assert_eq "$V" "$("$D" inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$cid")" "service name = slug"
"$D" inspect -f '{{.HostConfig.SecurityOpt}}' "$cid" | grep -q no-new-privileges || die "the policy did not apply"
ports=$("$D" ps --filter "label=io.stack.slug=$V" --format '{{.Ports}}')
grep -q "^127.0.0.1:[0-9]*->8080/tcp" <<<"$ports" || die "routed port not published on loopback only: $ports"
assert_exit 0 "$S" config $V
grep -q "image: *['\"]*$IMG" <<<"$LAST_STDOUT" || die "config: $LAST_STDOUT"

info "flavors_docker_service_rerun_does_not_rebuild"
created=$("$D" image inspect -f '{{.Id}} {{.Created}}' "$IMG")
assert_exit 0 "$S" stop $V
assert_exit 0 "$S" run --timings $V
grep -q "^timing: build" <<<"$LAST_STDERR" && die "the re-run built again: $LAST_STDERR"
assert_eq "$created" "$("$D" image inspect -f '{{.Id}} {{.Created}}' "$IMG")" "same image after the re-run"
assert_eq "served by the image of $V" "$(get "https://$V.stack.localhost:$P/")" "answers after the re-run"

info "flavors_docker_service_from_an_image_the_bundle_ships"
Y2=flship$U
SHIP="fl-shipped:$U"
mkdir -p "$W/$Y2/images"
"$D" tag "$BASE" "$SHIP"
"$D" save -o "$W/$Y2/images/base.tar" "$SHIP"
"$D" rmi "$SHIP" >/dev/null
manifest $Y2 DockerService >"$W/$Y2/stack.yaml"
printf 'images:\n  - images/base.tar\n' >>"$W/$Y2/stack.yaml"
printf 'FROM %s\nRUN echo "shipped base of %s" >/www/index.html\nEXPOSE 8081\nCMD ["httpd", "-f", "-p", "8081", "-h", "/www"]\n' \
  "$SHIP" $Y2 >"$W/$Y2/Dockerfile"
assert_exit 0 "$S" pack "$W/$Y2" -o "$W/$Y2.stack"
assert_exit 0 "$S" import "$W/$Y2.stack"
assert_exit 0 "$S" run --timings $Y2
grep -q "^timing: build" <<<"$LAST_STDERR" || die "did not build: $LAST_STDERR"
assert_eq "shipped base of $Y2" "$(get "https://$Y2.stack.localhost:$P/")" "the service built FROM the shipped image"
assert_exit 0 "$S" rm $Y2

info "flavors_a_static_version_replaces_a_running_compose_version_and_back"
R=flrep$U
mkdir -p "$W/${R}v1" "$W/${R}v2"
manifest $R DockerCompose >"$W/${R}v1/stack.yaml"
cat >"$W/${R}v1/compose.yaml" <<Y
services:
  web:
    image: $BASE
    command: ["sh", "-c", "echo 'compose v1 of $R' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1::8080"]
Y
sed 's/^version: .*/version: "2"/' "$W/${R}v1/stack.yaml" >"$W/${R}v2/stack.yaml"
echo "static v2 of $R" >"$W/${R}v2/index.html"
for v in v1 v2; do
  assert_exit 0 "$S" pack "$W/$R$v" -o "$W/$R$v.stack"
  assert_exit 0 "$S" import "$W/$R$v.stack"
done
assert_exit 0 "$S" run $R@1
assert_eq "compose v1 of $R" "$(get "https://$R.stack.localhost:$P/")" "the compose version"
assert_exit 0 "$S" run $R@2
assert_eq "static v2 of $R" "$(get "https://$R.stack.localhost:$P/")" "the static version replaced it"
[ -z "$("$D" ps -aq --filter "label=io.stack.slug=$R")" ] || die "the compose version's containers are still there"
[ "$(jq --arg s $R '[.[] | select(.slug == $s)] | length' <<<"$("$S" ps --json)")" = 1 ] || die "two runs of $R"
assert_exit 0 "$S" run $R@1
assert_eq "compose v1 of $R" "$(get "https://$R.stack.localhost:$P/")" "the compose version is back"
assert_exit 0 "$S" rm $R

info "flavors_docker_service_broken_dockerfile_is_exit_5_and_leaves_nothing_running"
X=flbad$U
mkdir -p "$W/$X"
manifest $X DockerService >"$W/$X/stack.yaml"
printf 'FROM %s\nRUN false\nEXPOSE 8080\n' "$BASE" >"$W/$X/Dockerfile"
assert_exit 0 "$S" pack "$W/$X" -o "$W/$X.stack"
assert_exit 0 "$S" import "$W/$X.stack"
assert_exit 5 "$S" run $X
grep -q "building stack-$X:[0-9a-f]* failed: .*returned a non-zero code: 1" <<<"$LAST_STDERR" || die "build failure message: $LAST_STDERR"
[ "$(grep -c . <<<"$LAST_STDERR")" -le 2 ] || die "more than the error line: $LAST_STDERR"
[ -z "$("$D" ps -aq --filter "label=io.stack.slug=$X")" ] || die "a failed build left containers"
[ ! -e "$STACK_HOME/runs/$X" ] || die "a failed build left a run dir"
assert_exit 0 "$S" ps --json
assert_eq "" "$(jq -r --arg s $X '.[] | select(.slug == $s) | .state' <<<"$LAST_STDOUT")" "no run row for the failed build"
assert_eq "served by the image of $V" "$(get "https://$V.stack.localhost:$P/")" "the other service still answers"

info "flavors_dash_url_without_a_router_gets_the_slug_address"
A=fldash$U
mkdir -p "$W/$A"
manifest $A DockerCompose >"$W/$A/stack.yaml"
printf 'PROJECT=%s\nDOMAIN=stack.localhost\n' $A >"$W/$A/.env"
cat >"$W/$A/compose.yaml" <<Y
services:
  app:
    image: $BASE
    command: ["sh", "-c", "echo 'dashboard of $A' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    expose: ["8080"]
    labels:
      dash.url: https://\$PROJECT.\$DOMAIN
Y
assert_exit 0 "$S" pack "$W/$A" -o "$W/$A.stack"
assert_exit 0 "$S" import "$W/$A.stack"
assert_exit 0 "$S" run $A
grep -qF "https://$A.stack.localhost:$P" <<<"$LAST_STDOUT" || die "run does not print the dash.url address: $LAST_STDOUT"
assert_eq "dashboard of $A" "$(get "https://$A.stack.localhost:$P/")" "the dash.url service through the front door"
ports=$("$D" ps --filter "label=io.stack.slug=$A" --format '{{.Ports}}')
grep -q "^127.0.0.1:[0-9]*->8080/tcp" <<<"$ports" || die "dash.url port not published on loopback only: $ports"
assert_exit 0 "$S" rm $A

info "flavors_no_container_mounts_the_docker_socket"
checked=0
for id in $("$D" ps -aq --filter label=io.stack.slug); do
  # another test's container may be gone between ps and inspect: only ours count, and ours are there
  slug=$("$D" inspect -f '{{index .Config.Labels "io.stack.slug"}}' "$id" 2>/dev/null) || continue
  case $slug in fl*$U) ;; *) continue ;; esac
  mounts=$("$D" inspect -f '{{range .Mounts}}{{.Source}} {{end}}' "$id") || die "inspect $id failed"
  grep -q docker.sock <<<"$mounts" && die "$id mounts docker.sock"
  checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || die "no container of this test was there to check"
info "flavors_gc_images_removes_a_built_image_with_its_last_version"
assert_exit 0 "$S" rm $V
sed -i 's/^version: .*/version: "2"/' "$W/$V/stack.yaml"
assert_exit 0 "$S" pack "$W/$V" -o "$W/$V-2.stack"
assert_exit 0 "$S" import "$W/$V-2.stack"
assert_exit 0 "$S" gc --keep 1 --images
grep -q "image $IMG removed" <<<"$LAST_STDOUT" || die "gc --images: $LAST_STDOUT"
"$D" image inspect "$IMG" >/dev/null 2>&1 && die "gc --images left the built image $IMG"
"$D" image inspect "$BASE" >/dev/null 2>&1 || die "gc --images removed the base image stack did not load"
info "ok"
