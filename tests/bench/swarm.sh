#!/usr/bin/env bash
# Docker Swarm (issue 23), measured in this one run:
#  a. deploying the two-service test stack (tests/e2e/swarm_lib.sh: web + db with a data dir and a volume) on the
#     single-node swarm of the Engine (`stack run --swarm`, which returns once every service has its replicas)
#     against plain compose (`stack run`), each followed by `stack rm`; median of 5, alternating. For reference,
#     the Engine's own part: `docker stack deploy` of the same stack written as a swarm file by hand (until both
#     services are 1/1) against `docker-compose up -d` of its compose file.
#  b. a fresh node getting a version's image: a dockerd with an empty data root in a network namespace
#     (tests/lib/swarm.sh, a 2-node swarm joined by a veth link), `docker pull MANAGER:PORT/repo@sha256:...` from
#     the registry on the manager (Debian's docker-registry, the program stack's managed registry runs) against
#     `docker save` on the manager + cp + `docker load` on the node; median of 5, alternating, the node's images
#     removed before each. The image: busybox + three layers of random data (32 + 24 + 16 MiB; RUN and COPY).
# Needs root (b), the Engine as a swarm manager or in no swarm (a inits one and leaves it again), docker-registry,
# docker-compose. Run: bash tests/bench/swarm.sh (or scripts/bench). Prints; never fails. BUILD=build by default.
set -uo pipefail
cd "$(dirname "$0")/../.."
export STACK_BIN=$PWD/${BUILD:-build}/stack STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
. tests/e2e/lib.sh
. tests/e2e/image_lib.sh
. tests/e2e/swarm_lib.sh
. tests/lib/swarm.sh
. tests/bench/lib.sh # secs, median, ratio, fmt, mib
set +e
S=$STACK_BIN
D=$(docker_cmd)
U=$$
TAG="stack-bench/swbusybox:$U"
A=swba$U # on the swarm
B=swbb$U # on compose
P=swbraw$U # the hand-written baseline: stack namespace and compose project
ROUNDS=${SWARM_BENCH_ROUNDS:-5}
new_tmpdir W
new_home
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(free_port)
printf '{"swarm": {"registry_port": %s}}\n' "$RP" >"$STACK_HOME/config.json"
on_exit "'$S' swarm registry stop"
on_exit "swstack_cleanup $A $B; $D stack rm $P; docker-compose -p $P -f '$W/raw/compose.yaml' down -v"
on_exit "$D ps -aq --filter label=com.docker.compose.project=stack-$B | xargs -r $D rm -f"
on_exit "sleep 2; $D volume ls -q --filter label=com.docker.stack.namespace=$P | xargs -r $D volume rm -f"
on_exit "$D images --no-trunc --format '{{.Repository}} {{.ID}}' | awk '\$1 ~ /^127\\.0\\.0\\.1:$RP\\// {print \$2}' | sort -u | xargs -r $D rmi -f"
on_exit "$D rmi -f $TAG"
# alternate OURS THEIRS: ROUNDS rounds, each running OURS then THEIRS (functions printing a time in seconds, or
# "-"); om and tm: the medians of each.
alternate() {
  local o=() t=() i
  for i in $(seq 1 "$ROUNDS"); do
    o+=("$("$1")")
    t+=("$("$2")")
  done
  om=$(median "${o[@]}") tm=$(median "${t[@]}")
}
# wait_gone NAMESPACE: until no container of the swarm stack NAMESPACE is left (so rounds do not overlap)
wait_gone() {
  for _ in $(seq 1 150); do
    [ -z "$($D ps -aq --filter "label=com.docker.stack.namespace=$1")" ] && return 0
    sleep 0.2
  done
}

# ---- a. single-node swarm vs compose ----------------------------------------------------------------------
state=$("$D" info -f '{{.Swarm.LocalNodeState}}')
if [ "$state" = inactive ]; then
  "$D" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$(free_port)" >/dev/null && on_exit "$D swarm leave --force"
  state=$("$D" info -f '{{.Swarm.LocalNodeState}}')
fi
swstack_image
swstack_mk $A 1.0
swstack_mk $B 1.0
"$S" import "$W/$A-1.0.stack" >/dev/null
"$S" import "$W/$B-1.0.stack" >/dev/null
printf 'swarm: conditions: %s cores; Engine %s (%s swarm); docker-compose %s; docker-registry %s; stack %s\n' \
  "$(nproc)" "$("$D" version -f '{{.Server.Version}}' 2>/dev/null)" "$state" "$(docker-compose version --short 2>/dev/null)" \
  "$(dpkg-query -W -f='${Version}' docker-registry 2>/dev/null || echo '?')" "$(git describe --always --dirty 2>/dev/null)"

if [ "$state" = active ]; then
  info "a. stack run --swarm vs stack run (compose), median of $ROUNDS"
  on_swarm() {
    secs "$S" run $A --swarm || echo -
    "$S" rm $A >/dev/null 2>&1
    wait_gone "stack-$A"
  }
  on_compose() {
    secs "$S" run $B || echo -
    "$S" rm $B >/dev/null 2>&1
  }
  alternate on_swarm on_compose
  printf 'swarm: a. deploy of the two-service stack: stack run --swarm %s; stack run (compose) %s; ratio %s (median of %s)\n' \
    "$(fmt "$om")" "$(fmt "$tm")" "$(ratio "$om" "$tm")" "$ROUNDS"

  # The Engine's part alone: the same stack by hand, with what the swarm backend writes (host-mode port, dnsrr,
  # the data node's constraint, the image the Engine has).
  "$D" load -q -i "$W/busybox.tar" >/dev/null
  mkdir -p "$W/raw/data"
  sed -n '/^services:/,$p' "$W/$A-1.0/compose.yaml" >"$W/raw/compose.yaml"
  sed -i "s#\./data:/data#$W/raw/data:/data#" "$W/raw/compose.yaml"
  node=$("$D" info -f '{{.Swarm.NodeID}}')
  python3 - "$W/raw/compose.yaml" "$W/raw/swarm.yml" "$node" "$(free_port)" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["version"] = "3.8"
