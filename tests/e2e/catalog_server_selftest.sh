#!/usr/bin/env bash
# catalog_server_selftest.sh - the test catalog server (catalog_server.py) checked with curl: plain files and
# their validators, 304s, Range, every fault-injection prefix, the request log, and a clean SIGTERM stop.
# Needs no stack binary: the fetch tests rely on this server behaving exactly as described here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"

command -v curl >/dev/null || die "curl is not installed"
new_tmpdir T
mkdir -p "$T/root/sub"
head -c 300000 /dev/urandom >"$T/root/a.bin"
printf 'small file\n' >"$T/root/sub/b.txt"
touch -d '2024-01-02 03:04:05 UTC' "$T/root/a.bin"
SIZE=$(stat -c %s "$T/root/a.bin")
SHA=$(sha256sum "$T/root/a.bin" | cut -d' ' -f1)
start_catalog "$T/root"
U=$CATALOG_URL

# code ARGS...: the HTTP status curl got (body to $T/body, headers to $T/hdr).
code() { rm -f "$T/body" "$T/hdr"; touch "$T/body"; curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" || true; }
# header NAME: a response header's value from $T/hdr (CR stripped).
header() { grep -i "^$1:" "$T/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
last_log() { tail -1 "$CATALOG_LOG"; }

# 1. A plain file: 200, exact bytes, Content-Length, strong ETag = quoted sha256, Last-Modified from mtime.
assert_eq 200 "$(code "$U/a.bin")" "GET /a.bin"
cmp -s "$T/body" "$T/root/a.bin" || die "GET /a.bin: body differs"
assert_eq "$SIZE" "$(header Content-Length)" "Content-Length"
assert_eq "\"$SHA\"" "$(header ETag)" "ETag"
assert_eq "Tue, 02 Jan 2024 03:04:05 GMT" "$(header Last-Modified)" "Last-Modified"
assert_eq "GET /a.bin 200" "$(last_log)" "log line"
assert_eq 200 "$(code "$U/sub/b.txt")" "GET /sub/b.txt"
assert_eq "small file" "$(cat "$T/body")" "nested file"
assert_eq 200 "$(code -I "$U/a.bin")" "HEAD /a.bin"
assert_eq "$SIZE" "$(header Content-Length)" "HEAD Content-Length"
assert_eq "HEAD /a.bin 200" "$(last_log)" "HEAD log line"

# 2. Missing files, directories, and paths escaping the root are 404.
assert_eq 404 "$(code "$U/nope")" "missing file"
assert_eq 404 "$(code "$U/sub")" "directory"
assert_eq 404 "$(code --path-as-is "$U/../../../etc/passwd")" "path outside the root"
assert_eq 404 "$(code "$U/")" "root"

# 3. Conditional requests: If-None-Match (matching, list, *, weak, stale), If-Modified-Since, and INM wins.
assert_eq 304 "$(code -H "If-None-Match: \"$SHA\"" "$U/a.bin")" "If-None-Match match"
assert_eq 0 "$(stat -c %s "$T/body")" "304 body"
assert_eq "\"$SHA\"" "$(header ETag)" "304 ETag"
assert_eq "GET /a.bin 304" "$(last_log)" "304 log line"
assert_eq 304 "$(code -H "If-None-Match: \"x\", \"$SHA\"" "$U/a.bin")" "If-None-Match list"
assert_eq 304 "$(code -H "If-None-Match: *" "$U/a.bin")" "If-None-Match *"
assert_eq 304 "$(code -H "If-None-Match: W/\"$SHA\"" "$U/a.bin")" "If-None-Match weak"
assert_eq 200 "$(code -H 'If-None-Match: "0000"' "$U/a.bin")" "If-None-Match stale"
cmp -s "$T/body" "$T/root/a.bin" || die "stale If-None-Match: body differs"
assert_eq 304 "$(code -H "If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT" "$U/a.bin")" "If-Modified-Since equal"
assert_eq 304 "$(code -H "If-Modified-Since: Wed, 01 Jan 2025 00:00:00 GMT" "$U/a.bin")" "If-Modified-Since later"
assert_eq 200 "$(code -H "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT" "$U/a.bin")" "If-Modified-Since older"
assert_eq 200 "$(code -H "If-Modified-Since: garbage" "$U/a.bin")" "If-Modified-Since unparsable"
assert_eq 200 "$(code -H 'If-None-Match: "0000"' -H "If-Modified-Since: Wed, 01 Jan 2025 00:00:00 GMT" "$U/a.bin")" \
  "If-None-Match takes precedence over If-Modified-Since"
# curl's own revalidation: -z FILE sends If-Modified-Since from FILE's mtime.
touch -d '2024-06-01 UTC' "$T/ref"
assert_eq 304 "$(code -z "$T/ref" "$U/a.bin")" "curl -z"

