#!/usr/bin/env bash
# stack gc, pin/unpin and verify --repair through the real binary: roots and reports, the lock naming who holds
# it, repair refetching from a catalog, a disk that fills up mid-import (a size-limited tmpfs, when this test may
# mount one), and gc --images on the real Engine: an image stack loaded goes with the last version that brought
# it, unless a container uses it; an image stack did not load is never touched.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fetch_lib.sh"
set -euo pipefail
S=$STACK_BIN
new_home
new_tmpdir W
U=$$

mk() { # DIR SLUG VERSION [extra stack.yaml lines]: a stack folder whose marker file differs per version
  mkdir -p "$1"
  printf 'slug: %s\nname: GC %s\nflavor: DockerCompose\nversion: "%s"\ndescription: gc test\nauthor: tests\nlicense: MIT\n%s\n' \
    "$2" "$2" "$3" "${4:-}" >"$1/stack.yaml"
  [ -f "$1/compose.yaml" ] || printf 'services:\n  web:\n    image: busybox\n' >"$1/compose.yaml"
  echo "$2 $3" >"$1/marker.txt"
}
count_objects() { find "$STACK_HOME/objects" -type f | wc -l; }
nversions() { "$S" ls --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

info "1. roots: pinned and newest kept, the rest removed; --dry-run changes nothing; the report counts"
for v in 1 2 3 4; do mk "$W/g$v" gcdemo $v; assert_exit 0 "$S" pack "$W/g$v" -o "$W/g$v.stack"; assert_exit 0 "$S" import "$W/g$v.stack"; done
assert_exit 0 "$S" pin gcdemo@1
assert_eq "gcdemo@1 pinned" "$LAST_STDOUT" "pin"
assert_exit 1 "$S" pin gcdemo@9
assert_exit 2 "$S" gc --keep 0
before=$(count_objects)
assert_exit 0 "$S" gc --dry-run --json
assert_eq 1 "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["would_remove"]["versions"])')" "dry run count"
assert_eq "$before" "$(count_objects)" "objects after a dry run"
assert_eq 4 "$(nversions)" "versions after a dry run"
assert_exit 0 "$S" gc
case "$LAST_STDOUT" in "gc: removed 1 versions, 1 trees, 2 objects"*) ;; *) die "gc report: $LAST_STDOUT" ;; esac
assert_eq 3 "$(nversions)" "versions after gc"
assert_eq "<no such version>" "$(ls_field gcdemo 2 tree)" "gcdemo 2 collected"
[ "$(ls_field gcdemo 1 tree)" != "<no such version>" ] || die "the pinned version was collected"
assert_exit 0 "$S" unpin gcdemo@1
assert_exit 0 "$S" gc --keep 1
assert_eq 1 "$(nversions)" "versions after unpin + gc --keep 1"
assert_store_clean "after gc"

info "2. a writer holds the lock: gc waits (bounded) and names it"
mkdir -p "$W/big"; mk "$W/big" gcbig 1; head -c 200000000 /dev/urandom >"$W/big/blob.bin"
assert_exit 0 "$S" pack "$W/big" -o "$W/big.stack"
"$S" import "$W/big.stack" >/dev/null 2>&1 & imp=$!
for _ in $(seq 1 400); do [ -n "$(ls "$STACK_HOME/locks" 2>/dev/null)" ] && break; sleep 0.01; done
STACK_LOCK_WAIT=0 assert_exit 4 "$S" gc
echo "$LAST_STDERR" | grep -q "locked (gc needs it alone) by another stack process: pid $imp, shared .*stack import" ||
  die "lock message does not name the import: $LAST_STDERR"
wait "$imp" || die "the import that held the lock failed"
assert_exit 0 "$S" gc # and once it is done, gc runs
assert_store_clean "after the lock test"

info "3. verify --repair drops a version whose object is gone, and refetches it from the catalog"
new_tmpdir C
make_catalog "$C/cat"
start_catalog "$C/cat"
export STACK_CATALOG=$CATALOG_URL
assert_exit 0 "$S" fetch demo@1.0
obj=$(python3 - "$STACK_HOME" <<'P'
import hashlib, sys
print(sys.argv[1] + "/objects/sha256/" + (h := hashlib.sha256(b"<h1>demo 1.0</h1>\n").hexdigest())[:2] + "/" + h[2:])
P
)
rm -f "$obj"
assert_exit 4 "$S" verify
STACK_CATALOG= assert_exit 0 "$S" verify --repair
echo "$LAST_STDOUT" | grep -q "^lost .*demo@1.0: damaged content dropped; .stack fetch demo@1.0. brings it back" ||
  die "repair without a catalog: $LAST_STDOUT"
"$S" ls | grep -q "^demo .*lost: damaged content dropped by verify --repair" || die "ls does not list the lost version"
assert_exit 0 "$S" verify
assert_exit 0 "$S" fetch demo@1.0 # a lost version is refetchable
[ -f "$obj" ] || die "refetch did not bring the object back"
"$S" ls | grep -q "lost:" && die "ls still lists demo 1.0 as lost"
rm -f "$obj"
assert_exit 0 "$S" verify --repair
echo "$LAST_STDOUT" | grep -q "^refetch .*demo@1.0: damaged content dropped, refetched from the catalog" ||
  die "repair with a catalog: $LAST_STDOUT"
