#!/usr/bin/env bash
# The page of stack serve (spec/api.md "The page") in a real Chromium (playwright-core from npm, Debian's
# /usr/bin/chromium; tests/browser/page.mjs) against the real daemon and the real Docker Engine:
#   - the link from `stack open --print` logs the browser in (session cookie: Secure, HttpOnly, SameSite=Strict);
#   - a run asked for over the API (POST /run without a token, from an allowed origin: it waits) appears in the
#     page by itself; Approve (keyboard) makes it run on the Engine, and the page shows "running" without a
#     reload (DOM text, docker ps, stack ps);
#   - the link a second time: a page that says it was used (410); an expired link: a page that says so (410);
#   - a browser context without the session, and one with a forged cookie: only how to log in, and 401 from the
#     JSON endpoints;
#   - the session cookie with another Origin (an allowed CORS origin, a foreign one, none) cannot approve: 403,
#     the request stays pending and nothing starts; with the page's own Origin it can (deny, as the control);
#   - the page's endpoints with a Bearer token, as a script calls them: /requests, /gc, logs, stop, start, DELETE.
#   - snapshots: one taken with `stack snapshot` appears in the page by itself, "Take snapshot" (keyboard) adds
#     a second; GET /snapshots with a token is what `stack snapshots --json` says; POST /stacks/SLUG/snapshot
#     with the cookie from another Origin is 403 and adds none; an unknown slug: [] and 404.
# Screenshots of each view at laptop and phone width: build dir's page-shots/ (test artifacts, not committed).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
B=$STACK_SRC/tests/browser
for c in node npm certutil python3 curl; do
  command -v "$c" >/dev/null 2>&1 || die "$c is missing (run scripts/install-deps)"
done
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (run scripts/install-deps)"
# Temp dirs under a parent of this test's own (nothing that sweeps /tmp/stack-e2e.* elsewhere reaches them).
export TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/stack-page.XXXXXX")
_E2E_CLEAN_PATHS+=("$TMPDIR")
new_home
new_tmpdir W
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
D=$(docker_cmd)
U=$$
SLUG=pg$U
TAG="stack-e2e/busybox-page:$U"
SHOTS=${PAGE_SHOTS:-$(dirname "$S")/page-shots}
mkdir -p "$SHOTS"
SITE=https://site.pg.test # an allowed CORS origin (the catalog website's role)

jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

if [ ! -f "$B/node_modules/playwright-core/package.json" ]; then
  info "npm ci in tests/browser (playwright-core)"
  (cd "$B" && npm ci --no-audit --no-fund) >"$W/npm.log" 2>&1 || die "npm ci failed: $(tail -5 "$W/npm.log")"
fi

# --- a stack in the store: busybox httpd on a published loopback port -----------------------------------------
on_exit "$D ps -aq --filter label=io.stack.slug=$SLUG | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
build_busybox_image "$TAG" "$W/img" httpd sh
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/src"
cat >"$W/src/stack.yaml" <<Y
slug: $SLUG
name: Page test $SLUG
flavor: DockerCompose
version: "1.0"
description: the page test's stack
author: tests
license: MIT
ports: [{service: web, port: 8080, label: Web page}]
Y
cat >"$W/src/compose.yaml" <<Y
services:
  web:
    image: $TAG
    command: ["sh", "-c", "echo 'hello from $SLUG' >/www/index.html && echo page-test-log-line && exec httpd -f -vv -p 8080 -h /www"]
    ports: ["127.0.0.1:$port:8080"]
Y
assert_exit 0 "$S" pack "$W/src" -o "$W/$SLUG.stack"
assert_exit 0 "$S" import "$W/$SLUG.stack"

# --- the daemon ----------------------------------------------------------------------------------------------
LOG=$W/serve.log
"$S" serve --port 0 --origin "$SITE" 2>"$LOG" &
on_exit "kill $!"
SERVE_PID=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG" 2>/dev/null || true) # the log may not exist yet
  [ -n "$PORT" ] && break
  kill -0 $SERVE_PID 2>/dev/null || break
  sleep 0.1
done
[ -n "$PORT" ] || die "stack serve did not start: $(cat "$LOG")"
O=https://127.0.0.1:$PORT
CA=$STACK_HOME/keys/api-cert.pem
c() { curl -sS --max-time 20 --cacert "$CA" "$@"; }
tok() { "$S" token; }

