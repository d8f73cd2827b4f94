#!/usr/bin/env bash
# Registry images in the store (issue 21), against a real registry on loopback (Debian's docker-registry,
# tests/lib/registry.sh) and the real Engine. The images: busybox + a 4 MiB base layer shared by app1 (+ 2 MiB
# of its own) and app2 (+ 1 MiB); the bundles name them as 127.0.0.1:PORT/stacktest/NAME:TAG and ship no image.
# Checks: a first run pulls (blob requests in the registry's log) and stores the layers, pinned; a second stack
# sharing the base adds only its own layer (`fetch --images`); a re-run whose image the Engine has pulls
# nothing; offline with nothing in the Engine and no registry, the run loads from the store; a moved tag does
# not change what the version runs, `upgrade --pull` moves to it and keeps the old pin when the registry is
# gone; an export runs offline in a fresh STACK_HOME; gc drops the layers only a collected version used; a
# registry answering 500, a missing tag, a corrupt blob and a missing digest fail with one line and record
# nothing; with images.keep off nothing is stored and offline says what lacks; a disk that fills up while
# saving is exit 4 with nothing recorded.
# Each check names the sentence of issue 21 it covers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
. "$(dirname "$0")/../lib/registry.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
H1=$STACK_HOME
new_tmpdir W
U=$$
A=rga$U B=rgb$U # slugs end in $U: only this run's containers are removed at exit
on_exit "$D ps -a --filter label=io.stack.slug --format '{{.ID}} {{.Label \"io.stack.slug\"}}' | awk '\$2 ~ /^rg[a-z]$U\$/ {print \$1}' | xargs -r $D rm -f >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
objects_bytes() { find "$STACK_HOME/objects" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }
objects_list() { find "$STACK_HOME/objects" -type f -printf '%P %s\n' | sort; }
object() { printf '%s/objects/sha256/%s/%s\n' "$STACK_HOME" "${1:0:2}" "${1:2}"; }
# show_images SLUG[@VER]: `stack show --json` into $W/show.json; prints how many registry images it lists.
show_images() {
  assert_exit 0 "$S" show "$1" --json
  echo "$LAST_STDOUT" >"$W/show.json"
  jq_ "$W/show.json" 'len(d.get("images", []))'
}
img() { jq_ "$W/show.json" "d['images'][0]['$1']"; } # a field of the first image of the last show_images
container() { "$D" ps -q --filter "label=com.docker.compose.project=stack-$1" --filter label=com.docker.compose.service=app; }
container_image() { # SLUG: the image ID the stack's running container was created from
  local c
  c=$(container "$1")
  [ -n "$c" ] || die "no running container for $1"
  "$D" inspect -f '{{.Image}}' "$c"
}
# error_lines: the lines of the last command's stderr that are not progress ("pulling REF", indented layers).
error_lines() { printf '%s\n' "$LAST_STDERR" | grep -v -e '^pulling ' -e '^[[:space:]]' | grep -c . || true; }
# layer_bytes REF N: size of layer N (0 = bottom) of the Engine's image REF as `docker save` writes it.
layer_bytes() {
  "$D" save -o "$W/save.tar" "$1"
  python3 - "$W/save.tar" "$2" <<'PY'
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
layers = json.load(t.extractfile("manifest.json"))[0]["Layers"]
print(t.getmember(layers[int(sys.argv[2])]).size)
PY
  rm -f "$W/save.tar"
}
mkstack() { # SLUG VERSION IMAGE: a stack with one service running IMAGE, no image archive; packed and imported
  local d="$W/$1-$2"
  mkdir -p "$d"
  cat >"$d/stack.yaml" <<Y
slug: $1
name: registry $1
flavor: DockerCompose
version: "$2"
description: registry images in the store
author: tests
license: MIT
Y
  printf 'services:\n  app:\n    image: %s\n    command: [httpd, -f, -p, "8080", -h, /]\n' "$3" >"$d/compose.yaml"
  assert_exit 0 "$S" pack "$d" -o "$W/$1-$2.stack"
  assert_exit 0 "$S" import "$W/$1-$2.stack"
}

