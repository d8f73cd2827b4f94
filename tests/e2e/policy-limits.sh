#!/usr/bin/env bash
# Limits always (spec/run.md "Limits"), on the real Docker Engine: a bundle with no `resources` gets the
# person's CPU, memory, swap (= memory) and pids limits (docker inspect); $STACK_HOME/config.json lowers them;
# a bundle that asks for more (mem_limit 8g, memswap_limit -1, pids_limit -1, cpus 64, cpu_shares 262144) gets
# the person's limits; `ulimits` beyond nofile, `oom_score_adj: -1000`, `scale: 50` and a published 57404 or
# front door port are refused (exit 3) with no container; --allow oom grants the OOM score (stack config); a static site
# with `b.txt -> .env` is refused while one with a plain symlink is served.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
TAG="stack-e2e/busybox-limits:$$"
U=$$
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^lim[a-z]*$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
on_exit "$D network ls --format '{{.Name}}' | grep -E '^stack-lim[a-z]*$U' | xargs -r $D network rm >/dev/null 2>&1 || true"
on_exit "$D rmi -f $TAG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sh sleep cat; do ln -sf busybox "$W/rootfs/bin/$a"; done
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null

mkstack() { # SLUG COMPOSE [STACK.YAML EXTRA]: a bundle imported into the store
  local dir="$W/$1"
  mkdir -p "$dir"
  cat >"$dir/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: DockerCompose
version: "1"
description: limits end-to-end test stack
author: tests
license: MIT
${3:-}
Y
  printf '%s\n' "$2" >"$dir/compose.yaml"
  assert_exit 0 "$S" pack "$dir" -o "$W/$1.stack"
  assert_exit 0 "$S" import "$W/$1.stack"
}
SLEEP="image: $TAG
    command: [sleep, \"3600\"]"
hc() { "$D" inspect -f "{{.HostConfig.$2}}" "$1"; }
container() { "$D" ps -q --filter "label=com.docker.compose.project=stack-$1"; }
no_container() { assert_eq "" "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$1")" "containers of $1"; }
refused() { # SLUG TEXT...: exit 3, each TEXT in the message, no container
  local slug=$1
  shift
  assert_exit 3 "$S" run "$slug" --offline
  for t in "$@"; do grep -qF -- "$t" <<<"$LAST_STDERR" || die "$slug: no [$t] in: $LAST_STDERR"; done
  no_container "$slug"
}

info "limits_a_bundle_without_resources_gets_the_default_limits"
mkstack limplain$U "services:
  web:
    $SLEEP"
assert_exit 0 "$S" run limplain$U --offline
c=$(container limplain$U)
[ -n "$c" ] || die "no container"
assert_eq $((4 << 30)) "$(hc "$c" Memory)" "Memory"
assert_eq $((4 << 30)) "$(hc "$c" MemorySwap)" "MemorySwap (no swap)"
assert_eq "$(($(nproc) * 1000000000))" "$(hc "$c" NanoCpus)" "NanoCpus"
assert_eq 4096 "$(hc "$c" PidsLimit)" "PidsLimit"
assert_exit 0 "$S" rm limplain$U

info "limits_config_json_sets_them_and_a_bundle_cannot_raise_or_remove_them"
printf '{"limits": {"cpus": 0.5, "memory": "256m", "pids": 200, "replicas": 3}}\n' >"$STACK_HOME/config.json"
mkstack limgreedy$U "services:
  web:
    $SLEEP
    mem_limit: 8g
    memswap_limit: -1
    pids_limit: -1
    cpus: 64
    cpu_shares: 262144
  small:
    $SLEEP
    mem_limit: 64m
    memswap_limit: 1g"
assert_exit 0 "$S" run limgreedy$U --offline
c=$("$D" ps -q --filter "label=com.docker.compose.project=stack-limgreedy$U" --filter label=com.docker.compose.service=web)
assert_eq $((256 << 20)) "$(hc "$c" Memory)" "Memory (8g asked)"
assert_eq $((256 << 20)) "$(hc "$c" MemorySwap)" "MemorySwap (-1 asked)"
assert_eq 500000000 "$(hc "$c" NanoCpus)" "NanoCpus (64 asked)"
assert_eq 200 "$(hc "$c" PidsLimit)" "PidsLimit (-1 asked)"
assert_eq 1024 "$(hc "$c" CpuShares)" "CpuShares (262144 asked)"
# from inside: the memory cgroup says the same (cgroup v1 or v2)
lim=$("$D" exec "$c" sh -c 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes')
assert_eq $((256 << 20)) "$lim" "memory limit seen inside the container"
c=$("$D" ps -q --filter "label=com.docker.compose.project=stack-limgreedy$U" --filter label=com.docker.compose.service=small)
assert_eq $((64 << 20)) "$(hc "$c" Memory)" "a lower memory limit is kept"
assert_eq $((64 << 20)) "$(hc "$c" MemorySwap)" "swap is the memory limit"
assert_exit 0 "$S" rm limgreedy$U
mkstack limscale$U "services:
  web:
    $SLEEP
    scale: 4"
refused limscale$U "service 'web': scale: 4 containers is above the 3 a service may run"
printf '{"limits": {"memory": "lots"}}\n' >"$STACK_HOME/config.json"
assert_exit 2 "$S" run limscale$U --offline
grep -qF 'config.json: "limits.memory" must be bytes' <<<"$LAST_STDERR" || die "bad config: $LAST_STDERR"
rm "$STACK_HOME/config.json"

info "limits_hostile_keys_are_refused_with_no_container"
mkstack limscalebig$U "services:
  web:
    $SLEEP
    scale: 50"
refused limscalebig$U "scale: 50 containers is above the 10"
mkstack limoom$U "services:
  web:
    $SLEEP
    oom_score_adj: -1000"
refused limoom$U "oom_score_adj: -1000 is not allowed (needs permission 'oom')" "--allow oom"
# granted, the policy passes it on (this Engine may not be allowed to lower an OOM score itself: config only)
assert_exit 0 "$S" config limoom$U --offline --allow oom
grep -q 'oom_score_adj: -1000' <<<"$LAST_STDOUT" || die "config --allow oom: $LAST_STDOUT"
mkstack limulim$U "services:
  web:
    $SLEEP
    ulimits: {rtprio: 99, nofile: 65536}"
refused limulim$U "ulimits: rtprio beyond the default is not allowed (needs permission 'ulimits')"
mkstack limnofile$U "services:
  web:
    $SLEEP
    ulimits: {nofile: {soft: 256, hard: 512}}"
assert_exit 0 "$S" run limnofile$U --offline
assert_eq 256 "$("$D" exec "$(container limnofile$U)" sh -c 'ulimit -n')" "nofile within the default"
assert_exit 0 "$S" rm limnofile$U
mkstack limapi$U "services:
  web:
    $SLEEP
    ports: [\"57404:80\"]"
refused limapi$U "host port 57404 is reserved for stack's own API"
assert_exit 3 "$S" run limapi$U --offline --allow listen
mkstack limdoor$U "services:
  web:
    $SLEEP
    ports: [{target: 80, published: \"$STACK_PROXY_PORT\"}]"
refused limdoor$U "host port $STACK_PROXY_PORT is reserved for stack's own front door"

info "limits_static_site_symlink_to_a_hidden_file_is_refused"
command -v caddy >/dev/null || die "caddy is not installed (scripts/install-deps installs it)"
CA=$STACK_HOME/keys/ca.pem
static() { # SLUG: a static site with index.html, a.txt and .env
  mkdir -p "$W/$1"
  cat >"$W/$1/stack.yaml" <<Y
slug: $1
name: E2E $1
flavor: StaticWebsite
version: "1"
description: static site with symlinks
author: tests
license: MIT
Y
  echo "<h1>$1</h1>" >"$W/$1/index.html"
  echo "plain text" >"$W/$1/a.txt"
  echo "SECRET=hunter2" >"$W/$1/.env"
}
static limst$U
ln -s .env "$W/limst$U/b.txt"
assert_exit 0 "$S" pack "$W/limst$U" -o "$W/limst$U.stack"
assert_exit 0 "$S" import "$W/limst$U.stack"
assert_exit 3 "$S" run limst$U
grep -qF "b.txt: a symlink to '.env', which a static site never serves" <<<"$LAST_STDERR" || die "static refusal: $LAST_STDERR"
[ ! -e "$STACK_HOME/runs/limst$U" ] || die "a refused static site has a run dir"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" "https://limst$U.stack.localhost:$STACK_PROXY_PORT/b.txt" || true)
[ "$code" != 200 ] || die "b.txt -> .env answers 200"
static limsu$U
mkdir -p "$W/limsu$U/sub"
ln -s ../.env "$W/limsu$U/sub/x"
ln -s sub/../stack.yaml "$W/limsu$U/y"
assert_exit 0 "$S" pack "$W/limsu$U" -o "$W/limsu$U.stack"
assert_exit 0 "$S" import "$W/limsu$U.stack"
assert_exit 3 "$S" run limsu$U
static limsok$U
ln -s a.txt "$W/limsok$U/c.txt"
assert_exit 0 "$S" pack "$W/limsok$U" -o "$W/limsok$U.stack"
assert_exit 0 "$S" import "$W/limsok$U.stack"
assert_exit 0 "$S" run limsok$U
get() { curl -s -w ' %{http_code}' --max-time 10 --cacert "$CA" "https://limsok$U.stack.localhost:$STACK_PROXY_PORT/$1"; }
assert_eq "plain text 200" "$(get c.txt | tr -d '\n')" "a plain symlink is served"
assert_eq "404" "$(get .env -o /dev/null | tr -d ' ')" ".env by name"
assert_exit 0 "$S" rm limsok$U
