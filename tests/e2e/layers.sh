#!/usr/bin/env bash
# Image archives stored as their layers (spec/store.md "Image archives"): two versions of a stack whose images
# (busybox + a shared 6 MiB layer + one 1 MiB layer of their own, `docker build` then `docker save`) share
# layers. Checks: version 2 adds about its own layer to the store, not its whole archive; `stack show` lists
# the layers; both versions run on the real Engine after `docker rmi` (the image streamed from its parts);
# checkout gives archives cmp-identical to the bundle's; gc keeps the shared layers while a version needs them
# and drops the layer only a collected version had; verify finds a damaged layer object (exit 4).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_home
new_tmpdir W
U=$$
SLUG=ly${U}
BASE="ly-e2e/base:$U" MID="ly-e2e/mid:$U" APP="ly-e2e/app"
on_exit "$D rmi -f $BASE $MID $APP:$U-1 $APP:$U-2 >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
objects_bytes() { find "$STACK_HOME/objects" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

info "images: busybox, + a 6 MiB layer (shared), + one 1 MiB layer per version"
build_busybox_image "$BASE" "$W/base" sh sleep cat
mkdir -p "$W/mid" "$W/v1" "$W/v2"
head -c $((6 << 20)) /dev/urandom >"$W/mid/big"
printf 'FROM %s\nCOPY big /big\n' "$BASE" >"$W/mid/Dockerfile"
"$D" build -q -t "$MID" "$W/mid" >/dev/null 2>&1 || die "docker build of the shared layer failed"
for v in 1 2; do
  head -c $((1 << 20)) /dev/urandom >"$W/v$v/own"
  printf 'FROM %s\nCOPY own /own\n' "$MID" >"$W/v$v/Dockerfile"
  "$D" build -q -t "$APP:$U-$v" "$W/v$v" >/dev/null 2>&1 || die "docker build of version $v failed"
done

mkstack() { # VERSION
  local d="$W/stack$1"
  mkdir -p "$d/images"
  cat >"$d/stack.yaml" <<Y
slug: $SLUG
name: layers $1
flavor: DockerCompose
version: "$1"
description: image layers stored once
author: tests
license: MIT
images: [images/app.tar]
Y
  printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$APP:$U-$1" >"$d/compose.yaml"
  "$D" save -o "$d/images/app.tar" "$APP:$U-$1"
  assert_exit 0 "$S" pack "$d" -o "$W/$SLUG-$1.stack"
}
mkstack 1
mkstack 2
"$D" rmi -f "$APP:$U-1" "$APP:$U-2" "$MID" "$BASE" >/dev/null
archive=$(stat -c %s "$W/stack2/images/app.tar")
[ "$archive" -gt $((8 << 20)) ] || die "the test image archive is only $archive bytes"

info "1. version 1 is stored as its parts; version 2 adds its own layer, not its archive"
assert_exit 0 "$S" import "$W/$SLUG-1.stack"
s1=$(objects_bytes)
assert_exit 0 "$S" import "$W/$SLUG-2.stack"
s2=$(objects_bytes)
added=$((s2 - s1))
info "archive $archive bytes; version 2 added $added bytes to the store"
[ "$added" -lt $((3 << 19)) ] || die "version 2 added $added bytes (its archive is $archive): layers not shared"
[ "$s1" -lt $((archive + (1 << 20))) ] || die "version 1 stored $s1 bytes for a $archive-byte archive"
sha=$(sha256sum "$W/stack2/images/app.tar" | cut -c1-64)
[ ! -e "$STACK_HOME/objects/sha256/${sha:0:2}/${sha:2}" ] || die "the whole archive was stored as an object"

info "2. show lists the image and its layers; the versions share all but their last layer"
for v in 1 2; do
  assert_exit 0 "$S" show "$SLUG@$v" --json
  echo "$LAST_STDOUT" >"$W/show$v.json"
done
assert_eq "$APP:$U-2" "$(jq_ "$W/show2.json" 'd["image_archives"][0]["images"][0]["tags"][0]')" "image tag"
assert_eq 3 "$(jq_ "$W/show2.json" 'len(d["image_archives"][0]["images"][0]["layers"])')" "layers of v2"
l1=$(jq_ "$W/show1.json" '" ".join(l["sha256"] for l in d["image_archives"][0]["images"][0]["layers"])')
l2=$(jq_ "$W/show2.json" '" ".join(l["sha256"] for l in d["image_archives"][0]["images"][0]["layers"])')
assert_eq "$(echo "$l1" | cut -d' ' -f1-2)" "$(echo "$l2" | cut -d' ' -f1-2)" "shared layers"
[ "$(echo "$l1" | cut -d' ' -f3)" != "$(echo "$l2" | cut -d' ' -f3)" ] || die "the versions' own layers are equal"
own1=$(echo "$l1" | cut -d' ' -f3)
assert_exit 0 "$S" show "$SLUG@2"
case "$LAST_STDOUT" in *"layer $(echo "$l2" | cut -d' ' -f3)"*) ;; *) die "show does not list the layer: $LAST_STDOUT" ;; esac

