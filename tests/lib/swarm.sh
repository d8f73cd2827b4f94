# swarm.sh - a Docker Swarm cluster of real Engines on this machine, for the multi-node swarm tests (issue 23):
# tests/e2e/swarm-nodes.sh and tests/bench/swarm.sh. Source it after tests/e2e/lib.sh (it uses die, info,
# on_exit, docker_cmd). Needs root (network namespaces, mounts) and Debian's docker.io (/usr/sbin/dockerd).
#
# Each node is Debian's dockerd in a network namespace of its own (and private mount, PID and UTS namespaces: its
# mounts and processes, containers included, go away with it; its hostname is the node's name), with its own data
# root, exec root, pidfile, socket and cgroup parent under this run's directory. The nodes are joined by veth links to
# a bridge in one more namespace of the test's own; their addresses are SWARM_SUBNET.1 (the manager), .2, .3 (a /24 of
# 10.231.0.0/16 the test assigns; no route out of the namespaces, no address outside them). Node 1 runs `docker swarm
# init --advertise-addr` on its address, the others join as workers. Every node trusts the managed registry's address
# on the manager over plain HTTP (--insecure-registry SWARM_REGISTRY). The dispatcher's heartbeat is 1 s, so a node
# that disappears is Down for the manager within seconds. The kernel has no IPVS: service VIPs and the ingress routing
# mesh do not answer here; dnsrr services and host-mode published ports do.
#
# Calling sequence:
#   swarm_cluster_up N          N (2 or 3) nodes, node 1 the manager, the others workers, every node Ready;
#                               exports SWARM_MGR_SOCK, SWARM_MGR_ADDR, SWARM_REGISTRY (SWARM_MGR_ADDR:
#                               SWARM_REGISTRY_PORT, default 45000: the managed registry's documented port),
#                               SWARM_NODES (N); swarm_cluster_down runs at exit. Nodes start with no image.
#   swarm_ns I                  the name of node I's network namespace (1 = the manager).
#   swarm_addr I, swarm_sock I, swarm_node_id I, swarm_hostname I: node I's address, socket, swarm node ID,
#                               hostname.
#   swarm_docker I ARGS...      the docker client against node I.
#   swarm_in I CMD...           CMD in node I's network namespace, with DOCKER_HOST=node I's socket (how stack
#                               and its front door run "on the manager").
#   swarm_load I FILE.tar       `docker load` of FILE into node I (the test image goes to the manager only).
#   swarm_registry_start DIR    Debian's docker-registry on SWARM_REGISTRY in the manager's namespace (for
#                               the infrastructure check and the bench, when stack's managed one is not used);
#                               stopped at exit (swarm_registry_stop).
#   swarm_block_registry I / swarm_unblock_registry I: node I's connections to the registry refused (a REJECT
#                               rule in its own namespace) / allowed again.
#   swarm_node_kill I           node I disappears: its dockerd, containerd and containers killed (SIGKILL).
#   swarm_wait_node_state I STATE [SECONDS]: until the manager sees node I as STATE (ready, down).
#   swarm_verify IMAGE          the cluster works as the tests need: the registry on the manager reachable from
#                               node 2 (IMAGE, a busybox image on the manager, pushed there and pulled by digest
#                               on node 2), an overlay network across nodes 1 and 2 (a dnsrr service on each
#                               pinging the other by name), a host-mode published port of a task on node 2
#                               answering from the manager's namespace. Needs swarm_registry_start first.
#   swarm_cluster_down          everything removed: dockerds (and their containers), any process left in the
#                               nodes' namespaces (stack's registry, its front door), the namespaces, data roots.
#                               Safe to call twice.
# Run directly (`bash tests/lib/swarm.sh`), it starts 2 nodes, runs swarm_verify and prints the timings.

. "$(dirname "${BASH_SOURCE[0]}")/netns.sh" # netns_new, engine_wait, netns_dockerd (shared with scripts/matrix)

SWARM_PREFIX=${SWARM_PREFIX:-sw}
SWARM_REGISTRY_PORT=${SWARM_REGISTRY_PORT:-45000}
SWARM_SUBNET=${SWARM_SUBNET:-10.231.$(($$ % 250))} # the first three octets; .1 .. .N are the nodes
SWARM_ID="$SWARM_PREFIX$$"                          # names of this run's namespaces, hostnames, cgroups
SWARM_DIR=
SWARM_NODES=0
SWARM_PIDS=()  # dockerd pid of each node (index = node number)
SWARM_REGISTRY_PID=
_SWARM_CLEANUP=