# 4. Range: bytes=N- -> 206 + Content-Range; bytes=N-M; past the end -> 416; If-Range mismatch -> 200.
assert_eq 206 "$(code -H 'Range: bytes=100000-' "$U/a.bin")" "Range bytes=N-"
assert_eq "bytes 100000-$((SIZE - 1))/$SIZE" "$(header Content-Range)" "Content-Range"
assert_eq $((SIZE - 100000)) "$(header Content-Length)" "206 Content-Length"
tail -c +100001 "$T/root/a.bin" | cmp -s - "$T/body" || die "Range bytes=100000-: body differs"
assert_eq "GET /a.bin 206" "$(last_log)" "206 log line"
assert_eq 206 "$(code -r 10-19 "$U/a.bin")" "Range bytes=N-M"
assert_eq 10 "$(stat -c %s "$T/body")" "bytes=10-19 length"
assert_eq 416 "$(code -H "Range: bytes=$SIZE-" "$U/a.bin")" "Range past the end"
assert_eq 206 "$(code -H 'Range: bytes=5-' -H "If-Range: \"$SHA\"" "$U/a.bin")" "If-Range match"
assert_eq 200 "$(code -H 'Range: bytes=5-' -H 'If-Range: "0000"' "$U/a.bin")" "If-Range mismatch"
# curl -C resumes a partial download into the same file.
head -c 1234 "$T/root/a.bin" >"$T/partial"
curl -fsS -C - -o "$T/partial" "$U/a.bin"
cmp -s "$T/partial" "$T/root/a.bin" || die "curl -C - resume: file differs"

# 5. /404/ and /500/ every time.
assert_eq 404 "$(code "$U/404/a.bin")" "/404/"
assert_eq 500 "$(code "$U/500/a.bin")" "/500/ first"
assert_eq 500 "$(code "$U/500/a.bin")" "/500/ second"
assert_eq "GET /500/a.bin 500" "$(last_log)" "500 log line"

# 6. /flaky500/: 500 on the first request of each path, then normal; curl --retry gets through.
assert_eq 500 "$(code "$U/flaky500/a.bin")" "/flaky500/ first"
assert_eq 200 "$(code "$U/flaky500/a.bin")" "/flaky500/ second"
cmp -s "$T/body" "$T/root/a.bin" || die "/flaky500/ second: body differs"
assert_eq 200 "$(code "$U/flaky500/a.bin")" "/flaky500/ third"
assert_eq 1 "$(requests_matching '^GET /flaky500/a\.bin 500$')" "flaky500 500s logged"
assert_eq 2 "$(requests_matching '^GET /flaky500/a\.bin 200$')" "flaky500 200s logged"
assert_eq 500 "$(code "$U/flaky500/sub/b.txt")" "/flaky500/ another path: first"
assert_eq 404 "$(code "$U/flaky500/nope")" "/flaky500/ missing file"
# curl --retry gets through a fresh flaky path by itself.
mkdir -p "$T/root/f" && cp "$T/root/sub/b.txt" "$T/root/f/c.txt"
assert_eq "small file" "$(curl -fsS --retry 2 --retry-delay 0 "$U/flaky500/f/c.txt" 2>/dev/null)" "curl --retry on /flaky500/"

# 7. /reset/: full Content-Length, half the body, then RST; every time, Range ignored.
for i in 1 2; do
  rc=0
  curl -sS -o "$T/body" -D "$T/hdr" "$U/reset/a.bin" 2>"$T/err" || rc=$?
  [ "$rc" -ne 0 ] || die "/reset/ #$i: curl succeeded"
  grep -qiE 'reset|recv failure|transfer closed' "$T/err" || die "/reset/ #$i: curl said: $(cat "$T/err")"
  assert_eq "$SIZE" "$(header Content-Length)" "/reset/ #$i Content-Length"
  got=$(stat -c %s "$T/body")
  [ "$got" -lt "$SIZE" ] || die "/reset/ #$i: got the whole body"
  head -c "$got" "$T/root/a.bin" | cmp -s - "$T/body" || die "/reset/ #$i: the partial body is not a prefix"
done
assert_eq 200 "$(code -H 'Range: bytes=1000-' "$U/reset/a.bin")" "/reset/ with Range still resets (status)"
assert_eq "GET /reset/a.bin 200" "$(last_log)" "reset log line"

# 8. /resetonce/: the first request of each path resets; a Range resume then gets 206 and the rest.
rc=0
curl -sS -o "$T/ro" "$U/resetonce/a.bin" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || die "/resetonce/ first: curl succeeded"
got=$(stat -c %s "$T/ro")
[ "$got" -lt "$SIZE" ] || die "/resetonce/ first: got the whole body"
[ "$got" -gt 0 ] || die "/resetonce/ first: got no byte of the body"
clear_log
curl -fsS -C - -o "$T/ro" "$U/resetonce/a.bin"
cmp -s "$T/ro" "$T/root/a.bin" || die "/resetonce/ resumed file differs"
assert_eq "GET /resetonce/a.bin 206" "$(last_log)" "resetonce resume log line"
assert_eq 200 "$(code "$U/resetonce/a.bin")" "/resetonce/ later full request"
cmp -s "$T/body" "$T/root/a.bin" || die "/resetonce/ later: body differs"
# Each path has its own first request: the .sig-style sibling resets once too.
printf 'sig bytes, long enough to cut in half\n' >"$T/root/a.bin.sig"
rc=0
curl -sS -o "$T/body" "$U/resetonce/a.bin.sig" 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || die "/resetonce/ a.bin.sig first: curl succeeded"
assert_eq 200 "$(code "$U/resetonce/a.bin.sig")" "/resetonce/ a.bin.sig second"
# curl --retry with -C - resumes across the reset by itself.
curl -fsS --retry 3 --retry-delay 0 --retry-all-errors -C - -o "$T/ro2" "$U/resetonce/sub/b.txt" 2>/dev/null
assert_eq "small file" "$(cat "$T/ro2")" "/resetonce/ retried with curl"

