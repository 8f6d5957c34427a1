#!/usr/bin/env bash
# Network benchmarks: TCP throughput from the host to a published port (1 GiB through
# 127.0.0.1), and container start time with networking, skiff beside podman (both with
# slirp4netns; pasta rootless for skiff). Run as root. Called by bench.sh; runs alone too.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
W=$(mktemp -d /var/tmp/skiff-bench-net.XXXXXX)
chmod 755 "$W"
cleanup() {
  "$SK" --root "$W/s" --runroot "$W/sr" rm -af >/dev/null 2>&1 || true
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rm -af -t 0 >/dev/null 2>&1 || true
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
  as_user "$SK" --root "$W/u" --runroot "$W/ur" rm -af >/dev/null 2>&1 || true
  rm -rf "$W" 2>/dev/null || as_user "$SK" unshare rm -rf "$W/u" 2>/dev/null || true
  rm -rf "$W" 2>/dev/null || true
}
trap cleanup EXIT
MIB=${BENCH_NET_MIB:-1024}
PRUN="--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
"$SK" --root "$W/s" --runroot "$W/sr" save -o "$W/bb.tar" localhost/busybox:latest
podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs load -q -i "$W/bb.tar" >/dev/null
mkdir -p "$W/u" "$W/ur" && chown "$TEST_USER" "$W/u" "$W/ur"
as_user "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/u" --runroot "$W/ur" >/dev/null

# MiB/s of MIB MiB sent to 127.0.0.1:port, where a container discards it.
send() {
  local port=$1 t
  sleep 0.5
  t=$(date +%s%N)
  head -c $((MIB << 20)) /dev/zero >"/dev/tcp/127.0.0.1/$port"
  echo "scale=0; $MIB * 1000000000 / ($(date +%s%N) - $t)" | bc
}
sink='while true; do nc -l -p 5000 >/dev/null; done'
declare -A R
p=$(free_port)
"$SK" --root "$W/s" --runroot "$W/sr" run -d --name sink -p "127.0.0.1:$p:5000" localhost/busybox:latest sh -c "$sink" >/dev/null
R[skiff-slirp-root]=$(send "$p")
"$SK" --root "$W/s" --runroot "$W/sr" rm -f sink >/dev/null
p=$(free_port)
podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs run $PRUN -d --name sink --network slirp4netns -p "127.0.0.1:$p:5000" localhost/busybox:latest sh -c "$sink" >/dev/null
R[podman-slirp-root]=$(send "$p")
podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rm -f -t 0 sink >/dev/null
for net in slirp4netns pasta bridge; do
  p=$(free_port)
  as_user "$SK" --root "$W/u" --runroot "$W/ur" run -d --name sink --network "$net" -p "127.0.0.1:$p:5000" localhost/busybox:latest sh -c "$sink" >/dev/null
  R[skiff-$net-rootless]=$(send "$p")
  as_user "$SK" --root "$W/u" --runroot "$W/ur" rm -f sink >/dev/null
done

# Container -> container on one bridge network (rootless, both engines): a client
# container fetches MIB MiB over HTTP from a server container by its address. busybox's
# `time` gives seconds to 10 ms; the median of 3 fetches is kept.
server="head -c $((MIB << 20)) /dev/zero > /www/big && touch /www/ready && exec httpd -f -p 80 -h /www"
seconds_of() { awk '/^real/ { sub("m", "", $2); sub("s", "", $3); print $2 * 60 + $3 }'; }
median3() { sort -n | sed -n 2p; }
# c2c NAME ENGINE...: ENGINE is the command line that runs the engine as the test user.
c2c() {
  local name=$1 ip t
  shift
  "$@" network create benchnet >/dev/null
  "$@" run -d --name srv --network benchnet --tmpfs /www:size=$((MIB + 64))m localhost/busybox:latest sh -c "$server" >/dev/null
  until "$@" exec srv test -e /www/ready 2>/dev/null; do sleep 0.2; done
  ip=$("$@" inspect srv --format '{{.NetworkSettings.Networks.benchnet.IPAddress}}')
  t=$(for _ in 1 2 3; do
    "$@" run --rm --network benchnet localhost/busybox:latest sh -c "time wget -q -O /dev/null http://$ip/big" 2>&1 | seconds_of
  done | median3)
  R[$name]=$(echo "scale=0; $MIB / $t" | bc)
  "$@" rm -f srv >/dev/null 2>&1 || "$@" rm -f -t 0 srv >/dev/null
  "$@" network rm benchnet >/dev/null
}
mkdir -p "$W/pu" "$W/pur" && chown "$TEST_USER" "$W/pu" "$W/pur"
cp "$W/bb.tar" "$W/pu/bb.tar" && chmod 644 "$W/pu/bb.tar"
PU=(as_user podman --root "$W/pu" --runroot "$W/pur" --storage-driver vfs)
"${PU[@]}" load -q -i "$W/pu/bb.tar" >/dev/null
podman_user() { "${PU[@]}" "$1" $([ "$1" = run ] && echo "$PRUN") "${@:2}"; }
c2c skiff-c2c-rootless as_user "$SK" --root "$W/u" --runroot "$W/ur"
c2c podman-c2c-rootless podman_user
"${PU[@]}" rmi -af >/dev/null 2>&1 || true

