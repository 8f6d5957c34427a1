#!/usr/bin/env bash
# The Docker API: the docker CLI through skiff's socket (`skiff system service`)
# beside the same CLI through rootless podman's `system service` socket (its default
# storage for the user, and overlay) and, where the machine runs one, through the
# machine's own dockerd as root. Medians (hyperfine) of `docker ps`,
# `docker run --rm IMG true` and `docker exec C true`.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
RUNS=${BENCH_RUNS:-10}
W=$(mktemp -d /tmp/skiff-bench-api.XXXXXX)
chown "$TEST_USER" "$W"
write_podman_conf "$W/containers.conf"
mkdir -p "$W/dockercfg" && chmod 777 "$W/dockercfg"
PIDS=()
DOCKERD_IMAGE=""
cleanup() {
  for p in "${PIDS[@]}"; do
    for c in $(cat "/proc/$p/task/$p/children" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
    kill "$p" 2>/dev/null || true
  done
  if [ -n "$DOCKERD_IMAGE" ]; then
    docker rm -f bench-exec >/dev/null 2>&1 || true
    docker rmi "$DOCKERD_IMAGE" >/dev/null 2>&1 || true
  fi
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/up" --runroot "$W/upr" rm -af -t 0 >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/up" --runroot "$W/upr" rmi -af >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/uo" --runroot "$W/uor" --storage-driver overlay rm -af -t 0 >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/uo" --runroot "$W/uor" --storage-driver overlay rmi -af >/dev/null 2>&1 || true
  as_user "$SK" --root "$W/us" --runroot "$W/usr" rm -af -t 0 >/dev/null 2>&1 || true
  "$SK" --root "$W/s" --runroot "$W/sr" rm -af -t 0 >/dev/null 2>&1 || true
  # podman's exec monitors linger for minutes (--exit-delay): they are ours, by pid.
  for p in $(ps -u "$TEST_USER" -o pid=,args= | awk -v w="$W" 'index($0, w) {print $1}'); do
    kill "$p" 2>/dev/null || true
  done
  rm -rf "$W" 2>/dev/null || as_user "$SK" unshare rm -rf "$W" 2>/dev/null || true
}
trap cleanup EXIT
median_ms() { jq -r ".results[$1].median * 1000" "$2"; }
wait_sock() { for _ in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.1; done; echo "no socket $1" >&2; exit 1; }
IMG=localhost/busybox:latest

# The stores, each with busybox and a running container for exec.
SKU="$SK --root $W/us --runroot $W/usr"
as_user bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/us" --runroot "$W/usr" >/dev/null
as_user $SKU save -o "$W/busybox.tar" "$IMG"
PDEF="env CONTAINERS_CONF=$W/containers.conf podman --root $W/up --runroot $W/upr"
POVL="env CONTAINERS_CONF=$W/containers.conf podman --root $W/uo --runroot $W/uor --storage-driver overlay"
as_user $PDEF load -q -i "$W/busybox.tar" >/dev/null 2>&1
as_user $POVL load -q -i "$W/busybox.tar" >/dev/null 2>&1
pdef=$(as_user $PDEF info --format '{{.Store.GraphDriverName}}' 2>/dev/null)

# The services, as the test user: skiff's idle-exits, so it gets --time 0 here.
as_user $SKU system service --time 0 "unix://$W/skiff.sock" >/dev/null 2>&1 & PIDS+=($!)
as_user $PDEF system service --time 0 "unix://$W/podman.sock" >/dev/null 2>&1 & PIDS+=($!)
as_user $POVL system service --time 0 "unix://$W/podman-ovl.sock" >/dev/null 2>&1 & PIDS+=($!)
for s in skiff podman podman-ovl; do wait_sock "$W/$s.sock"; done
D() { echo "env DOCKER_CONFIG=$W/dockercfg DOCKER_HOST=unix://$W/$1.sock docker"; }
for s in skiff podman podman-ovl; do
  as_user $(D $s) run -d --name bench-exec "$IMG" sleep 1000 >/dev/null
  as_user $(D $s) run --rm "$IMG" true # warm: podman makes its network state on first use
done

echo "== rootless: docker ps, run --rm, exec through each socket"
for what in "ps" "run --rm $IMG true" "exec bench-exec true"; do
  as_user hyperfine -N -w 3 -r "$RUNS" --export-json "$W/u-${what%% *}.json" \
    "$(D skiff) $what" "$(D podman) $what" "$(D podman-ovl) $what" >/dev/null 2>&1
done

ROOTD=""
if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
  echo "== root: the same through skiff's socket and the machine's dockerd"
  SKR="$SK --root $W/s --runroot $W/sr"
  bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
  $SKR system service --time 0 "unix://$W/skiff-root.sock" >/dev/null 2>&1 & PIDS+=($!)
  wait_sock "$W/skiff-root.sock"
  # The engine starts with no images: the bench loads busybox and removes it after.
  docker load -q -i "$W/busybox.tar" >/dev/null
  DOCKERD_IMAGE=$IMG
  docker run -d --name bench-exec "$IMG" sleep 1000 >/dev/null
  docker run --rm "$IMG" true
  DR="env DOCKER_CONFIG=$W/dockercfg DOCKER_HOST=unix://$W/skiff-root.sock docker"
  $DR run -d --name bench-exec "$IMG" sleep 1000 >/dev/null
  for what in "ps" "run --rm $IMG true" "exec bench-exec true"; do
    hyperfine -N -w 3 -r "$RUNS" --export-json "$W/r-${what%% *}.json" \
      "$DR $what" "env DOCKER_CONFIG=$W/dockercfg docker $what" >/dev/null 2>&1
  done
  ROOTD=1
fi

echo
echo "== results (median of $RUNS runs, $(nproc) cores)"
for what in ps run exec; do
  f="$W/u-$what.json"
  a=$(median_ms 0 "$f"); b=$(median_ms 1 "$f"); c=$(median_ms 2 "$f")
  printf 'rootless docker %-5s skiff %7.1f ms  podman(%s) %7.1f ms %5.1fx  podman(overlay) %7.1f ms %5.1fx\n' \
    "$what" "$a" "$pdef" "$b" "$(echo "$b/$a" | bc -l)" "$c" "$(echo "$c/$a" | bc -l)"
done
if [ -n "$ROOTD" ]; then
  for what in ps run exec; do
    f="$W/r-$what.json"
    a=$(median_ms 0 "$f"); b=$(median_ms 1 "$f")
    printf 'root docker %-9s skiff %7.1f ms  dockerd %7.1f ms %5.1fx\n' "$what" "$a" "$b" "$(echo "$b/$a" | bc -l)"
  done
fi