# Chromium's HOME: an NSS db that trusts the daemon's certificate (no certificate error is ignored).
mkdir -p "$W/home/.pki/nssdb"
certutil -N -d "sql:$W/home/.pki/nssdb" --empty-password
certutil -A -d "sql:$W/home/.pki/nssdb" -n stack-api -t 'P,,' -i "$CA"

# --- without a session: / says how to log in, the JSON endpoints say 401 ---------------------------------------
assert_eq 200 "$(c -o "$W/anon.html" -w '%{http_code}' "$O/")" "GET / without a session"
grep -q 'stack open' "$W/anon.html" || die "/ without a session does not say how to log in: $(cat "$W/anon.html")"
! grep -q 'runs-body' "$W/anon.html" || die "/ without a session serves the app"
assert_eq 401 "$(c -o /dev/null -w '%{http_code}' "$O/requests")" "GET /requests without a session"

# --- the browser ----------------------------------------------------------------------------------------------
assert_exit 0 "$S" open --print --port "$PORT"
case "$LAST_STDOUT" in "$O/login?t="[0-9a-f]*) ;; *) die "stack open --print: $LAST_STDOUT" ;; esac
REQ="curl -sS --max-time 150 --cacert '$CA' -H 'Origin: $SITE' -H 'Content-Type: application/json' -d '{\"slug\":\"$SLUG\"}' '$O/run' >'$W/run-stream.txt' 2>&1"
info "browser: log in, see the request, approve it"
rc=0
HOME=$W/home TMPDIR=$W timeout 300 node "$B/page.mjs" --origin "$O" --port "$PORT" --slug "$SLUG" \
  --request-cmd "$REQ" --shots "$SHOTS" --stack-url "http://127.0.0.1:$port" >"$W/page.json" 2>"$W/page.err" || rc=$?
J=$W/page.json
[ "$rc" = 0 ] || die "page.mjs exited $rc: $(cat "$J" "$W/page.err")"

assert_eq "$O/" "$(jget "$J" 'd["login"]["url"]')" "the login link lands on /"
assert_eq "True True True" "$(jget "$J" '" ".join(str(c[k]) for c in d["cookies"] if c["name"]=="stack_session" for k in ("secure","httpOnly")) + " " + str(any(c["sameSite"]=="Strict" for c in d["cookies"]))')" "session cookie Secure HttpOnly SameSite=Strict"
case "$(jget "$J" 'd["pending"]["text"]')" in *"$SLUG@1.0"*"a website: $SITE"*Approve*Deny*) ;;
*) die "pending request in the page: $(jget "$J" 'd["pending"]')" ;; esac
assert_eq True "$(jget "$J" 'd["pending"]["notReloaded"]')" "the request appeared without a reload"
assert_eq True "$(jget "$J" 'd["running"]["notReloaded"]')" "running shown without a reload"
case "$(jget "$J" 'd["running"]["row"]')" in *"$SLUG"*"1.0"*running*"127.0.0.1:$port->8080/tcp"*) ;;
*) die "the run's row: $(jget "$J" 'd["running"]')" ;; esac
assert_eq 0 "$(jget "$J" 'd["running"]["requestsLeft"]')" "no request waits after Approve"
for _ in $(seq 1 50); do grep -q '^running: ' "$W/run-stream.txt" && break; sleep 0.2; done
assert_eq "$(sed -n 's/^running: //p' "$W/run-stream.txt")" "$(jget "$J" 'd["running"]["address"]')" "the run's address link (the stream's last line)"
case "$(jget "$J" 'd["running"]["stacks"]')" in *"Page test $SLUG"*1.0*unsigned*) ;; *) die "stacks view: $(jget "$J" 'd["running"]["stacks"]')" ;; esac
case "$(jget "$J" 'd["logs"]')" in *page-test-log-line*) ;; *) die "logs view: $(jget "$J" 'd["logs"]')" ;; esac
assert_eq True "$(jget "$J" 'd["followed"]')" "the logs view follows (a new line arrived by itself)"
case "$(jget "$J" 'd["gc"]')" in *"Kept: 1 version"*) ;; *) die "gc view: $(jget "$J" 'd["gc"]')" ;; esac
[ -n "$("$D" ps -q --filter label=io.stack.slug="$SLUG")" ] || die "approved: no container running"
assert_exit 0 "$S" ps
case "$LAST_STDOUT" in *"$SLUG"*running*) ;; *) die "stack ps after Approve: $LAST_STDOUT" ;; esac
assert_eq "hello from $SLUG" "$(curl -s --max-time 5 "http://127.0.0.1:$port/")" "the running stack answers"
grep -q "approved through the API" <(sqlite3 -readonly "$STACK_HOME/index.db" "select reason from api_requests") \
  || die "the request's reason does not say the API approved it"

