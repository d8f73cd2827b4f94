#!/usr/bin/env bash
# The example stack round-trips through the store: pack -> import -> checkout gives the same tree; the same
# tree packed with gzip is the same version; a new version changing one file adds exactly one object;
# checkouts are private copies; two imports at once both land; verify tells damage from garbage.
. "$(dirname "$0")/lib.sh"
set -euo pipefail
S=$STACK_BIN
new_home
new_tmpdir W

# 1. pack -> import -> checkout gives the same tree as the source folder.
assert_exit 0 "$S" pack "$STACK_SRC/examples/hello" -o "$W/hello.stack"
assert_exit 0 "$S" import "$W/hello.stack"
case "$LAST_STDOUT" in "imported hello 1.0"*) ;; *) die "unexpected import output: $LAST_STDOUT" ;; esac
assert_exit 0 "$S" checkout hello "$W/co"
diff -r "$STACK_SRC/examples/hello" "$W/co" >/dev/null || die "checkout differs from the packed folder"
[ -f "$W/co/.env" ] || die ".env did not survive the round trip"

# 2. checked-out files are the caller's own: writable, one link, not the object's inode.
f="$W/co/site/index.html"
[ "$(stat -c %h "$f")" = 1 ] || die "checked-out file has more than one link"
obj=$("$S" show hello --json | python3 -c 'import json,sys; print([e["sha256"] for e in json.load(sys.stdin)["entries"] if e["path"]=="site/index.html"][0])')
objpath="$STACK_HOME/objects/sha256/${obj:0:2}/${obj:2}"
[ -f "$objpath" ] || die "object $objpath missing"
[ "$(stat -c %i "$f")" != "$(stat -c %i "$objpath")" ] || die "checkout shares the object's inode"
[ "$(stat -c %a "$objpath")" = 444 ] || die "object is not read-only"
echo "changed" >> "$f"
assert_exit 0 "$S" verify  # writing the checkout must not touch the store

# 3. the same tree as a gzip bundle (as published bundles are: tar -czf of the folder) is the same version.
tree1=$("$S" show hello --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree"])')
tar -C "$STACK_SRC/examples/hello" -czf "$W/hello.tgz" .
objects_before=$(find "$STACK_HOME/objects" -type f | wc -l)
assert_exit 0 "$S" import "$W/hello.tgz"
case "$LAST_STDOUT" in *"already in the store"*) ;; *) die "gzip bundle of the same tree was not recognised: $LAST_STDOUT" ;; esac
assert_eq "$objects_before" "$(find "$STACK_HOME/objects" -type f | wc -l)" "object count after re-import"
assert_eq 1 "$(sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM versions')" "versions after re-import"

# 4. version 1.1 changes one file: exactly one new object (plus the changed stack.yaml).
cp -a "$STACK_SRC/examples/hello" "$W/v2"
sed -i 's/^version: .*/version: "1.1"/' "$W/v2/stack.yaml"
echo "<p>new in 1.1</p>" >> "$W/v2/site/index.html"
assert_exit 0 "$S" pack "$W/v2" -o "$W/hello-1.1.stack"
assert_exit 0 "$S" import "$W/hello-1.1.stack"
objects_after=$(find "$STACK_HOME/objects" -type f | wc -l)
assert_eq $((objects_before + 2)) "$objects_after" "objects after importing 1.1 (index.html + stack.yaml)"
assert_exit 0 "$S" ls --json
assert_eq 2 "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "versions listed"
assert_exit 0 "$S" show hello
case "$LAST_STDOUT" in "hello 1.1 "*) ;; *) die "hello resolves to the wrong version: $(echo "$LAST_STDOUT" | head -1)" ;; esac
assert_exit 0 "$S" show hello@1.0
case "$LAST_STDOUT" in "hello 1.0 "*) ;; *) die "hello@1.0 resolves wrong" ;; esac
assert_exit 1 "$S" show hello@9.9
case "$LAST_STDERR" in *"no version '9.9'"*) ;; *) die "bad message for a missing version: $LAST_STDERR" ;; esac
assert_exit 2 "$S" checkout hello

# 5. two imports at once both land.
new_home
"$S" import "$W/hello.stack" >"$W/a.out" 2>&1 & pa=$!
"$S" import "$W/hello-1.1.stack" >"$W/b.out" 2>&1 & pb=$!
wait $pa || die "concurrent import A failed: $(cat "$W/a.out")"
wait $pb || die "concurrent import B failed: $(cat "$W/b.out")"
assert_eq 2 "$(sqlite3 "$STACK_HOME/index.db" 'SELECT COUNT(*) FROM versions')" "versions after concurrent imports"
assert_exit 0 "$S" verify

# 6. verify: garbage is reported but is not damage; a corrupt or missing object is damage (exit 4).
objpath="$STACK_HOME/objects/sha256/${obj:0:2}/${obj:2}"
mkdir -p "$STACK_HOME/objects/sha256/00"
printf 'stray' > "$STACK_HOME/objects/sha256/00/$(printf '0%.0s' $(seq 62))"
touch "$STACK_HOME/tmp/obj-leftover"
assert_exit 0 "$S" verify --json
assert_eq "1 1 True" "$(echo "$LAST_STDOUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["extra"], d["temp"], d["ok"])')" "verify garbage report"
chmod u+w "$objpath"; echo tampered > "$objpath"
assert_exit 4 "$S" verify
case "$LAST_STDOUT" in *corrupt*"$obj"*) ;; *) die "verify did not name the corrupt object: $LAST_STDOUT" ;; esac
rm -f "$objpath"
assert_exit 4 "$S" verify
case "$LAST_STDOUT" in *missing*"$obj"*) ;; *) die "verify did not name the missing object: $LAST_STDOUT" ;; esac
assert_exit 4 "$S" checkout hello@1.0 "$W/co2"
[ ! -e "$W/co2" ] || die "failed checkout left a directory"
info PASS