info "images: busybox + a 4 MiB base layer; app1 (+2 MiB), app2 (+1 MiB), pushed to a registry on loopback"
registry_start "$W/reg"
regimg_setup "$W/img"
regimg_app app1 1 $((2 << 20))
regimg_app app2 1 $((1 << 20))
R1=$(regimg_ref app1 1) R2=$(regimg_ref app2 1)
DIG1=$(regimg_digest "$R1") ID1=$(regimg_id "$R1") ID2=$(regimg_id "$R2")
mapfile -t L1 < <(regimg_layers "$R1") # busybox, base, own
mapfile -t L2 < <(regimg_layers "$R2")
assert_eq 3 "${#L1[@]}" "layers of app1"
assert_eq "${L1[1]}" "${L2[1]}" "the base layer app1 and app2 share"
OWN2=$(layer_bytes "$R2" 2)
mkstack "$A" 1 "$R1"
mkstack "$B" 1 "$R2"
regimg_rm_engine --all

info "1. a first run pulls through the Engine, stores the image as layer objects and pins it"
g0=$(registry_blob_gets)
s0=$(objects_bytes)
assert_exit 0 "$S" run "$A" # not --json: that is quiet
# "a first run pulls (the registry's log shows the blob requests)": 3 layers + the config
g1=$(registry_blob_gets)
[ $((g1 - g0)) -ge 4 ] || die "the registry served $((g1 - g0)) blobs for the first run (want >= 4)"
# "with progress per image and layer"
case "$LAST_STDERR" in *"pulling $R1"*) ;; *) die "no progress line for $R1: $LAST_STDERR" ;; esac
# "and the store gains the layers": "stores the image in the store as layer objects (named by their digests)"
for l in "${L1[@]}"; do [ -f "$(object "$l")" ] || die "layer $l is not an object"; done
[ $(($(objects_bytes) - s0)) -ge $((6 << 20)) ] || die "the store grew only $(($(objects_bytes) - s0)) bytes"
# "records each image's repository digest and image ID on the version"; "shown by stack show"
assert_eq 1 "$(show_images "$A")" "registry images of $A"
assert_eq "$R1" "$(img ref)" "pinned ref"
assert_eq "$DIG1" "sha256:$(img repo_digest | sed 's/.*sha256://')" "pinned repository digest"
assert_eq "$ID1" "$(img image_id)" "pinned image ID"
assert_eq 3 "$(img layers)" "layers of the pinned image"
assert_eq True "$(img stored)" "stored"
assert_exit 0 "$S" show "$A"
grep -q "$R1@$DIG1 .*3 layers, stored yes" <<<"$LAST_STDOUT" || die "show: $LAST_STDOUT"
assert_eq "$ID1" "$(container_image "$A")" "image the first run runs"

info "2. a second stack whose image shares the base layer adds only its own layer"
s0=$(objects_bytes)
# `stack fetch --images`: the same pull, pin and store, without running
assert_exit 0 "$S" fetch --images "$B"
s1=$(objects_bytes)
# "a second stack whose image shares the base layer adds only its own layer" (plus its records: under 1%)
info "own layer $OWN2 bytes; the store grew $((s1 - s0)) bytes"
[ $((s1 - s0)) -ge "$OWN2" ] || die "the store grew $((s1 - s0)) bytes, less than the own layer ($OWN2)"
[ $((s1 - s0)) -le $((OWN2 * 101 / 100 + 8192)) ] || die "the store grew $((s1 - s0)) bytes for a $OWN2-byte own layer"
[ -f "$(object "${L2[2]}")" ] || die "app2's own layer is not an object"
assert_eq 1 "$(show_images "$B")" "registry images of $B"
assert_eq "$ID2" "$(img image_id)" "pinned image ID of $B"
assert_eq True "$(img stored)" "$B stored"
[ -z "$(container "$B")" ] || die "fetch --images started $B"
# "Runs use the pinned image": the Engine has it, so a new run of the version neither pulls nor loads
g0=$(registry_blob_gets)
assert_exit 0 "$S" rm "$A"
assert_exit 0 "$S" run "$A"
assert_eq "$g0" "$(registry_blob_gets)" "blob requests of a run whose pinned image the Engine has"
assert_eq "$ID1" "$(container_image "$A")" "image of the re-run"

