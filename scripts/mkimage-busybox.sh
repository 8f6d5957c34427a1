#!/usr/bin/env bash
# Makes the default image, localhost/busybox:latest, from the host's busybox-static:
# no network, one small layer. Usage: scripts/mkimage-busybox.sh [SKIFF [GLOBAL-FLAGS...]]
set -euo pipefail
SKIFF=${1:-skiff}
shift || true
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "mkimage-busybox: $BUSYBOX not found (apt-get install busybox-static)" >&2; exit 1; }

rootfs=$(mktemp -d)
# An image's root is 0755, as every distribution ships it (mktemp makes 0700, and a
# container's root keeps its image's mode).
chmod 755 "$rootfs"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,root,home,var/tmp,proc,sys,dev}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp "$BUSYBOX" "$rootfs/bin/busybox"
# One symlink per applet; perl makes them all in one process (a loop of ln forks 400 times).
(cd "$rootfs/bin" && "$BUSYBOX" --list | grep -vx busybox |
  perl -ne 'chomp; symlink("busybox", $_) or die "symlink $_: $!\n"')
cat >"$rootfs/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PW
cat >"$rootfs/etc/group" <<'GR'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GR
tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf - . |
  "$SKIFF" "$@" import --change 'CMD ["sh"]' --message "busybox from the host" - localhost/busybox:latest >/dev/null
echo "localhost/busybox:latest"
