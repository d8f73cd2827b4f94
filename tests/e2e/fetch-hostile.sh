#!/usr/bin/env bash
# fetch-hostile.sh - `stack fetch` refuses bad input: unsigned, wrongly signed or untrusted indexes and bundles,
# an index lying about a bundle's digest or size, a tampered bundle, a server sending too much, a non-JSON or
# wrong-schema index, redirects to another scheme (exit 3); an unreachable catalog, 404, 500 and a reset on
# every attempt (exit 6); an unknown slug or version (exit 1); bad usage (exit 2); a .sig beside an imported or
# fetched file that is garbage of any size or cannot be read (exit 3); a STACK_HOME so long that the catalog
# cache cannot be named (exit 4). Every failure prints one
# line on stderr starting "stack: " and leaves the store as it was (versions, objects, tmp/, stack verify).
# CTest runs it with STACK_BIN (the built binary) and STACK_SRC (the source dir).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
S=$STACK_BIN
unset STACK_CATALOG
[ -x "$S" ] || die "no stack binary at $S"
"$S" fetch --help >/dev/null 2>&1 || die "stack fetch is not built yet ($S fetch --help fails)"
command -v sqlite3 >/dev/null || die "sqlite3 is not installed"

SIG='sig'                                   # "signature", "index.json.sig", "unsigned"
BADSIG='signature|trust'                    # "does not verify against any trusted key"
DIGEST='sha256|digest|checksum|hash'
SIZE='size|bytes|large|long|short|more'
NET_RESET='reset|connection|recv|receiv|transfer|partial|network|could not be reached|resume'

new_tmpdir W
new_home
make_catalog "$W/good"
KEY=$CATALOG_KEY
G=$W/good
run_ok "keygen rogue" "$S" keygen "$W/rogue" # a second publisher key, never trusted
start_catalog "$G"
GOOD=$CATALOG_URL
GOOD_LOG=$CATALOG_LOG

# variant NAME PYTHON|- [resign|rogue|keep]: $W/NAME, a copy of the good catalog whose index.json is edited by
# PYTHON (see index_edit; "-" leaves it), then re-signed with the trusted key (resign, the default), with the
# untrusted key (rogue), or left with the old signature (keep).
variant() {
  local d=$W/$1
  copy_catalog "$G" "$d"
  [ "$2" == - ] || index_edit "$d" "$2"
  case "${3:-resign}" in
    resign) sign_file "$d/index.json" "$KEY" ;;
    rogue) sign_file "$d/index.json" "$W/rogue" ;;
    keep) ;;
    *) die "variant: bad mode $3" ;;
  esac
}
# serve NAME: serve $W/NAME on its own server (the catalog at its root, so relative bundle URLs such as
# "endless/demo-1.2.stack" reach the server's fault prefixes); sets VURL.
serve() {
  start_catalog "$W/$1"
  VURL=$CATALOG_URL
}

# The store holds a version before the hostile fetches start, so "unchanged" is not just "empty".
assert_exit 0 timeout 300 "$S" fetch demo@1.0 --catalog "$GOOD"
case "$LAST_STDOUT" in "fetched demo 1.0"*) ;; *) die "setup fetch: [$LAST_STDOUT]" ;; esac

info "usage (exit 2)"
before=$(store_snapshot)
assert_exit 2 "$S" fetch
assert_exit 2 "$S" fetch --no-such-option demo --catalog "$GOOD"
assert_exit 2 "$S" fetch demo other --catalog "$GOOD"
assert_eq "$before" "$(store_snapshot)" "store after usage errors"

info "unknown slug / version (exit 1)"
assert_fetch_fails 1 'nosuchstack' nosuchstack --catalog "$GOOD"
assert_fetch_fails 1 '9\.9' demo@9.9 --catalog "$GOOD"
assert_fetch_fails 1 'nosuchstack' nosuchstack --catalog "file://$G"

info "unsigned index (exit 3): http and file://"
variant unsigned - keep
rm "$W/unsigned/index.json.sig"
serve unsigned
assert_fetch_fails 3 "$SIG" demo@1.2 --catalog "$VURL"
assert_fetch_fails 3 "$SIG" demo@1.2 --catalog "file://$W/unsigned"
stop_catalog

info "index edited after signing: bad signature (exit 3)"
variant badsig 'ver("demo", "1.2")["size"] += 1' keep
serve badsig
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "$VURL"
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "file://$W/badsig"
stop_catalog