info "3. every image removed from the Engine, the registry stopped: stack run --offline loads from the store"
assert_exit 0 "$S" rm "$A"
regimg_rm_engine --all
[ -z "$(regimg_id "$R1")$(regimg_id "$R2")" ] || die "the Engine still has the images"
registry_stop
# "stack run --offline of a stack that ran once works after docker image rm of all its images, with no registry"
assert_exit 0 "$S" run "$A" --offline --json
assert_eq "$ID1" "$(container_image "$A")" "image of the offline run"
assert_exit 0 "$S" run "$B" --offline
assert_eq "$ID2" "$(container_image "$B")" "image of $B's offline run"
assert_exit 0 "$S" rm "$B"

info "4. the tag moves: the same version still runs its pin; upgrade --pull moves to the new image"
registry_start "$W/reg" "$REGISTRY_PORT"
regimg_move_tag app1 1 $((2 << 20)) # the Engine's $R1 is now the new image too
DIG1b=$(regimg_digest "$R1") ID1b=$(regimg_id "$R1")
mapfile -t L1b < <(regimg_layers "$R1")
assert_exit 0 "$S" rm "$A"
assert_exit 0 "$S" run "$A"
# "a moved tag never changes what an approved version runs"; "the tag is moved in the registry: a re-run of the
# same version still runs the pinned image"
assert_eq "$ID1" "$(container_image "$A")" "image after the tag moved"
assert_eq 1 "$(show_images "$A")" "registry images after the tag moved"
assert_eq "$DIG1" "sha256:$(img repo_digest | sed 's/.*sha256://')" "pin after the tag moved"
# "stack upgrade SLUG --pull, which re-resolves the running version's tags and records the new digests"
assert_exit 0 "$S" upgrade "$A" --pull
assert_eq "$ID1b" "$(container_image "$A")" "image after upgrade --pull"
assert_eq 1 "$(show_images "$A")" "registry images after upgrade --pull"
assert_eq "$DIG1b" "sha256:$(img repo_digest | sed 's/.*sha256://')" "pin after upgrade --pull"
assert_eq True "$(img stored)" "the new pin stored"
[ -f "$(object "${L1b[2]}")" ] || die "the new own layer is not an object"
# "either rolls back to the old pinned images on failure": the registry gone, the pin and the run stay
registry_stop
assert_exit 5 "$S" upgrade "$A" --pull # an upgrade that rolled back: exit 5 (stack upgrade --help)
assert_eq 1 "$(show_images "$A")" "registry images after a failed upgrade --pull"
assert_eq "$DIG1b" "sha256:$(img repo_digest | sed 's/.*sha256://')" "pin after a failed upgrade --pull"
assert_eq "$ID1b" "$(container_image "$A")" "image after a failed upgrade --pull"

info "5. export with the images, signed; import into a fresh STACK_HOME; offline run with nothing in the Engine"
assert_exit 0 "$S" keygen "$W/k"
# "stack export SLUG[@VER] -o FILE writes one bundle holding the version's files and its images (signed when
# --key is given)"
assert_exit 0 "$S" export "$A" -o "$W/export.stack" --key "$W/k.key"
assert_exit 0 "$S" rm "$A"
regimg_rm_engine --all
new_home
assert_exit 0 "$S" trust add "$W/k.pub"
# "stack import FILE on an air-gapped machine followed by stack run --offline works"
assert_exit 0 "$S" import "$W/export.stack"
assert_exit 0 "$S" run "$A" --offline
assert_eq "$ID1b" "$(container_image "$A")" "image of the exported version"
assert_exit 0 "$S" rm "$A"
export STACK_HOME=$H1

