# shellcheck shell=bash
# fetch_lib.sh - helpers for the `stack fetch` end-to-end tests. Source it after lib.sh:
#   . "$(dirname "$0")/lib.sh"; . "$(dirname "$0")/fetch_lib.sh"
# Call the helpers that set variables (start_catalog, make_catalog) directly, never inside $(...).
# Run directly (bash fetch_lib.sh) it checks its own helpers; CTest skips *_lib.sh files.

if [ "${BASH_SOURCE[0]}" == "$0" ]; then
  # shellcheck source=/dev/null
  . "$(dirname "$0")/lib.sh"
fi

FETCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CATALOG_SERVER=$FETCH_LIB_DIR/catalog_server.py
PYTHON=${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}
_CATALOG_PIDS=()

# start_catalog DIR [CERT KEY]: serve DIR over HTTP (HTTPS with CERT and KEY) on 127.0.0.1 (a free port). Exports CATALOG_PORT,
# CATALOG_URL=http://127.0.0.1:PORT, CATALOG_LOG (one `METHOD PATH STATUS` line per request) and CATALOG_PID.
# Can be called several times (the variables then name the newest server); every server is killed at exit.
start_catalog() {
  local dir=$1 run pid tls=()
  [ -d "$dir" ] || die "start_catalog: $dir is not a directory"
  [ -z "${2:-}" ] || tls=(--tls-cert "$2" --tls-key "$3")
  new_tmpdir run
  "$PYTHON" "$CATALOG_SERVER" --root "$dir" --port-file "$run/port" --log "$run/log" "${tls[@]}" 2>"$run/stderr" &
  pid=$!
  _CATALOG_PIDS+=("$pid")
  on_exit "kill $pid"
  for _ in $(seq 1 200); do
    [ -s "$run/port" ] && break
    kill -0 "$pid" 2>/dev/null || die "catalog server exited before listening: $(cat "$run/stderr")"
    sleep 0.05
  done
  [ -s "$run/port" ] || die "catalog server did not write its port within 10 s"
  CATALOG_PORT=$(cat "$run/port")
  CATALOG_URL=http${2:+s}://127.0.0.1:$CATALOG_PORT
  CATALOG_LOG=$run/log
  CATALOG_PID=$pid
  export CATALOG_PORT CATALOG_URL CATALOG_LOG CATALOG_PID
}