# the link twice: refused, with a page saying so
assert_eq 410 "$(jget "$J" 'd["reused"]["status"]')" "the link a second time"
assert_eq "This login link was used already" "$(jget "$J" 'd["reused"]["heading"]')" "the reused link's page"
# without the session, with a forged one: how to log in, nothing else
for ctx in fresh forged; do
  assert_eq "True False" "$(jget "$J" "str(d['$ctx']['loginNeeded']) + ' ' + str(d['$ctx']['hasApp'])")" "$ctx context: only how to log in"
  assert_eq "401 401" "$(jget "$J" "str(d['$ctx']['fetch']['runs']['status']) + ' ' + str(d['$ctx']['fetch']['stacks']['status'])")" "$ctx context: /runs and /stacks"
  case "$(jget "$J" "d['$ctx']['text'] + d['$ctx']['fetch']['stacks']['body']")" in *"$SLUG"*) die "$ctx context sees the stack" ;; esac
done

# an expired link: a page that says so
T=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
H=$(printf %s "$T" | sha256sum | cut -d' ' -f1)
printf '1\n' >"$STACK_HOME/keys/login/$H"
assert_eq 410 "$(c -o "$W/expired.html" -w '%{http_code}' "$O/login?t=$T")" "an expired link"
grep -q '<h1>This login link has expired</h1>' "$W/expired.html" || die "expired link page: $(cat "$W/expired.html")"
assert_eq 401 "$(c -o "$W/bad.html" -w '%{http_code}' "$O/login?t=$(python3 -c 'import secrets; print(secrets.token_hex(32))')")" "an unknown link"
grep -q 'not valid' "$W/bad.html" || die "unknown link page: $(cat "$W/bad.html")"

# --- cross-origin with the cookie: refused, nothing happens -------------------------------------------------------
COOKIE=$(jget "$J" '[c["value"] for c in d["cookies"] if c["name"]=="stack_session"][0]')
assert_eq 200 "$(c -o /dev/null -w '%{http_code}' -b "stack_session=$COOKIE" "$O/requests")" "the session cookie reads"
c -H "Authorization: Bearer $(tok)" -H 'Accept: application/json' -H 'Content-Type: application/json' \
  -d "{\"slug\":\"$SLUG\"}" "$O/run" >"$W/req2.json"
ID2=$(jget "$W/req2.json" 'd["id"]')
assert_eq pending "$(jget "$W/req2.json" 'd["state"]')" "second request"
containers_before=$("$D" ps -aq --filter label=io.stack.slug="$SLUG" | sort | tr '\n' ' ')
for origin in "$SITE" "http://127.0.0.1:9" ""; do
  st=$(c -o "$W/x.json" -w '%{http_code}' -X POST -b "stack_session=$COOKIE" ${origin:+-H "Origin: $origin"} "$O/requests/$ID2/approve")
  assert_eq 403 "$st" "approve with the cookie from origin [$origin]"
done
sleep 1
c -H "Authorization: Bearer $(tok)" "$O/runs/$ID2" >"$W/req2-after.json"
assert_eq "pending None" "$(jget "$W/req2-after.json" 'd["request"]["state"] + " " + str(d["run"])')" "the request after cross-origin approves"
assert_eq "$containers_before" "$("$D" ps -aq --filter label=io.stack.slug="$SLUG" | sort | tr '\n' ' ')" "containers after cross-origin approves"
! grep -q "request $ID2 .* through the API" "$LOG" || die "the daemon acted on a cross-origin approve"
# the control: the page's own Origin with the cookie decides
assert_eq 200 "$(c -o "$W/deny.json" -w '%{http_code}' -X POST -b "stack_session=$COOKIE" -H "Origin: $O" \
  -H 'Content-Type: application/json' -d '{"reason":"not now"}' "$O/requests/$ID2/deny")" "deny from the page's origin"