info "6. gc --keep 1 after a newer version: the layers only the old one used go, shared ones stay"
# (stack B: A's version 1 is its rollback target since upgrade --pull, which gc keeps)
registry_start "$W/reg" "$REGISTRY_PORT"
regimg_app app2 2 $((1 << 20))
R3=$(regimg_ref app2 2)
ID3=$(regimg_id "$R3")
mapfile -t L3 < <(regimg_layers "$R3")
regimg_rm_engine --all
mkstack "$B" 2 "$R3"
assert_exit 0 "$S" run "$B@2"
assert_exit 0 "$S" rm "$B"
# "Image layers are objects like any other: gc keeps those of kept versions and collects the rest"
for l in "${L3[@]}"; do [ -f "$(object "$l")" ] || die "version 2's layer $l is not an object"; done
n0=$(objects_list | wc -l) s0=$(objects_bytes)
assert_exit 0 "$S" gc --keep 1
n1=$(objects_list | wc -l) s1=$(objects_bytes)
info "gc: $n0 -> $n1 objects, $s0 -> $s1 bytes"
# "when gc collects a version (a newer one imported, --keep 1), the layers only it used go and the ones a kept
# version shares stay"
[ ! -e "$(object "${L2[2]}")" ] || die "gc kept the layer only version 1 of $B used"
[ ! -e "$(object "${L1[2]}")" ] || die "gc kept the layer of the pin upgrade --pull replaced"
[ -f "$(object "${L3[1]}")" ] || die "gc removed the base layer version 2 shares"
[ -f "$(object "${L3[2]}")" ] || die "gc removed version 2's own layer"
[ -f "$(object "${L1b[2]}")" ] || die "gc removed the layer of $A's pin"
[ $((s0 - s1)) -ge $((3 << 20)) ] || die "gc freed only $((s0 - s1)) bytes"
assert_exit 0 "$S" verify
regimg_rm_engine --all
assert_exit 0 "$S" run "$B" --offline
assert_eq "$ID3" "$(container_image "$B")" "image of version 2 after gc"
assert_exit 0 "$S" rm "$B"

# no_start SLUG WHAT: a first start that failed left no run dir, no container and no compose tool running (the
# `up --no-start` begun while the images come, spec/run.md "Compose calls", is stopped before it creates anything)
no_start() {
  [ ! -e "$STACK_HOME/runs/$1" ] || die "$2: the run dir of $1 is left"
  assert_eq "" "$("$D" ps -aq --filter "label=com.docker.compose.project=stack-$1")" "$2: containers of $1"
  assert_eq "" "$(pgrep -f -- "-p stack-$1 " || true)" "$2: a compose tool left running for $1"
}

info "7. bad input: nothing recorded, the store unchanged"
# "a registry answering 500 ... a clear error, nothing recorded, the store unchanged"
mkstack rgc$U 1 "$(regimg_ref app3 1)"
before=$(objects_list)
registry_stop
registry_serve_500
# a registry answering 5xx is the network's failure: exit 6 (spec/run.md "Registry images", Errors)
assert_exit 6 "$S" run rgc$U
assert_eq 1 "$(error_lines)" "error lines for a registry answering 500"
assert_eq 0 "$(show_images rgc$U)" "images pinned after a 500"
assert_eq "$before" "$(objects_list)" "objects after a registry answering 500"
no_start rgc$U "a registry answering 500"
registry_stop
registry_start "$W/reg" "$REGISTRY_PORT"
# a bundle naming a tag the registry lacks
mkstack rgd$U 1 "$(regimg_ref app1 nosuchtag)"
before=$(objects_list)
# a reference the registry lacks ("manifest unknown") is the Engine's answer: exit 5
assert_exit 5 "$S" run rgd$U
assert_eq 1 "$(error_lines)" "error lines for a missing tag"
assert_eq 0 "$(show_images rgd$U)" "images pinned for a missing tag"
assert_eq "$before" "$(objects_list)" "objects after a missing tag"
no_start rgd$U "a missing tag"
# "A registry that serves a layer whose digest does not match: refused, nothing stored" ("a truncated blob")
regimg_app app4 1 $((1 << 20))
R4=$(regimg_ref app4 1)
regimg_rm_engine --all
blob=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REGISTRY/v2/$REGIMG_NS/app4/manifests/1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"][7:])')
truncate -s 300000 "$REGISTRY_DIR/data/docker/registry/v2/blobs/sha256/${blob:0:2}/$blob/data"
mkstack rge$U 1 "$R4"
before=$(objects_list)
# the Engine checks every blob: a cut or damaged one is the network's failure, exit 6
assert_exit 6 "$S" run rge$U
assert_eq 1 "$(error_lines)" "error lines for a corrupt blob"
assert_eq 0 "$(show_images rge$U)" "images pinned for a corrupt blob"
assert_eq "$before" "$(objects_list)" "objects after a corrupt blob"
no_start rge$U "a corrupt blob"
# "A bundle whose compose names an image by digest that the registry does not have: one line, exit 6 (offline)
# or 5"
mkstack rgf$U 1 "$REGISTRY/$REGIMG_NS/app1@sha256:$(printf '%064d' 0)"
before=$(objects_list)
assert_exit 5 "$S" run rgf$U
assert_eq 1 "$(error_lines)" "error lines for a missing digest"
assert_exit 6 "$S" run rgf$U --offline
assert_eq 1 "$(error_lines)" "error lines for a missing digest offline"
assert_eq 0 "$(show_images rgf$U)" "images pinned for a missing digest"
assert_eq "$before" "$(objects_list)" "objects after a missing digest"

