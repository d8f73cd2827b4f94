#!/usr/bin/env bash
# export.sh - `stack export SLUG[@VER] -o FILE [--key KEY]` end to end (spec/bundle.md "Export bundles"): a
# version without registry images exports as the bytes `stack pack` wrote for it; imported into a fresh store it
# is the same tree and runs offline after its image left the Engine (loaded from the bundle's own archive);
# --key signs it as `stack sign` does and the import records the signer; an unsigned export removes a stale
# FILE.sig; bad input (unknown stack or version, no -o, an output directory that does not exist, a key that is
# not one) exits as spec/errors.md says and leaves no output and no temp file. With the registry-image pins
# (stack fetch --images): an image pulled from a loopback registry (Debian's docker-registry) and kept is in the
# export, and a fresh store runs it offline with the registry stopped; an image not kept is a warning, or refused
# with --require-images.
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

# The registry images (issue 21): the pins `stack fetch --images` records (store/index-images.c).
info "5. a registry image pinned and kept: exported in the bundle; a fresh store runs it with no registry"
command -v docker-registry >/dev/null || die "docker-registry is not installed (scripts/install-deps)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/regdata"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$W/regdata" "$PORT" >"$W/reg.yml"
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 &
REG_PID=$!
on_exit "kill $REG_PID"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
REF="127.0.0.1:$PORT/ex-e2e/reg:$U"
on_exit "$D rmi -f $REF >/dev/null 2>&1 || true"
build_busybox_image "$REF" "$W/regimg" sh sleep cat
"$D" push -q "$REF" >/dev/null || die "docker push to the test registry failed"
"$D" rmi -f "$REF" >/dev/null
RSLUG=exr$U
mkdir -p "$W/rstack"
printf 'slug: %s\nname: registry export\nflavor: DockerCompose\nversion: "1.0"\ndescription: d\nauthor: a\nlicense: MIT\n' \
  "$RSLUG" >"$W/rstack/stack.yaml"
printf 'services:\n  app:\n    image: %s\n    command: [sleep, "600"]\n' "$REF" >"$W/rstack/compose.yaml"
assert_exit 0 "$S" pack "$W/rstack" -o "$W/r.stack"
new_home
assert_exit 0 "$S" fetch "$W/r.stack" --insecure --images
assert_exit 0 "$S" export "$RSLUG" -o "$W/out/r.stack"
case "$LAST_STDOUT" in *"1 registry image,"*) ;; *) die "export of a pinned image said: $LAST_STDOUT" ;; esac
name="images/registry/1-127.0.0.1_${PORT}_ex-e2e_reg_$U.tar"
listing=$(tar --zstd -tf "$W/out/r.stack")
grep -qxF "$name" <<<"$listing" || die "the bundle has no $name: $listing"
yaml=$(tar --zstd -xOf "$W/out/r.stack" stack.yaml)
grep -qxF -- "- $name" <<<"$yaml" || die "stack.yaml does not list $name: $yaml"
new_home
assert_exit 0 "$S" import "$W/out/r.stack"
"$D" rmi -f "$REF" >/dev/null 2>&1 || true
kill "$REG_PID"
wait "$REG_PID" 2>/dev/null || true
assert_exit 0 "$S" run "$RSLUG" --offline --json
echo "$LAST_STDOUT" >"$W/rrun.json"
assert_eq running "$(jq_ "$W/rrun.json" 'd["state"]')" "state of the exported registry image's run"
assert_exit 0 "$S" rm "$RSLUG"

info "6. an image not kept (images.keep false): left out with a warning, or refused with --require-images"
new_home
printf '{"images": {"keep": false}}\n' >"$STACK_HOME/config.json"
docker-registry serve "$W/reg.yml" >>"$W/reg.log" 2>&1 &
REG_PID=$!
on_exit "kill $REG_PID"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
assert_exit 0 "$S" fetch "$W/r.stack" --insecure --images
assert_exit 0 "$S" export "$RSLUG" -o "$W/out/n.stack"
case "$LAST_STDERR" in *"warning: image $REF is not in the store"*) ;; *) die "no warning for the image not kept: $LAST_STDERR" ;; esac
case "$LAST_STDOUT" in *"0 registry images"*) ;; *) die "export without the image said: $LAST_STDOUT" ;; esac
rm "$W/out/n.stack"
assert_exit 1 "$S" export "$RSLUG" -o "$W/out/n.stack" --require-images
case "$LAST_STDERR" in *"image $REF is not in the store (--require-images)"*) ;; *) die "--require-images: $LAST_STDERR" ;; esac
[ ! -e "$W/out/n.stack" ] || die "a refused export wrote a bundle"
no_temp_files "$W/out"
info "ok"
