#!/usr/bin/env bash
# fetch.sh - `stack fetch` end to end, the paths that must work: newest version by semver, SLUG@VER, index
# revalidation (one 304, no .sig), no bundle request for a stored bundle, --json, a republished catalog,
# file:// catalogs, fetch URL and fetch FILE with their .sig, --insecure, offline resolution, and the
# transient faults that must be survived (reset mid-stream -> Range resume, 500 once -> retry, same-scheme
# redirect, a slow server). Served by tests/e2e/catalog_server.py.
# CTest runs it with STACK_BIN (the built binary) and STACK_SRC (the source dir).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
S=$STACK_BIN
unset STACK_CATALOG
[ -x "$S" ] || die "no stack binary at $S"
"$S" fetch --help >/dev/null 2>&1 || die "stack fetch is not built yet ($S fetch --help fails)"
command -v sqlite3 >/dev/null || die "sqlite3 is not installed"

# fetch_ok ARGS...: `stack fetch ARGS` exits 0 (bounded by a timeout); output in LAST_STDOUT/LAST_STDERR.
fetch_ok() { assert_exit 0 timeout 300 "$S" fetch "$@"; }
# expect_fetched SLUG VER: stdout is one line `fetched SLUG VER ...`.
expect_fetched() {
  case "$LAST_STDOUT" in *$'\n'*) die "fetch $1 $2: more than one line on stdout: [$LAST_STDOUT]" ;; esac
  case "$LAST_STDOUT" in "fetched $1 $2" | "fetched $1 $2 "*) ;; *) die "expected 'fetched $1 $2 ...', got [$LAST_STDOUT]" ;; esac
}
# expect_already: stdout is one line saying the bundle is already in the store.
expect_already() {
  case "$LAST_STDOUT" in *$'\n'*) die "${1:-}: more than one line on stdout: [$LAST_STDOUT]" ;; esac
  case "$LAST_STDOUT" in *"already in the store"*) ;; *) die "${1:-}: expected 'already in the store', got [$LAST_STDOUT]" ;; esac
}
# expect_requests N REGEX [WHAT]: the request log has exactly N lines matching REGEX.
expect_requests() {
  local got
  got=$(requests_matching "$2")
  [ "$got" == "$1" ] || die "${3:-requests}: expected $1 request(s) matching /$2/, got $got; log: $(requests)"
}
versions_count() { sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM versions'; }
# expect_signed SLUG VER: the version is recorded with a signer (sha256:...) and not insecure.
expect_signed() {
  local signer
  signer=$(ls_field "$1" "$2" signer)
  case "$signer" in *sha256:*) ;; *) die "$1 $2: signer should name a key fingerprint, got [$signer]" ;; esac
  assert_eq false "$(ls_field "$1" "$2" insecure)" "$1 $2 insecure"
}
expect_insecure() {
  assert_eq true "$(ls_field "$1" "$2" insecure)" "$1 $2 insecure"
  assert_eq null "$(ls_field "$1" "$2" signer)" "$1 $2 signer"
}
# expect_content SLUG VER BUNDLE: the stored version is the bundle's (recorded digest) and the fixture's files.
expect_content() {
  local co
  assert_eq "$(sha256sum "$3" | cut -d' ' -f1)" "$(ls_field "$1" "$2" bundle)" "$1 $2 bundle digest"
  new_tmpdir co
  assert_exit 0 "$S" checkout "$1@$2" "$co/tree"
  diff -r "$FIXTURES/$1-$2" "$co/tree" >/dev/null || die "$1 $2: checkout differs from the fixture"
}
fresh_trusting_home() { new_home; trust_key "$KEY"; }

new_tmpdir W
new_home
make_catalog "$W/cat"
KEY=$CATALOG_KEY
C=$W/cat
# Old mtimes, so a client revalidating with If-Modified-Since alone sees the later rebuild as modified.
touch -d '2024-01-01 UTC' "$C/index.json" "$C/index.json.sig"
start_catalog "$C"
URL=$CATALOG_URL
MAIN_LOG=$CATALOG_LOG