info "index signed by an untrusted key (exit 3)"
variant rogue - rogue
serve rogue
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "$VURL"
stop_catalog

info "no trusted key at all (exit 3)"
home_with_demo=$STACK_HOME
new_home
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "$GOOD"
STACK_HOME=$home_with_demo

info "index (signed) names another bundle's sha256 (exit 3)"
variant baddigest 'ver("demo", "1.2")["sha256"] = ver("demo", "1.10")["sha256"]' # a real digest, not in the store
serve baddigest
assert_fetch_fails 3 "$DIGEST" demo@1.2 --catalog "$VURL"
assert_fetch_fails 3 "$DIGEST" demo@1.2 --catalog "file://$W/baddigest"
stop_catalog

info "index (signed) lists demo 1.2 with the sha256 and size of demo 1.0, which the store holds (exit 3)"
variant aliased 'ver("demo", "1.2")["sha256"] = ver("demo", "1.0")["sha256"]; ver("demo", "1.2")["size"] = ver("demo", "1.0")["size"]'
assert_fetch_fails 3 'already in the store' demo@1.2 --catalog "file://$W/aliased"

info "bundle tampered on the server, index honest (exit 3)"
variant tampered -
"$PYTHON" - "$W/tampered/demo-1.2.stack" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xFF
open(p, "wb").write(b)
EOF
serve tampered
assert_fetch_fails 3 "$DIGEST" demo@1.2 --catalog "$VURL"
assert_fetch_fails 3 "$DIGEST" demo@1.2 --catalog "file://$W/tampered"
stop_catalog

info "index (signed) gives a wrong size: smaller and larger than the bundle (exit 3)"
variant small 'ver("demo", "1.2")["size"] -= 1000'
variant big 'ver("demo", "1.2")["size"] += 1000'
serve small
assert_fetch_fails 3 "$SIZE" demo@1.2 --catalog "$VURL"
stop_catalog
serve big
assert_fetch_fails 3 "$SIZE" demo@1.2 --catalog "$VURL"
stop_catalog
assert_fetch_fails 3 "$SIZE" demo@1.2 --catalog "file://$W/small"
assert_fetch_fails 3 "$SIZE" demo@1.2 --catalog "file://$W/big"

info "server sends more than the index's size: endless body without Content-Length (exit 3)"
variant endless 'ver("demo", "1.2")["url"] = "endless/" + ver("demo", "1.2")["url"]'
serve endless
assert_fetch_fails 3 "$SIZE" demo@1.2 --catalog "$VURL"
stop_catalog

info "index not JSON, wrong schema, no stacks (exit 3)"
variant notjson - keep
printf 'this is not JSON {\n' >"$W/notjson/index.json"
sign_file "$W/notjson/index.json" "$KEY"
variant schema2 - keep
printf '{"schema":2,"stacks":[]}\n' >"$W/schema2/index.json"
sign_file "$W/schema2/index.json" "$KEY"
variant nostacks - keep
printf '{"schema":1}\n' >"$W/nostacks/index.json"
sign_file "$W/nostacks/index.json" "$KEY"
serve notjson
assert_fetch_fails 3 'JSON' demo@1.2 --catalog "$VURL"
stop_catalog
serve schema2
assert_fetch_fails 3 'schema' demo@1.2 --catalog "$VURL"
stop_catalog
serve nostacks
assert_fetch_fails 3 'schema|stacks' demo@1.2 --catalog "$VURL"
stop_catalog
assert_fetch_fails 3 'JSON' demo@1.2 --catalog "file://$W/notjson"

info "redirect to another scheme (file://): index, bundle in a catalog, fetch URL (exit 3)"
assert_fetch_fails 3 'redirect' demo@1.2 --catalog "$GOOD/redirect-file"
variant redirect 'ver("demo", "1.2")["url"] = "redirect-file/" + ver("demo", "1.2")["url"]'
serve redirect
assert_fetch_fails 3 'redirect' demo@1.2 --catalog "$VURL"
stop_catalog
assert_fetch_fails 3 'redirect' "$GOOD/redirect-file/demo-1.2.stack"

