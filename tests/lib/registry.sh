# registry.sh - a real registry on loopback and test images in it, for the registry-image tests (issue 21):
# tests/e2e/registry.sh and tests/bench/registry.sh. Source it after tests/e2e/lib.sh and image_lib.sh (it uses
# die, info, on_exit, docker_cmd, build_busybox_image).
#
# Calling sequence:
#   registry_start DIR [PORT]   Debian's `docker-registry serve DIR/config.yml` on 127.0.0.1 (a free port, or
#                               PORT: a restart keeps its address and DIR/data); waits until GET /v2/ answers;
#                               exports REGISTRY=127.0.0.1:PORT, REGISTRY_PORT, REGISTRY_DIR. Stopped at exit.
#   registry_stop               stops it (its data stays; registry_start DIR "$REGISTRY_PORT" brings it back).
#   registry_serve_500          a python3 server answering 500 to everything on $REGISTRY (after
#                               registry_stop); registry_stop stops it too.
#   registry_blob_gets          how many blob GETs (GET /v2/.../blobs/sha256:...) DIR/registry.log holds.
#   regimg_setup DIR [BYTES]    the shared base: busybox-static + a 4 MiB (or BYTES) random file, built once
#                               (kept as DIR/base.tar so it can come back after regimg_rm_engine --all).
#   regimg_app NAME TAG BYTES   FROM base + its own BYTES random layer, tagged $REGISTRY/$REGIMG_NS/NAME:TAG and
#                               pushed; regimg_move_tag NAME TAG BYTES does it again (new bytes, same tag).
#   regimg_ref NAME TAG, regimg_digest REF, regimg_layers REF, regimg_rm_engine [--all]: see below.
# Every image it makes is removed from the Engine at exit (only those: names carry this run's prefix or the
# registry's port).

REGIMG_NS=${REGIMG_NS:-stacktest}
REGIMG_LOCAL="regtest-$$" # this run's local-only images (busybox, the base)
REGISTRY_PID= # the docker-registry, or the 500 server, that serves $REGISTRY now
_REGISTRY_CLEANUP=

_registry_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# _registry_wait WHAT STATUS: wait until GET /v2/ on $REGISTRY answers HTTP STATUS.
_registry_wait() {
  local i
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY/v2/" 2>/dev/null)" = "$2" ] && return 0
    kill -0 "$REGISTRY_PID" 2>/dev/null || die "$1 exited at start (log: $REGISTRY_DIR/registry.log)"
    sleep 0.1
  done
  die "$1 did not answer on $REGISTRY within 10 s"
}

registry_start() {
  local dir=$1 port=${2:-} i
  [ -x /usr/bin/docker-registry ] || die "docker-registry is not installed (run scripts/install-deps)"
  [ -n "$port" ] || port=$(_registry_free_port)
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<Y
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
Y
  REGISTRY="127.0.0.1:$port" REGISTRY_PORT=$port REGISTRY_DIR=$dir
  export REGISTRY REGISTRY_PORT REGISTRY_DIR
  # The registry logs (access log included) to stdout and stderr: one file, appended across restarts.
  /usr/bin/docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
  REGISTRY_PID=$!
  if [ -z "$_REGISTRY_CLEANUP" ]; then
    _REGISTRY_CLEANUP=1
    on_exit "registry_stop; regimg_rm_engine --all"
  fi
  _registry_wait docker-registry 200
}

registry_stop() {
  [ -n "$REGISTRY_PID" ] || return 0
  kill "$REGISTRY_PID" 2>/dev/null || true
  wait "$REGISTRY_PID" 2>/dev/null || true
  REGISTRY_PID=
}

registry_serve_500() {
  python3 - "$REGISTRY_PORT" </dev/null >>"$REGISTRY_DIR/registry.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = b'{"errors":[{"code":"UNKNOWN","message":"test: internal error"}]}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  REGISTRY_PID=$!
  _registry_wait "the 500 server" 500
}

# registry_blob_gets: the blob downloads the registry served so far (its access log).
registry_blob_gets() {
  grep -c '"GET /v2/[^ ]*/blobs/sha256:' "$REGISTRY_DIR/registry.log" || true
}