swarm_ns() { printf '%s-n%s\n' "$SWARM_ID" "$1"; }
swarm_addr() { printf '%s.%s\n' "$SWARM_SUBNET" "$1"; }
swarm_sock() { printf '%s/n%s/docker.sock\n' "$SWARM_DIR" "$1"; }
swarm_hostname() { printf '%s-n%s\n' "$SWARM_ID" "$1"; }
swarm_docker() {
  local i=$1
  shift
  DOCKER_HOST="unix://$(swarm_sock "$i")" "$(docker_cmd)" "$@"
}
swarm_in() {
  local i=$1
  shift
  nsenter --net="/run/netns/$(swarm_ns "$i")" -- env DOCKER_HOST="unix://$(swarm_sock "$i")" "$@"
}
swarm_node_id() { swarm_docker "$1" info -f '{{.Swarm.NodeID}}'; }
swarm_load() { swarm_docker "$1" load -q -i "$2" >/dev/null || die "docker load of $2 into node $1 failed"; }

# _swarm_dockerd I [DOCKERD-ARGS...]: node I's dockerd started in its namespaces, in the background.
_swarm_dockerd() {
  local i=$1
  shift
  netns_dockerd "$(swarm_ns "$i")" "$SWARM_DIR/n$i" "$(swarm_hostname "$i")" --insecure-registry "$SWARM_REGISTRY" "$@"
  SWARM_PIDS[$i]=$NETNS_DOCKERD_PID
}

_swarm_wait_dockerd() { # I
  local i=$1 s
  s=$(swarm_sock "$i")
  engine_wait "$s" "${SWARM_PIDS[$i]}" && return 0
  tail -n 20 "$SWARM_DIR/n$i/dockerd.log" >&2
  die "node $i's dockerd did not answer on $s (log $SWARM_DIR/n$i/dockerd.log)"
}

swarm_cluster_up() {
  local n=${1:-2} i br token a
  [ "$n" -ge 2 ] && [ "$n" -le 3 ] || die "swarm_cluster_up: 2 or 3 nodes, not $n"
  [ "$(id -u)" = 0 ] || die "the multi-node swarm needs root (network namespaces, mounts)"
  [ -x /usr/sbin/dockerd ] || die "no /usr/sbin/dockerd (run scripts/install-deps)"
  if [ -z "$_SWARM_CLEANUP" ]; then
    _SWARM_CLEANUP=1
    on_exit swarm_cluster_down
  fi
  # Short paths: the exec root holds containerd's sockets (at most 108 bytes a path).
  SWARM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$SWARM_ID.XXXX")
  SWARM_NODES=$n SWARM_MGR_ADDR=$(swarm_addr 1)
  SWARM_REGISTRY="$SWARM_MGR_ADDR:$SWARM_REGISTRY_PORT" SWARM_MGR_SOCK=$(swarm_sock 1)
  export SWARM_NODES SWARM_MGR_ADDR SWARM_REGISTRY SWARM_MGR_SOCK SWARM_DIR
  br="$SWARM_ID-br"
  netns_new "$br" || die "ip netns add $br failed"
  ip -n "$br" link add br0 type bridge
  ip -n "$br" link set br0 up
  for i in $(seq 1 "$n"); do
    netns_new "$(swarm_ns "$i")" || die "ip netns add $(swarm_ns "$i") failed"
    ip -n "$br" link add "v$i" type veth peer name eth0 netns "$(swarm_ns "$i")"
    ip -n "$br" link set "v$i" master br0 up
    ip -n "$(swarm_ns "$i")" addr add "$(swarm_addr "$i")/24" dev eth0
    ip -n "$(swarm_ns "$i")" link set eth0 up
    _swarm_dockerd "$i"
  done
  for i in $(seq 1 "$n"); do _swarm_wait_dockerd "$i"; done
  a=$SWARM_MGR_ADDR
  swarm_docker 1 swarm init --advertise-addr "$a" --listen-addr "$a:2377" >/dev/null \
    || die "docker swarm init on node 1 failed"
  # A node that stops answering is Down within a few seconds (the default heartbeat is 5 s).
  swarm_docker 1 swarm update --dispatcher-heartbeat 1s >/dev/null
  token=$(swarm_docker 1 swarm join-token -q worker)
  for i in $(seq 2 "$n"); do
    swarm_docker "$i" swarm join --token "$token" --advertise-addr "$(swarm_addr "$i")" \
      --listen-addr "$(swarm_addr "$i"):2377" "$a:2377" >/dev/null || die "node $i could not join the swarm"
  done
  for i in $(seq 2 "$n"); do swarm_wait_node_state "$i" ready 30; done
}