assert_eq "denied not now" "$(jget "$W/deny.json" 'd["state"] + " " + d["reason"]')" "denied request"
assert_eq 409 "$(c -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $(tok)" "$O/requests/$ID2/approve")" "approve after deny"

# --- snapshots: the CLI's one shown by itself, the button's one; the API as a script calls it ----------------------
assert_eq "True True 1 2 False" "$(jget "$J" 'str(d["snapCli"]["notReloaded"]) + " " + str(d["snapTaken"]["notReloaded"]) + " " + str(len(d["snapCli"]["rows"])) + " " + str(len(d["snapTaken"]["rows"])) + " " + str(d["snapTaken"]["error"])')" "snapshots in the page: the CLI's, then the button's, no reload, no error"
SNAP1=$(jget "$J" 'd["snapCli"]["rows"][0]')
SNAP2=$(jget "$J" 'd["snapTaken"]["rows"][0]')
assert_eq "$SNAP1" "$(jget "$J" 'd["snapTaken"]["rows"][1]')" "the CLI's snapshot listed second (newest first)"
assert_eq "Take a snapshot of $SLUG" "$(jget "$J" 'd["snapButton"]["label"]')" "the Take snapshot button's label"
case "$(jget "$J" 'd["snapTaken"]["texts"][0]')" in *"$SLUG"*1.0*manual*"1 file"*none*"$SNAP2"*) ;;
*) die "the button's snapshot in the page: $(jget "$J" 'd["snapTaken"]')" ;; esac
case "$(jget "$J" 'd["snapTaken"]["status"]')" in "Snapshot $SNAP2 of $SLUG taken"*) ;;
*) die "the page's status after Take snapshot: $(jget "$J" 'd["snapTaken"]["status"]')" ;; esac
assert_eq 2 "$(jget "$J" 'd["snapTaken"]["count"]')" "the Snapshots count in the nav"
c -H "Authorization: Bearer $(tok)" "$O/snapshots?slug=$SLUG" >"$W/snaps.json"
assert_exit 0 "$S" snapshots "$SLUG" --json
printf '%s\n' "$LAST_STDOUT" >"$W/snaps-cli.json"
assert_eq True "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshots"] == json.load(open(sys.argv[2])))' "$W/snaps.json" "$W/snaps-cli.json")" "GET /snapshots?slug= is stack snapshots --json"
assert_eq "$SNAP2 $SNAP1|manual manual|1 1" "$(jget "$W/snaps.json" '" ".join(x["id"] for x in d["snapshots"]) + "|" + " ".join(x["reason"] for x in d["snapshots"]) + "|" + " ".join(str(x["files"]) for x in d["snapshots"])')" "GET /snapshots: both, newest first, with the data dir's file"
assert_eq '{"snapshots":[]}' "$(c -H "Authorization: Bearer $(tok)" "$O/snapshots?slug=nosuch$U")" "GET /snapshots for an unknown slug"
assert_eq 401 "$(c -o /dev/null -w '%{http_code}' "$O/snapshots")" "GET /snapshots without a token or session"
for origin in "$SITE" "http://127.0.0.1:9" ""; do
  st=$(c -o "$W/x.json" -w '%{http_code}' -X POST -b "stack_session=$COOKIE" ${origin:+-H "Origin: $origin"} "$O/stacks/$SLUG/snapshot")
  assert_eq 403 "$st" "POST /stacks/SLUG/snapshot with the cookie from origin [$origin]"
done
assert_eq 404 "$(c -o "$W/x.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(tok)" "$O/stacks/nosuch$U/snapshot")" "POST /stacks/UNKNOWN/snapshot"
assert_eq 2 "$(sqlite3 -readonly "$STACK_HOME/index.db" "select count(*) from snapshots where slug='$SLUG'")" "snapshots after the refused POSTs"
assert_eq 1 "$(grep -c "snapshot .* of $SLUG taken through the API" "$LOG")" "the daemon took one snapshot (the button's)"
assert_eq 200 "$(c -o "$W/snap3.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(tok)" "$O/stacks/$SLUG/snapshot")" "POST /stacks/SLUG/snapshot with a token"
assert_eq "$SLUG 1.0 manual 1" "$(jget "$W/snap3.json" 'd["slug"] + " " + d["version"] + " " + d["reason"] + " " + str(d["files"])')" "the snapshot POST answered"
assert_eq "$(jget "$W/snap3.json" 'd["id"]')" "$(c -H "Authorization: Bearer $(tok)" "$O/snapshots" | python3 -c "import json,sys; print([x['id'] for x in json.load(sys.stdin)['snapshots'] if x['slug']=='$SLUG'][0])")" "GET /snapshots lists the token's snapshot first"

