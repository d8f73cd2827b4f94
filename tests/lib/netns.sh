# netns.sh - what scripts/matrix, tests/lib/swarm.sh and tests/e2e/watch-restart.sh share to run Engines in network
# namespaces of their own.
# Source it (bash). Needs root for netns_new.
#   netns_new NAME          a fresh network namespace NAME (an old one of that name is removed first) with its
#                           loopback up; appended to NETNS_MADE, which the caller removes (ip netns del) at exit.
#   engine_ping SOCK        the Engine (or Podman service) on the unix socket SOCK answers GET /_ping with OK.
#   engine_wait SOCK PID    until SOCK answers, for up to 30 s, or PID (the process serving it) is gone;
#                           fails when SOCK does not answer.
#   netns_dockerd NS DIR NAME [DOCKERD-ARGS...]
#                           Debian's dockerd in the network namespace NS and in mount, PID and UTS namespaces of
#                           its own (its mounts and processes, containers included, go away with it; its hostname
#                           NAME), with data root DIR/data, exec root DIR/exec, pidfile DIR/docker.pid, socket
#                           DIR/docker.sock, config DIR/daemon.json ({}: not the machine's), cgroup parent /NAME,
#                           its log appended to DIR/dockerd.log; in the background: NETNS_DOCKERD_PID is the process
#                           to wait for or kill (unshare). Started again on the same DIR, it finds what it left
#                           (images, containers, networks). Wait for it with engine_wait DIR/docker.sock PID.
#                           DIR is short: the exec root holds containerd's sockets (at most 108 bytes a path).
#   netns_dockerd_in PID CMD...
#                           CMD in that dockerd's network, mount and PID namespaces: it sees its containers'
#                           process ids as the Engine reports them (`stack run` checks their processes by them).
#   netns_dockerd_stop PID [SECONDS]
#                           stopped as a service manager stops it: SIGTERM to dockerd, which stops its containers
#                           (their stop signal, then their stop timeout) and exits; waits until it is gone (at
#                           most SECONDS, default 30, then SIGKILL). Containers without a restart policy are
#                           found stopped at the next start, those with `always` are started again.
#   netns_dockerd_kill PID NAME
#                           it disappears: dockerd, containerd and the containers killed (SIGKILL), then the
#                           cgroups under /NAME removed (those alone when PID is empty: a dockerd stopped before).
NETNS_MADE=()

netns_new() {
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1" || return 1
  NETNS_MADE+=("$1")
  ip -n "$1" link set lo up
}

engine_ping() { [ "$(curl -fsS --max-time 3 --unix-socket "$1" http://localhost/_ping 2>/dev/null)" = OK ]; }

engine_wait() {
  local i
  for i in $(seq 1 300); do
    engine_ping "$1" && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  engine_ping "$1"
}

netns_dockerd() {
  local ns=$1 d=$2 name=$3
  shift 3
  mkdir -p "$d/data" "$d/exec"
  echo '{}' >"$d/daemon.json"
  rm -f "$d/docker.sock"
  unshare -m -u -p --fork --kill-child --mount-proc --propagation private -- \
    sh -c 'hostname "$1"; shift; exec nsenter --net="$0" -- "$@"' \
    "/run/netns/$ns" "$name" /usr/sbin/dockerd -H "unix://$d/docker.sock" --data-root "$d/data" \
    --exec-root "$d/exec" --pidfile "$d/docker.pid" --config-file "$d/daemon.json" --cgroup-parent "/$name" "$@" \
    >>"$d/dockerd.log" 2>&1 </dev/null &
  NETNS_DOCKERD_PID=$!
}

# The init of unshare's PID namespace: dockerd (sh and nsenter exec it).
_netns_dockerd_init() {
  local c=
  read -r c _ 2>/dev/null <"/proc/$1/task/$1/children" || true
  echo "$c"
}

netns_dockerd_in() {
  local init
  init=$(_netns_dockerd_init "$1")
  shift
  [ -n "$init" ] || return 1
  nsenter -t "$init" -n -m -p -- "$@"
}

netns_dockerd_stop() {
  local pid=$1 t=${2:-30} init
  init=$(_netns_dockerd_init "$pid")
  [ -z "$init" ] || kill -TERM $init 2>/dev/null || true
  for _ in $(seq 1 $((t * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

netns_dockerd_kill() {
  local pid=$1 name=$2 cg
  if [ -n "$pid" ]; then
    # The namespace's init (dockerd) first, so that unshare reaps it (this machine's pid 1 may reap nothing);
    # unshare then exits. Killing unshare itself (--kill-child) covers an init not yet there.
    kill -KILL $(_netns_dockerd_init "$pid") 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  for _ in $(seq 1 50); do
    [ -z "$(cat /sys/fs/cgroup/pids/"$name"/*/cgroup.procs 2>/dev/null)" ] && break
    sleep 0.1
  done
  for cg in /sys/fs/cgroup/*/"$name"; do
    [ -d "$cg" ] || continue
    find "$cg" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
    rmdir "$cg" 2>/dev/null || true
  done
}
