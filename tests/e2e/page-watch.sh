#!/usr/bin/env bash
# What the person approves, and what the page shows of watched runs (spec/api.md "GET /requests", "The page",
# "GET /stacks/{slug}/icon"), against the real daemon and the real Docker Engine:
#   - a signed bundle whose stack.yaml has an icon (SVG), permissions, ports, resources and an image archive;
#   - GET /requests (token) names the signer and fingerprint, the permissions (one granted already), the images
#     (cached), the ports, the front-door address, the limits and the size; `stack deny` prints the same before
#     deciding;
#   - GET /stacks/SLUG/icon: the SVG with its type and `Content-Security-Policy: sandbox`; 404 for a stack
#     without an icon and for an unknown one;
#   - in Chromium (tests/browser/page-watch.mjs): the approval card shows the icon, signer, permissions, images,
#     ports; Approve runs it; the run's row takes state, health and restarts from SSE "run", usage and
#     sparklines from SSE "usage"; alerts listed and arriving live show, and Dismiss removes one, without a
#     reload (the watcher's events and /alerts are the test's fixtures until their endpoints merge);
#   - the daemon's log lines are "TIME LEVEL message".
# Screenshots: build dir's page-shots/watch-*.png (test artifacts, not committed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
B=$STACK_SRC/tests/browser
for c in node npm certutil python3 curl; do
  command -v "$c" >/dev/null 2>&1 || die "$c is missing (run scripts/install-deps)"
done
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (run scripts/install-deps)"
export TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/stack-pagewatch.XXXXXX")
_E2E_CLEAN_PATHS+=("$TMPDIR")
new_home
new_tmpdir W
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
D=$(docker_cmd)
U=$$
SLUG=pw$U
TAG="stack-e2e/busybox-pw:$U"
SHOTS=${PAGE_SHOTS:-$(dirname "$S")/page-shots}
mkdir -p "$SHOTS"
SITE=https://site.pw.test

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

if [ ! -f "$B/node_modules/playwright-core/package.json" ]; then
  (cd "$B" && npm ci --no-audit --no-fund) >"$W/npm.log" 2>&1 || die "npm ci failed: $(tail -5 "$W/npm.log")"
fi

# --- a signed stack with an icon, permissions, ports, limits and an image archive ------------------------------
on_exit "$D ps -aq --filter label=io.stack.slug=$SLUG | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img" httpd sh
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/src/images"
"$D" save "$TAG" -o "$W/src/images/web.tar"
cat >"$W/src/icon.svg" <<'Y'
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><rect width="64" height="64" rx="12" fill="#2a9d8f"/><circle cx="32" cy="32" r="14" fill="#e9c46a"/></svg>
Y
cat >"$W/src/stack.yaml" <<Y
slug: $SLUG
name: Watched $SLUG
flavor: DockerCompose
version: "1.0"
description: the page-watch test's stack
author: tests
license: MIT
icon: icon.svg
images: [images/web.tar]
ports: [{service: web, port: 8080, label: Web page}]
resources: {memory: 256m, pids: 200}
permissions: {cap-add: true, host-bind: true}
Y
cat >"$W/src/compose.yaml" <<Y
services:
  web:
    image: $TAG
    command: ["sh", "-c", "echo 'hello from $SLUG' >/www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:$port:8080"]
Y
(cd "$W" && "$S" keygen pwkey >/dev/null)
FP=$("$S" trust add "$W/pwkey.pub" 2>&1 | grep -o 'sha256:[0-9a-f]\{16\}' | head -1 || true)
assert_exit 0 "$S" pack "$W/src" -o "$W/$SLUG.stack"
assert_exit 0 "$S" sign "$W/$SLUG.stack" --key "$W/pwkey.key"
assert_exit 0 "$S" import "$W/$SLUG.stack"

# a second stack, without an icon
mkdir -p "$W/plain"
sed -e "s/^slug: .*/slug: ${SLUG}b/" -e '/^icon:/d' -e '/^images:/d' "$W/src/stack.yaml" >"$W/plain/stack.yaml"
cp "$W/src/compose.yaml" "$W/plain/compose.yaml"
assert_exit 0 "$S" pack "$W/plain" -o "$W/${SLUG}b.stack"
assert_exit 0 "$S" import "$W/${SLUG}b.stack"

# --- the daemon ----------------------------------------------------------------------------------------------
LOG=$W/serve.log
"$S" serve --port 0 --origin "$SITE" 2>"$LOG" &
SERVE_PID=$!
on_exit "kill $SERVE_PID"
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG" 2>/dev/null || true)
  [ -n "$PORT" ] && break
  kill -0 $SERVE_PID 2>/dev/null || break
  sleep 0.1
