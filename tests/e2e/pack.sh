#!/usr/bin/env bash
# pack.sh - `stack pack DIR [-o FILE]` end to end: reproducible bytes, the bundle's shape, refusals.
# CTest runs it with STACK_BIN (the built binary) and STACK_SRC (the source dir).
set -euo pipefail

STACK_SRC=${STACK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ -f "$STACK_SRC/tests/e2e/lib.sh" ]; then
  # shellcheck source=/dev/null
  source "$STACK_SRC/tests/e2e/lib.sh"
else
  STACK_BIN=${STACK_BIN:-$STACK_SRC/build/stack}
  _E2E_NAME=pack
  die() { printf 'pack: FAIL: %s\n' "$*" >&2; exit 1; }
  info() { printf 'pack: %s\n' "$*" >&2; }
  assert_eq() { [ "$1" == "$2" ] || die "${3:-value}: expected [$1], got [$2]"; }
  assert_exit() {
    local want=$1 out err; shift
    out=$(mktemp) err=$(mktemp)
    set +e; "$@" >"$out" 2>"$err"; LAST_EXIT=$?; set -e
    LAST_STDOUT=$(cat "$out") LAST_STDERR=$(cat "$err")
    rm -f "$out" "$err"
    [ "$LAST_EXIT" == "$want" ] || die "[$*] exited $LAST_EXIT, expected $want; stderr: $LAST_STDERR"
  }
  _PACK_TMPS=()
  trap 'rm -rf "${_PACK_TMPS[@]}"' EXIT
  new_tmpdir() { local d; d=$(mktemp -d); _PACK_TMPS+=("$d"); printf -v "$1" '%s' "$d"; }
  new_home() { new_tmpdir STACK_HOME; export STACK_HOME; }
fi
[ -x "$STACK_BIN" ] || die "no stack binary at $STACK_BIN"
command -v zstd >/dev/null || die "zstd is not installed"

# make_stack DIR [reverse]: a stack folder with nested dirs, an executable, a dotfile, an inside symlink, a
# hard link and a file larger than pack's 256 KiB chunk. "reverse" creates the same files in the opposite
# order, so the directory order on disk differs.
make_stack() {
  local d=$1 order=${2:-forward} i names
  mkdir -p "$d/site/css" "$d/many" "$d/scripts"
  cat >"$d/stack.yaml" <<'EOF'
slug: packtest
name: Pack test
flavor: DockerCompose
version: "1.2.0"
description: A fixture for stack pack
author: The stack tests
license: MIT
EOF
  cat >"$d/compose.yaml" <<'EOF'
services:
  web:
    image: busybox:1
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    volumes:
      - ./site:/www:ro
EOF
  printf 'PROJECT=packtest\nDOMAIN=stack.localhost\n' >"$d/.env"
  printf '<h1>hi</h1>\n' >"$d/site/index.html"
  printf 'body{}\n' >"$d/site/css/main.css"
  printf '#!/bin/sh\necho hi\n' >"$d/scripts/run.sh"
  chmod 0755 "$d/scripts/run.sh"
  ln -s ../site/index.html "$d/scripts/page.html"
  ln "$d/site/css/main.css" "$d/site/css/same.css"
  head -c 700000 /dev/urandom >"$d/blob.bin"
  names=$(seq -w 1 20)
  [ "$order" == reverse ] && names=$(seq -w 20 -1 1)
  for i in $names; do printf '%s\n' "$i" >"$d/many/f$i"; done
}

# assert_refused DIR WHAT: pack exits 3 with one line on stderr naming WHAT, and leaves nothing behind.
assert_refused() {
  local dir=$1 what=$2 out
  new_tmpdir out
  assert_exit 3 "$STACK_BIN" pack "$dir" -o "$out/b.stack"
  assert_eq 1 "$(printf '%s\n' "$LAST_STDERR" | wc -l)" "stderr lines for $dir"
  case "$LAST_STDERR" in *"$what"*) ;; *) die "stderr does not name '$what': $LAST_STDERR" ;; esac
  assert_eq "" "$(ls -A "$out")" "files left after a refused pack"
}

work=
new_tmpdir work
src=$work/src
make_stack "$src"
mkdir "$work/out"

