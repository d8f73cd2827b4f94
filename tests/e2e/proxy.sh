#!/usr/bin/env bash
# The front door (spec/proxy.md): a real Caddy started and configured by stack, a loopback HTTP server as the
# upstream, reached with strict TLS verification against stack's own CA (no -k).
. "$(dirname "$0")/lib.sh"

command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
new_home
new_tmpdir WORK

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export STACK_PROXY_PORT=$(free_port)
UP_PORT=$(free_port)
CA=$STACK_HOME/keys/ca.pem
on_exit "'$STACK_BIN' proxy stop"

mkdir -p "$WORK/site"
echo "hello from upstream" >"$WORK/site/index.html"
python3 -m http.server "$UP_PORT" --bind 127.0.0.1 --directory "$WORK/site" >/dev/null 2>&1 &
UP_PID=$!
on_exit "kill $UP_PID"
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$UP_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done

get() { curl -sS --max-time 10 --cacert "$CA" "$@"; }

info "proxy_routes_a_host_to_its_loopback_upstream_with_a_certificate_from_our_ca"
assert_exit 0 "$STACK_BIN" proxy route hello "127.0.0.1:$UP_PORT"
assert_eq "https://hello.stack.localhost:$STACK_PROXY_PORT" "$LAST_STDOUT" "printed address"
assert_eq "hello from upstream" "$(get "https://hello.stack.localhost:$STACK_PROXY_PORT/")" "body through the proxy"
[ -f "$CA" ] || die "no CA at $CA"
assert_eq 600 "$(stat -c %a "$STACK_HOME/keys/ca-key.pem")" "CA key mode"
openssl verify -CAfile "$CA" -purpose sslserver -verify_hostname hello.stack.localhost \
  "$STACK_HOME/proxy/certs/hello.stack.localhost.pem" >/dev/null || die "leaf does not verify with openssl"
openssl x509 -in "$STACK_HOME/proxy/certs/hello.stack.localhost.pem" -noout -text | grep -q "CA:FALSE" \
  || die "leaf is not marked CA:FALSE"

info "proxy_status_names_its_port_and_routes"
assert_exit 0 "$STACK_BIN" proxy status
grep -q "running (pid [0-9]*), https on 127.0.0.1:$STACK_PROXY_PORT" <<<"$LAST_STDOUT" || die "status: $LAST_STDOUT"
grep -q "https://hello.stack.localhost:$STACK_PROXY_PORT .*hello .*-> 127.0.0.1:$UP_PORT" <<<"$LAST_STDOUT" \
  || die "status routes: $LAST_STDOUT"
assert_exit 0 "$STACK_BIN" proxy status --json
assert_eq "$STACK_PROXY_PORT" "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])' <<<"$LAST_STDOUT")" "json port"

info "proxy_admin_socket_is_only_for_this_user"
assert_eq 700 "$(stat -c %a "$STACK_HOME/proxy")" "proxy dir mode"
[ -S "$STACK_HOME/proxy/admin.sock" ] || die "no admin socket"

info "proxy_serves_a_self_refreshing_503_placeholder_with_the_state"
assert_exit 0 "$STACK_BIN" proxy placeholder later waiting
out=$(get -i "https://later.stack.localhost:$STACK_PROXY_PORT/")
grep -q "^HTTP/2 503" <<<"$out" || die "placeholder status: $out"
grep -qi "^refresh: 3" <<<"$out" || die "placeholder has no Refresh header"
grep -q "later is waiting for approval" <<<"$out" || die "placeholder text: $out"
assert_exit 0 "$STACK_BIN" proxy placeholder later failed
grep -q "later failed" <<<"$(get "https://later.stack.localhost:$STACK_PROXY_PORT/")" || die "state not updated"

info "proxy_refuses_a_host_another_stack_holds_and_the_first_keeps_it"
assert_exit 3 "$STACK_BIN" proxy route intruder 127.0.0.1:1 --host hello.stack.localhost
grep -q "hello.stack.localhost is already the address of stack hello; stack intruder cannot claim it" \
  <<<"$LAST_STDERR" || die "duplicate message: $LAST_STDERR"
assert_eq "hello from upstream" "$(get "https://hello.stack.localhost:$STACK_PROXY_PORT/")" "first keeps its route"

info "proxy_passes_websocket_upgrades"
WS_PORT=$(free_port)
python3 "$STACK_SRC/tests/e2e/ws_echo.py" server "$WS_PORT" &
WS_PID=$!
on_exit "kill $WS_PID"
sleep 0.5
assert_exit 0 "$STACK_BIN" proxy route ws "127.0.0.1:$WS_PORT"
assert_eq "101 ping-ws" "$(python3 "$STACK_SRC/tests/e2e/ws_echo.py" client ws.stack.localhost "$STACK_PROXY_PORT" "$CA")" \
  "websocket echo through the proxy"