info "1. newest version by semver (1.10 > 1.2 > 1.0), signed by the trusted key"
fetch_ok demo --catalog "$URL"
expect_fetched demo 1.10
expect_requests 1 '^GET /index\.json 200$' "first fetch: index"
expect_requests 1 '^GET /index\.json\.sig 200$' "first fetch: index signature"
expect_requests 1 '^GET /demo-1\.10\.stack 200$' "first fetch: bundle"
expect_requests 0 '^GET /demo-1\.(0|2)\.stack' "first fetch: other bundles"
expect_signed demo 1.10
expect_content demo 1.10 "$C/demo-1.10.stack"
[ -n "$(find "$STACK_HOME/catalogs" -type f 2>/dev/null)" ] || die "nothing cached under \$STACK_HOME/catalogs"
assert_store_clean "first fetch"

info "2. unchanged index: one request answered 304, no .sig, no bundle request (STACK_CATALOG)"
n=$(versions_count)
clear_log
assert_exit 0 env STACK_CATALOG="$URL" timeout 300 "$S" fetch demo
expect_already "second fetch of demo"
expect_requests 1 '.' "second fetch: all requests"
expect_requests 1 '^GET /index\.json 304$' "second fetch: index revalidation"
assert_eq "$n" "$(versions_count)" "versions after a no-op fetch"

info "3. SLUG@VER"
clear_log
fetch_ok demo@1.2 --catalog "$URL"
expect_fetched demo 1.2
expect_requests 1 '^GET /index\.json 304$' "demo@1.2: index"
expect_requests 0 '^GET /index\.json\.sig' "demo@1.2: signature re-downloaded"
expect_requests 1 '^GET /demo-1\.2\.stack 200$' "demo@1.2: bundle"
expect_signed demo 1.2
expect_content demo 1.2 "$C/demo-1.2.stack"
fetch_ok demo@1.10 --catalog "$URL"
expect_already "demo@1.10 again"
expect_requests 0 '^GET /demo-1\.10\.stack' "demo@1.10 again: bundle requested"

info "4. --json: slug, version, tree, cached"
clear_log
fetch_ok demo@1.0 --catalog "$URL" --json
out=$LAST_STDOUT
assert_eq demo "$(json_field "$out" slug)" "json slug"
assert_eq 1.0 "$(json_field "$out" version)" "json version"
assert_eq false "$(json_field "$out" cached)" "json cached (first)"
tree=$(json_field "$out" tree)
assert_eq "$(json_field "$("$S" show demo@1.0 --json)" tree)" "$tree" "json tree vs stack show"
fetch_ok demo@1.0 --catalog "$URL" --json
assert_eq true "$(json_field "$LAST_STDOUT" cached)" "json cached (second)"
assert_eq "$tree" "$(json_field "$LAST_STDOUT" tree)" "json tree (second)"
assert_eq 1.0 "$(json_field "$LAST_STDOUT" version)" "json version (second)"
expect_requests 1 '^GET /demo-1\.0\.stack' "demo@1.0 twice: bundle requests"

info "5. another stack, --quiet"
fetch_ok other --catalog "$URL" --quiet
assert_eq 2.0 "$(ls_field other 2.0 version)" "other 2.0 stored"
expect_signed other 2.0

info "6. a republished catalog (new version 1.11) is downloaded again, with its signature"
make_fixture "$FIXTURES/demo-1.11" demo 1.11
run_ok "pack demo 1.11" "$S" pack "$FIXTURES/demo-1.11" -o "$C/demo-1.11.stack"
run_ok "catalog rebuild" "$S" catalog build "$C" --key "$KEY.key"
sign_file "$C/demo-1.11.stack" "$KEY"
clear_log
fetch_ok demo --catalog "$URL"
expect_fetched demo 1.11
expect_requests 1 '^GET /index\.json 200$' "republished: index"
expect_requests 1 '^GET /index\.json\.sig 200$' "republished: signature"
expect_requests 1 '^GET /demo-1\.11\.stack 200$' "republished: bundle"
expect_content demo 1.11 "$C/demo-1.11.stack"
assert_store_clean "after the catalog fetches"

info "7. file:// catalog (--catalog and STACK_CATALOG)"
fresh_trusting_home
clear_log
fetch_ok demo --catalog "file://$C"
expect_fetched demo 1.11
expect_signed demo 1.11
fetch_ok demo --catalog "file://$C"
expect_already "file:// second fetch"
assert_exit 0 env STACK_CATALOG="file://$C" timeout 300 "$S" fetch demo@1.2
expect_fetched demo 1.2
expect_content demo 1.2 "$C/demo-1.2.stack"
expect_requests 0 '.' "file:// catalog: HTTP requests"
assert_store_clean "file:// catalog"