# The issue's measure: rootless, default network, 300 MB over HTTP from busybox httpd
# to curl on 127.0.0.1; MiB/s, median of 3 downloads. podman as the user runs it by
# default (rootlessport forwarding).
HTTP_MIB=300
http_server="head -c $((HTTP_MIB << 20)) /dev/zero > /www/big && touch /www/ready && exec httpd -f -p 80 -h /www"
http_pull() { # port -> MiB/s
  for _ in 1 2 3; do curl -s -o /dev/null -w '%{speed_download}\n' "http://127.0.0.1:$1/big"; done |
    sort -n | sed -n 2p | awk '{ printf "%d", $1 / 1048576 }'
}
http_bench() { # name, then the engine's command line (as the test user)
  local name=$1 p
  shift
  p=$(free_port)
  "$@" run -d --name web -p "127.0.0.1:$p:80" --tmpfs /www:size=$((HTTP_MIB + 64))m localhost/busybox:latest sh -c "$http_server" >/dev/null
  until "$@" exec web test -e /www/ready 2>/dev/null; do sleep 0.2; done
  R[$name]=$(http_pull "$p")
  "$@" rm -f web >/dev/null 2>&1 || "$@" rm -f -t 0 web >/dev/null
}
http_bench skiff-http-rootless as_user "$SK" --root "$W/u" --runroot "$W/ur"
"${PU[@]}" load -q -i "$W/pu/bb.tar" >/dev/null
http_bench podman-http-rootless podman_user
"${PU[@]}" rmi -af >/dev/null 2>&1 || true

hyperfine -N -w 3 -r "${BENCH_RUNS:-10}" --export-json "$W/start.json" \
  "$SK --root $W/s --runroot $W/sr run --rm localhost/busybox:latest true" \
  "podman --root $W/p --runroot $W/pr --storage-driver vfs run $PRUN --rm --network slirp4netns localhost/busybox:latest true" >/dev/null
a=$(jq -r '.results[0].median' "$W/start.json"); b=$(jq -r '.results[1].median' "$W/start.json")

echo
echo "== network results"
printf '%-44s %s MiB/s\n' "host -> published port, skiff slirp4netns (root)" "${R[skiff-slirp-root]}"
printf '%-44s %s MiB/s\n' "host -> published port, podman slirp4netns (root)" "${R[podman-slirp-root]}"
printf '%-44s %s MiB/s\n' "host -> published port, skiff slirp4netns (rootless)" "${R[skiff-slirp4netns-rootless]}"
printf '%-44s %s MiB/s\n' "host -> published port, skiff pasta (rootless)" "${R[skiff-pasta-rootless]}"
printf '%-44s %s MiB/s\n' "host -> published port, skiff bridge (rootless)" "${R[skiff-bridge-rootless]}"
printf '%-44s %s MiB/s\n' "HTTP 300 MB via published port, skiff (rootless)" "${R[skiff-http-rootless]}"
printf '%-44s %s MiB/s\n' "HTTP 300 MB via published port, podman (rootless)" "${R[podman-http-rootless]}"
printf '%-44s %s MiB/s\n' "container -> container, skiff bridge (rootless)" "${R[skiff-c2c-rootless]}"
printf '%-44s %s MiB/s\n' "container -> container, podman bridge (rootless)" "${R[podman-c2c-rootless]}"
printf '%-44s skiff %8.1f ms   podman %8.1f ms   podman/skiff %6.1fx\n' "run --rm true with slirp4netns" \
  "$(echo "$a*1000" | bc -l)" "$(echo "$b*1000" | bc -l)" "$(echo "$b/$a" | bc -l)"
