#!/usr/bin/env bash
# publish.sh - the publisher's side end to end: keygen, sign, trust add/ls/rm, catalog build (index.json
# matches the bundles, versions oldest first, signed, deterministic), and the refusals.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
[ -x "$S" ] || die "no stack binary at $S"
command -v python3 >/dev/null || die "python3 is needed to read index.json"
new_home
new_tmpdir W
cd "$W"

# 1. keygen writes a private key (0600) and a public key, and says the fingerprint.
assert_exit 0 "$S" keygen pub
case "$LAST_STDOUT" in
"wrote pub.key (private, keep it secret) and pub.pub (fingerprint sha256:"????????????????")") ;;
*) die "unexpected keygen output: $LAST_STDOUT" ;;
esac
fp=${LAST_STDOUT##*fingerprint }
fp=${fp%)}
assert_eq 600 "$(stat -c %a pub.key)" "pub.key mode"
grep -q 'BEGIN PUBLIC KEY' pub.pub || die "pub.pub is not a PEM public key"
if command -v openssl >/dev/null; then
  assert_eq "${fp#sha256:}" "$(openssl pkey -pubin -in pub.pub -outform DER | sha256sum | cut -c1-16)" "fingerprint vs openssl"
fi
# ... and never overwrites a key.
cp pub.key pub.key.orig
assert_exit 1 "$S" keygen pub
case "$LAST_STDERR" in *"pub.key already exists"*) ;; *) die "keygen overwrite message: $LAST_STDERR" ;; esac
cmp -s pub.key pub.key.orig || die "keygen changed an existing key"

# 2. bundles: hello 1.0, 1.1, 1.9, 1.10 (file names sort 1.10 before 1.9; semver does not), and a second stack
# whose file name sorts first.
mkdir cat
variant() { # variant SLUG VERSION FILE
  rm -rf "$W/src" && cp -r "$STACK_SRC/examples/hello" "$W/src"
  sed -i -e "s/^slug: .*/slug: $1/" -e "s/^version: .*/version: \"$2\"/" "$W/src/stack.yaml"
  assert_exit 0 "$S" pack "$W/src" -o "$W/cat/$3"
}
assert_exit 0 "$S" pack "$STACK_SRC/examples/hello" -o cat/hello-1.0.stack
variant hello 1.1 hello-1.1.stack
variant hello 1.9 hello-1.9.stack
variant hello 1.10 hello-1.10.stack
variant zeta 0.1 a-zeta.stack

# 3. sign: FILE.sig, over the file's SHA-256, DER ECDSA.
assert_exit 0 "$S" sign cat/hello-1.0.stack --key pub.key
assert_eq "signed cat/hello-1.0.stack -> cat/hello-1.0.stack.sig (key $fp)" "$LAST_STDOUT" "sign output"
[ -s cat/hello-1.0.stack.sig ] || die "no signature written"
assert_exit 0 "$S" sign cat/hello-1.1.stack --key pub.key -o "$W/other.sig"
[ -s "$W/other.sig" ] && [ ! -e cat/hello-1.1.stack.sig ] || die "sign -o did not write where told"
if command -v openssl >/dev/null; then
  openssl dgst -sha256 -verify pub.pub -signature cat/hello-1.0.stack.sig cat/hello-1.0.stack >/dev/null ||
    die "openssl does not verify the signature"
fi
assert_exit 1 "$S" sign cat/hello-1.0.stack --key pub.pub
case "$LAST_STDERR" in *"is a public key"*) ;; *) die "sign with a .pub: $LAST_STDERR" ;; esac
assert_exit 2 "$S" sign cat/hello-1.0.stack
rm cat/hello-1.0.stack.sig

# 4. trust: add the .pub, refuse the .key, list it.
assert_exit 1 "$S" trust add pub.key
case "$LAST_STDERR" in *"pub.key is a private key: trust its .pub"*) ;; *) die "trust add .key: $LAST_STDERR" ;; esac
assert_exit 0 "$S" trust ls
case "$LAST_STDOUT" in "no trusted publisher keys"*) ;; *) die "trust ls on an empty store: $LAST_STDOUT" ;; esac
assert_exit 0 "$S" trust add pub.pub
[ -f "$STACK_HOME/keys/trusted/pub.pub" ] || die "trust add did not write keys/trusted/pub.pub"
assert_exit 0 "$S" trust ls --json
assert_eq "pub $fp" "$(printf '%s' "$LAST_STDOUT" | python3 -c '
import json, sys
keys = json.load(sys.stdin)
assert len(keys) == 1, keys
print(keys[0]["name"], keys[0]["fingerprint"])')" "trust ls --json"
assert_exit 0 "$S" trust add pub.pub
case "$LAST_STDOUT" in *"already trusted as pub"*) ;; *) die "second trust add: $LAST_STDOUT" ;; esac
assert_exit 1 "$S" trust rm nobody
assert_exit 0 "$S" trust rm "$fp"
assert_exit 0 "$S" trust ls --json
assert_eq "[]" "$LAST_STDOUT" "trust ls --json after rm"
assert_exit 0 "$S" trust add pub.pub
assert_exit 0 "$S" trust rm pub
assert_eq "" "$(ls -A "$STACK_HOME/keys/trusted")" "trust dir after rm by name"
assert_exit 2 "$S" trust frobnicate