info "3. checkout writes each archive byte-identical to the bundle's"
for v in 1 2; do
  assert_exit 0 "$S" checkout "$SLUG@$v" "$W/co$v"
  cmp "$W/co$v/images/app.tar" "$W/stack$v/images/app.tar" || die "checkout of v$v differs from the bundle"
done

info "4. both versions run on the Engine, their image loaded from the parts"
for v in 1 2; do
  assert_exit 0 "$S" run "$SLUG@$v" --json
  echo "$LAST_STDOUT" >"$W/run$v.json"
  assert_eq running "$(jq_ "$W/run$v.json" 'd["state"]')" "state of v$v"
  assert_eq 1 "$(jq_ "$W/run$v.json" 'd["images_loaded"]')" "images loaded for v$v"
  c=$("$D" ps -q --filter "label=com.docker.compose.project=stack-$SLUG" --filter label=com.docker.compose.service=app)
  [ -n "$c" ] || die "no container for v$v"
  assert_eq "$APP:$U-$v" "$("$D" inspect -f '{{.Config.Image}}' "$c")" "v$v container image"
  assert_eq "$(wc -c <"$W/v$v/own")" "$("$D" exec "$c" sh -c 'busybox wc -c </own' | tr -d ' ')" "v$v layer content"
done
assert_exit 0 "$S" rm "$SLUG"
"$D" rmi -f "$APP:$U-1" "$APP:$U-2" >/dev/null

info "5. gc keeps the layers version 2 shares and drops the one only version 1 had"
own1_path="$STACK_HOME/objects/sha256/${own1:0:2}/${own1:2}"
shared=$(echo "$l2" | cut -d' ' -f2)
[ -e "$own1_path" ] || die "v1's own layer is not an object"
assert_exit 0 "$S" gc --keep 1
[ ! -e "$own1_path" ] || die "gc kept the layer only the collected version had"
[ -e "$STACK_HOME/objects/sha256/${shared:0:2}/${shared:2}" ] || die "gc removed a shared layer"
assert_exit 0 "$S" verify
rm -rf "$W/co2"
assert_exit 0 "$S" checkout "$SLUG@2" "$W/co2"
cmp "$W/co2/images/app.tar" "$W/stack2/images/app.tar" || die "checkout after gc differs"

info "6. verify finds a damaged layer object: exit 4"
p="$STACK_HOME/objects/sha256/${shared:0:2}/${shared:2}"
chmod u+w "$p"
# flip one byte (writing a fixed byte left the object intact when that byte was already there: 1 in 256)
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(4096); b=f.read(1); f.seek(4096); f.write(bytes([b[0]^0xff]))' "$p"
assert_exit 4 "$S" verify
case "$LAST_STDOUT$LAST_STDERR" in *"corrupt"*"$shared"*) ;; *) die "verify did not name the layer: $LAST_STDOUT $LAST_STDERR" ;; esac
info "ok"
