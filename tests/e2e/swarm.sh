#!/usr/bin/env bash
# stack on a single-node Docker Swarm (issue 23, spec/run.md "Swarm"): the CI Engine, made a swarm manager when it
# is not one (and left again at the end only then). A two-service stack (web routed through the front door, db
# with a data dir and a named volume) run with --swarm: both services 1/1, `stack ps --json` says backend swarm
# with running/desired per service, the page through the front door, db constrained to this node
# (node.id==...), `stack swarm status --json` names the node; hostile bundles (privileged, the Docker socket
# bound, a published port no route uses) refused with exit 3 and no service left; a swarm-only key on a run
# without --swarm: a warning, exit 0; stop: no services, the volume kept; run again; an upgrade to a version
# whose web exits 1: exit 5, the old version running again with the data as before the upgrade; rm --purge: no
# service, no volume, no data dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/swarm_lib.sh"
set -euo pipefail
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
U=$$
TAG="stack-e2e/swbusybox:$U"
A=swa$U        # the two-service stack
N=swn$U        # a compose run with swarm-only keys
H="swh$U"      # hostile bundles: ${H}p (privileged), ${H}s (docker socket), ${H}o (a port no route uses)
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The swarm: this Engine's, or one this test makes (and leaves at the end).
state=$("$D" info -f '{{.Swarm.LocalNodeState}}')
if [ "$state" = inactive ]; then
  info "the Engine is in no swarm: docker swarm init on 127.0.0.1 (left again at exit)"
  "$D" swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$(free_port)" >/dev/null || die "docker swarm init failed"
  on_exit "$D swarm leave --force"
elif [ "$state" != active ] || [ "$("$D" info -f '{{.Swarm.ControlAvailable}}')" != true ]; then
  die "the Engine is in a swarm but no manager of it ($state): this test needs a manager"
fi
NODE_ID=$("$D" info -f '{{.Swarm.NodeID}}')
NODE_HOST=$("$D" node inspect self -f '{{.Description.Hostname}}')