# 5. catalog build --key: index.json matches the bundles byte for byte, versions oldest first, signed.
assert_exit 0 "$S" catalog build cat --key pub.key
assert_eq 7 "$(printf '%s\n' "$LAST_STDOUT" | wc -l)" "catalog build output lines (5 bundles, index, signature)"
case "$LAST_STDOUT" in *"wrote cat/index.json: 2 stacks, 5 versions"*) ;; *) die "catalog summary: $LAST_STDOUT" ;; esac
[ -s cat/index.json.sig ] || die "no index.json.sig"
if command -v openssl >/dev/null; then
  openssl dgst -sha256 -verify pub.pub -signature cat/index.json.sig cat/index.json >/dev/null ||
    die "openssl does not verify index.json.sig"
fi
expected=""
for f in cat/*.stack; do
  expected+="$(basename "$f") $(sha256sum "$f" | cut -d' ' -f1) $(stat -c %s "$f")"$'\n'
done
got=$(python3 - cat/index.json <<'PY'
import json, sys
ix = json.load(open(sys.argv[1]))
assert ix["schema"] == 1, ix
assert list(ix) == ["schema", "stacks"], list(ix)
slugs = [s["slug"] for s in ix["stacks"]]
assert slugs == ["hello", "zeta"], slugs
hello = ix["stacks"][0]
assert list(hello) == ["slug", "title", "description", "versions"], list(hello)
assert hello["title"] == "Hello", hello["title"]
vs = [v["version"] for v in hello["versions"]]
assert vs == ["1.0", "1.1", "1.9", "1.10"], vs
rows = sorted((v["url"], v["sha256"], v["size"]) for s in ix["stacks"] for v in s["versions"])
for url, sha, size in rows:
    print(url, sha, size)
PY
)
assert_eq "$(printf '%s' "$expected" | sort)" "$got" "index.json url/sha256/size vs sha256sum and stat"

# 6. rebuilding gives the same bytes (index and signature).
cp cat/index.json index.1 && cp cat/index.json.sig sig.1
assert_exit 0 "$S" catalog build cat --key pub.key
cmp -s index.1 cat/index.json || die "index.json differs on rebuild"
cmp -s sig.1 cat/index.json.sig || die "index.json.sig differs on rebuild"

# 7. refusals leave the published index alone: the same slug and version twice (exit 3, both files named),
# a bundle without stack.yaml (exit 3), a key that cannot sign (exit 1).
cp cat/hello-1.1.stack cat/hello-copy.stack
assert_exit 3 "$S" catalog build cat --key pub.key
case "$LAST_STDERR" in *hello-1.1.stack*hello-copy.stack*"hello 1.1"*) ;; *) die "duplicate message: $LAST_STDERR" ;; esac
rm cat/hello-copy.stack
mkdir noyaml && echo hi >noyaml/readme.txt && tar -czf cat/noyaml.stack -C noyaml .
assert_exit 3 "$S" catalog build cat --key pub.key
case "$LAST_STDERR" in *"noyaml.stack has no stack.yaml"*) ;; *) die "missing stack.yaml message: $LAST_STDERR" ;; esac
rm cat/noyaml.stack
assert_exit 1 "$S" catalog build cat --key pub.pub
cmp -s index.1 cat/index.json || die "a refused build changed index.json"
cmp -s sig.1 cat/index.json.sig || die "a refused build changed index.json.sig"

# 8. without --key the index is the same and the old signature, which no longer applies, is removed.
assert_exit 0 "$S" catalog build cat
cmp -s index.1 cat/index.json || die "index.json differs without --key"
[ ! -e cat/index.json.sig ] || die "stale index.json.sig left behind"
new_tmpdir E
assert_exit 1 "$S" catalog build "$E"
assert_exit 2 "$S" catalog build
info "publish ok"
