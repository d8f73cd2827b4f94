#!/usr/bin/env bash
# Proves a real Docker Engine answers: import a tiny image made from Debian's busybox-static, run a
# container from it, check its output; and check the compose tool runs.
. "$(dirname "$0")/lib.sh"

DOCKER=$(docker_cmd)
IMAGE=stack-test/busybox:e2e

"$DOCKER" info >/dev/null 2>&1 || die "no Docker Engine answers to $DOCKER (run scripts/install-deps)"
info "engine: $("$DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
magic=$(head -c 4 "$BUSYBOX" | od -An -c | tr -d ' ')
[ "$magic" = '177ELF' ] || die "$BUSYBOX is not an ELF binary"

new_tmpdir work
rootfs=$work/rootfs
mkdir -p "$rootfs/bin"
cp "$BUSYBOX" "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/sh"
ln -s busybox "$rootfs/bin/echo"

# Built afresh each time (import of an identical tarball is cheap), removed at exit.
tar -C "$rootfs" -c . | "$DOCKER" import - "$IMAGE" >/dev/null || die "docker import failed"
on_exit "'$DOCKER' rmi -f '$IMAGE'"

assert_exit 0 "$DOCKER" run --rm --network none "$IMAGE" /bin/echo hello-from-container
assert_eq hello-from-container "$LAST_STDOUT" "container output"

assert_exit 0 "$DOCKER" run --rm --network none "$IMAGE" /bin/sh -c 'echo $((6 * 7))'
assert_eq 42 "$LAST_STDOUT" "shell in container"

command -v docker-compose >/dev/null 2>&1 || die "docker-compose not installed"
assert_exit 0 docker-compose version
info "compose: $(printf '%s\n' "$LAST_STDOUT" | head -n 1)"

info "PASS"