info "8. fetch URL with URL.sig beside it"
fresh_trusting_home
clear_log
fetch_ok "$URL/demo-1.0.stack"
expect_fetched demo 1.0
expect_signed demo 1.0
expect_content demo 1.0 "$C/demo-1.0.stack"
expect_requests 1 '^GET /demo-1\.0\.stack\.sig 200$' "fetch URL: signature"
expect_requests 1 '^GET /demo-1\.0\.stack 200$' "fetch URL: bundle"
n=$(versions_count)
fetch_ok "$URL/demo-1.0.stack"
expect_already "fetch URL again"
assert_eq "$n" "$(versions_count)" "versions after fetching a URL twice"

info "9. fetch FILE with FILE.sig beside it (absolute and relative paths)"
fetch_ok "$C/demo-1.2.stack"
expect_fetched demo 1.2
expect_signed demo 1.2
cd "$C"
fetch_ok ./other-2.0.stack
cd - >/dev/null
expect_fetched other 2.0
expect_signed other 2.0
expect_content other 2.0 "$C/other-2.0.stack"
assert_store_clean "fetch URL / FILE"

info "10. --insecure: missing .sig, untrusted signer, unsigned catalog -> recorded insecure"
mkdir -p "$W/nosig"
cp "$C/demo-1.10.stack" "$W/nosig/"
fetch_ok "$W/nosig/demo-1.10.stack" --insecure
expect_fetched demo 1.10
expect_insecure demo 1.10
expect_content demo 1.10 "$C/demo-1.10.stack"
new_home # trusts nothing
fetch_ok "$URL/demo-1.2.stack" --insecure
expect_fetched demo 1.2
expect_insecure demo 1.2
copy_catalog "$C" "$W/cat-unsigned"
rm "$W/cat-unsigned/index.json.sig"
fetch_ok other --catalog "file://$W/cat-unsigned" --insecure
expect_fetched other 2.0
expect_insecure other 2.0
assert_store_clean "--insecure"

info "11. offline: a stored stack resolves to its newest stored version; an unstored one exits 6"
fresh_trusting_home
start_catalog "$C"
OFF_URL=$CATALOG_URL
fetch_ok demo@1.0 --catalog "$OFF_URL"
fetch_ok demo@1.2 --catalog "$OFF_URL"
stop_catalog
n=$(versions_count)
fetch_ok demo --catalog "$OFF_URL"
printf '%s\n' "$LAST_STDOUT" | grep -qE '(^|[^0-9.])1\.2([^0-9.]|$)' || die "offline fetch: stdout does not name 1.2: [$LAST_STDOUT]"
printf '%s\n' "$LAST_STDOUT" | grep -qE '1\.1[01]' && die "offline fetch: resolved to a version not in the store: [$LAST_STDOUT]"
case "$LAST_STDERR" in *$'\n'*) die "offline fetch: more than one stderr line: [$LAST_STDERR]" ;; esac
[ -z "$LAST_STDERR" ] || printf '%s\n' "$LAST_STDERR" | grep -qi 'reach' ||
  die "offline fetch: stderr should at most warn that the catalog could not be reached: [$LAST_STDERR]"
assert_eq "$n" "$(versions_count)" "versions after an offline fetch"
assert_fetch_fails 6 'could not be reached' other --catalog "$OFF_URL"
new_home
assert_fetch_fails 6 'could not be reached' demo --catalog "$OFF_URL"

info "12. reset mid-stream once: resumed with a Range request (fetch URL, and a catalog of /resetonce/ URLs)"
fresh_trusting_home
CATALOG_LOG=$MAIN_LOG
clear_log
fetch_ok "$URL/resetonce/demo-1.0.stack"
expect_fetched demo 1.0
expect_signed demo 1.0
expect_content demo 1.0 "$C/demo-1.0.stack"
[ "$(requests_matching '^GET /resetonce/demo-1\.0\.stack 206$')" -ge 1 ] || die "no Range resume (206) logged: $(requests)"
assert_store_clean "resetonce URL"
copy_catalog "$C" "$W/cat-resume"
index_edit "$W/cat-resume" 'for s in ix["stacks"]:
    for v in s["versions"]: v["url"] = "resetonce/" + v["url"]'
