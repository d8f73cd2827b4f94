#!/usr/bin/env bash
# stack serve end to end: the real daemon on a free loopback port with a temp STACK_HOME, called over HTTPS by
# curl trusting the certificate the daemon made. Checks, in order: a non-loopback --address is refused before
# anything is made; --print-cert's fingerprint is openssl's; key files are 0600; /health answers the catalog
# website's call (host 127.1, CORS for allowed origins only); preflights with Private Network Access; a wrong
# Host is 421; missing/expired/far-future/forged/alg-none/HS512/wrong-aud tokens are 401 JSON, also on /health;
# `stack token` and a token minted by Python's hmac get 200 on /runs and /stacks; bodies over 64 KiB are 413;
# 300 idle connections do not lock a client out (over the limit they are refused, and the oldest that sent
# nothing make room) and the daemon goes on (slow clients: api-slow.sh); SIGTERM ends it with exit 0, one log line per
# request.
. "$(dirname "$0")/lib.sh"

new_home
new_tmpdir W
KEYS=$STACK_HOME/keys
CERT=$KEYS/api-cert.pem

# --- a non-loopback address is refused, and nothing is made ----------------------------------------------
for a in 0.0.0.0 :: 192.168.1.10 example.com; do
  assert_exit 2 "$STACK_BIN" serve --address "$a" --port 0
  case "$LAST_STDERR" in *"loopback address only"*) ;; *) die "--address $a: stderr [$LAST_STDERR]" ;; esac
done
[ ! -e "$CERT" ] || die "a refused --address still made a certificate"
assert_exit 2 "$STACK_BIN" serve --origin '*'
assert_exit 2 "$STACK_BIN" serve --origin 'https://stack.lol/path'

# --- the certificate: made on first use, 0600, fingerprint as openssl prints it ---------------------------
assert_exit 0 "$STACK_BIN" serve --print-cert
want=$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | sed 's/^.*=//')
got=$(printf '%s\n' "$LAST_STDOUT" | sed -n 's/^sha256 fingerprint: //p')
assert_eq "$want" "$got" "--print-cert fingerprint"
case "$LAST_STDOUT" in *"certificate: $CERT"*) ;; *) die "--print-cert does not name $CERT" ;; esac
openssl x509 -in "$CERT" -noout -ext subjectAltName,extendedKeyUsage,basicConstraints >"$W/ext" 2>&1
grep -q 'IP Address:127.0.0.1' "$W/ext" && grep -q 'DNS:localhost' "$W/ext" && grep -q 'TLS Web Server Authentication' "$W/ext" \
  && grep -q 'CA:FALSE' "$W/ext" || die "certificate extensions: $(cat "$W/ext")"
days=$(( ($(date -d "$(openssl x509 -in "$CERT" -noout -enddate | cut -d= -f2)" +%s) - \
          $(date -d "$(openssl x509 -in "$CERT" -noout -startdate | cut -d= -f2)" +%s)) / 86400 ))
[ "$days" -le 397 ] || die "certificate valid for $days days (browsers accept at most 398)"
# A second --print-cert keeps the same certificate.
assert_exit 0 "$STACK_BIN" serve --print-cert
assert_eq "sha256 fingerprint: $want" "$(printf '%s\n' "$LAST_STDOUT" | grep '^sha256')" "fingerprint after a restart"

# --- start the daemon -------------------------------------------------------------------------------------
LOG=$W/serve.log
"$STACK_BIN" serve --port 0 --origin http://localhost:8123 2>"$LOG" &
PID=$!
on_exit "kill $PID"
for _ in $(seq 1 100); do grep -q 'listening on' "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/^stack serve: listening on https:\/\/127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LOG")
[ -n "$PORT" ] || die "daemon did not start: $(cat "$LOG")"
info "daemon pid $PID on port $PORT"
for f in api-key.pem api-cert.pem api.secret; do
  assert_eq 600 "$(stat -c %a "$KEYS/$f")" "mode of keys/$f"
done
assert_eq 32 "$(stat -c %s "$KEYS/api.secret")" "size of keys/api.secret"

# req NAME URL-PATH CURL-ARGS...: $W/NAME.h (headers), $W/NAME.b (body); prints the status code.
req() {
  local name=$1 path=$2; shift 2
  curl -sS --cacert "$CERT" -D "$W/$name.h" -o "$W/$name.b" -w '%{http_code}' "$@" "https://127.1:$PORT$path"
}
hdr() { grep -i "^$2:" "$W/$1.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
has_no_hdr() { ! grep -qi "^$2:" "$W/$1.h" || die "$1: unexpected header $2: $(hdr "$1" "$2")"; }
is_json_error() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["error"], str) and d["error"]' "$W/$1.b" \
  || die "$1: body is not a JSON error: $(cat "$W/$1.b")"; }