# stack's managed registry on a port of this run's own (45000 is the default; another suite may hold it).
RP=$(free_port)
printf '{"swarm": {"registry_port": %s}}\n' "$RP" >"$STACK_HOME/config.json"
on_exit "'$S' swarm registry stop"
on_exit "for f in '$STACK_HOME'/registry/*.pid; do p=\$(cat \"\$f\"); [ \"\$(readlink /proc/\$p/exe)\" = /usr/bin/docker-registry ] && kill \$p; done"
on_exit "swstack_cleanup $A $N ${H}p ${H}s ${H}o"
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^sw[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f"
# the images the tasks ran: pulled by digest from this run's registry (127.0.0.1:RP/...)
on_exit "$D images --no-trunc --format '{{.Repository}} {{.ID}}' | awk '\$1 ~ /^127\\.0\\.0\\.1:$RP\\// {print \$2}' | sort -u | xargs -r $D rmi -f"
on_exit "$D rmi -f $TAG"

swstack_image
swstack_mk $A 1.0
swstack_mk $A 2.0 broken
assert_exit 0 "$S" import "$W/$A-1.0.stack"
assert_exit 0 "$S" import "$W/$A-2.0.stack"
"$D" rmi -f "$TAG" >/dev/null # stack loads it from the bundle
DATA=$STACK_HOME/data/$A/data

info "swarm_run_deploys_both_services_with_their_replicas"
assert_exit 0 "$S" run $A@1.0 --swarm
swstack_wait_replicas $A "stack-${A}_db 1/1
stack-${A}_web 1/1" 10

info "swarm_ps_json_says_backend_swarm_and_replicas"
assert_eq swarm "$(swstack_ps $A 'r["backend"]')" "ps backend"
replicas() { swstack_ps $A '" ".join("%s %s/%s" % (s["name"].split("_")[-1], s["running"], s["desired"]) for s in sorted(r["services"], key=lambda s: s["name"]))'; }
for _ in $(seq 1 20); do [ "$(replicas)" = "db 1/1 web 1/1" ] && break; sleep 0.5; done
[ "$(replicas)" = "db 1/1 web 1/1" ] || die "ps services running/desired: [$(replicas)]; the tasks: $("$D" service ps --no-trunc "stack-${A}_web" "stack-${A}_db")"
node=$(swstack_ps $A '[t["node"] for s in r["services"] for t in s["tasks"]][0]')
[ "$node" = "$NODE_HOST" ] || [ "$node" = "$NODE_ID" ] || die "ps: the node of a task is [$node], not $NODE_HOST ($NODE_ID)"
assert_eq running "$(swstack_ps $A 'r["state"]')" "ps state"

info "swarm_frontdoor_serves_the_web_service"
assert_eq "hello from $A 1.0" "$(swstack_get $A)" "page through the front door"

info "swarm_stateful_service_is_constrained_to_the_node_holding_its_data"
cons=$("$D" service inspect -f '{{json .Spec.TaskTemplate.Placement.Constraints}}' "stack-${A}_db")
grep -qF "node.id==$NODE_ID" <<<"$cons" || die "db constraints: $cons (want node.id==$NODE_ID)"
assert_eq "$NODE_HOST" "$(swstack_task_node $A db)" "node of the db task"
for _ in $(seq 1 50); do [ "$(cat "$DATA/version" 2>/dev/null)" = 1.0 ] && break; sleep 0.1; done
assert_eq 1.0 "$(cat "$DATA/version" 2>/dev/null)" "db wrote into the stack's data dir"
echo "written before the upgrade" >"$DATA/marker"

info "swarm_status_json_names_the_node"
assert_exit 0 "$S" swarm status --json
grep -qF "\"$NODE_ID\"" <<<"$LAST_STDOUT" || die "swarm status does not name node $NODE_ID: $LAST_STDOUT"
grep -qF "\"$NODE_HOST\"" <<<"$LAST_STDOUT" || die "swarm status does not name host $NODE_HOST: $LAST_STDOUT"
python3 -c 'import json,sys; json.loads(sys.argv[1])' "$LAST_STDOUT" || die "swarm status --json is not JSON"

info "swarm_refuses_hostile_bundles_and_leaves_no_service"
hostile() { # SLUG SERVICE-LINES
  mkdir -p "$W/$1/images"
  printf 'slug: %s\nname: hostile\nflavor: DockerCompose\nversion: "1"\ndescription: hostile\nauthor: tests\nlicense: MIT\nimages: [images/busybox.tar]\n' \
    "$1" >"$W/$1/stack.yaml"
  printf 'services:\n  web:\n    image: %s\n    command: [sleep, "600"]\n%s\n' "$TAG" "$2" >"$W/$1/compose.yaml"
  cp "$W/busybox.tar" "$W/$1/images/"
  assert_exit 0 "$S" pack "$W/$1" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
hostile ${H}p "    privileged: true"
hostile ${H}s "    volumes: [\"/var/run/docker.sock:/var/run/docker.sock\"]"
OP=$(free_port)
# web is routed (8080, the router labels); 9090 is published besides, which no route uses
hostile ${H}o "    labels:
      traefik.enable: \"true\"
      traefik.http.routers.web.rule: Host(\`${H}o.stack.localhost\`)
      traefik.http.services.web.loadbalancer.server.port: \"8080\"
    ports: [\"$OP:9090\"]"
# its data dir bound, and a placement on a node that does not hold it
hostile ${H}d "    volumes: [\"./data:/data\"]
    deploy:
      placement:
        constraints: [node.hostname==elsewhere]"
for h in ${H}p:privileged ${H}s:docker.sock ${H}o:9090 "${H}d:its placement names node elsewhere"; do
  assert_exit 3 "$S" run "${h%%:*}" --swarm
  grep -qF "${h#*:}" <<<"$LAST_STDERR" || die "${h%%:*}: refused without naming ${h#*:}: $LAST_STDERR"
  assert_eq "" "$(swstack_services "${h%%:*}")" "services left by the refused ${h%%:*}"
  assert_eq "" "$("$D" service ls -q --filter "label=com.docker.stack.namespace=stack-${h%%:*}-probe")" "probe services of ${h%%:*}"
done
assert_eq "hello from $A 1.0" "$(swstack_get $A)" "page after the refusals"

info "swarm_only_key_on_a_compose_run_is_a_warning"
swstack_mk $N 1.0 "" "      placement:
        constraints: [node.role==manager]
      update_config: {parallelism: 1, failure_action: rollback}"
assert_exit 0 "$S" import "$W/$N-1.0.stack"
assert_exit 0 "$S" run $N
grep -q "placement.*swarm" <<<"$LAST_STDERR" || die "no warning about deploy.placement: $LAST_STDERR"
grep -q "update_config.*swarm" <<<"$LAST_STDERR" || die "no warning about deploy.update_config: $LAST_STDERR"
assert_eq "" "$(swstack_services $N)" "services of a compose run"
assert_eq 1 "$("$D" ps -q --filter label=com.docker.compose.project=stack-$N --filter label=com.docker.compose.service=web | wc -l)" \
  "web containers of the compose run"
assert_exit 0 "$S" rm $N --purge

info "swarm_stop_removes_the_services_and_keeps_the_volume"
assert_exit 0 "$S" stop $A
swstack_wait_replicas $A "" 30
[ -n "$("$D" volume ls -q --filter "name=stack-${A}_vol")" ] || die "stop removed the volume"
assert_eq "written before the upgrade" "$(cat "$DATA/marker")" "data dir after stop"
assert_eq stopped "$(swstack_ps $A 'r["state"]')" "ps state after stop"

info "swarm_run_again_brings_it_back"
assert_exit 0 "$S" run $A@1.0 # the recorded run is on the swarm: it stays there
swstack_wait_replicas $A "stack-${A}_db 1/1
stack-${A}_web 1/1" 10
assert_eq "hello from $A 1.0" "$(swstack_get $A)" "page after run again"

info "swarm_upgrade_to_a_broken_version_rolls_back_with_the_data"
before=$(cd "$DATA" && find . -type f -exec sha256sum {} + | LC_ALL=C sort | sha256sum)
vol=$(engine_path "$("$D" volume inspect -f '{{.Mountpoint}}' "stack-${A}_vol")")
assert_exit 5 "$S" upgrade $A --to 2.0
grep -qi "roll" <<<"$LAST_STDERR" || die "no rollback said: $LAST_STDERR"
assert_eq 1.0 "$(swstack_ps $A 'r["version"]')" "version after the failed upgrade"
swstack_wait_replicas $A "stack-${A}_db 1/1
stack-${A}_web 1/1" 60
assert_eq "hello from $A 1.0" "$(swstack_get $A 30)" "page after the rollback"
assert_eq "written before the upgrade" "$(cat "$DATA/marker")" "data file written before the upgrade"
[ ! -e "$DATA/added-by-2.0" ] || die "a file the broken version added is still there"
assert_eq "$before" "$(cd "$DATA" && find . -type f -exec sha256sum {} + | LC_ALL=C sort | sha256sum)" "data dir after the rollback"
assert_eq 1.0 "$(cat "$vol/version")" "volume after the rollback"
assert_eq "$NODE_HOST" "$(swstack_task_node $A db)" "node of the db task after the rollback"

info "swarm_rm_purge_removes_services_volume_and_data"
assert_exit 0 "$S" rm $A --purge
swstack_wait_replicas $A "" 30
for _ in $(seq 1 50); do [ -z "$("$D" volume ls -q --filter "name=stack-${A}_vol")" ] && break; sleep 0.2; done
assert_eq "" "$("$D" volume ls -q --filter "name=stack-${A}_vol")" "volume after rm --purge"
[ ! -e "$STACK_HOME/data/$A" ] || die "rm --purge kept the data dir"
assert_exit 0 "$S" ps --json
assert_eq "[]" "$(echo "$LAST_STDOUT" | tr -d ' \n')" "runs after rm --purge"
info ok
