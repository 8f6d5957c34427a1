#!/usr/bin/env bash
# Build benchmarks: a 10-step Containerfile built from nothing (--no-cache) and rebuilt
# from the cache, skiff beside buildah and podman build, all as root on vfs-free
# defaults (overlay), RUN steps without a network. Called by bench.sh; runs alone too.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
W=$(mktemp -d /var/tmp/skiff-bench-build.XXXXXX)
cleanup() {
  buildah --root "$W/b" --runroot "$W/br" rmi -af >/dev/null 2>&1 || true
  podman --root "$W/p" --runroot "$W/pr" rmi -af >/dev/null 2>&1 || true
  "$SK" --root "$W/s" --runroot "$W/sr" rmi -af >/dev/null 2>&1 || true
  rm -rf "$W" 2>/dev/null || true
}
trap cleanup EXIT
RUNS=${BENCH_BUILD_RUNS:-5}
SKB=("$SK" --root "$W/s" --runroot "$W/sr")
BAB=(buildah --root "$W/b" --runroot "$W/br")
PDB=(podman --root "$W/p" --runroot "$W/pr")
bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
"${SKB[@]}" save -o "$W/bb.tar" localhost/busybox:latest
"${BAB[@]}" pull -q "docker-archive:$W/bb.tar" >/dev/null
"${PDB[@]}" load -q -i "$W/bb.tar" >/dev/null
mkdir -p "$W/ctx/src"
for i in $(seq 1 20); do head -c 4096 /dev/urandom >"$W/ctx/src/f$i"; done
cat >"$W/ctx/Containerfile" <<'CF'
FROM localhost/busybox:latest
ENV APP=/app MODE=bench
WORKDIR /app
COPY src/ ./src/
RUN mkdir -p /app/out && cat src/* > /app/out/all
RUN find /app -type f | wc -l > /app/out/count
RUN echo built > /app/out/stamp && rm /bin/vi
LABEL org.example.bench=yes
EXPOSE 8080
CMD ["cat", "/app/out/stamp"]
CF
C="$W/ctx"
hyperfine -N -w 1 -r "$RUNS" --export-json "$W/cold.json" \
  "${SKB[*]} build -q --no-cache --network none -t b $C" \
  "${BAB[*]} bud -q --no-cache --layers --runtime runc --network none -t b $C" \
  "${PDB[*]} build -q --no-cache --runtime runc --network none -t b $C" >/dev/null
# Warm the caches, then time the rebuilds.
"${SKB[@]}" build -q --network none -t b "$C" >/dev/null
"${BAB[@]}" bud -q --layers --runtime runc --network none -t b "$C" >/dev/null
"${PDB[@]}" build -q --runtime runc --network none -t b "$C" >/dev/null
hyperfine -N -w 1 -r "$RUNS" --export-json "$W/warm.json" \
  "${SKB[*]} build -q --network none -t b $C" \
  "${BAB[*]} bud -q --layers --runtime runc --network none -t b $C" \
  "${PDB[*]} build -q --runtime runc --network none -t b $C" >/dev/null
ms() { jq -r ".results[$2].median * 1000" "$1"; }
echo
echo "== build results (median of $RUNS, ms)"
for f in cold warm; do
  s=$(ms "$W/$f.json" 0); b=$(ms "$W/$f.json" 1); p=$(ms "$W/$f.json" 2)
  printf '%-34s skiff %8.1f   buildah %8.1f (%5.1fx)   podman build %8.1f (%5.1fx)\n' \
    "10-step build, $([ $f = cold ] && echo 'from nothing' || echo 'cached rebuild')" \
    "$s" "$b" "$(echo "$b/$s" | bc -l)" "$p" "$(echo "$p/$s" | bc -l)"
done