info "catalog unreachable and not cached (exit 6)"
start_catalog "$G"
DEAD=$CATALOG_URL
stop_catalog
assert_fetch_fails 6 'could not be reached' demo@1.2 --catalog "$DEAD"
assert_fetch_fails 6 'could not be reached' "$DEAD/demo-1.2.stack"
assert_fetch_fails 6 'could not be reached|no such file|not found|exist' demo@1.2 --catalog "file://$W/no-such-catalog"

info "HTTP 404 and 500 (after retries): index, bundle in a catalog, fetch URL (exit 6)"
assert_fetch_fails 6 '404|could not be reached' demo@1.2 --catalog "$GOOD/404"
assert_fetch_fails 6 '500|could not be reached' demo@1.2 --catalog "$GOOD/500"
variant bundle404 'ver("demo", "1.2")["url"] = "404/" + ver("demo", "1.2")["url"]'
variant bundle500 'ver("demo", "1.2")["url"] = "500/" + ver("demo", "1.2")["url"]'
serve bundle404
assert_fetch_fails 6 '404' demo@1.2 --catalog "$VURL"
stop_catalog
serve bundle500
assert_fetch_fails 6 '500' demo@1.2 --catalog "$VURL"
[ "$(requests_matching '^GET /500/demo-1\.2\.stack 500$')" -ge 2 ] || die "a 500 was not retried: $(requests)"
stop_catalog
# (--insecure: without it the missing .sig may be reported first, as unsigned, exit 3)
assert_fetch_fails 6 '404' "$GOOD/404/demo-1.2.stack" --insecure
assert_fetch_fails 6 '500' "$GOOD/500/demo-1.2.stack"

info "connection reset mid-stream on every attempt (exit 6)"
variant reset 'ver("demo", "1.2")["url"] = "reset/" + ver("demo", "1.2")["url"]'
serve reset
assert_fetch_fails 6 "$NET_RESET" demo@1.2 --catalog "$VURL"
[ "$(requests_matching '^GET /reset/demo-1\.2\.stack ')" -ge 2 ] || die "a reset was not retried: $(requests)"
stop_catalog
assert_fetch_fails 6 "$NET_RESET" "$GOOD/reset/demo-1.2.stack"

info "fetch URL: no .sig, a .sig of another file, a .sig by an untrusted key (exit 3)"
variant bsigs -
rm "$W/bsigs/demo-1.2.stack.sig"
cp "$W/bsigs/demo-1.0.stack.sig" "$W/bsigs/other-2.0.stack.sig"
sign_file "$W/bsigs/demo-1.10.stack" "$W/rogue"
serve bsigs
assert_fetch_fails 3 "$SIG" "$VURL/demo-1.2.stack"
assert_fetch_fails 3 "$BADSIG" "$VURL/other-2.0.stack"
assert_fetch_fails 3 "$BADSIG" "$VURL/demo-1.10.stack"
stop_catalog

info "fetch FILE: no .sig, a .sig of another file, a .sig by an untrusted key (exit 3)"
assert_fetch_fails 3 "$SIG" "$W/bsigs/demo-1.2.stack"
assert_fetch_fails 3 "$BADSIG" "$W/bsigs/other-2.0.stack"
assert_fetch_fails 3 "$BADSIG" "$W/bsigs/demo-1.10.stack"
assert_fetch_fails 3 "$SIG" "file://$W/bsigs/demo-1.2.stack"

info "a catalog that turns hostile after a good fetch: the cached index is no excuse (exit 3)"
variant swap -
serve swap
assert_exit 0 timeout 300 "$S" fetch demo@1.0 --catalog "$VURL"
index_edit "$W/swap" 'ver("demo", "1.2")["sha256"] = "0" * 64'   # old .sig kept: bad signature
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "$VURL"
sign_file "$W/swap/index.json" "$W/rogue"
assert_fetch_fails 3 "$BADSIG" demo@1.2 --catalog "$VURL"
sign_file "$W/swap/index.json" "$KEY"
assert_fetch_fails 3 "$DIGEST" demo@1.2 --catalog "$VURL"
stop_catalog

# garbage_sig FILE BYTES: FILE.sig holding BYTES random bytes.
garbage_sig() { head -c "$2" /dev/urandom >"$1.sig"; }

mkdir -p "$W/imp"
IMP=$W/imp/demo-1.2.stack
cp "$G/demo-1.2.stack" "$IMP"

