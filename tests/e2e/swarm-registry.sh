#!/usr/bin/env bash
# The managed registry (issue 23, "Images every node can pull"; run/swarm-registry.h), against Debian's
# docker-registry and the real Engine, driven by tests/e2e/tool-swreg (built beside the binary). A private
# STACK_HOME and a free port (as tests/lib/registry.sh chooses them: ctest -j2 runs tests side by side).
# Checks: the registry starts on loopback with its storage in the store and answers GET /v2/; an image of two
# layers (busybox-static + 8 MiB) pushed by id comes back as <host>/<repo>@sha256:... and the Engine keeps only
# the names it had; pushed again (already there) it is fast and names the same digest (both timed); removed from
# the Engine, `docker pull <host>/<repo>@sha256:...` gives back the same image id; killed, the registry is started
# again by the next ensure with its data; a port held by another program, or by another store's registry, is a
# clear error and leaves that one alone; bad settings are exit 2; a named registry starts nothing; stop leaves no
# process, and a push then fails naming the image (the Engine's names as before); removing registry/ stops it too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
T=$(dirname "$STACK_BIN")/tool-swreg
[ -x "$T" ] || die "$T is not built"
[ -x /usr/bin/docker-registry ] || die "docker-registry is not installed (run scripts/install-deps)"
D=$(docker_cmd)
NS=swregtest-$$ # this run's image names: removed at exit
on_exit "$D images --format '{{.Repository}}:{{.Tag}}' | grep -e '^$NS/' -e '/$NS/' | xargs -r $D rmi -f"
new_tmpdir W
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pidfile() { cat "$STACK_HOME/registry/registry.pid" 2>/dev/null || true; }
# running PID: the process exists and has not exited (a zombie whose parent has not reaped it has)
running() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! awk '{sub(/.*\) /, ""); exit !($1 == "Z" || $1 == "X")}' "/proc/$1/stat"; }
set_config() { printf '%s\n' "$1" >"$STACK_HOME/config.json"; }

new_home
H1=$STACK_HOME
on_exit "STACK_HOME='$H1' '$T' stop"
P=$(free_port)
set_config "{\"swarm\": {\"registry_port\": $P}}"

info "ensure: docker-registry on 127.0.0.1:$P, storage in the store"
assert_exit 0 "$T" ensure
HOST=$LAST_STDOUT
assert_eq "127.0.0.1:$P" "$HOST" "registry host"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$HOST/v2/")" = 200 ] || die "GET /v2/ did not answer 200"
PID=$(pidfile)
running "$PID" || die "no registry process in the pid file"
assert_eq /usr/bin/docker-registry "$(readlink "/proc/$PID/exe")" "the process's program"
grep -q "rootdirectory: \"$H1/registry/data\"" "$H1/registry/config.yml" || die "storage is not under the store"
grep -q 'addr: "127.0.0.1:'"$P"'"' "$H1/registry/config.yml" || die "not listening on loopback"
assert_exit 0 "$T" status
assert_eq "managed $PID answers $HOST" "$LAST_STDOUT" "status"
assert_exit 0 "$T" ensure
assert_eq "$PID" "$(pidfile)" "a second ensure keeps the running registry"

info "an image of two layers (busybox-static, 8 MiB) pushed twice"
build_busybox_image "$NS/bb:1" "$W/bb" sh cat
mkdir -p "$W/app"
head -c $((8 << 20)) /dev/urandom >"$W/app/blob"
printf 'FROM %s\nCOPY blob /blob\n' "$NS/bb:1" >"$W/app/Dockerfile"
"$D" build -q -t "$NS/app:1" "$W/app" >/dev/null 2>&1 || die "docker build failed"
ID=$("$D" image inspect -f '{{.Id}}' "$NS/app:1")
assert_eq 2 "$("$D" image inspect -f '{{len .RootFS.Layers}}' "$ID")" "layers"
assert_exit 0 "$T" push "$HOST" "$NS/app:1" "$ID"
REF=$LAST_STDOUT
FIRST=$(printf '%s\n' "$LAST_STDERR" | sed -n 's/^push: \([0-9]*\) ms$/\1/p')
[[ "$REF" =~ ^$HOST/$NS/app@sha256:[0-9a-f]{64}$ ]] || die "push answered [$REF]"
assert_exit 0 "$T" push "$HOST" "$NS/app:1" "$ID"
AGAIN=$(printf '%s\n' "$LAST_STDERR" | sed -n 's/^push: \([0-9]*\) ms$/\1/p')
assert_eq "$REF" "$LAST_STDOUT" "the same image pushed again"
info "push of $(( $("$D" image inspect -f '{{.Size}}' "$ID") >> 20 )) MiB in 2 layers: first ${FIRST} ms, again (already there) ${AGAIN} ms"
assert_eq "[$NS/app:1]" "$("$D" image inspect -f '{{.RepoTags}}' "$ID")" "the Engine's names after the push"
assert_eq "[]" "$("$D" image inspect -f '{{.RepoDigests}}' "$ID")" "the Engine's digests after the push"
# a reference by digest alone is pushed under a tag made from the image id
assert_exit 0 "$T" push "$HOST" "registry.example:5000/$NS/app@sha256:$(printf '%064d' 0)" "$ID"
assert_eq "$REF" "$LAST_STDOUT" "a reference by digest, from another registry"
curl -fsS "http://$HOST/v2/$NS/app/tags/list" | grep -q "\"stack-${ID:7:12}\"" || die "no tag from the image id"

