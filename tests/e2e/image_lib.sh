# image_lib.sh - the test image the Docker e2e tests run: busybox-static imported into the Engine as TAG.
# Source it after lib.sh. build_busybox_image TAG DIR APPLET...: DIR/rootfs holds /bin/busybox and a link per
# applet; the image is imported as TAG (removed again at exit by the caller's on_exit).
build_busybox_image() {
  local tag=$1 dir=$2 a
  shift 2
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/www"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  for a in "$@"; do ln -sf busybox "$dir/rootfs/bin/$a"; done
  tar -C "$dir/rootfs" -c . | "$(docker_cmd)" import - "$tag" >/dev/null
}