# regimg_ref NAME TAG: the image's name in the registry.
regimg_ref() { printf '%s/%s/%s:%s\n' "$REGISTRY" "$REGIMG_NS" "$1" "$2"; }

regimg_setup() {
  local dir=$1 bytes=${2:-$((4 << 20))} d
  d=$(docker_cmd)
  REGIMG_DIR=$dir
  mkdir -p "$dir/bb" "$dir/base"
  build_busybox_image "$REGIMG_LOCAL/busybox:1" "$dir/bb" sh sleep httpd cat wc ls
  head -c "$bytes" /dev/urandom >"$dir/base/base.bin"
  printf 'FROM %s\nCOPY base.bin /base.bin\n' "$REGIMG_LOCAL/busybox:1" >"$dir/base/Dockerfile"
  "$d" build -q -t "$REGIMG_LOCAL/base:1" "$dir/base" >/dev/null 2>&1 || die "docker build of the base image failed"
  "$d" save -o "$dir/base.tar" "$REGIMG_LOCAL/base:1"
}

# _regimg_base: the base image in the Engine again (loaded from its saved file: the same layers).
_regimg_base() {
  local d
  d=$(docker_cmd)
  "$d" image inspect "$REGIMG_LOCAL/base:1" >/dev/null 2>&1 || "$d" load -q -i "$REGIMG_DIR/base.tar" >/dev/null
}

# regimg_app NAME TAG BYTES: build FROM base + a layer of its own (BYTES random bytes at /own), push it.
regimg_app() {
  local name=$1 tag=$2 bytes=$3 ref dir d
  d=$(docker_cmd)
  ref=$(regimg_ref "$name" "$tag")
  dir="$REGIMG_DIR/app-$name-$tag-$RANDOM$RANDOM"
  mkdir -p "$dir"
  _regimg_base
  head -c "$bytes" /dev/urandom >"$dir/own"
  printf 'FROM %s\nCOPY own /own\n' "$REGIMG_LOCAL/base:1" >"$dir/Dockerfile"
  "$d" build -q -t "$ref" "$dir" >/dev/null 2>&1 || die "docker build of $ref failed"
  "$d" push "$ref" >/dev/null 2>&1 || die "docker push of $ref failed"
}

# regimg_move_tag NAME TAG BYTES: the tag now names another image (a different own layer); checks it moved.
regimg_move_tag() {
  local old
  old=$(regimg_digest "$(regimg_ref "$1" "$2")")
  regimg_app "$@"
  [ "$(regimg_digest "$(regimg_ref "$1" "$2")")" != "$old" ] || die "the tag $1:$2 did not move"
}

# regimg_digest REF: the registry's manifest digest for REF (sha256:...), as a pull by digest names it.
regimg_digest() {
  local ref=$1 path
  path=${ref#"$REGISTRY"/}
  curl -fsSI --max-time 5 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/${path%:*}/manifests/${path##*:}" | tr -d '\r' | awk -F': ' 'tolower($1) == "docker-content-digest" {print $2}'
}

# regimg_layers REF: the diff IDs (sha256 of each layer tar, the names the store gives layer objects) of the
# Engine's image REF, one a line, bottom first (busybox, base, own).
regimg_layers() {
  "$(docker_cmd)" image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' "$1" | sed -n 's/^sha256://p'
}

# regimg_id REF: the Engine's image ID for REF (sha256:...), empty when it has none.
regimg_id() { "$(docker_cmd)" image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# regimg_rm_engine [--all]: every image of this registry (any tag, pulled by digest too) removed from the Engine;
# --all also this run's local base and busybox. Stop the containers that use them first.
regimg_rm_engine() {
  local d ids all=0 i
  d=$(docker_cmd)
  [ -n "${REGISTRY:-}" ] || return 0
  [ "${1:-}" != --all ] || all=1
  # A parent goes only after its children: a few rounds.
  for i in 1 2 3; do
    ids=$("$d" images --no-trunc --format '{{.Repository}} {{.ID}}' | awk -v r="$REGISTRY/" -v l="$REGIMG_LOCAL/" \
      -v all=$all 'index($1, r) == 1 || (all && index($1, l) == 1) {print $2}' | sort -u)
    [ -n "$ids" ] || return 0
    "$d" rmi -f $ids >/dev/null 2>&1 || true
  done
}