info "8. images.keep off (globally, then for one stack): nothing stored; offline names the missing image, exit 6"
new_home
# "A setting (documented) turns keeping registry images off for a stack or globally"
echo '{"images": {"keep": false}}' >"$STACK_HOME/config.json"
mkstack "$B" 1 "$R2"
assert_exit 0 "$S" run "$B"
assert_eq 1 "$(show_images "$B")" "registry images with keep off"
assert_eq False "$(img stored)" "stored with keep off"
[ ! -e "$(object "${L2[2]}")" ] || die "keep off stored app2's own layer"
assert_exit 0 "$S" rm "$B"
regimg_rm_engine --all
registry_stop
# "then offline runs say which image is missing and exit 6"
assert_exit 6 "$S" run "$B" --offline
case "$LAST_STDERR" in *"$R2"*) ;; *) die "the offline error does not name $R2: $LAST_STDERR" ;; esac
assert_eq 1 "$(error_lines)" "error lines for a missing image offline"
registry_start "$W/reg" "$REGISTRY_PORT"
echo "{\"images\": {\"keep\": true, \"stacks\": {\"rgg$U\": false}}}" >"$STACK_HOME/config.json"
mkstack rgg$U 1 "$R2"
assert_exit 0 "$S" fetch --images rgg$U
assert_eq 1 "$(show_images rgg$U)" "registry images with keep off for the stack"
assert_eq False "$(img stored)" "stored with keep off for the stack"
[ ! -e "$(object "${L2[2]}")" ] || die "keep off for the stack stored app2's own layer"

info "9. a disk that fills up while the image is saved: exit 4, one line, nothing recorded, the store as it was"
new_tmpdir T
if mount -t tmpfs -o size=6m tmpfs "$T" 2>/dev/null; then
  on_exit "umount -l $T"
  export STACK_HOME=$T/home
  mkstack rgh$U 1 "$R1" # about 8 MiB of layers for 6 MiB of disk
  before=$(objects_list)
  # "Disk full while saving: the run fails with exit 4, nothing half-recorded"
  assert_exit 4 "$S" fetch --images rgh$U
  assert_eq 1 "$(error_lines)" "error lines for a full disk"
  assert_eq 0 "$(show_images rgh$U)" "images pinned after a full disk"
  assert_eq "$before" "$(objects_list)" "objects after a full disk"
  [ -z "$(find "$STACK_HOME/tmp" -type f 2>/dev/null)" ] || die "temp files left after a full disk"
  # The same on a run: the image is saved while the containers start (spec/run.md "Registry images"); a save that
  # fails fails the run, which stops what it started
  mkstack rgi$U 1 "$R1"
  before=$(objects_list)
  assert_exit 4 "$S" run rgi$U
  assert_eq 1 "$(error_lines)" "error lines for a full disk on a run"
  assert_eq 0 "$(show_images rgi$U)" "images pinned after a full disk on a run"
  assert_eq "$before" "$(objects_list)" "objects after a full disk on a run"
  [ -z "$(find "$STACK_HOME/tmp" -type f 2>/dev/null)" ] || die "temp files left after a full disk on a run"
  assert_eq "" "$("$D" ps -q --filter "label=com.docker.compose.project=stack-rgi$U")" "containers running after a full disk on a run"
  assert_exit 0 "$S" ps --json
  assert_eq failed "$(echo "$LAST_STDOUT" | python3 -c "import json,sys; print([r['state'] for r in json.load(sys.stdin) if r['slug'] == 'rgi$U'][0])")" "the run's state after a full disk"
else
  info "skipped: cannot mount a tmpfs here (needs root)"
fi
info "ok"