# swarm_wait_node_state I STATE [SECONDS]: the manager's view of node I (by hostname) reaches STATE.
swarm_wait_node_state() {
  local i=$1 want=$2 t=${3:-60} st=
  for _ in $(seq 1 $((t * 5))); do
    st=$(swarm_docker 1 node inspect -f '{{.Status.State}}' "$(swarm_hostname "$i")" 2>/dev/null || true)
    [ "$st" = "$want" ] && return 0
    sleep 0.2
  done
  die "node $i ($(swarm_hostname "$i")) is '$st' for the manager, not '$want', after $t s"
}

# swarm_node_kill I: node I disappears: its dockerd, containerd and containers killed, its cgroups removed.
swarm_node_kill() {
  local pid=${SWARM_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  netns_dockerd_kill "$pid" "$(swarm_hostname "$1")"
  SWARM_PIDS[$1]=
}

swarm_registry_start() {
  local dir=$1
  [ -x /usr/bin/docker-registry ] || die "docker-registry is not installed (run scripts/install-deps)"
  mkdir -p "$dir/data"
  printf 'version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
    "$dir" "$SWARM_REGISTRY" >"$dir/config.yml"
  nsenter --net="/run/netns/$(swarm_ns 1)" -- /usr/bin/docker-registry serve "$dir/config.yml" \
    >>"$dir/registry.log" 2>&1 </dev/null & # nsenter execs it: $! is the registry
  SWARM_REGISTRY_PID=$!
  for _ in $(seq 1 100); do
    [ "$(swarm_in 1 curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$SWARM_REGISTRY/v2/")" = 200 ] && return 0
    kill -0 "$SWARM_REGISTRY_PID" 2>/dev/null || die "docker-registry exited at start (log $dir/registry.log)"
    sleep 0.1
  done
  die "docker-registry did not answer on $SWARM_REGISTRY within 10 s"
}

swarm_registry_stop() {
  [ -n "$SWARM_REGISTRY_PID" ] || return 0
  kill "$SWARM_REGISTRY_PID" 2>/dev/null || true
  wait "$SWARM_REGISTRY_PID" 2>/dev/null || true
  SWARM_REGISTRY_PID=
}

swarm_block_registry() {
  ip netns exec "$(swarm_ns "$1")" iptables -I OUTPUT -d "$SWARM_MGR_ADDR" -p tcp --dport "$SWARM_REGISTRY_PORT" \
    -j REJECT --reject-with tcp-reset || die "could not block node $1's way to the registry"
}
swarm_unblock_registry() {
  ip netns exec "$(swarm_ns "$1")" iptables -D OUTPUT -d "$SWARM_MGR_ADDR" -p tcp --dport "$SWARM_REGISTRY_PORT" \
    -j REJECT --reject-with tcp-reset 2>/dev/null || true
}

# _swarm_tasks_running SERVICE [SECONDS]: until every task the service should run is running (on node 1's view).
_swarm_tasks_running() {
  local svc=$1 t=${2:-60} want have
  for _ in $(seq 1 $((t * 5))); do
    want=$(swarm_docker 1 service ps -q --filter desired-state=running "$svc" 2>/dev/null | wc -l)
    have=$(swarm_docker 1 service ps --filter desired-state=running --format '{{.CurrentState}}' "$svc" 2>/dev/null |
      grep -c '^Running' || true)
    [ "$want" -gt 0 ] && [ "$want" = "$have" ] && return 0
    sleep 0.2
  done
  swarm_docker 1 service ps --no-trunc "$svc" >&2 || true
  die "service $svc: its tasks are not running after $t s"
}

swarm_verify() {
  local img=$1 net=swv$$ c out h2 port ref
  h2=$(swarm_hostname 2)
  # The image every node pulls, from the registry on the manager, by digest.
  ref="$SWARM_REGISTRY/swarmtest/busybox:$$"
  swarm_docker 1 tag "$img" "$ref"
  swarm_docker 1 push "$ref" >/dev/null || die "push to the registry on the manager ($SWARM_REGISTRY) failed"
  ref="$SWARM_REGISTRY/swarmtest/busybox@$(swarm_docker 1 image inspect -f '{{index .RepoDigests 0}}' "$ref" | sed 's/.*@//')"
  swarm_docker 2 pull "$ref" >/dev/null || die "node 2 could not pull $ref from the registry on the manager"
  info "the registry on the manager ($SWARM_REGISTRY) serves node 2 (pulled $ref)"

  swarm_docker 1 network create -d overlay --attachable "$net" >/dev/null
  for i in 1 2; do
    swarm_docker 1 service create -q -d --name "${net}w$i" --network "$net" --endpoint-mode dnsrr \
      --constraint "node.hostname==$(swarm_hostname "$i")" "$ref" sleep 600 >/dev/null
  done
  _swarm_tasks_running "${net}w1"
  _swarm_tasks_running "${net}w2"
  c=$(swarm_docker 1 ps -q --filter "label=com.docker.swarm.service.name=${net}w1")
  [ -n "$c" ] || die "no task of ${net}w1 on the manager"
  out=""
  for _ in $(seq 1 20); do
    out=$(swarm_docker 1 exec "$c" ping -c 1 -W 2 "${net}w2" 2>&1) && break
    sleep 0.5
  done
  grep -q ' 0% packet loss' <<<"$out" || die "overlay: ${net}w1 on node 1 cannot ping ${net}w2 on node 2: $out"
  c=$(swarm_docker 2 ps -q --filter "label=com.docker.swarm.service.name=${net}w2")
  out=$(swarm_docker 2 exec "$c" ping -c 1 -W 2 "${net}w1" 2>&1) || die "overlay: node 2 -> node 1: $out"
  info "overlay network $net spans nodes 1 and 2 (dnsrr services ping each other by name)"

  port=$((20000 + $$ % 20000))
  swarm_docker 1 service create -q -d --name "${net}web" --publish "mode=host,target=8080,published=$port" \
    --constraint "node.hostname==$h2" "$ref" sh -c 'mkdir -p /www && echo "page from $(hostname)" >/www/index.html && exec httpd -f -p 8080 -h /www' >/dev/null
  _swarm_tasks_running "${net}web"
  out=""
  for _ in $(seq 1 50); do
    out=$(swarm_in 1 curl -fsS --max-time 2 "http://$(swarm_addr 2):$port/" 2>/dev/null) && break
    sleep 0.2
  done
  case "$out" in "page from "*) ;; *) die "host-mode port $port of a task on node 2 does not answer from node 1: [$out]" ;; esac
  info "a host-mode port of a task on node 2 answers from the manager's namespace ($(swarm_addr 2):$port)"
  swarm_docker 1 service rm "${net}w1" "${net}w2" "${net}web" >/dev/null
  for _ in $(seq 1 50); do swarm_docker 1 network rm "$net" >/dev/null 2>&1 && break; sleep 0.2; done
}

