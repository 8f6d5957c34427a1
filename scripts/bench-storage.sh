#!/usr/bin/env bash
# Storage benchmarks beside podman: sequential write and read of 1 GiB in the container
# root file system and in a volume on each graph driver, the same on the host, and
# container start time on each driver. Run as root. Reads are cold: the page cache is
# dropped between write and read. Called by bench.sh; can be run alone.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
W=$(mktemp -d /var/tmp/skiff-bench-io.XXXXXX)
cleanup() {
  for d in overlay fuse vfs; do
    pm "$d" rm -af -t 0 >/dev/null 2>&1 || true
    pm "$d" rmi -af >/dev/null 2>&1 || true
  done
  "$SK" --root "$W/s" --runroot "$W/sr" rm -af >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
RUNS=${BENCH_IO_RUNS:-3}
MIB=${BENCH_IO_MIB:-1024}
PRUN="--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network=none"

pm_driver() { # skiff driver name -> podman storage flags
  case $1 in
    overlay) echo "--storage-driver overlay" ;;
    fuse|fuse-overlayfs) echo "--storage-driver overlay --storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs" ;;
    vfs) echo "--storage-driver vfs" ;;
  esac
}
# podman keeps one driver per store: one store per driver.
pm() { local d=$1; shift; podman --root "$W/p-$d" --runroot "$W/pr-$d" $(pm_driver "$d") "$@"; }
sk() { "$SK" --root "$W/s" --runroot "$W/sr" "$@"; }

# The shell line that writes or reads the test file with dd and prints the uptime
# before and after (busybox dd says nothing about time; /proc/uptime has 10 ms steps).
io_script() { # write|read file
  local dd="dd if=$2 of=/dev/null bs=1M"
  [ "$1" = write ] && dd="dd if=/dev/zero of=$2 bs=1M count=$MIB conv=fsync"
  echo "s=\$(cut -d' ' -f1 /proc/uptime); $dd 2>/dev/null; e=\$(cut -d' ' -f1 /proc/uptime); echo \$s \$e"
}
seconds_of() { awk '{printf "%.2f\n", $2 - $1}'; }
mib_s() { echo "scale=0; $MIB / $1" | bc -l 2>/dev/null || echo "-"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== images"
bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
sk save -o "$W/busybox.tar" localhost/busybox:latest
for d in overlay fuse vfs; do pm "$d" load -q -i "$W/busybox.tar" >/dev/null; done

# One measurement: tool driver place(rootfs|volume) op(write|read) -> seconds
measure() {
  local tool=$1 d=$2 place=$3 file name vol=() out
  file=/bench/data
  [ "$place" = rootfs ] && file=/data
  name="io-$tool-$d-$place"
  [ "$place" = volume ] && vol=(-v "vol-$d:/bench")
  if [ "$tool" = skiff ]; then
    sk run -d --storage-driver "$(sk_driver "$d")" --network=none --name "$name" "${vol[@]}" localhost/busybox:latest sleep 1000 >/dev/null
    out=$(sk exec "$name" sh -c "$(io_script write $file)")
    sync; echo 3 >/proc/sys/vm/drop_caches
    out="$out|$(sk exec "$name" sh -c "$(io_script read $file)")"
    sk rm -f "$name" >/dev/null
  else
    pm "$d" run -d $PRUN --name "$name" "${vol[@]}" localhost/busybox:latest sleep 1000 >/dev/null
    out=$(pm "$d" exec "$name" sh -c "$(io_script write $file)")
    sync; echo 3 >/proc/sys/vm/drop_caches
    out="$out|$(pm "$d" exec "$name" sh -c "$(io_script read $file)")"
    pm "$d" rm -f -t 0 "$name" >/dev/null
  fi
  echo "$out"
}
sk_driver() { [ "$1" = fuse ] && echo fuse-overlayfs || echo "$1"; }

host_io() {
  local f="$W/hostfile" w r
  w=$(sh -c "$(io_script write "$f")" | seconds_of)
  sync; echo 3 >/proc/sys/vm/drop_caches
  r=$(sh -c "$(io_script read "$f")" | seconds_of)
  rm -f "$f"
  echo "$w|$r"
}

declare -A RES
echo "== sequential I/O, $MIB MiB, $RUNS runs each (this takes a while)"
for i in $(seq 1 "$RUNS"); do
  o=$(host_io)
  RES[host,w]+="${o%%|*} "
  RES[host,r]+="${o##*|} "
  for d in overlay fuse vfs; do
    for place in rootfs volume; do
      for tool in skiff podman; do
        o=$(measure "$tool" "$d" "$place")
        RES[$tool,$d,$place,w]+="$(echo "${o%%|*}" | seconds_of) "
        RES[$tool,$d,$place,r]+="$(echo "${o##*|}" | seconds_of) "
      done
    done
  done
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
echo
echo "== sequential I/O results, MiB/s (median of $RUNS; reads cold)"
printf '%-26s %12s %12s %12s %12s\n' "" "skiff write" "podman write" "skiff read" "podman read"
hw=$(med "${RES[host,w]}"); hr=$(med "${RES[host,r]}")
printf '%-26s %12s %12s %12s %12s\n' "host (same disk)" "$(mib_s "$hw")" "" "$(mib_s "$hr")" ""
for d in overlay fuse vfs; do
  for place in rootfs volume; do
    printf '%-26s %12s %12s %12s %12s\n' "$(sk_driver $d) $place" \
      "$(mib_s "$(med "${RES[skiff,$d,$place,w]}")")" "$(mib_s "$(med "${RES[podman,$d,$place,w]}")")" \
      "$(mib_s "$(med "${RES[skiff,$d,$place,r]}")")" "$(mib_s "$(med "${RES[podman,$d,$place,r]}")")"
  done
done

echo
echo "== container start on each driver: run --rm --network=none busybox true"
for d in overlay fuse vfs; do
  hyperfine -N -w 3 -r "${BENCH_RUNS:-10}" --export-json "$W/start-$d.json" \
    "$SK --root $W/s --runroot $W/sr --storage-driver $(sk_driver $d) run --rm --network=none localhost/busybox:latest true" \
    "podman --root $W/p-$d --runroot $W/pr-$d $(pm_driver $d) run --rm $PRUN localhost/busybox:latest true" >/dev/null
  a=$(jq -r '.results[0].median' "$W/start-$d.json"); b=$(jq -r '.results[1].median' "$W/start-$d.json")
  printf '%-26s skiff %8.1f ms   podman %8.1f ms   podman/skiff %6.1fx\n' "$(sk_driver $d)" \
    "$(echo "$a*1000" | bc -l)" "$(echo "$b*1000" | bc -l)" "$(echo "$b/$a" | bc -l)"
done
