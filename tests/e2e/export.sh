#!/usr/bin/env bash
# export.sh - `stack export SLUG[@VER] -o FILE [--key KEY]` end to end (spec/bundle.md "Export bundles"): a
# version without registry images exports as the bytes `stack pack` wrote for it; imported into a fresh store it
# is the same tree and runs offline after its image left the Engine (loaded from the bundle's own archive);
# --key signs it as `stack sign` does and the import records the signer; an unsigned export removes a stale
# FILE.sig; bad input (unknown stack or version, no -o, an output directory that does not exist, a key that is
# not one) exits as spec/errors.md says and leaves no output and no temp file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/image_lib.sh"
set -euo pipefail
S=$STACK_BIN
D=$(docker_cmd)
new_tmpdir W
U=$$
SLUG=ex$U
IMG="ex-e2e/app:$U"
on_exit "$D rmi -f $IMG >/dev/null 2>&1 || true"
export STACK_RUNTIME=${STACK_RUNTIME:-docker-compose}
jq_() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
no_temp_files() { # DIR
  local t
  t=$(find "$1" -name '.*.tmp' | head -1)
  [ -z "$t" ] || die "a temp file was left: $t"
}

info "a stack shipping its image (busybox, docker save), packed"
build_busybox_image "$IMG" "$W/img" sh sleep cat
mkdir -p "$W/stack/images"
cat >"$W/stack/stack.yaml" <<Y
slug: $SLUG
name: export test
flavor: DockerCompose
version: "1.0"
description: carried to another machine
author: tests
license: MIT
homepage: https://example.org
images: [images/app.tar]
Y
printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$IMG" >"$W/stack/compose.yaml"
"$D" save -o "$W/stack/images/app.tar" "$IMG"
assert_exit 0 "$S" pack "$W/stack" -o "$W/v1.stack"

info "1. a version without registry images exports as the bundle pack wrote for it"
new_home
H1=$STACK_HOME
assert_exit 0 "$S" import "$W/v1.stack"
assert_exit 0 "$S" show "$SLUG" --json
echo "$LAST_STDOUT" >"$W/show1.json"
mkdir "$W/out"
assert_exit 0 "$S" export "$SLUG" -o "$W/out/a.stack"
case "$LAST_STDOUT" in *"exported $SLUG 1.0 -> $W/out/a.stack"*"0 registry images"*unsigned*) ;;
*) die "export said: $LAST_STDOUT" ;; esac
cmp "$W/out/a.stack" "$W/v1.stack" || die "the export differs from the packed bundle"
assert_exit 0 "$S" export "$SLUG@1.0" -o "$W/out/b.stack"
cmp "$W/out/a.stack" "$W/out/b.stack" || die "two exports of one version differ"
[ ! -e "$W/out/a.stack.sig" ] || die "an unsigned export wrote a signature"

info "2. imported into a fresh store: the same tree and files; runs offline with its image gone from the Engine"
new_home
assert_exit 0 "$S" import "$W/out/a.stack"
case "$LAST_STDOUT" in *unsigned*) ;; *) die "import did not record it unsigned: $LAST_STDOUT" ;; esac
assert_exit 0 "$S" show "$SLUG" --json
echo "$LAST_STDOUT" >"$W/show2.json"
assert_eq "$(jq_ "$W/show1.json" 'd["tree"]')" "$(jq_ "$W/show2.json" 'd["tree"]')" "tree digest"
assert_exit 0 "$S" checkout "$SLUG" "$W/co"
diff -r "$W/stack" "$W/co" >/dev/null || die "checkout of the imported export differs from the stack folder"
"$D" rmi -f "$IMG" >/dev/null
assert_exit 0 "$S" run "$SLUG" --offline --json
echo "$LAST_STDOUT" >"$W/run.json"
assert_eq running "$(jq_ "$W/run.json" 'd["state"]')" "state"
assert_eq 1 "$(jq_ "$W/run.json" 'd["images_loaded"]')" "images loaded from the bundle"
assert_exit 0 "$S" rm "$SLUG"

info "3. --key signs it as stack sign does; the import records the signer; unsigned again removes FILE.sig"
STACK_HOME=$H1
assert_exit 0 "$S" keygen "$W/pub"
assert_exit 0 "$S" export "$SLUG" -o "$W/out/s.stack" --key "$W/pub.key"
case "$LAST_STDOUT" in *"signed $W/out/s.stack -> $W/out/s.stack.sig (key sha256:"*) ;; *) die "export --key said: $LAST_STDOUT" ;; esac
cmp "$W/out/s.stack" "$W/v1.stack" || die "a signed export has other bytes"
new_home
assert_exit 0 "$S" trust add "$W/pub.pub"
assert_exit 0 "$S" import "$W/out/s.stack" --json
echo "$LAST_STDOUT" >"$W/imp.json"
case "$(jq_ "$W/imp.json" 'd["signer"]')" in pub*) ;; *) die "import of the signed export: signer $(jq_ "$W/imp.json" 'd["signer"]')" ;; esac
STACK_HOME=$H1
assert_exit 0 "$S" export "$SLUG" -o "$W/out/s.stack"
[ ! -e "$W/out/s.stack.sig" ] || die "an unsigned export left the old FILE.sig beside the new bundle"

info "4. bad input: exit codes, and no output, no temp file"
printf 'old\n' >"$W/out/keep.stack"
assert_exit 1 "$S" export "nosuch$U" -o "$W/out/keep.stack"
case "$LAST_STDERR" in *"not in the store"*) ;; *) die "unknown stack: $LAST_STDERR" ;; esac
assert_exit 1 "$S" export "$SLUG@9.9" -o "$W/out/keep.stack"
assert_eq old "$(cat "$W/out/keep.stack")" "a failed export's output file"
assert_exit 2 "$S" export "$SLUG"
case "$LAST_STDERR" in *"needs -o FILE"*) ;; *) die "no -o: $LAST_STDERR" ;; esac
assert_exit 2 "$S" export -o "$W/out/x.stack"
assert_exit 1 "$S" export "$SLUG" -o "$W/out/nodir/x.stack"
printf 'not a key\n' >"$W/bad.key"
for k in "$W/bad.key" "$W/pub.pub" "$W/nokey.key"; do # not a key, a public key, no file: found out before writing
  assert_exit 1 "$S" export "$SLUG" -o "$W/out/k.stack" --key "$k"
  [ ! -e "$W/out/k.stack" ] || die "export with --key $k wrote a bundle"
done
[ ! -e "$W/out/x.stack" ] || die "a usage error wrote a bundle"
no_temp_files "$W/out"
assert_exit 0 "$S" export --help
info "ok"
