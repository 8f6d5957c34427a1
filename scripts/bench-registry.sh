#!/usr/bin/env bash
# Registry benchmarks: push and pull of a 100 MiB image through Debian's docker-registry
# on 127.0.0.1, skiff beside podman and skopeo. Every run starts from an empty registry
# (push) or an empty local store (pull), so nothing is skipped as already there.
# Run as root. Called by bench.sh; can be run alone.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
W=$(mktemp -d /var/tmp/skiff-bench-reg.XXXXXX)
RUNS=${BENCH_REG_RUNS:-5}
PORT=${BENCH_REG_PORT:-5987}
REG="127.0.0.1:$PORT"
REGPID=
stop_registry() { [ -n "$REGPID" ] && kill "$REGPID" 2>/dev/null && wait "$REGPID" 2>/dev/null; REGPID=; }
cleanup() {
  stop_registry || true
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
start_registry() { # fresh storage every time
  stop_registry || true
  rm -rf "$W/regdata"
  cat >"$W/reg.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $W/regdata}}
http: {addr: $REG}
YML
  docker-registry serve "$W/reg.yml" >/dev/null 2>&1 &
  REGPID=$!
  for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null && return; sleep 0.05; done
  echo "docker-registry did not start" >&2; exit 1
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== a 100 MiB image in each store"
mkdir -p "$W/big"
head -c $((100 << 20)) /dev/urandom >"$W/big/blob"
tar -C "$W/big" -cf "$W/big.tar" .
"$SK" --root "$W/s" --runroot "$W/sr" import "$W/big.tar" bench/big >/dev/null
"$SK" --root "$W/s" --runroot "$W/sr" save -o "$W/big-archive.tar" bench/big
podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs load -q -i "$W/big-archive.tar" >/dev/null
skopeo copy -q "docker-archive:$W/big-archive.tar" "oci:$W/oci:big" >/dev/null

declare -A T
echo "== push, $RUNS runs each, empty registry every time"
for i in $(seq "$RUNS"); do
  start_registry; t=$(date +%s%N)
  "$SK" --root "$W/s" --runroot "$W/sr" push -q --tls-verify=false bench/big "$REG/bench/big:1"
  T[push,skiff]+="$(ms "$t") "
  start_registry; t=$(date +%s%N)
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs push -q --tls-verify=false localhost/bench/big:latest "$REG/bench/big:1"
  T[push,podman]+="$(ms "$t") "
  start_registry; t=$(date +%s%N)
  skopeo copy -q --dest-tls-verify=false "oci:$W/oci:big" "docker://$REG/bench/big:1" >/dev/null
  T[push,skopeo]+="$(ms "$t") "
done

echo "== pull, $RUNS runs each, empty local store every time"
start_registry
"$SK" --root "$W/s" --runroot "$W/sr" push -q --tls-verify=false bench/big "$REG/bench/big:1"
for i in $(seq "$RUNS"); do
  rm -rf "$W/ps" "$W/psr"; t=$(date +%s%N)
  "$SK" --root "$W/ps" --runroot "$W/psr" pull -q --tls-verify=false "$REG/bench/big:1" >/dev/null
  T[pull,skiff]+="$(ms "$t") "
  podman --root "$W/pp" --runroot "$W/ppr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
  rm -rf "$W/pp" "$W/ppr"; t=$(date +%s%N)
  podman --root "$W/pp" --runroot "$W/ppr" --storage-driver vfs pull -q --tls-verify=false "$REG/bench/big:1" >/dev/null
  T[pull,podman]+="$(ms "$t") "
  rm -rf "$W/sko"; t=$(date +%s%N)
  skopeo copy -q --src-tls-verify=false "docker://$REG/bench/big:1" "oci:$W/sko:big" >/dev/null
  T[pull,skopeo]+="$(ms "$t") "
done
podman --root "$W/pp" --runroot "$W/ppr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true

echo
echo "== registry results: 100 MiB image, local docker-registry, median of $RUNS (ms)"
printf '%-8s %10s %10s %10s\n' "" skiff podman skopeo
for op in push pull; do
  printf '%-8s %10s %10s %10s\n' "$op" "$(median <<<"${T[$op,skiff]}")" "$(median <<<"${T[$op,podman]}")" "$(median <<<"${T[$op,skopeo]}")"
done
echo "(skopeo pulls into an OCI layout directory: it unpacks nothing; skiff and podman unpack into their stores)"