# --- /health: what the catalog website calls ---------------------------------------------------------------
assert_eq 200 "$(req health /health)" "GET /health"
assert_eq OK "$(cat "$W/health.b")" "/health body"
case "$(hdr health Content-Type)" in text/plain*) ;; *) die "/health Content-Type: $(hdr health Content-Type)" ;; esac
has_no_hdr health Access-Control-Allow-Origin
assert_eq 200 "$(req cors /health -H 'Origin: https://stack.lol')" "/health from https://stack.lol"
assert_eq https://stack.lol "$(hdr cors Access-Control-Allow-Origin)" "ACAO for the default origin"
assert_eq Origin "$(hdr cors Vary)" "Vary"
assert_eq 200 "$(req cors2 /health -H 'Origin: http://localhost:8123')" "/health from the --origin origin"
assert_eq http://localhost:8123 "$(hdr cors2 Access-Control-Allow-Origin)" "ACAO for --origin"
# Another origin gets nothing: no CORS grant, no OK.
assert_eq 403 "$(req evil /health -H 'Origin: https://evil.example')" "/health from another origin"
has_no_hdr evil Access-Control-Allow-Origin
is_json_error evil
assert_eq 403 "$(req null /health -H 'Origin: null')" "/health from Origin: null"
# The other loopback names answer too.
code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' "https://localhost:$PORT/health")
assert_eq 200 "$code" "https://localhost:PORT/health"
code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/health")
assert_eq 200 "$code" "https://127.0.0.1:PORT/health"

# --- preflight ----------------------------------------------------------------------------------------------
assert_eq 204 "$(req pre /run -X OPTIONS -H 'Origin: https://stack.lol' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type' -H 'Access-Control-Request-Private-Network: true')" "preflight"
assert_eq https://stack.lol "$(hdr pre Access-Control-Allow-Origin)" "preflight ACAO"
assert_eq true "$(hdr pre Access-Control-Allow-Private-Network)" "preflight Private Network Access"
assert_eq Origin "$(hdr pre Vary)" "preflight Vary"
case "$(hdr pre Access-Control-Allow-Headers)" in *Content-Type*Authorization*) ;; *) die "Allow-Headers: $(hdr pre Access-Control-Allow-Headers)" ;; esac
case "$(hdr pre Access-Control-Allow-Methods)" in *POST*) ;; *) die "Allow-Methods: $(hdr pre Access-Control-Allow-Methods)" ;; esac
assert_eq 204 "$(req pre2 /health -X OPTIONS -H 'Origin: https://stack.lol' -H 'Access-Control-Request-Method: GET')" "preflight without PNA"
has_no_hdr pre2 Access-Control-Allow-Private-Network
assert_eq 403 "$(req pre3 /run -X OPTIONS -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Private-Network: true')" "preflight from another origin"
has_no_hdr pre3 Access-Control-Allow-Origin
has_no_hdr pre3 Access-Control-Allow-Private-Network

# --- Host: DNS rebinding -----------------------------------------------------------------------------------
assert_eq 421 "$(req host /health -H "Host: evil.example:$PORT")" "wrong Host"
is_json_error host
assert_eq 421 "$(req host2 /health -H "Host: 127.0.0.1:1")" "Host with another port"
assert_eq 421 "$(req host3 /health -H "Host: 127.0.0.1")" "Host without the port"

# --- tokens ---------------------------------------------------------------------------------------------------
# mint KIND: a token made with Python's hmac from the secret file (RFC 7519), good or broken as KIND says.
mint() {
  python3 - "$KEYS/api.secret" "$1" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = open(sys.argv[1], "rb").read(); kind = sys.argv[2]; now = int(time.time())
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
hdr = {"alg": "HS256", "typ": "JWT"}; claims = {"aud": "stack-api", "iat": now, "exp": now + 120}
if kind == "expired": claims.update(iat=now - 600, exp=now - 300)
if kind == "far": claims["exp"] = now + 3600
if kind == "future-iat": claims["iat"] = now + 600
if kind == "wrong-aud": claims["aud"] = "other-api"
if kind == "no-exp": del claims["exp"]
if kind == "none": hdr["alg"] = "none"
if kind == "hs512": hdr["alg"] = "HS512"
if kind == "forged": key = bytes(32)
si = b(json.dumps(hdr).encode()) + "." + b(json.dumps(claims).encode())
if kind == "none": print(si + "."); sys.exit()
print(si + "." + b(hmac.new(key, si.encode(), hashlib.sha512 if kind == "hs512" else hashlib.sha256).digest()))
PY
}
assert_eq 401 "$(req noauth /runs)" "/runs without a token"
is_json_error noauth
assert_eq 401 "$(req noauth2 /stacks)" "/stacks without a token"
for kind in expired far future-iat wrong-aud no-exp none hs512 forged; do
  t=$(mint "$kind")
  assert_eq 401 "$(req "bad-$kind" /runs -H "Authorization: Bearer $t")" "/runs with a $kind token"
  is_json_error "bad-$kind"
  # A bad token never falls back to the anonymous path.
  assert_eq 401 "$(req "badh-$kind" /health -H "Authorization: Bearer $t")" "/health with a $kind token"
