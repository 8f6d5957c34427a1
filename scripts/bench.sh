#!/usr/bin/env bash
# Measures skiff beside podman on this machine: medians of repeated runs (hyperfine),
# printed as a table with the ratio. Run as root; both tools use throwaway stores.
set -euo pipefail
. "$(dirname "$0")/common.sh"
setup_machine
cd "$TOP"
cargo build --release --quiet
SK="$TOP/target/release/skiff"
W=$(mktemp -d /tmp/skiff-bench.XXXXXX)
trap 'podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
RUNS=${BENCH_RUNS:-10}
skiff() { "$SK" --root "$W/s" --runroot "$W/sr" "$@"; }
podman_() { podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs "$@"; }

median() { jq -r ".results[$1].median" "$2"; }
report() { # name json
  local a b
  a=$(median 0 "$2"); b=$(median 1 "$2")
  printf '%-44s skiff %8.1f ms   podman %8.1f ms   podman/skiff %6.1fx\n' "$1" \
    "$(echo "$a*1000" | bc -l)" "$(echo "$b*1000" | bc -l)" "$(echo "$b/$a" | bc -l)"
}

echo "== preparing 100 images in each store"
for i in $(seq 1 100); do
  mkdir -p "$W/img/$i" && echo "$i" >"$W/img/$i/file"
  tar -C "$W/img/$i" -cf "$W/img/$i.tar" .
  skiff import "$W/img/$i.tar" "bench/img$i:latest" >/dev/null
done
names=$(skiff images --format '{{.Repository}}:{{.Tag}}')
# shellcheck disable=SC2086
skiff save -o "$W/many.tar" $names
podman_ load -q -i "$W/many.tar" >/dev/null
echo "   skiff: $(skiff images -q | wc -l) images, podman: $(podman_ images -q | wc -l) images"

hyperfine -N -w 3 -r "$RUNS" --export-json "$W/images.json" \
  "$SK --root $W/s --runroot $W/sr images" \
  "podman --root $W/p --runroot $W/pr --storage-driver vfs images" >/dev/null

echo "== preparing a 100 MiB image archive"
mkdir -p "$W/big"
head -c $((100 << 20)) /dev/urandom >"$W/big/blob"
tar -C "$W/big" -cf "$W/big.tar" .
skiff import "$W/big.tar" bench/big >/dev/null
skiff save -o "$W/big-archive.tar" bench/big
ls -l "$W/big-archive.tar" | awk '{print "   archive: " $5 " bytes"}'

hyperfine -N -w 1 -r "$RUNS" --export-json "$W/load.json" \
  --prepare "rm -rf $W/ls $W/lsr" \
  "$SK --root $W/ls --runroot $W/lsr load -q -i $W/big-archive.tar" \
  --prepare "sh -c 'podman --root $W/lp --runroot $W/lpr --storage-driver vfs rmi -af >/dev/null 2>&1; true'" \
  "podman --root $W/lp --runroot $W/lpr --storage-driver vfs load -q -i $W/big-archive.tar" >/dev/null
podman --root "$W/lp" --runroot "$W/lpr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true

echo
echo "== results (median of $RUNS runs, as root, $(nproc) cores)"
report "images (100 images in store)" "$W/images.json"
report "load -i (100 MiB docker-archive)" "$W/load.json"
