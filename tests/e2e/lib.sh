# Shared helpers for the end-to-end shell tests. Source it: . "$(dirname "$0")/lib.sh"
# CTest runs each tests/e2e/*.sh as `bash script` with STACK_BIN (the built binary) and STACK_SRC (source dir).
set -euo pipefail

STACK_SRC=${STACK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STACK_BIN=${STACK_BIN:-$STACK_SRC/build/stack}
export STACK_SRC STACK_BIN

_E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# die MSG...: report a failure and exit 1.
die() {
  printf '%s: FAIL: %s\n' "$_E2E_NAME" "$*" >&2
  exit 1
}

# info MSG...: progress line on stderr.
info() { printf '%s: %s\n' "$_E2E_NAME" "$*" >&2; }

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
  [ "$1" == "$2" ] || die "${3:-value}: expected [$1], got [$2]"
}

# assert_exit CODE CMD...: run CMD, check it exits CODE; its stdout/stderr land in $LAST_STDOUT/$LAST_STDERR.
LAST_STDOUT=
LAST_STDERR=
LAST_EXIT=
assert_exit() {
  local want=$1; shift
  local out err
  out=$(mktemp) err=$(mktemp)
  set +e
  "$@" >"$out" 2>"$err"
  LAST_EXIT=$?
  set -e
  LAST_STDOUT=$(cat "$out")
  LAST_STDERR=$(cat "$err")
  rm -f "$out" "$err"
  if [ "$LAST_EXIT" != "$want" ]; then
    printf '%s: stdout of [%s]:\n%s\n' "$_E2E_NAME" "$*" "$LAST_STDOUT" >&2
    printf '%s: stderr of [%s]:\n%s\n' "$_E2E_NAME" "$*" "$LAST_STDERR" >&2
    die "[$*] exited $LAST_EXIT, expected $want"
  fi
}

# Cleanup: paths removed and commands run when the test exits (whatever the outcome).
_E2E_CLEAN_PATHS=()
_E2E_CLEAN_CMDS=()
_e2e_cleanup() {
  local rc=$? c p
  for c in "${_E2E_CLEAN_CMDS[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
  for p in "${_E2E_CLEAN_PATHS[@]}"; do
    # The store keeps objects read-only: make them writable so rm can remove them.
    chmod -R u+w "$p" 2>/dev/null || true
    rm -rf "$p"
  done
  return "$rc"
}
trap _e2e_cleanup EXIT

# on_exit CMD: run CMD (a string, eval'ed) at exit.
on_exit() { _E2E_CLEAN_CMDS+=("$1"); }

# new_tmpdir VAR: make a temp dir, removed at exit, and store its path in VAR (call it directly, not in $(...)).
new_tmpdir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/stack-e2e.XXXXXX")
  _E2E_CLEAN_PATHS+=("$d")
  printf -v "$1" '%s' "$d"
}

# new_home: a fresh, empty store home, exported as STACK_HOME and removed at exit.
# Call it directly (not in $(...)), so the export and the cleanup reach this shell.
# A run with routes starts the front door (spec/proxy.md): on a free port (STACK_PROXY_PORT, unless set), not
# 443/80, and stopped at exit.
new_home() {
  STACK_HOME=$(mktemp -d "${TMPDIR:-/tmp}/stack-e2e-home.XXXXXX")
  _E2E_CLEAN_PATHS+=("$STACK_HOME")
  export STACK_HOME
  if [ -z "${STACK_PROXY_PORT:-}" ]; then
    STACK_PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    export STACK_PROXY_PORT
  fi
  _E2E_CLEAN_CMDS+=("STACK_HOME='$STACK_HOME' '$STACK_BIN' proxy stop >/dev/null 2>&1 || true")
  _E2E_CLEAN_CMDS+=("_e2e_rm_projects '$STACK_HOME'")
}

# _e2e_rm_projects HOME: the compose projects of HOME's runs (containers, then networks) taken off the Engine, so
# a test that failed or stopped early does not leak networks (the Engine has about 30 address pools).
_e2e_rm_projects() {
  local d slug ids dk
  dk=$(docker_cmd 2>/dev/null) || return 0
  for d in "$1"/runs/*; do
    [ -d "$d" ] || continue
    slug=$(basename "$d")
    ids=$("$dk" ps -aq --filter "label=com.docker.compose.project=stack-$slug" 2>/dev/null || true)
    [ -z "$ids" ] || "$dk" rm -f $ids >/dev/null 2>&1 || true
    ids=$("$dk" ps -aq --filter "label=io.stack.slug=$slug" 2>/dev/null || true) # stack--<escaped> projects
    [ -z "$ids" ] || "$dk" rm -f $ids >/dev/null 2>&1 || true
    ids=$("$dk" network ls -q --filter "label=com.docker.compose.project=stack-$slug" 2>/dev/null || true)
    [ -z "$ids" ] || "$dk" network rm $ids >/dev/null 2>&1 || true
  done
}

# docker_cmd: path of the Docker client to use: $STACK_DOCKER when set (scripts/matrix points it at the client
# of the Engine under test), else Debian's /usr/bin/docker (an unrelated newer client may sit earlier in PATH).
docker_cmd() {
  if [ -n "${STACK_DOCKER:-}" ]; then
    echo "$STACK_DOCKER"
  elif [ -x /usr/bin/docker ]; then
    echo /usr/bin/docker
  elif command -v docker >/dev/null 2>&1; then
    command -v docker
  else
    die "no docker client found (run scripts/install-deps)"
  fi
}

# engine_path PATH: where a path the Engine reports (a volume's Mountpoint) is on this machine: under
# $STACK_ENGINE_ROOT when the Engine runs chrooted there (scripts/matrix), else PATH itself.
engine_path() { printf '%s%s\n' "${STACK_ENGINE_ROOT:-}" "$1"; }

# Run directly (CTest runs every tests/e2e/*.sh, this file included), it checks its own helpers.
if [ "${BASH_SOURCE[0]}" == "$0" ]; then
  assert_eq abc abc "assert_eq"
  assert_exit 3 sh -c 'echo out; echo err >&2; exit 3'
  assert_eq out "$LAST_STDOUT" "assert_exit stdout"
  assert_eq err "$LAST_STDERR" "assert_exit stderr"
  assert_exit 0 true
  ( assert_eq a b ) 2>/dev/null && die "assert_eq accepted a mismatch"
  ( assert_exit 0 false ) 2>/dev/null && die "assert_exit accepted a wrong exit code"
  ( die x ) 2>/dev/null && die "die did not fail"
  new_home
  [ -d "$STACK_HOME" ] || die "new_home made no directory"
  mkdir -p "$STACK_HOME/objects" && touch "$STACK_HOME/objects/f" && chmod -w "$STACK_HOME/objects/f" "$STACK_HOME/objects"
  new_tmpdir t
  [ -d "$t" ] || die "new_tmpdir made no directory"
  # Cleanup runs at exit, even after a failure, and keeps the exit code.
  rc=0; bash -c ". '${BASH_SOURCE[0]}'; new_home; echo \"\$STACK_HOME\" >'$t/h'; on_exit \"echo ran >'$t/ran'\"; die expected" 2>/dev/null || rc=$?
  assert_eq 1 "$rc" "exit code through the EXIT trap"
  [ ! -e "$(cat "$t/h")" ] || die "new_home dir left behind after exit"
  assert_eq ran "$(cat "$t/ran" 2>/dev/null)" "on_exit command"
  case "$(docker_cmd)" in */docker) ;; *) die "docker_cmd: $(docker_cmd)" ;; esac
  info "helpers ok"
fi