done
assert_eq 401 "$(req basic /runs -H 'Authorization: Basic dXNlcjpwYXNz')" "Basic auth"
assert_eq 200 "$(req good /runs -H "Authorization: Bearer $("$STACK_BIN" token)")" "/runs with stack token"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["runs"] == []' "$W/good.b" || die "/runs body: $(cat "$W/good.b")"
assert_eq 200 "$(req py /runs -H "Authorization: Bearer $(mint good)")" "/runs with a Python-minted token"
# /stacks lists what the store holds.
"$STACK_BIN" pack "$STACK_SRC/examples/hello" -o "$W/hello.stack" >/dev/null
"$STACK_BIN" import "$W/hello.stack" >/dev/null
assert_eq 200 "$(req stacks /stacks -H "Authorization: Bearer $("$STACK_BIN" token --ttl 30)")" "/stacks with a token"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stacks"]; assert [x["slug"] for x in s] == ["hello"] and len(s[0]["versions"]) == 1, s' \
  "$W/stacks.b" || die "/stacks body: $(cat "$W/stacks.b")"
assert_exit 0 "$STACK_BIN" token --ttl 9999
case "$LAST_STDERR" in *"capped at 300"*) ;; *) die "stack token --ttl 9999: [$LAST_STDERR]" ;; esac
assert_eq 200 "$(req capped /runs -H "Authorization: Bearer $LAST_STDOUT")" "a capped token"
assert_eq 404 "$(req nf /nowhere)" "unknown path"
is_json_error nf
assert_eq 405 "$(req m /health -X DELETE)" "DELETE /health"

# --- bodies over 64 KiB --------------------------------------------------------------------------------------
head -c 70000 /dev/zero | tr '\0' x >"$W/big"
assert_eq 413 "$(req big /run -X POST -H 'Content-Type: application/json' --data-binary @"$W/big")" "70000-byte body"
is_json_error big
assert_eq 413 "$(req bigc /run -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$W/big")" "chunked 70000-byte body"
# over 1 MiB: answered before the body is read (the client asks with Expect: 100-continue and sends nothing more)
head -c $((2 << 20)) /dev/zero | tr '\0' x >"$W/huge"
assert_eq 413 "$(req huge /run -X POST -H 'Expect: 100-continue' --data-binary @"$W/huge")" "2 MiB body"
is_json_error huge

# --- too many connections: the oldest half-sent ones make room, the daemon goes on --------------------------
python3 - "$PORT" "$CERT" >"$W/conn.out" 2>&1 <<'PY' || die "connection flood: $(cat "$W/conn.out")"
import socket, ssl, subprocess, sys, time
port, cert = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(300):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.append(s)
time.sleep(0.5)
# While 300 sockets are held, a new client still gets its answer: connections over the per-address limit (64)
# are refused at accept, and of those that sent no request only the newest SERVER_MAX_PENDING (32) are kept.
r = subprocess.run(["curl", "-sS", "--max-time", "5", "--cacert", cert, f"https://127.1:{port}/health"],
                   capture_output=True, text=True)
print("during:", r.returncode, r.stdout, r.stderr.strip())
assert r.returncode == 0 and r.stdout == "OK", "a client was locked out by 300 idle sockets"
closed = 0
for s in held:
    s.settimeout(0.05)
    try:
        if s.recv(1) == b"": closed += 1
    except (socket.timeout, BlockingIOError): pass
    except OSError: closed += 1
print("closed by the server:", closed)
assert closed >= 300 - 32, f"only {closed} of 300 connections refused or cut"
for s in held: s.close()
PY
info "$(tr '\n' ' ' <"$W/conn.out")"
sleep 0.3
kill -0 "$PID" 2>/dev/null || die "daemon died under the connection flood"
assert_eq 200 "$(req after /health)" "/health after the flood"

# --- SIGTERM: a clean exit 0, one log line per request ------------------------------------------------------
kill -TERM "$PID"
rc=0; wait "$PID" || rc=$?
assert_eq 0 "$rc" "exit code after SIGTERM"
grep -q 'stack serve: stopped' "$LOG" || die "no 'stopped' line: $(tail -5 "$LOG")"
grep -q '^[0-9T:-]*Z info GET /health 421 ' "$LOG" || die "no log line for the wrong Host"
grep -q '^[0-9T:-]*Z info GET /runs 401 ' "$LOG" || die "no log line for a refused token"
n=$(grep -c '^[0-9T:-]*Z info GET /health 200 ' "$LOG")
[ "$n" -ge 5 ] || die "expected a log line per /health request, found $n"
info "ok"