# 9. /endless/: no Content-Length, the file, then zeros until the client hangs up.
set +o pipefail
curl -s -D "$T/hdr" "$U/endless/a.bin" 2>/dev/null | head -c $((SIZE + 200000)) >"$T/body"
set -o pipefail
assert_eq "" "$(header Content-Length)" "/endless/ Content-Length"
assert_eq $((SIZE + 200000)) "$(stat -c %s "$T/body")" "/endless/ bytes read"
head -c "$SIZE" "$T/body" | cmp -s - "$T/root/a.bin" || die "/endless/: the stream does not start with the file"
assert_eq 0 "$(tail -c 200000 "$T/body" | tr -d '\0' | wc -c)" "/endless/ tail is zeros"
# Still streaming after 1 s (curl's -m ends it: exit 28), and the server serves others meanwhile.
rc=0
curl -s -m 1 -o /dev/null "$U/endless/a.bin" || rc=$?
assert_eq 28 "$rc" "curl -m 1 on /endless/ (28: timed out, still streaming)"
assert_eq 200 "$(code "$U/sub/b.txt")" "a request after /endless/"

# 10. Redirects: /redirect-file/ -> file:///etc/passwd; /redirect-same/ -> same path without the prefix.
assert_eq 302 "$(code "$U/redirect-file/a.bin")" "/redirect-file/"
assert_eq "file:///etc/passwd" "$(header Location)" "/redirect-file/ Location"
rc=0
curl -fsS -L -o "$T/body" "$U/redirect-file/a.bin" 2>"$T/err" || rc=$?
[ "$rc" -ne 0 ] || die "curl followed a redirect to file://"
assert_eq 302 "$(code "$U/redirect-same/sub/b.txt")" "/redirect-same/"
assert_eq "$U/sub/b.txt" "$(header Location)" "/redirect-same/ Location"
assert_eq 200 "$(code -L "$U/redirect-same/a.bin")" "/redirect-same/ followed"
cmp -s "$T/body" "$T/root/a.bin" || die "/redirect-same/ followed: body differs"
assert_eq "GET /a.bin 200" "$(last_log)" "redirect target logged"
assert_eq 1 "$(requests_matching '^GET /redirect-same/a\.bin 302$')" "redirect logged"
assert_eq 404 "$(code -L "$U/redirect-same/nope")" "/redirect-same/ to a missing file ends in 404"

# 11. /slow/: same bytes, at least 0.2 s.
t=$(curl -s -o "$T/body" -w '%{time_total}' "$U/slow/a.bin")
cmp -s "$T/body" "$T/root/a.bin" || die "/slow/: body differs"
"$PYTHON" -c "import sys; sys.exit(0 if float('$t') >= 0.2 else 1)" || die "/slow/ took only $t s"
assert_eq 304 "$(code -H "If-None-Match: \"$SHA\"" "$U/slow/a.bin")" "/slow/ still honours If-None-Match"

# 12. Keep-alive: two requests over one connection.
assert_eq 200200 "$(curl -s -o /dev/null -o /dev/null -w '%{http_code}' "$U/a.bin" "$U/sub/b.txt")" "keep-alive"

# 13. A prefix name without a file after it is just a path; unknown prefixes are plain paths.
assert_eq 404 "$(code "$U/404")" "/404 alone"
assert_eq 404 "$(code "$U/other/a.bin")" "unknown prefix"

# 14. Every request was logged as METHOD PATH STATUS.
bad=$(grep -vE '^(GET|HEAD) /[^ ]* [0-9]{3}$' "$CATALOG_LOG" || true)
[ -z "$bad" ] || die "malformed log lines: $bad"

# 15. SIGTERM stops it cleanly (exit 0) and quickly, even with a client still connected.
( curl -s "$U/endless/a.bin" >/dev/null 2>&1 || true ) &
cpid=$!
sleep 0.3
kill -TERM "$CATALOG_PID"
rc=0
for i in $(seq 1 60); do kill -0 "$CATALOG_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$CATALOG_PID" 2>/dev/null && die "server still running 3 s after SIGTERM"
wait "$CATALOG_PID" || rc=$?
assert_eq 0 "$rc" "server exit code after SIGTERM"
wait "$cpid" 2>/dev/null || true
if curl -s -o /dev/null "$U/a.bin"; then die "server still answers after SIGTERM"; fi

info "catalog server ok"
