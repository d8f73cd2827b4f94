# upgrade_lib.sh - what upgrade.sh and upgrade-crash.sh share: the test image, stacks whose start writes to a
# bind-mounted ./data and a named volume, and a digest of a directory. Source it after lib.sh and image_lib.sh,
# with S, D, W, TAG set. Run directly (CTest runs every tests/e2e/*.sh) it only defines functions.

# upgrade_setup: the busybox image, saved for the bundles.
upgrade_setup() {
  build_busybox_image "$TAG" "$W" sh sleep mkdir echo cat date rm
  "$D" save -o "$W/busybox.tar" "$TAG"
}

# mkstack DIR SLUG VERSION SCRIPT [extra service lines]: a bundle packed into $W/SLUG-VERSION.stack and imported
mkstack() {
  mkdir -p "$1/images"
  cat >"$1/stack.yaml" <<Y
slug: $2
name: E2E $2
flavor: DockerCompose
version: "$3"
description: upgrade test stack
author: tests
license: MIT
images: [images/busybox.tar]
settle: 1
Y
  cat >"$1/compose.yaml" <<Y
services:
  app:
    image: $TAG
    init: true
    command: [sh, -c, "$4"]
    volumes: ["./data:/data", "vol:/vol"]
${5:-}
volumes:
  vol: {}
Y
  cp "$W/busybox.tar" "$1/images/busybox.tar"
  "$S" pack "$1" -o "$W/$2-$3.stack" >/dev/null
  assert_exit 0 "$S" import "$W/$2-$3.stack"
}
# v1 writes the same bytes on every start, so a rollback that starts it again finds its data as before.
V1='mkdir -p /data/sub && echo v1 > /data/version && echo one > /data/sub/one && echo v1 > /vol/version && echo keep > /vol/keep && exec sleep 100000'
V2='echo v2 > /data/version && echo two > /data/two && echo v2 > /vol/version && exec sleep 100000'
V3='echo v3 > /data/version && echo junk > /data/added-by-v3 && rm -f /data/sub/one && echo v3 > /vol/version && echo junk > /vol/added-by-v3 && echo changed > /vol/keep && echo v3 is broken >&2 && exit 1'

vol_dir() { engine_path "$("$D" volume inspect -f '{{.Mountpoint}}' "stack-${1}_vol")"; }
# digest DIR: every entry's type, mode, owner and path, and every file's content hash
digest() { (cd "$1" && find . -printf '%y %m %U:%G %p\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum | cut -c1-64; }
ps_field() { "$S" ps --json | python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x["slug"]==sys.argv[1]]; print(r[0][sys.argv[2]] if r else "-")' "$1" "$2"; }