# stop_catalog [PID]: stop a server (default: the newest one, $CATALOG_PID) and wait until it is gone, so its
# port refuses connections. CATALOG_URL keeps naming the dead address (offline tests use it).
stop_catalog() {
  local pid=${1:-${CATALOG_PID:-}}
  [ -n "$pid" ] || die "stop_catalog: no server running"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# requests_matching REGEX [LOG]: how many request-log lines match the extended REGEX (default log: $CATALOG_LOG).
requests_matching() {
  local n
  n=$(grep -cE -- "$1" "${2:-$CATALOG_LOG}" 2>/dev/null) || true
  echo "${n:-0}"
}

# clear_log [LOG]: forget the requests logged so far (the server appends, so truncating is safe).
clear_log() { : >"${1:-$CATALOG_LOG}"; }

# requests [LOG]: the request log, for failure messages.
requests() { tr '\n' ';' <"${1:-$CATALOG_LOG}"; }

# run_ok WHAT CMD...: run CMD, die with its output when it fails.
run_ok() {
  local what=$1 out
  shift
  out=$("$@" 2>&1) || die "$what failed: [$*]: $out"
}

# make_fixture DIR SLUG VERSION: a small DockerCompose stack folder with a 320 KB random file (so its bundle
# is at least that big: random bytes do not compress) and a few other files.
make_fixture() {
  local d=$1 slug=$2 ver=$3
  mkdir -p "$d/site"
  cat >"$d/stack.yaml" <<EOF
slug: $slug
name: ${slug^} fixture
flavor: DockerCompose
version: "$ver"
description: A fixture for the stack fetch tests ($slug $ver)
author: The stack tests
license: MIT
EOF
  printf 'services:\n  web:\n    image: busybox\n' >"$d/compose.yaml"
  printf '<h1>%s %s</h1>\n' "$slug" "$ver" >"$d/site/index.html"
  printf 'SLUG=%s\nVERSION=%s\n' "$slug" "$ver" >"$d/.env"
  head -c 327680 /dev/urandom >"$d/blob.bin"
}

# trust_key PREFIX: trust PREFIX.pub in the current STACK_HOME.
trust_key() { run_ok "trust add $1.pub" "$STACK_BIN" trust add "$1.pub"; }

# sign_file FILE PREFIX: write FILE.sig with PREFIX.key.
sign_file() { run_ok "sign $1" "$STACK_BIN" sign "$1" --key "$2.key"; }

# make_catalog DIR [KEYPREFIX]: a signed catalog in DIR: bundles demo-1.0, demo-1.2, demo-1.10 (the newest by
# semver) and other-2.0 packed from fixtures, index.json + index.json.sig by `stack catalog build`, and a .sig
# beside every bundle (for fetch URL / fetch FILE). The key is KEYPREFIX.key/.pub (default DIR/../pub, made
# with `stack keygen` unless it exists) and is trusted in the current STACK_HOME. Sets CATALOG_KEY (the key
# prefix) and FIXTURES (the folder holding the fixture sources, as FIXTURES/SLUG-VER).
make_catalog() {
  local dir=$1 key=${2:-} sv slug ver f
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -n "$key" ] || key=$(dirname "$dir")/pub
  if [ ! -f "$key.key" ]; then
    run_ok "keygen $key" "$STACK_BIN" keygen "$key"
    [ -f "$key.key" ] && [ -f "$key.pub" ] || die "stack keygen $key did not write $key.key and $key.pub"
  fi
  FIXTURES=$(dirname "$dir")/fixtures-$(basename "$dir")
  for sv in demo:1.0 demo:1.2 demo:1.10 other:2.0; do
    slug=${sv%%:*} ver=${sv#*:}
    make_fixture "$FIXTURES/$slug-$ver" "$slug" "$ver"
    run_ok "pack $slug $ver" "$STACK_BIN" pack "$FIXTURES/$slug-$ver" -o "$dir/$slug-$ver.stack"
  done
  run_ok "catalog build $dir" "$STACK_BIN" catalog build "$dir" --key "$key.key"
  [ -f "$dir/index.json" ] && [ -f "$dir/index.json.sig" ] || die "catalog build wrote no index.json(.sig) in $dir"
  for f in "$dir"/*.stack; do sign_file "$f" "$key"; done
  trust_key "$key"
  CATALOG_KEY=$key
}

# copy_catalog SRC DST: a copy of a catalog folder to tamper with.
copy_catalog() { rm -rf "$2" && cp -a "$1" "$2"; }

# index_edit DIR PYTHON: run PYTHON with `ix` bound to the parsed DIR/index.json, then write ix back (compact
# JSON, so the bytes change and the old signature no longer matches). Helper in scope: ver(slug, version) ->
# the version object.
index_edit() {
  "$PYTHON" - "$1/index.json" "$2" <<'EOF' || die "index_edit $1 failed"
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    ix = json.load(f)
def ver(slug, version):
    for s in ix["stacks"]:
        if s["slug"] == slug:
            for v in s["versions"]:
                if v["version"] == version:
                    return v
    raise SystemExit("index_edit: no %s %s in %s" % (slug, version, path))
exec(code)
with open(path, "w") as f:
    json.dump(ix, f)
EOF
}

# index_field DIR SLUG VERSION FIELD: a field of a version in DIR/index.json.
index_field() {
  "$PYTHON" -c '
import json, sys
ix = json.load(open(sys.argv[1] + "/index.json"))
print([v for s in ix["stacks"] if s["slug"] == sys.argv[2] for v in s["versions"] if v["version"] == sys.argv[3]][0][sys.argv[4]])
' "$@"
}

# json_field JSON KEY: a top-level field of a JSON object (true/false for booleans, "null" for null).
json_field() {
  "$PYTHON" -c '
import json, sys
v = json.loads(sys.argv[1])[sys.argv[2]]
print("null" if v is None else "true" if v is True else "false" if v is False else v)
' "$1" "$2"
}

# ls_field SLUG VERSION FIELD: a field of a version as `stack ls --json` reports it ("null", "true"/"false").
ls_field() {
  "$STACK_BIN" ls --json | "$PYTHON" -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["slug"] == sys.argv[1] and r["version"] == sys.argv[2]]
if not rows:
    print("<no such version>")
else:
    v = rows[0][sys.argv[3]]
    print("null" if v is None else "true" if v is True else "false" if v is False else v)
' "$@"
}

# store_snapshot: what must not change when a fetch fails: the versions count and the object files.
store_snapshot() {
  local n=0
  if [ -f "$STACK_HOME/index.db" ]; then
    n=$(sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM versions')
  fi
  printf 'versions=%s\n' "$n"
  if [ -d "$STACK_HOME/objects" ]; then find "$STACK_HOME/objects" -type f | sort; fi
}

# assert_store_clean: nothing left in $STACK_HOME/tmp and `stack verify` exits 0.
assert_store_clean() {
  local left=
  if [ -d "$STACK_HOME/tmp" ]; then left=$(find "$STACK_HOME/tmp" -mindepth 1 | head -5); fi
  [ -z "$left" ] || die "${1:-}: files left in \$STACK_HOME/tmp: $left"
  assert_exit 0 "$STACK_BIN" verify
}

# assert_one_error_line PATTERN [WHAT]: $LAST_STDERR is exactly one line, starting "stack: ", matching the
# extended PATTERN (case-insensitive) outside the URLs and absolute paths it names (so "404" or "sig" cannot
# match a port number or a file name).
assert_one_error_line() {
  local pat=$1 what=${2:-}
  [ -n "$LAST_STDERR" ] || die "$what: nothing on stderr"
  case "$LAST_STDERR" in *$'\n'*) die "$what: more than one line on stderr: [$LAST_STDERR]" ;; esac
  case "$LAST_STDERR" in "stack: "*) ;; *) die "$what: stderr does not start with 'stack: ': [$LAST_STDERR]" ;; esac
  printf '%s\n' "$LAST_STDERR" | sed -E 's#[a-z]+://[^ ()]*##g; s#(^|[ (])/[^ ()]*#\1#g' | grep -qiE -- "$pat" ||
    die "$what: stderr does not match /$pat/ (outside URLs and paths): [$LAST_STDERR]"
}

# assert_stack_fails CODE PATTERN COMMAND ARGS...: `stack COMMAND ARGS` (under a 300 s timeout) exits CODE with
# one stderr line matching PATTERN, and leaves the store as it was: same versions, same objects, empty tmp,
# verify ok.
assert_stack_fails() {
  local code=$1 pat=$2 before after err
  shift 2
  before=$(store_snapshot)
  assert_exit "$code" timeout 300 "$STACK_BIN" "$@"
  assert_one_error_line "$pat" "$*"
  err=$LAST_STDERR
  after=$(store_snapshot)
  [ "$before" == "$after" ] || die "$*: the store changed: $(diff <(echo "$before") <(echo "$after") | head -10)"
  assert_store_clean "$*"
  info "  refused ($code): $err"
}

# assert_fetch_fails CODE PATTERN ARGS...: assert_stack_fails for `stack fetch ARGS`.
assert_fetch_fails() {
  local code=$1 pat=$2
  shift 2
  assert_stack_fails "$code" "$pat" fetch "$@"
}

# Run directly: check the server helpers (and, once the signing commands exist, make_catalog's output).
if [ "${BASH_SOURCE[0]}" == "$0" ]; then
  new_tmpdir _t
  mkdir -p "$_t/root"
  printf 'hello\n' >"$_t/root/a.txt"
  start_catalog "$_t/root"
  first_url=$CATALOG_URL first_log=$CATALOG_LOG first_pid=$CATALOG_PID
  assert_eq hello "$(curl -fsS "$CATALOG_URL/a.txt")" "served file"
  start_catalog "$_t/root"
  [ "$CATALOG_URL" != "$first_url" ] || die "two servers share a port"
  curl -fsS "$first_url/a.txt" >/dev/null
  curl -fsS "$first_url/flaky500/a.txt" >/dev/null 2>&1 || true
  assert_eq 2 "$(requests_matching '^GET /a\.txt 200$' "$first_log")" "requests_matching on the first log"
  assert_eq 1 "$(requests_matching '^GET /flaky500/a\.txt 500$' "$first_log")" "flaky500 logged"
  assert_eq 0 "$(requests_matching '^GET /flaky500/' "$CATALOG_LOG")" "second server's log"
  assert_eq 0 "$(requests_matching 'x' "$_t/no-such-log")" "requests_matching on a missing log"
  clear_log "$first_log"
  assert_eq 0 "$(requests_matching . "$first_log")" "cleared log"
  stop_catalog "$first_pid"
  if curl -fsS "$first_url/a.txt" >/dev/null 2>&1; then die "stopped server still answers"; fi
  stop_catalog
  if curl -fsS "$CATALOG_URL/a.txt" >/dev/null 2>&1; then die "stopped server still answers"; fi

  if "$STACK_BIN" keygen --help >/dev/null 2>&1 && "$STACK_BIN" catalog --help >/dev/null 2>&1; then
    new_home
    make_catalog "$_t/cat"
    "$PYTHON" - "$_t/cat" <<'EOF' || die "make_catalog: index.json does not follow the contract"
import hashlib, json, os, sys
d = sys.argv[1]
ix = json.load(open(os.path.join(d, "index.json")))
assert ix["schema"] == 1, ix
got = {}
for s in ix["stacks"]:
    for k in ("slug", "title", "versions"):
        assert k in s, (k, s)
    for v in s["versions"]:
        data = open(os.path.join(d, v["url"]), "rb").read()
        assert v["sha256"] == hashlib.sha256(data).hexdigest(), v
        assert v["size"] == len(data), v
        assert len(data) >= 300 * 1024, (v, len(data))
        got.setdefault(s["slug"], set()).add(v["version"])
assert got == {"demo": {"1.0", "1.2", "1.10"}, "other": {"2.0"}}, got
EOF
    [ -s "$_t/cat/demo-1.0.stack.sig" ] || die "make_catalog: no bundle .sig"
    [ -n "$(ls -A "$STACK_HOME/keys/trusted")" ] || die "make_catalog: no key in \$STACK_HOME/keys/trusted"
    info "make_catalog ok"
  else
    info "stack keygen/catalog not built yet: make_catalog not checked"
  fi
  info "helpers ok"
fi