info "usage"
assert_exit 0 "$STACK_BIN" pack --help
case "$LAST_STDOUT" in *"stack pack DIR"*) ;; *) die "--help prints no usage: $LAST_STDOUT" ;; esac
assert_exit 2 "$STACK_BIN" pack
assert_exit 2 "$STACK_BIN" pack "$src" "$src"
assert_exit 2 "$STACK_BIN" pack --bogus "$src"

info "pack_prints_one_line_with_digest"
assert_exit 0 "$STACK_BIN" pack "$src" -o "$work/out/a.stack"
bundle_hex=$(sha256sum "$work/out/a.stack" | cut -d' ' -f1)
[[ "$LAST_STDOUT" =~ ^packed\ packtest\ 1\.2\.0\ -\>\ .*/a\.stack\ \(([0-9]+)\ entries,\ [0-9.]+\ [KMG]?i?B,\ sha256\ ([0-9a-f]{64})\)$ ]] ||
  die "unexpected output: $LAST_STDOUT"
assert_eq "$bundle_hex" "${BASH_REMATCH[2]}" "printed sha256"
n_listed=$(tar --zstd -tf "$work/out/a.stack" | wc -l)
assert_eq "$n_listed" "${BASH_REMATCH[1]}" "printed entry count"

info "pack_twice_gives_identical_bytes"
assert_exit 0 "$STACK_BIN" pack "$src" -o "$work/out/b.stack"
cmp "$work/out/a.stack" "$work/out/b.stack" || die "two packs of the same tree differ"

info "pack_ignores_mtimes_owners_modes_umask_and_order"
copy=$work/copy
make_stack "$copy" reverse
cp "$src/blob.bin" "$copy/blob.bin"
find "$copy" -exec touch -h -d '2001-02-03 04:05:06' {} +
touch -d '2030-01-01' "$copy/stack.yaml"
chmod 0600 "$copy/.env" "$copy/site/index.html"   # no exec bit: still 0644
chmod 0700 "$copy/scripts/run.sh"                  # an exec bit: still 0755
chmod 0744 "$copy/compose.yaml"                     # exec for the owner only: 0755, as in...
chmod 0755 "$src/compose.yaml"                      # ...the source (repack it to compare)
chmod 0700 "$copy/site" "$copy/many"                # dirs: always 0755
if [ "$(id -u)" == 0 ]; then
  chown -R -h 12345:23456 "$copy"
fi
assert_exit 0 "$STACK_BIN" pack "$src" -o "$work/out/a.stack"
(cd "$work" && umask 077 && TZ=Asia/Tokyo LC_ALL=C.UTF-8 "$STACK_BIN" pack copy -o out/c.stack >/dev/null) ||
  die "packing the copy failed"
cmp "$work/out/a.stack" "$work/out/c.stack" || die "a copy with other mtimes/owners/modes/umask packs differently"

info "bundle_is_zstd"
zstd -q -t "$work/out/a.stack" || die "zstd -t fails on the bundle"
assert_eq "28b52ffd" "$(head -c 4 "$work/out/a.stack" | od -An -tx1 | tr -d ' \n')" "zstd magic"

info "entries_sorted_owned_by_root_at_epoch"
listing=$(tar --zstd -tf "$work/out/a.stack" | sed 's,/$,,')
assert_eq "$(printf '%s\n' "$listing" | LC_ALL=C sort)" "$listing" "entry order"
assert_eq "blob.bin" "$(printf '%s\n' "$listing" | grep -x blob.bin)" "blob.bin listed"
assert_eq "site/css" "$(printf '%s\n' "$listing" | grep -x site/css)" "directories listed"
verbose=$(TZ=UTC tar --zstd --numeric-owner -tvf "$work/out/a.stack")
while IFS= read -r line; do
  read -r mode owner _size day time _rest <<<"$line"
  assert_eq "0/0" "$owner" "owner of [$line]"
  assert_eq "1970-01-01 00:00" "$day $time" "mtime of [$line]"
  case "$mode" in -rw-r--r--|-rwxr-xr-x|drwxr-xr-x|lrwxrwxrwx) ;; *) die "mode not normalised: $line" ;; esac
