#!/usr/bin/env bash
# The differential test (spec/run.md "What the Engine was asked for"): a corpus of compose files (sandboxed
# shapes like the tests' own, and hostile variants generated here: each known-dangerous key in its spellings)
# goes through `stack config` (the policy's verdict). Each file the policy accepts is then created, never
# started, with the compose tool straight from the effective file (`up --no-start`), and what the Engine holds is
# compared with the policy's promises: no Privileged, no CapAdd, no host or other containers' namespaces,
# no-new-privileges, binds only under the run dir or the data dir, no Docker socket, no volume driver options,
# ports on 127.0.0.1 only, the stack's limits set, the json-file log driver, no devices, ulimits or negative
# OOM score. A file the policy accepts whose containers get anything else fails the test.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-diff:$$"
U=df$$
on_exit "$D ps -aq --filter label=io.stack.difftest=$U | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D volume ls -q --filter label=io.stack.difftest=$U | xargs -r $D volume rm -f >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
COMPOSE=(docker-compose)
[ "$STACK_RUNTIME" = "docker compose" ] && COMPOSE=("$D" compose)

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
ln -sf busybox "$W/rootfs/bin/sleep"
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null
mkdir -p "$W/victim"

# ---- the corpus: NAME<TAB>a service's extra lines (indented 4) | optional top-level lines, from a here-doc ----
BASE="    image: $TAG
    command: [sleep, \"3600\"]"
declare -A SVC TOP
add() { SVC[$1]=$2; TOP[$1]=${3:-}; }
# sandboxed shapes (accepted, and their containers must keep to the sandbox)
add plain ""
add ports "    ports: [\"8080\", \"127.0.0.1::81\", {target: 82}]"
add named-volume "    volumes: [\"data:/data\", {type: volume, source: data2, target: /d2}]" "volumes: {data: {}, data2: {}}"
add relative-bind "    volumes: [\"./state:/state\", \"./conf/app.conf:/etc/app.conf:ro\"]"
add tmpfs-volume "    volumes: [\"tv:/t\"]" "volumes: {tv: {driver_opts: {type: tmpfs, device: tmpfs, o: size=1m}}}"
add depends "    depends_on: [db]
  db:
$BASE"
add anchors "    <<: &common {environment: {A: '1'}}
    labels: {x: y}"
add limits-lower "    mem_limit: 64m
    cpus: 0.25
    pids_limit: 20"
add network "    networks: [back]" "networks: {back: {}}"
add security-nnp "    security_opt: [\"no-new-privileges:true\"]"
# hostile variants: each dangerous key, in the spellings compose accepts
add privileged "    privileged: true"
add privileged-str "    privileged: \"true\""
add privileged-yes "    privileged: yes"
add privileged-merge "    !!merge innocent: {privileged: true}"
add privileged-merge-quoted "    !!merge \"<<\": {privileged: true}"
add privileged-anchor "    <<: *evil" "x-evil: &evil {privileged: true}"
add cap-add "    cap_add: [SYS_ADMIN]"
add cap-add-all "    cap_add: [ALL]"
add host-network "    network_mode: host"
add host-network-upper "    network_mode: HOST"
add host-pid "    pid: host"
add host-ipc "    ipc: host"
add userns "    userns_mode: host"
add uts "    uts: host"
add cgroup-parent "    cgroup_parent: /evil"
add root-bind "    volumes: [\"/:/host\"]"
add root-bind-long "    volumes: [{type: bind, source: /, target: /host}]"
add dotdot-bind "    volumes: [\"./x/../../../../../../:/host\"]"
add docker-sock "    volumes: [\"/var/run/docker.sock:/s\"]"
add docker-sock-run "    volumes: [\"/run/docker.sock:/s\"]"
add proc-volume "    volumes: [\"p:/p\"]" "volumes: {p: {driver_opts: {type: proc, device: proc}}}"
add overlay-volume "    volumes: [\"o:/o\"]" "volumes: {o: {driver_opts: {type: overlay, o: lowerdir=/etc}}}"
add bind-volume "    volumes: [\"b:/b\"]" "volumes: {b: {driver_opts: {type: none, o: bind, device: /etc}}}"
add other-volume "    volumes: [\"v:/v\"]" "volumes: {v: {name: stack-victim${U}_data}}"
add seccomp "    security_opt: [\"seccomp:unconfined\"]"
add apparmor "    security_opt: [\"apparmor=unconfined\"]"
add nnp-false "    security_opt: [\"no-new-privileges:false\"]"
add devices "    devices: [\"/dev/null:/dev/x\"]"
add ports-all "    ports: [\"0.0.0.0:8081:80\"]"
add ports-long "    ports: [{target: 80, published: 8082, host_ip: 0.0.0.0}]"
add ports-v6 "    ports: [\"[::]:8083:80\"]"
add ulimits "    ulimits: {nofile: {soft: 1048576, hard: 1048576}, rtprio: 99}"
add oom "    oom_score_adj: -1000"
add oom-disable "    oom_kill_disable: true"
add logging "    logging: {driver: syslog, options: {syslog-address: \"tcp://127.0.0.1:1\"}}"
add memswap "    mem_limit: 64m
    memswap_limit: -1"
add limits-raise "    mem_limit: 8g
    cpus: 4
    pids_limit: -1"
add volumes-from "    volumes_from: [\"container:victim$U\"]"
add netns-container "    network_mode: \"container:victim$U\""
add pidns-container "    pid: \"container:victim$U\""
add sysctl "    sysctls: {kernel.shm_rmid_forced: 1}"

# the victim: another project's container, volume and the names hostile files reach for
"$D" volume create --label io.stack.difftest=$U "stack-victim${U}_data" >/dev/null
"$D" create --name "victim$U" --label io.stack.difftest=$U "$TAG" sleep 1 >/dev/null

# what the created projects made (never started), removed at the end in one go: containers, networks, volumes
cleanup_projects() {
  local ids
  ids=$("$D" ps -a --filter label=com.docker.compose.project --format '{{.ID}} {{.Label "com.docker.compose.project"}}' |
    awk -v u="$U" '$2 ~ "^diff-.*-" u "$" {print $1}')
  [ -z "$ids" ] || "$D" rm -f $ids >/dev/null 2>&1 || true
  ids=$("$D" network ls --format '{{.Name}}' | grep -E "^diff-.*-$U" || true)
  [ -z "$ids" ] || "$D" network rm $ids >/dev/null 2>&1 || true
  ids=$("$D" volume ls -q | grep -E "^diff-.*-$U" || true)
  [ -z "$ids" ] || "$D" volume rm -f $ids >/dev/null 2>&1 || true
  "$D" rm -f "victim$U" >/dev/null 2>&1 || true
  "$D" volume rm -f "stack-victim${U}_data" >/dev/null 2>&1 || true # used by other-volume's container until now
}
on_exit cleanup_projects
RESULTS=$W/results
: >"$RESULTS"
n_acc=0 n_ref=0
for name in $(printf '%s\n' "${!SVC[@]}" | sort); do
  slug=d-$name-$U
  dir=$W/b/$slug
  mkdir -p "$dir/state" "$dir/conf"
  : >"$dir/conf/app.conf"
  cat >"$dir/stack.yaml" <<Y
slug: $slug
name: diff $name
flavor: DockerCompose
version: "1"
description: differential test stack
author: tests
license: MIT
resources: {cpus: 0.5, memory: 128m, pids: 64}
Y
  { [ -z "${TOP[$name]}" ] || printf '%s\n' "${TOP[$name]}"
    printf 'services:\n  web:\n%s\n' "$BASE"
    [ -z "${SVC[$name]}" ] || printf '%s\n' "${SVC[$name]}"
  } >"$dir/compose.yaml"
  "$S" pack "$dir" -o "$W/$slug.stack" >/dev/null 2>&1 || die "$name: pack failed"
  "$S" import "$W/$slug.stack" >/dev/null 2>&1 || die "$name: import failed"
  set +e
  "$S" config "$slug" --offline >"$dir/.stack-compose.yaml" 2>"$W/$slug.err"
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    [ "$rc" = 3 ] || die "$name: stack config exited $rc: $(cat "$W/$slug.err")"
    n_ref=$((n_ref + 1))
    printf '%s\trefused\t%s\n' "$name" "$(head -c 160 "$W/$slug.err")" >>"$RESULTS"
    continue
  fi
  n_acc=$((n_acc + 1))
  # created from the effective file, in the bundle's dir as the run dir, never started
  proj=diff-$name-$U
  if ! (cd "$dir" && "${COMPOSE[@]}" -p "$proj" -f .stack-compose.yaml --project-directory . up --no-start) \
        >"$W/$slug.up" 2>&1; then
    printf '%s\taccepted, compose refused to create it\n' "$name" >>"$RESULTS"
    continue
  fi
  verdict=$(python3 - "$D" "$proj" "$dir" "$STACK_HOME/data/$slug" <<'PY'
import json, os, subprocess, sys
docker, proj, run_dir, data_dir = sys.argv[1:5]
def sh(*a): return subprocess.check_output([docker, *a]).decode()
ids = sh("ps", "-aq", "--filter", "label=com.docker.compose.project=" + proj).split()
bad = []
inside = lambda p, d: p == d or p.startswith(d.rstrip("/") + "/")
real = lambda p: os.path.realpath(p)
if not ids: bad.append("no container was created")
for c in json.loads(sh("inspect", *ids)) if ids else []:
    h, who = c["HostConfig"], c["Name"].lstrip("/")
    def no(cond, what):
        if cond: bad.append(f"{who}: {what}")
    no(h.get("Privileged"), "Privileged")
    no(h.get("CapAdd"), f"CapAdd {h.get('CapAdd')}")
    for k in ("NetworkMode", "PidMode", "IpcMode", "UsernsMode", "UTSMode"):
        v = h.get(k) or ""
        no(v == "host" or v.startswith("container:"), f"{k} {v}")
    no(h.get("CgroupParent"), "CgroupParent")
    so = h.get("SecurityOpt") or []
    no("no-new-privileges:true" not in so and "no-new-privileges" not in so, f"SecurityOpt {so}")
    no([o for o in so if "unconfined" in o], f"SecurityOpt {so}")
    no(h.get("Devices") or h.get("DeviceCgroupRules") or h.get("DeviceRequests"), "Devices")
    import resource
    for u in h.get("Ulimits") or []:
        if u["Name"] in ("memlock", "nproc"):
            continue  # bounded by Memory and PidsLimit, checked below
        lim = getattr(resource, "RLIMIT_" + u["Name"].upper(), None)
        hard = resource.getrlimit(lim)[1] if lim is not None else 0
        no(lim is None or u["Soft"] < 0 or u["Hard"] < 0 or u["Soft"] > u["Hard"] or
           (hard != resource.RLIM_INFINITY and u["Hard"] > hard), f"Ulimits {u}")
    no((h.get("OomScoreAdj") or 0) < 0 or h.get("OomKillDisable"), "OomScoreAdj/OomKillDisable")
    no((h.get("LogConfig") or {}).get("Type") not in ("json-file", ""), f"LogConfig {h.get('LogConfig')}")
    no(h.get("VolumesFrom"), f"VolumesFrom {h.get('VolumesFrom')}")
    for k in h.get("Sysctls") or {}:  # namespaced ones only, net.* in the container's own network
        no(not (k.startswith(("kernel.shm", "kernel.msg", "fs.mqueue.")) or k == "kernel.sem" or
                (k.startswith("net.") and h.get("NetworkMode") != "host")), f"Sysctls {k}")
    no(h.get("PublishAllPorts"), "PublishAllPorts")
    for port, binds in (h.get("PortBindings") or {}).items():
        for b in binds or []:
            no(b.get("HostIp") != "127.0.0.1", f"port {port} on [{b.get('HostIp')}]")
    no(not h.get("Memory") or h["Memory"] > 128 << 20, f"Memory {h.get('Memory')}")
    no(h.get("MemorySwap") == -1, "MemorySwap -1")
    no(not (h.get("NanoCpus") or h.get("CpuQuota")) or (h.get("NanoCpus") or 0) > 5e8, f"NanoCpus {h.get('NanoCpus')}")
    no(not h.get("PidsLimit") or h["PidsLimit"] > 64 or h["PidsLimit"] < 0, f"PidsLimit {h.get('PidsLimit')}")
    for m in c.get("Mounts") or []:
        if m["Type"] == "bind":
            src = real(m["Source"])
            no("docker.sock" in src, f"bind of {src}")
            no(not (inside(src, real(run_dir)) or inside(src, real(data_dir)) or inside(src, data_dir)),
               f"bind of {m['Source']} ({src})")
        elif m["Type"] == "volume":
            v = json.loads(sh("volume", "inspect", m["Name"]))[0]
            no(v["Driver"] != "local", f"volume {v['Name']} driver {v['Driver']}")
            o = v.get("Options") or {}
            no(o and o.get("type") != "tmpfs", f"volume {v['Name']} options {o}")
            no((v.get("Labels") or {}).get("com.docker.compose.project") not in (proj, None),
               f"volume {v['Name']} of project {(v.get('Labels') or {}).get('com.docker.compose.project')}")
            no(v["Name"].startswith("stack-victim"), f"the victim's volume {v['Name']}")
print("; ".join(bad) if bad else "ok")
PY
)
  printf '%s\taccepted\t%s\n' "$name" "$verdict" >>"$RESULTS"
done
sort "$RESULTS" >&2
info "$n_acc accepted (created and inspected), $n_ref refused by the policy"
# sandboxed shapes must be accepted (failing closed must not refuse them)
for name in plain ports named-volume relative-bind tmpfs-volume depends anchors limits-lower network security-nnp; do
  grep -q "^$name	accepted	ok$" "$RESULTS" || die "the sandboxed shape '$name' was not accepted and kept to the sandbox: $(grep "^$name	" "$RESULTS")"
done
bad=$(awk -F'\t' '$2 == "accepted" && $3 != "ok"' "$RESULTS")
[ -z "$bad" ] || die "the policy accepted files whose containers get more than it promises:
$bad"
"$D" volume inspect "stack-victim${U}_data" >/dev/null || die "the victim's volume is gone"