done
[ -n "$PORT" ] || die "stack serve did not start: $(cat "$LOG")"
O=https://127.0.0.1:$PORT
CA=$STACK_HOME/keys/api-cert.pem
c() { curl -sS --max-time 20 --cacert "$CA" "$@"; }
T=$("$S" token)
post_run() { c -H "Origin: $SITE" -H 'Content-Type: application/json' -H 'Accept: application/json' -d "{\"slug\":\"$1\"}" "$O/run"; }

# --- GET /requests and stack deny: what approving would approve ------------------------------------------------
post_run "$SLUG" >"$W/post.json"
RID=$(jget "$W/post.json" 'd["id"]')
c -H "Authorization: Bearer $T" "$O/requests" >"$W/requests.json"
q='[r for r in d["requests"] if r["id"]=="'$RID'"][0]'
assert_eq True "$(jget "$W/requests.json" "$q['in_store']")" "the version is in the store"
assert_eq pwkey "$(jget "$W/requests.json" "$q['signer']")" "GET /requests: the signer's key name"
case "$(jget "$W/requests.json" "$q['fingerprint']")" in sha256:[0-9a-f]*) ;; *) die "fingerprint: $(cat "$W/requests.json")" ;; esac
[ -z "$FP" ] || assert_eq "$FP" "$(jget "$W/requests.json" "$q['fingerprint']")" "the fingerprint trust add said"
assert_eq "cap-add:False host-bind:False" "$(jget "$W/requests.json" "' '.join(p['name']+':'+str(p['granted']) for p in $q['permissions'])")" "permissions, none granted yet"
assert_eq "$TAG:True:bundle" "$(jget "$W/requests.json" "' '.join(i['ref']+':'+str(i['cached'])+':'+i['source'] for i in $q['images'])")" "the image archive, cached"
[ "$(jget "$W/requests.json" "$q['images'][0]['size']")" -gt 100000 ] || die "image size: $(cat "$W/requests.json")"
assert_eq "web:8080:Web page" "$(jget "$W/requests.json" "' '.join(p['service']+':'+str(p['port'])+':'+p['label'] for p in $q['ports'])")" "ports"
case "$(jget "$W/requests.json" "$q['addresses'][0]")" in "https://$SLUG.stack.localhost"*) ;; *) die "addresses: $(cat "$W/requests.json")" ;; esac
assert_eq "268435456 200" "$(jget "$W/requests.json" "str($q['limits']['memory'])+' '+str($q['limits']['pids'])")" "limits: stack.yaml lowers the person's"
[ "$(jget "$W/requests.json" "$q['size']")" -gt 0 ] || die "size: $(cat "$W/requests.json")"
assert_exit 0 "$S" deny "$RID"
for w in "signer:      pwkey (sha256:" "permissions: cap-add, host-bind" "$TAG" "cached" "web 8080 Web page" \
         "https://$SLUG.stack.localhost" "256.0 MiB memory, 200 processes" "denied request $RID"; do
  case "$LAST_STDOUT" in *"$w"*) ;; *) die "stack deny does not show '$w': $LAST_STDOUT" ;; esac
done

# --- the icon ------------------------------------------------------------------------------------------------
assert_eq 200 "$(c -H "Authorization: Bearer $T" -D "$W/icon.h" -o "$W/icon.svg" -w '%{http_code}' "$O/stacks/$SLUG/icon")" "GET the icon"
cmp -s "$W/icon.svg" "$W/src/icon.svg" || die "the icon is not the bundle's file"
grep -qi '^content-type: image/svg+xml' "$W/icon.h" || die "icon type: $(cat "$W/icon.h")"
grep -qi '^content-security-policy: sandbox' "$W/icon.h" || die "the SVG is not sandboxed: $(cat "$W/icon.h")"
assert_eq 404 "$(c -H "Authorization: Bearer $T" -o /dev/null -w '%{http_code}' "$O/stacks/${SLUG}b/icon")" "a stack without an icon"
assert_eq 404 "$(c -H "Authorization: Bearer $T" -o /dev/null -w '%{http_code}' "$O/stacks/nosuch$U/icon")" "an unknown stack"
assert_eq 401 "$(c -o /dev/null -w '%{http_code}' "$O/stacks/$SLUG/icon")" "the icon without a token or session"