done <<<"$verbose"
grep -q -- '^-rwxr-xr-x .* scripts/run.sh$' <<<"$verbose" || die "run.sh is not 0755"
grep -q -- '^-rw-r--r-- .* \.env$' <<<"$verbose" || die ".env is not 0644"
grep -q -- '^lrwxrwxrwx .* scripts/page.html -> \.\./site/index\.html$' <<<"$verbose" || die "symlink not kept"
grep -q -- '^-rw-r--r-- .* site/css/same.css$' <<<"$verbose" || die "hard-linked file not packed as a file"
if grep -q -- '^h' <<<"$verbose" || grep -q ' link to ' <<<"$verbose"; then die "bundle has a hard link entry"; fi
tar --zstd -xOf "$work/out/a.stack" blob.bin | cmp - "$src/blob.bin" || die "blob.bin content differs"
tar --zstd -xOf "$work/out/a.stack" site/css/same.css | cmp - "$src/site/css/main.css" || die "same.css content differs"

info "default_output_is_slug_version_in_cwd"
mkdir "$work/cwd"
(cd "$work/cwd" && "$STACK_BIN" pack "$src" >/dev/null) || die "pack without -o failed"
cmp "$work/out/a.stack" "$work/cwd/packtest-1.2.0.stack" || die "default output missing or different"
assert_eq "packtest-1.2.0.stack" "$(ls -A "$work/cwd")" "files in cwd"

info "output_inside_dir_is_left_out"
assert_exit 0 "$STACK_BIN" pack "$src" -o "$src/self.stack"
assert_exit 0 "$STACK_BIN" pack "$src" -o "$src/self.stack"
tar --zstd -tf "$src/self.stack" | grep -q self.stack && die "the bundle contains itself"
cmp "$work/out/a.stack" "$src/self.stack" || die "packing into DIR changed the bundle"
rm "$src/self.stack"

info "bundle_imports"
new_home
assert_exit 0 "$STACK_BIN" import "$work/out/a.stack"

info "pack_refuses_fifo"
bad=$work/fifo
make_stack "$bad"
mkfifo "$bad/site/pipe"
assert_refused "$bad" "site/pipe"

info "pack_refuses_symlink_to_absolute_path"
bad=$work/abs
make_stack "$bad"
ln -s /etc/passwd "$bad/x"
assert_refused "$bad" "'x'"

info "pack_refuses_symlink_escape"
bad=$work/escape
make_stack "$bad"
ln -s ../../etc/passwd "$bad/site/x"
assert_refused "$bad" "site/x"

info "pack_refuses_symlink_escape_through_another_link"
bad=$work/escape2
make_stack "$bad"
ln -s .. "$bad/site/up"
ln -s up/.. "$bad/site/out"
assert_refused "$bad" "site/out"

info "pack_refuses_setuid"
bad=$work/setuid
make_stack "$bad"
chmod 4755 "$bad/scripts/run.sh"
assert_refused "$bad" "scripts/run.sh"

info "pack_refuses_missing_stack_yaml"
bad=$work/nomanifest
make_stack "$bad"
rm "$bad/stack.yaml"
assert_refused "$bad" "stack.yaml"

info "pack_refuses_invalid_stack_yaml"
bad=$work/badmanifest
make_stack "$bad"
sed -i '/^license:/d' "$bad/stack.yaml"
assert_refused "$bad" "stack.yaml"

info "pack_refuses_missing_compose_file"
bad=$work/nocompose
make_stack "$bad"
rm "$bad/compose.yaml"
assert_refused "$bad" "compose"

info "pack_fails_on_missing_dir"
assert_exit 1 "$STACK_BIN" pack "$work/does-not-exist" -o "$work/out/x.stack"
[ ! -e "$work/out/x.stack" ] || die "output left for a missing dir"

if [ -d "$STACK_SRC/examples/hello" ]; then
  info "pack_examples_hello"
  assert_exit 0 "$STACK_BIN" pack "$STACK_SRC/examples/hello" -o "$work/out/hello.stack"
  zstd -q -t "$work/out/hello.stack" || die "examples/hello bundle is not zstd"
  tar --zstd -tf "$work/out/hello.stack" | grep -qx stack.yaml || die "examples/hello bundle has no stack.yaml"
fi

info "ok"