sign_file "$W/cat-resume/index.json" "$KEY"
start_catalog "$W/cat-resume"
fresh_trusting_home
fetch_ok demo --catalog "$CATALOG_URL"
expect_fetched demo 1.11
expect_content demo 1.11 "$C/demo-1.11.stack"
[ "$(requests_matching '^GET /resetonce/demo-1\.11\.stack 206$')" -ge 1 ] || die "no Range resume (206) logged: $(requests)"
assert_store_clean "resetonce catalog"
stop_catalog

info "12b. reset once, then a server that ignores Range (200, whole body): the start is dropped, not ingested twice"
fresh_trusting_home
CATALOG_LOG=$MAIN_LOG
clear_log
fetch_ok "$URL/resetnorange/demo-1.0.stack"
expect_fetched demo 1.0
expect_content demo 1.0 "$C/demo-1.0.stack"
[ "$(requests_matching '^GET /resetnorange/demo-1\.0\.stack 200$')" -ge 2 ] || die "no second full (200) request logged: $(requests)"
assert_store_clean "resetnorange URL"

info "13. 500 once: retried (fetch URL, and a catalog whose every file fails once)"
CATALOG_LOG=$MAIN_LOG
fresh_trusting_home
clear_log
fetch_ok "$URL/flaky500/demo-1.2.stack"
expect_fetched demo 1.2
expect_signed demo 1.2
expect_requests 1 '^GET /flaky500/demo-1\.2\.stack 500$' "flaky bundle: 500"
expect_requests 1 '^GET /flaky500/demo-1\.2\.stack 200$' "flaky bundle: retried"
fetch_ok other --catalog "$URL/flaky500"
expect_fetched other 2.0
expect_requests 1 '^GET /flaky500/index\.json 500$' "flaky index: 500"
expect_requests 1 '^GET /flaky500/index\.json 200$' "flaky index: retried"
expect_content other 2.0 "$C/other-2.0.stack"
assert_store_clean "flaky500"

info "14. same-scheme redirect is followed (fetch URL and catalog)"
fresh_trusting_home
clear_log
fetch_ok "$URL/redirect-same/demo-1.2.stack"
expect_fetched demo 1.2
expect_signed demo 1.2
[ "$(requests_matching '^GET /redirect-same/demo-1\.2\.stack 302$')" -ge 1 ] || die "redirect not logged: $(requests)"
fetch_ok other --catalog "$URL/redirect-same"
expect_fetched other 2.0
expect_signed other 2.0

info "15. a slow server"
fetch_ok demo@1.0 --catalog "$URL/slow"
expect_fetched demo 1.0
expect_content demo 1.0 "$C/demo-1.0.stack"
assert_store_clean "slow"

info "16. a bundle larger than the stream's 1 MiB buffer over file:// (curl's file handler cannot pause)"
new_tmpdir BIGCAT
make_fixture "$FIXTURES/big-1.0" big 1.0
head -c $((5 * 1024 * 1024)) /dev/urandom >"$FIXTURES/big-1.0/blob.bin"
run_ok "pack big" "$S" pack "$FIXTURES/big-1.0" -o "$BIGCAT/big-1.0.stack"
run_ok "catalog build big" "$S" catalog build "$BIGCAT" --key "$KEY.key"
fresh_trusting_home
fetch_ok big --catalog "file://$BIGCAT"
expect_fetched big 1.0
expect_content big 1.0 "$BIGCAT/big-1.0.stack"
assert_store_clean "big file:// bundle"

info "17. https: a private catalog's CA is refused by default (exit 6) and trusted with STACK_CA_FILE"
new_tmpdir TLS
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
start_catalog "$C" "$TLS/cert.pem" "$TLS/key.pem"
case "$CATALOG_URL" in https://*) ;; *) die "TLS catalog URL: $CATALOG_URL" ;; esac
fresh_trusting_home
assert_fetch_fails 6 'certificate' demo@1.0 --catalog "$CATALOG_URL"
STACK_CA_FILE="$TLS/cert.pem" fetch_ok demo@1.0 --catalog "$CATALOG_URL"
expect_fetched demo 1.0
assert_store_clean "https catalog"
stop_catalog

info "all fetch cases passed"