# --- the same endpoints with a token, as a script calls them ---------------------------------------------------
RUN=$(c -H "Authorization: Bearer $(tok)" "$O/runs" | python3 -c "import json,sys; print([r['id'] for r in json.load(sys.stdin)['runs'] if r['slug']=='$SLUG'][0])")
assert_eq '{"requests":[]}' "$(c -H "Authorization: Bearer $(tok)" "$O/requests")" "GET /requests with a token"
c -H "Authorization: Bearer $(tok)" "$O/gc" >"$W/gc.json"
assert_eq "True 1 0" "$(jget "$W/gc.json" 'str(d["dry_run"]) + " " + str(d["roots"]["kept_versions"]) + " " + str(d["would_remove"]["versions"])')" "GET /gc"
c -H "Authorization: Bearer $(tok)" "$O/runs/$RUN/logs" | grep -q page-test-log-line || die "GET /runs/ID/logs"
# ?follow=1 streams: a line logged after the stream began arrives; the client going away ends the tool
curl -sS -N --cacert "$CA" -H "Authorization: Bearer $(tok)" "$O/runs/$RUN/logs?follow=1" >"$W/follow.txt" 2>&1 &
FOLLOW=$!
for _ in $(seq 1 100); do grep -qs page-test-log-line "$W/follow.txt" && break; sleep 0.1; done
curl -s --max-time 5 "http://127.0.0.1:$port/after-follow-$U" >/dev/null || true
for _ in $(seq 1 100); do grep -q "after-follow-$U" "$W/follow.txt" && break; sleep 0.1; done
grep -q "after-follow-$U" "$W/follow.txt" || die "logs?follow=1: the new line did not arrive: $(cat "$W/follow.txt")"
kill $FOLLOW; wait $FOLLOW 2>/dev/null || true
for _ in $(seq 1 50); do pgrep -f "docker-compose -p stack-$SLUG .*logs" >/dev/null || break; sleep 0.1; done
! pgrep -af "docker-compose -p stack-$SLUG .*logs" || die "logs?follow=1: the compose tool still runs after the client left: $(grep logs "$LOG")"
assert_eq stopped "$(c -X POST -H "Authorization: Bearer $(tok)" "$O/runs/$RUN/stop" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" "stop"
[ -z "$("$D" ps -q --filter label=io.stack.slug="$SLUG")" ] || die "stop: containers still run"
assert_eq 202 "$(c -o "$W/start.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $(tok)" "$O/runs/$RUN/start")" "start"
st=
for _ in $(seq 1 120); do
  st=$(c -H "Authorization: Bearer $(tok)" "$O/runs/$RUN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
  [ "$st" = running ] && break
  sleep 0.5
done
assert_eq running "$st" "the run after POST /runs/ID/start"
assert_eq "hello from $SLUG" "$(curl -s --max-time 5 "http://127.0.0.1:$port/")" "the restarted stack answers"
assert_eq 403 "$(c -o /dev/null -w '%{http_code}' -X DELETE -b "stack_session=$COOKIE" -H "Origin: $SITE" "$O/runs/$RUN")" "DELETE with the cookie from another origin"
assert_eq 200 "$(c -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $(tok)" "$O/runs/$RUN")" "DELETE /runs/ID"
assert_eq 404 "$(c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(tok)" "$O/runs/$RUN")" "the run after DELETE"
[ -z "$("$D" ps -aq --filter label=io.stack.slug="$SLUG")" ] || die "DELETE: containers left"
grep -q "running: " "$W/run-stream.txt" || die "the first POST /run stream did not end running: $(cat "$W/run-stream.txt")"
info "page ok (screenshots: $SHOTS)"
