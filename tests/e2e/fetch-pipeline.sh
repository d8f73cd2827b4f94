#!/usr/bin/env bash
# fetch-pipeline.sh - the pipelined ingest (spec/store.md "Ingest": download and bundle hash on one thread,
# decompression, checks and object writes on another) stops cleanly on either side's failure:
#  1. a download reset mid-stream on every attempt (catalog_server.py /reset/) of a 64 MiB bundle: exit 6 with
#     the network's own message, no version, nothing left in tmp/, verify clean;
#  2. a hostile entry (a hard link) second in a 128 MiB bundle: exit 3 naming it, and the download stopped
#     early: the server (a counting one, below) sent far fewer bytes than the bundle holds;
#  3. the same bundle from a server that stalls after its first 256 KiB: refused (exit 3) at once, not after the
#     30 s low-speed timeout and its retries (the refusal wakes the download up, http_stream_cancel);
#  4. the same bundle through `stack import` (the fd path): exit 3, the store unchanged;
#  5. a good 64 MiB bundle fetched whole through the same pipeline: exit 0, verify clean, checkout identical.
# No Docker. Slugs start with "pf".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
S=$STACK_BIN
unset STACK_CATALOG
[ -x "$S" ] || die "no stack binary at $S"
NET_RESET='reset|connection|recv|receiv|transfer|partial|network|could not be reached|resume'

new_tmpdir W
new_home

# The good stack: 64 MiB of random bytes (zstd cannot shrink them) and the usual files.
make_fixture "$W/big" pfbig 1.0
mkdir -p "$W/big/images"
head -c $((64 << 20)) /dev/urandom >"$W/big/images/layer.tar"
mkdir "$W/cat"
run_ok "pack pfbig" "$S" pack "$W/big" -o "$W/cat/pfbig-1.0.stack"
BIG=$(stat -c %s "$W/cat/pfbig-1.0.stack")

# The hostile bundle, made with tar (pack refuses it): stack.yaml, then "evil", a hard link to it, then 128 MiB.
make_fixture "$W/bad" pfbad 1.0
head -c $((128 << 20)) /dev/urandom >"$W/bad/layer.tar"
ln "$W/bad/stack.yaml" "$W/bad/evil"
tar --zstd -cf "$W/cat/pfbad-1.0.stack" -C "$W/bad" stack.yaml evil layer.tar compose.yaml
BAD=$(stat -c %s "$W/cat/pfbad-1.0.stack")
tar --zstd -tvf "$W/cat/pfbad-1.0.stack" | sed -n 2p | grep -q '^h.* evil link to stack.yaml' ||
  die "the hostile bundle's second entry is not the hard link: $(tar --zstd -tvf "$W/cat/pfbad-1.0.stack" | head -3)"

start_catalog "$W/cat"

info "1. a reset mid-stream on every attempt: exit 6, the network's message, nothing staged left"
assert_fetch_fails 6 "$NET_RESET" "$CATALOG_URL/reset/pfbig-1.0.stack" --insecure
[ "$(requests_matching '^GET /reset/pfbig-1\.0\.stack ')" -ge 2 ] || die "the reset was not retried: $(requests)"
assert_eq 0 "$(sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM versions')" "versions after the reset"

info "2. a hard link second in a $((BAD >> 20)) MiB bundle: refused, and the download stopped early"
# A server that counts what it sent: one line "PATH BYTES" per GET once the response is over (finished, or the
# client hung up). 404 for anything missing (the .sig: the fetch is --insecure). /stall/NAME: the first 256 KiB
# of NAME (what the refusal needs), then nothing for 5 minutes (the connection stays open).
cat >"$W/count.py" <<'PY'
import http.server, os, sys, time
root, port_file, log = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        stall = self.path.startswith("/stall/")
        p = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(p):
            self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers(); return
        self.send_response(200); self.send_header("Content-Length", str(os.path.getsize(p))); self.end_headers()
        sent = 0
        try:
            with open(p, "rb") as f:
                while True:
                    b = f.read(65536)
                    if not b: break
                    self.wfile.write(b); sent += len(b)
                    if stall and sent >= 256 << 10:
                        self.wfile.flush(); time.sleep(300)
        except OSError:
            pass
        finally:
            with open(log, "a") as l: l.write("%s %d\n" % (self.path, sent))
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(port_file + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(port_file + ".tmp", port_file)
s.serve_forever()
PY
python3 "$W/count.py" "$W/cat" "$W/count.port" "$W/count.log" 2>"$W/count.err" &
on_exit "kill $!"
for _ in $(seq 1 200); do [ -s "$W/count.port" ] && break; sleep 0.05; done
[ -s "$W/count.port" ] || die "the counting server did not start: $(cat "$W/count.err")"
CURL=http://127.0.0.1:$(cat "$W/count.port")
assert_fetch_fails 3 "entry 'evil' is a hard link" "$CURL/pfbad-1.0.stack" --insecure
sent=
for _ in $(seq 1 100); do
  sent=$(awk '$1 == "/pfbad-1.0.stack" { print $2 }' "$W/count.log" 2>/dev/null || true)
  [ -n "$sent" ] && break
  sleep 0.1
done
[ -n "$sent" ] || die "the counting server logged no end of the bundle's GET: $(cat "$W/count.log" 2>/dev/null)"
info "  the server sent $((sent >> 20)) MiB of $((BAD >> 20)) MiB"
[ "$sent" -lt $((BAD / 4)) ] || die "the download went on after the refusal: $sent of $BAD bytes sent"

info "3. the same bundle from a server that stalls after 256 KiB: refused at once"
t0=$(date +%s)
assert_fetch_fails 3 "entry 'evil' is a hard link" "$CURL/stall/pfbad-1.0.stack" --insecure
took=$(($(date +%s) - t0))
info "  refused after ${took} s"
[ "$took" -lt 20 ] || die "the refusal waited for the stalled download: ${took} s"

info "4. the same bundle through stack import (the fd path): refused, store unchanged"
assert_stack_fails 3 "entry 'evil' is a hard link" import "$W/cat/pfbad-1.0.stack"

info "5. a good $((BIG >> 20)) MiB bundle through the pipeline: stored, verified, checked out identical"
assert_exit 0 timeout 300 "$S" fetch "$CURL/pfbig-1.0.stack" --insecure
case "$LAST_STDOUT" in "fetched pfbig 1.0"*) ;; *) die "fetch pfbig: [$LAST_STDOUT]" ;; esac
assert_store_clean "pfbig"
assert_exit 0 "$S" checkout pfbig@1.0 "$W/out"
cmp "$W/big/images/layer.tar" "$W/out/images/layer.tar" || die "the checked-out layer differs"
info "ok"