# --- the browser ----------------------------------------------------------------------------------------------
mkdir -p "$W/home/.pki/nssdb"
certutil -N -d "sql:$W/home/.pki/nssdb" --empty-password
certutil -A -d "sql:$W/home/.pki/nssdb" -n stack-api -t 'P,,' -i "$CA"
"$S" run "$SLUG" --allow host-bind --offline >/dev/null 2>&1 || true # remembers the grant (the run itself may be refused)
"$S" rm "$SLUG" >/dev/null 2>&1 || true
REQ="curl -sS --max-time 150 --cacert '$CA' -H 'Origin: $SITE' -H 'Content-Type: application/json' -d '{\"slug\":\"$SLUG\"}' '$O/run' >'$W/run-stream.txt' 2>&1"
rc=0
HOME=$W/home TMPDIR=$W timeout 240 node "$B/page-watch.mjs" --origin "$O" --port "$PORT" --slug "$SLUG" \
  --request-cmd "$REQ" --shots "$SHOTS" >"$W/page.json" 2>"$W/page.err" || rc=$?
J=$W/page.json
[ "$rc" = 0 ] || die "page-watch.mjs exited $rc: $(cat "$J" "$W/page.err")"
assert_eq True "$(jget "$J" 'd["card"]["notReloaded"]')" "the request's card appeared without a reload"
assert_eq "/stacks/$SLUG/icon" "$(jget "$J" 'd["card"]["icon"]["src"]')" "the card's icon comes from the daemon"
[ "$(jget "$J" 'd["card"]["icon"]["width"]')" -gt 0 ] || die "the icon did not load: $(jget "$J" 'd["card"]')"
case "$(jget "$J" 'd["card"]["facts"]["Signed by"]')" in "pwkey sha256:"*) ;; *) die "card signer: $(jget "$J" 'd["card"]')" ;; esac
assert_eq "cap-addhost-bind ✓" "$(jget "$J" 'd["card"]["facts"]["Permissions"]')" "card permissions (host-bind granted by the run before)"
case "$(jget "$J" 'd["card"]["facts"]["Images"]')" in "$TAG"*MiB*cached*) ;; *) die "card images: $(jget "$J" 'd["card"]')" ;; esac
assert_eq "web 8080 (Web page)" "$(jget "$J" 'd["card"]["facts"]["Ports"]')" "card ports"
case "$(jget "$J" 'd["card"]["facts"]["Address"]')" in "https://$SLUG.stack.localhost"*) ;; *) die "card address: $(jget "$J" 'd["card"]')" ;; esac
case "$(jget "$J" 'd["card"]["facts"]["Limits"]')" in *"256.0 MiB memory, 200 processes per container"*) ;; *) die "card limits: $(jget "$J" 'd["card"]')" ;; esac
assert_eq "restarting unhealthy  2 restarts" "$(jget "$J" '" ".join([d["run"]["state"], d["run"]["health"], d["run"]["restarts"]])')" "the run's row from SSE run"
case "$(jget "$J" 'd["run"]["usage"]')" in *"14.0% CPU"*"31.0 MiB / 256.0 MiB"*) ;; *) die "usage: $(jget "$J" 'd["run"]')" ;; esac
# the 12 injected samples, and maybe one or two the daemon's own sampler sent for the real run meanwhile
assert_eq True "$(jget "$J" 'len(d["run"]["sparkPoints"]) == 2 and d["run"]["sparkPoints"][0] == d["run"]["sparkPoints"][1] and 12 <= d["run"]["sparkPoints"][0] <= 14')" \
  "two sparklines of the 12 injected samples (and at most 2 of the daemon's): $(jget "$J" 'd["run"]["sparkPoints"]')"
assert_eq 2 "$(jget "$J" 'd["alerts"]["count"]')" "an alert at load and one live"
assert_eq "['al0000000002']" "$(jget "$J" 'd["alerts"]["after"]')" "Dismiss removed the first"
assert_eq "[{'id': 'al0000000001', 'method': 'POST'}]" "$(jget "$J" 'd["dismissed"]')" "Dismiss posted"
assert_eq "True None" "$(jget "$J" 'str(d["notReloaded"])+" "+str(d["error"])')" "no reload, no error"
[ -n "$("$D" ps -q --filter label=io.stack.slug="$SLUG")" ] || die "approved: no container running"
# the daemon's log: "TIME LEVEL message"
grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z info request [0-9a-f]+ \(' "$LOG" || die "log line format: $(cat "$LOG")"
! grep -v '^stack serve: \|^[0-9-]*T[0-9:]*Z \(info\|warn\|error\) ' "$LOG" | grep -q . || die "a log line outside the sink: $(grep -v '^stack serve: \|Z \(info\|warn\|error\) ' "$LOG")"
info "ok (screenshots in $SHOTS/watch-*.png)"