web, db = c["services"]["web"], c["services"]["db"]
web["ports"] = [{"target": 8080, "published": int(sys.argv[4]), "mode": "host"}]
for s in (web, db):
    s["deploy"] = {"endpoint_mode": "dnsrr", "replicas": 1}
db["deploy"]["placement"] = {"constraints": ["node.id==" + sys.argv[3]]}
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
PY
  raw_swarm() {
    local s e
    s=$(date +%s.%N)
    "$D" stack deploy -c "$W/raw/swarm.yml" $P >/dev/null 2>&1 || { echo -; return; }
    for _ in $(seq 1 600); do
      [ "$("$D" service ls --filter "label=com.docker.stack.namespace=$P" --format '{{.Replicas}}' | sort | tr '\n' ' ')" = "1/1 1/1 " ] && break
      sleep 0.05
    done
    e=$(date +%s.%N)
    echo "$e - $s" | bc -l
    "$D" stack rm $P >/dev/null 2>&1
    wait_gone $P
  }
  raw_compose() {
    secs docker-compose -p $P -f "$W/raw/compose.yaml" up -d || echo -
    docker-compose -p $P -f "$W/raw/compose.yaml" down >/dev/null 2>&1
  }
  alternate raw_swarm raw_compose
  printf 'swarm: a. for reference, the Engine alone: docker stack deploy until 1/1 %s; docker-compose up -d %s; ratio %s (median of %s)\n' \
    "$(fmt "$om")" "$(fmt "$tm")" "$(ratio "$om" "$tm")" "$ROUNDS"
else
  printf 'swarm: a. not measured: the Engine is in a swarm but no manager of it (%s)\n' "$state"
fi

# ---- b. a fresh node: pull from the registry on the manager vs docker save + cp + docker load ---------------
if [ "$(id -u)" != 0 ]; then
  printf 'swarm: b. not measured: a node in a network namespace needs root\n'
  exit 0
fi
t0=$(date +%s.%N)
swarm_cluster_up 2
printf 'swarm: swarm_cluster_up 2 (two dockerds in network namespaces, init + join, both Ready): %.2f s\n' \
  "$(echo "$(date +%s.%N) - $t0" | bc -l)"
swarm_registry_start "$W/reg"
mkdir -p "$W/big"
DOCKER_HOST="unix://$SWARM_MGR_SOCK" build_busybox_image "$TAG" "$W/bigbb" sh head
head -c $((32 << 20)) /dev/urandom >"$W/big/r1"
head -c $((16 << 20)) /dev/urandom >"$W/big/r3"
printf 'FROM %s\nCOPY r1 /r1\nRUN head -c %s /dev/urandom >/r2\nCOPY r3 /r3\n' "$TAG" $((24 << 20)) >"$W/big/Dockerfile"
REF="$SWARM_REGISTRY/bench/app:1"
swarm_docker 1 build -q -t "$REF" "$W/big" >/dev/null 2>&1 || { printf 'swarm: b. not measured: docker build failed\n'; exit 0; }
swarm_docker 1 push "$REF" >/dev/null 2>&1 || { printf 'swarm: b. not measured: push to %s failed\n' "$SWARM_REGISTRY"; exit 0; }
DIG=$(swarm_docker 1 image inspect -f '{{index .RepoDigests 0}}' "$REF")
size=$(swarm_docker 1 image inspect -f '{{.Size}}' "$REF")
layers=$(swarm_docker 1 image inspect -f '{{len .RootFS.Layers}}' "$REF")
mkdir -p "$SWARM_DIR/n2/files"
fresh() { # node 2 without any image
  local id
  for id in $(swarm_docker 2 images -q); do swarm_docker 2 rmi -f "$id" >/dev/null 2>&1; done
}
by_pull() { fresh; secs swarm_docker 2 pull "$DIG" || echo -; }
by_file() {
  fresh
  rm -f "$W/app.tar" "$SWARM_DIR/n2/files/app.tar"
  secs sh -c "DOCKER_HOST=unix://$(swarm_sock 1) $D save -o '$W/app.tar' '$REF' && cp '$W/app.tar' '$SWARM_DIR/n2/files/app.tar' &&
    DOCKER_HOST=unix://$(swarm_sock 2) $D load -q -i '$SWARM_DIR/n2/files/app.tar'" || echo -
}
info "b. fresh node: pull by digest from the registry on the manager vs docker save + cp + docker load, median of $ROUNDS"
alternate by_pull by_file
printf 'swarm: b. image of %s in %s layers to a fresh node over a veth link: docker pull %s %s; docker save + cp + docker load %s; ratio %s (median of %s)\n' \
  "$(mib "$size")" "$layers" "${DIG#*@}" "$(fmt "$om")" "$(fmt "$tm")" "$(ratio "$om" "$tm")" "$ROUNDS"