info "import_refuses_large_garbage_signature: a .sig of 100, 300 and 5000 garbage bytes (exit 3)"
# A .sig that is present and does not verify refuses the import whatever its size (256 bytes used to be the
# limit past which it was read as absent, and the bundle went in as unsigned).
for n in 100 300; do
  garbage_sig "$IMP" "$n"
  assert_stack_fails 3 "$BADSIG" import "$IMP"
done
garbage_sig "$IMP" 5000
assert_stack_fails 3 'larger' import "$IMP"

info "fetch_refuses_large_garbage_signature: FILE, file:// and http:// with a 300- and a 5000-byte .sig (exit 3)"
for n in 300 5000; do
  garbage_sig "$IMP" "$n"
  assert_fetch_fails 3 "$BADSIG|larger" "$IMP"
  assert_fetch_fails 3 "$BADSIG|larger" "file://$IMP"
done
# Larger than any signature: refused even with --insecure (which accepts a small one that does not verify).
assert_fetch_fails 3 'larger' "file://$IMP" --insecure
serve imp
assert_fetch_fails 3 'larger' "$VURL/demo-1.2.stack"
garbage_sig "$IMP" 300
assert_fetch_fails 3 "$BADSIG" "$VURL/demo-1.2.stack"
stop_catalog

info "import_refuses_unreadable_signature: a directory, a fifo, a dangling symlink named FILE.sig (exit 3)"
rm -f "$IMP.sig"
mkdir "$IMP.sig"
assert_stack_fails 3 'signature.*regular' import "$IMP"
assert_fetch_fails 3 'signature.*regular' "file://$IMP" --insecure
rmdir "$IMP.sig"
mkfifo "$IMP.sig"
assert_stack_fails 3 'signature.*regular' import "$IMP"
rm "$IMP.sig"
ln -s "$W/imp/no-such-file" "$IMP.sig"
assert_stack_fails 3 'signature.*symlink' import "$IMP"
rm "$IMP.sig"

info "import_accepts_the_same_bundle_without_a_signature: only a missing .sig means unsigned (exit 0)"
assert_exit 0 timeout 60 "$S" import "$IMP"
case "$LAST_STDOUT" in "imported demo 1.2"*"(unsigned)") ;; *) die "import without .sig: [$LAST_STDOUT]" ;; esac

info "fetch_reports_a_catalog_cache_dir_it_cannot_name: STACK_HOME near PATH_MAX (exit 4)"
# The string is near PATH_MAX ("/." repeated) while SQLite and the kernel still open the store's own files:
# only the catalog cache path (the longest) overflows. Under ASan this also proves nothing uninitialised is
# freed and nothing leaks on that early return.
new_tmpdir LONG
LONG_HOME=$LONG
while [ ${#LONG_HOME} -lt 4072 ]; do LONG_HOME=$LONG_HOME/.; done
assert_exit 0 env STACK_HOME="$LONG_HOME" "$S" ls
assert_exit 4 env STACK_HOME="$LONG_HOME" timeout 60 "$S" fetch demo@1.2 --catalog "file://$G" --insecure
assert_one_error_line 'catalog cache' "fetch with a long STACK_HOME"
assert_exit 4 env STACK_HOME="$LONG_HOME" timeout 60 "$S" fetch demo@1.2 --catalog "$GOOD" --insecure
assert_one_error_line 'catalog cache' "fetch with a long STACK_HOME (http)"
# ASan does not see a free of uninitialised stack memory (it may happen to be zero); memcheck does. The plain
# build only: valgrind cannot run an ASan binary.
case "$(ldd "$S" 2>/dev/null)" in *libasan*) ASAN_BUILD=1 ;; *) ASAN_BUILD= ;; esac
if command -v valgrind >/dev/null && [ -z "$ASAN_BUILD" ]; then
  assert_exit 4 env STACK_HOME="$LONG_HOME" valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite "$S" fetch demo@1.2 --catalog "file://$G" --insecure
fi
[ ! -e "$LONG/catalogs" ] || die "a catalog cache was made under the long STACK_HOME"
assert_eq 0 "$(sqlite3 "$LONG/index.db" 'SELECT COUNT(*) FROM versions')" "versions under the long STACK_HOME"

CATALOG_LOG=$GOOD_LOG
[ "$(requests_matching '^GET /redirect-file/')" -ge 1 ] || die "the redirect cases never reached the server"
info "all hostile fetch cases refused"
