# netns.sh - what scripts/matrix and tests/lib/swarm.sh share to run Engines in network namespaces of their own.
# Source it (bash). Needs root for netns_new.
#   netns_new NAME          a fresh network namespace NAME (an old one of that name is removed first) with its
#                           loopback up; appended to NETNS_MADE, which the caller removes (ip netns del) at exit.
#   engine_ping SOCK        the Engine (or Podman service) on the unix socket SOCK answers GET /_ping with OK.
#   engine_wait SOCK PID    until SOCK answers, for up to 30 s, or PID (the process serving it) is gone;
#                           fails when SOCK does not answer.
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