[ -f "$obj" ] || die "repair did not refetch the object"
assert_store_clean "after repair"
unset STACK_CATALOG

info "4. a full disk: import fails with one line (exit 4), the store stays as it was"
new_tmpdir T
if mount -t tmpfs -o size=8m tmpfs "$T" 2>/dev/null; then
  on_exit "umount -l $T"
  OLD_HOME=$STACK_HOME
  export STACK_HOME=$T/home
  assert_exit 0 "$S" import "$W/g1.stack"
  mk "$W/full" gcdemo 5; head -c 12000000 /dev/urandom >"$W/full/blob.bin"
  assert_exit 0 "$S" pack "$W/full" -o "$W/full.stack"
  assert_exit 4 "$S" import "$W/full.stack"
  assert_eq 1 "$(echo "$LAST_STDERR" | wc -l)" "error lines"
  echo "$LAST_STDERR" | grep -qi "no space left on device\|disk is full" || die "full disk message: $LAST_STDERR"
  assert_eq 1 "$(nversions)" "versions after the failed import"
  assert_store_clean "after a full disk"
  assert_exit 0 "$S" checkout gcdemo@1 "$W/co-full"
  assert_eq "gcdemo 1" "$(cat "$W/co-full/marker.txt")" "previous content"
  # and fetch onto a disk with less room than the bundle (320 KB of random bytes) needs
  trust_key "$CATALOG_KEY"
  head -c $(($(df --output=avail -B1 "$T" | tail -1) - 150000)) /dev/zero >"$T/filler"
  STACK_CATALOG=$CATALOG_URL assert_exit 4 "$S" fetch demo@1.2
  assert_eq 1 "$(echo "$LAST_STDERR" | wc -l)" "fetch error lines"
  rm -f "$T/filler"
  assert_store_clean "after a full disk fetch"
  export STACK_HOME=$OLD_HOME
else
  info "skipped: cannot mount a tmpfs here (needs root)"
fi

info "5. gc --images on the Engine: stack's image goes with its versions, unless a container uses it"
D=$(docker_cmd)
TAG="stack-e2e-gc/busybox:$U" OTHER="stack-e2e-gc/other:$U"
on_exit "$D ps -a --filter label=io.stack.slug=gcimg$U -q | xargs -r $D rm -f"
on_exit "$D rm -f gcuser$U"
on_exit "$D rmi -f $TAG $OTHER"
mkdir -p "$W/rootfs/bin"; cp /bin/busybox "$W/rootfs/bin/busybox"; ln -sf busybox "$W/rootfs/bin/sleep"
tar -C "$W/rootfs" -c . | "$D" import - "$TAG" >/dev/null
"$D" tag "$TAG" "$OTHER"
mkdir -p "$W/img/images"; "$D" save -o "$W/img/images/busybox.tar" "$TAG"
printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$TAG" >"$W/img/compose.yaml"
mk "$W/img" gcimg$U 1 "images: [images/busybox.tar]"
assert_exit 0 "$S" pack "$W/img" -o "$W/img1.stack"
"$D" rmi "$TAG" >/dev/null # stack loads it back from the bundle; OTHER keeps the layers
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
assert_exit 0 "$S" import "$W/img1.stack"
assert_exit 0 "$S" run gcimg$U
for v in 2 3; do
  mk "$W/img$v" gcimg$U $v; assert_exit 0 "$S" pack "$W/img$v" -o "$W/img$v.stack"; assert_exit 0 "$S" import "$W/img$v.stack"
done
assert_exit 0 "$S" gc --keep 1 --images
"$D" image inspect "$TAG" >/dev/null 2>&1 || die "gc removed the image of a running stack"
[ "$(ls_field gcimg$U 1 tree)" != "<no such version>" ] || die "gc collected the running version"
assert_exit 0 "$S" rm gcimg$U
"$D" create --name gcuser$U "$TAG" sleep 1 >/dev/null # a container of someone else's uses it now
assert_exit 0 "$S" gc --keep 1 --images
echo "$LAST_STDOUT" | grep -q "image kept $TAG: a container uses it" || die "gc --images with a user: $LAST_STDOUT"
"$D" image inspect "$TAG" >/dev/null 2>&1 || die "gc removed an image a container uses"
"$D" rm -f gcuser$U >/dev/null
assert_exit 0 "$S" gc --keep 1 --images --dry-run
echo "$LAST_STDOUT" | grep -q "image $TAG would be removed" || die "dry run: $LAST_STDOUT"
"$D" image inspect "$TAG" >/dev/null 2>&1 || die "a dry run removed an image"
assert_exit 0 "$S" gc --keep 1 --images
echo "$LAST_STDOUT" | grep -q "image $TAG removed" || die "gc --images: $LAST_STDOUT"
"$D" image inspect "$TAG" >/dev/null 2>&1 && die "gc --images left the image of collected versions"
"$D" image inspect "$OTHER" >/dev/null 2>&1 || die "gc --images removed an image stack did not load"
assert_store_clean "after gc --images"
info "ok"