swarm_cluster_down() {
  local i ns p
  [ -n "$SWARM_DIR" ] || return 0
  swarm_registry_stop
  # Nothing of a node is kept: its PID namespace goes at once (no graceful dockerd shutdown to wait for).
  for i in $(seq 1 "$SWARM_NODES"); do swarm_node_kill "$i"; done
  # What the test started in the nodes' namespaces and left running (stack's registry, its front door), by pid:
  # a namespace outlives its deletion while a process is in it.
  for ns in "${NETNS_MADE[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
  done
  sleep 0.5
  for ns in "${NETNS_MADE[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  NETNS_MADE=()
  # The Engines' mounts went with their mount namespaces; what is left is plain files.
  rm -rf "$SWARM_DIR"
  SWARM_DIR=
}

if [ "${BASH_SOURCE[0]}" == "$0" ]; then
  . "$(dirname "$0")/../e2e/lib.sh"
  . "$(dirname "$0")/../e2e/image_lib.sh"
  new_tmpdir _W
  t0=$(date +%s.%N)
  swarm_cluster_up "${1:-2}"
  t1=$(date +%s.%N)
  info "swarm_cluster_up ${1:-2}: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s"
  mkdir -p "$_W/bb"
  DOCKER_HOST="unix://$SWARM_MGR_SOCK" build_busybox_image "swarmtest/busybox:$$" "$_W/bb" sh sleep ping httpd mkdir echo hostname
  swarm_registry_start "$_W/reg"
  swarm_verify "swarmtest/busybox:$$"
  t2=$(date +%s.%N)
  info "swarm_verify: $(echo "$t2 - $t1" | bc -l | xargs printf '%.2f') s"
  swarm_cluster_down
  info "swarm_cluster_down: $(echo "$(date +%s.%N) - $t2" | bc -l | xargs printf '%.2f') s"
fi