info "proxy_http_port_redirects_to_https"
HTTP_PORT=$(free_port)
STACK_PROXY_HTTP_PORT=$HTTP_PORT assert_exit 0 "$STACK_BIN" proxy start
loc=$(curl -sS -o /dev/null -w '%{redirect_url}' "http://hello.stack.localhost:$HTTP_PORT/x?y=1")
assert_eq "https://hello.stack.localhost:$STACK_PROXY_PORT/x?y=1" "$loc" "redirect"

info "proxy_removed_route_answers_404"
assert_exit 0 "$STACK_BIN" proxy unroute hello
out=$(get -i "https://hello.stack.localhost:$STACK_PROXY_PORT/")
grep -q "^HTTP/2 404" <<<"$out" || die "removed route: $out"

info "proxy_routes_a_host_to_several_upstreams_and_refuses_what_is_no_address"
DEAD=$(free_port)
assert_exit 0 "$STACK_BIN" proxy route multi "127.0.0.1:$UP_PORT,127.0.0.2:$UP_PORT"
for _ in 1 2 3 4; do # both upstreams answer (the upstream server listens on 127.0.0.1 only: 127.0.0.2 is refused
  # and Caddy retries the other): every request gets the page
  assert_eq "hello from upstream" "$(get "https://multi.stack.localhost:$STACK_PROXY_PORT/")" "multi upstream"
done
python3 -c "import json,sys; r=[x for x in json.load(open(sys.argv[1]))['routes'] if x['slug']=='multi']; \
assert r[0]['upstream']=='127.0.0.1:$UP_PORT,127.0.0.2:$UP_PORT', r" "$STACK_HOME/proxy/routes.json" || die "routes table"
for bad in "localhost:$DEAD" "127.0.0.1:$DEAD,example.org:80" "10.0.0.1:0" "127.0.0.1:$DEAD," ""; do
  assert_exit 2 "$STACK_BIN" proxy route badup "$bad"
done
assert_exit 0 "$STACK_BIN" proxy unroute multi

info "proxy_restart_rebuilds_routes_from_the_table"
assert_exit 0 "$STACK_BIN" proxy route hello "127.0.0.1:$UP_PORT"
assert_exit 0 "$STACK_BIN" proxy stop
curl -sS --max-time 3 --cacert "$CA" "https://hello.stack.localhost:$STACK_PROXY_PORT/" >/dev/null 2>&1 \
  && die "proxy still answers after stop"
assert_exit 0 "$STACK_BIN" proxy status
grep -q "not running" <<<"$LAST_STDOUT" || die "status after stop: $LAST_STDOUT"
assert_exit 0 "$STACK_BIN" proxy start
assert_eq "hello from upstream" "$(get "https://hello.stack.localhost:$STACK_PROXY_PORT/")" "after restart"
assert_exit 0 "$STACK_BIN" proxy stop

info "proxy_port_in_use_is_named_with_STACK_PROXY_PORT"
BUSY=$(free_port)
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$BUSY)); s.listen(); time.sleep(30)" &
BUSY_PID=$!
on_exit "kill $BUSY_PID"
sleep 0.5
STACK_PROXY_PORT=$BUSY assert_exit 5 "$STACK_BIN" proxy start
grep -q "cannot listen on 127.0.0.1:$BUSY (address already in use); set STACK_PROXY_PORT" <<<"$LAST_STDERR" \
  || die "busy port message: $LAST_STDERR"

info "proxy_missing_binary_says_how_to_install_it"
assert_exit 5 env PATH=/nonexistent "$STACK_BIN" proxy start
grep -q "the proxy is not installed: no caddy on PATH; install it with \`apt-get install caddy\`" <<<"$LAST_STDERR" \
  || die "missing caddy message: $LAST_STDERR"

info "ca_prints_its_path_and_the_trust_commands"
assert_exit 0 "$STACK_BIN" ca
grep -q "local CA certificate: $CA" <<<"$LAST_STDOUT" || die "ca path: $LAST_STDOUT"
grep -q "certutil -d sql:\$HOME/.pki/nssdb -A -t C,, -n 'stack local CA' -i $CA" <<<"$LAST_STDOUT" || die "certutil"
grep -q "update-ca-certificates" <<<"$LAST_STDOUT" || die "update-ca-certificates"
assert_exit 0 "$STACK_BIN" ca --path
assert_eq "$CA" "$LAST_STDOUT" "ca --path"

info "ok"