info "removed from the Engine, the image comes back by digest with the same id"
"$D" image rm "$NS/app:1" >/dev/null
[ -z "$("$D" image inspect -f '{{.Id}}' "$ID" 2>/dev/null || true)" ] || die "the image is still in the Engine"
"$D" pull -q "$REF" >/dev/null || die "docker pull $REF failed"
assert_eq "$ID" "$("$D" image inspect -f '{{.Id}}' "$REF")" "the pulled image id"
"$D" tag "$ID" "$NS/app:1"
"$D" image rm "$REF" >/dev/null

info "killed, the registry is started again by the next ensure, with its data"
kill -9 "$PID"
for _ in $(seq 1 50); do running "$PID" || break; sleep 0.1; done
assert_exit 0 "$T" status
assert_eq "managed 0 silent $HOST" "$LAST_STDOUT" "status of a killed registry"
assert_exit 0 "$T" ensure
PID2=$(pidfile)
running "$PID2" && [ "$PID2" != "$PID" ] || die "no new registry process"
curl -fsS -o /dev/null -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$HOST/v2/$NS/app/manifests/${REF##*@}" || die "the pushed manifest is gone after a restart"

info "another store on the same port: a clear error, the first store's registry left alone"
new_home
H2=$STACK_HOME
set_config "{\"swarm\": {\"registry_port\": $P}}"
assert_exit 5 "$T" ensure
grep -q "cannot listen on $HOST: the port is in use by another program (a registry that is not this store's answers there)" <<<"$LAST_STDERR" || die "message: $LAST_STDERR"
grep -q registry_port <<<"$LAST_STDERR" || die "the message does not say how to choose a port: $LAST_STDERR"
mkdir -p "$H2/registry"
echo "$PID2" >"$H2/registry/registry.pid" # a pid file naming a process this store did not start
assert_exit 0 "$T" stop
running "$PID2" || die "another store's stop killed the first store's registry"

info "a port another program holds"
Q=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("ready", flush=True); time.sleep(60)' "$Q" >"$W/holder.out" &
HOLDER=$!
on_exit "kill $HOLDER"
for _ in $(seq 1 50); do grep -q ready "$W/holder.out" && break; sleep 0.1; done
set_config "{\"swarm\": {\"registry_port\": $Q}}"
assert_exit 5 "$T" ensure
grep -q "cannot listen on 127.0.0.1:$Q: the port is in use by another program; set" <<<"$LAST_STDERR" || die "message: $LAST_STDERR"
kill "$HOLDER"

info "bad settings are exit 2; a named registry starts nothing"
for bad in '{"swarm": {"registry_port": "x"}}' '{"swarm": {"registry_port": 70000}}' \
  '{"swarm": {"registry_addr": "localhost"}}' '{"swarm": {"registry": "https://r.example/v2"}}' \
  '{"swarm": {"registry_host": "r"}}' '{"swarm": []}'; do
  set_config "$bad"
  assert_exit 2 "$T" ensure
  grep -q "$H2/config.json: " <<<"$LAST_STDERR" || die "the message does not name the file: $LAST_STDERR"
done
set_config '{"swarm": {"default": true, "registry": "registry.lan:5000", "engines": {}}}'
assert_exit 0 "$T" ensure
assert_eq registry.lan:5000 "$LAST_STDOUT" "a named registry"
[ ! -e "$H2/registry/config.yml" ] || die "a named registry started one"

info "stop leaves no process; a second stop is fine"
STACK_HOME=$H1
SUP=$(awk '{sub(/.*\) /, ""); print $2}' "/proc/$PID2/stat")
assert_eq stack-registry "$(cat "/proc/$SUP/comm")" "the supervisor's name"
assert_exit 0 "$T" stop
! running "$PID2" || die "the registry still runs after stop"
! running "$SUP" || die "its supervisor still runs after stop"
[ ! -e "$H1/registry/registry.pid" ] || die "the pid file is left"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$HOST/v2/" || true)" = 000 ] || die "something still answers on $HOST"
assert_exit 0 "$T" stop
[ -d "$H1/registry/data/docker" ] || die "stop removed the data"
assert_exit 5 "$T" push "$HOST" "$NS/app:1" "$ID"
grep -q "pushing $HOST/$NS/app:1: .*connection refused" <<<"$LAST_STDERR" || die "push to a stopped registry: $LAST_STDERR"
assert_eq "[$NS/app:1]" "$("$D" image inspect -f '{{.RepoTags}}' "$ID")" "the Engine's names after a failed push"

info "registry/ removed: its supervisor stops it"
assert_exit 0 "$T" ensure
PID3=$(pidfile)
rm -rf "$H1/registry"
for _ in $(seq 1 100); do running "$PID3" || break; sleep 0.1; done
! running "$PID3" || die "the registry outlived its directory"
info "ok"
