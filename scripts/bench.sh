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

echo "== containers: busybox in both stores"
bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
skiff save -o "$W/busybox.tar" localhost/busybox:latest
podman_ load -q -i "$W/busybox.tar" >/dev/null
# podman's default runtime (crun) refuses this host's hybrid cgroups and its default
# ulimits exceed the hard limits here: runc and explicit ulimits make it run.
PRUN="run --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
PM="podman --root $W/p --runroot $W/pr --storage-driver vfs"
SKC="$SK --root $W/s --runroot $W/sr"

hyperfine -N -w 3 -r "$RUNS" --export-json "$W/run.json" \
  "$SKC run --rm --network=none localhost/busybox:latest true" \
  "$PM $PRUN --rm --network=none localhost/busybox:latest true" >/dev/null

hyperfine -w 2 -r "$RUNS" --export-json "$W/detach.json" \
  "id=\$($SKC run -d --network=none localhost/busybox:latest sleep 100) && $SKC rm -f \$id >/dev/null" \
  "id=\$($PM $PRUN -d --network=none localhost/busybox:latest sleep 100) && $PM rm -f -t 0 \$id >/dev/null" >/dev/null

skiff run -d --name execbench --network=none localhost/busybox:latest sleep 1000 >/dev/null
podman_ $PRUN -d --name execbench --network=none localhost/busybox:latest sleep 1000 >/dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/exec.json" \
  "$SKC exec execbench true" \
  "$PM exec execbench true" >/dev/null

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
sup=$(skiff inspect --format '{{.State.ConmonPid}}' execbench)
conmon=$(podman_ inspect --format '{{.State.ConmonPid}}' execbench)
sup_rss=$(rss_kib "$sup"); conmon_rss=$(rss_kib "$conmon")
skiff rm -f execbench >/dev/null
podman_ rm -f -t 0 execbench >/dev/null
# The same with a container that logs ten lines a second.
chatty='i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done'
skiff run -d --name chatty --network=none localhost/busybox:latest sh -c "$chatty" >/dev/null
podman_ $PRUN -d --name chatty --network=none localhost/busybox:latest sh -c "$chatty" >/dev/null
sleep 5
sup_chatty=$(rss_kib "$(skiff inspect --format '{{.State.ConmonPid}}' chatty)")
conmon_chatty=$(rss_kib "$(podman_ inspect --format '{{.State.ConmonPid}}' chatty)")
skiff rm -f chatty >/dev/null
podman_ rm -f -t 0 chatty >/dev/null

echo "== rootless: skiff beside podman's default configuration for $TEST_USER, and podman on native overlay"
RL=$(mktemp -d /tmp/skiff-bench-rl.XXXXXX)
chown "$TEST_USER" "$RL"
SKU="$SK --root $RL/s --runroot $RL/sr"
# podman as the user would run it: its default store and runtime (here vfs and runc;
# `podman info` says which), then the same with native overlay.
PDEF="podman --root $RL/p --runroot $RL/pr"
POVL="podman --root $RL/o --runroot $RL/or --storage-driver overlay"
as_user "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$RL/s" --runroot "$RL/sr" >/dev/null
as_user $SKU save -o "$RL/busybox.tar" localhost/busybox:latest
as_user $PDEF load -q -i "$RL/busybox.tar" >/dev/null 2>&1
as_user $POVL load -q -i "$RL/busybox.tar" >/dev/null 2>&1
pdef_driver=$(as_user $PDEF info --format '{{.Store.GraphDriverName}}/{{.Host.OCIRuntime.Name}}' 2>/dev/null)
rl_bench() { # name, then the command after the store flags
  local name=$1; shift
  as_user hyperfine -N -w 3 -r "$RUNS" --export-json "$RL/$name.json" \
    "$SKU $*" "$PDEF $*" "$POVL $*" >/dev/null 2>&1
}
rl_bench run-none run --rm --network=none localhost/busybox:latest true
rl_bench run-net run --rm localhost/busybox:latest true
rl_bench ps ps -a
rl_bench images images
rl_bench version version
as_user hyperfine -w 2 -r "$RUNS" --export-json "$RL/detach.json" \
  "id=\$($SKU run -d --network=none localhost/busybox:latest sleep 100) && $SKU rm -f \$id >/dev/null" \
  "id=\$($PDEF run -d --network=none localhost/busybox:latest sleep 100) && $PDEF rm -f -t 0 \$id >/dev/null" \
  "id=\$($POVL run -d --network=none localhost/busybox:latest sleep 100) && $POVL rm -f -t 0 \$id >/dev/null" >/dev/null 2>&1
as_user $SKU run -d --name execbench --network=none localhost/busybox:latest sleep 1000 >/dev/null
as_user $PDEF run -d --name execbench --network=none localhost/busybox:latest sleep 1000 >/dev/null 2>&1
as_user $POVL run -d --name execbench --network=none localhost/busybox:latest sleep 1000 >/dev/null 2>&1
rl_bench exec exec execbench true
sleep 6
rl_sup=$(rss_kib "$(as_user $SKU inspect --format '{{.State.ConmonPid}}' execbench)")
rl_conmon=$(rss_kib "$(as_user $PDEF inspect --format '{{.State.ConmonPid}}' execbench 2>/dev/null)")
as_user $SKU rm -f execbench >/dev/null
as_user $PDEF rm -f -t 0 execbench >/dev/null 2>&1
as_user $POVL rm -f -t 0 execbench >/dev/null 2>&1
rl_report() { # label json
  local a b c
  a=$(median 0 "$2"); b=$(median 1 "$2"); c=$(median 2 "$2")
  printf '%-40s skiff %7.1f ms  podman(%s) %7.1f ms %5.1fx  podman(overlay) %7.1f ms %5.1fx\n' "$1" \
    "$(echo "$a*1000" | bc -l)" "$pdef_driver" "$(echo "$b*1000" | bc -l)" "$(echo "$b/$a" | bc -l)" \
    "$(echo "$c*1000" | bc -l)" "$(echo "$c/$a" | bc -l)"
}

echo
echo "== results (median of $RUNS runs, as root, $(nproc) cores)"
report "images (100 images in store)" "$W/images.json"
report "load -i (100 MiB docker-archive)" "$W/load.json"
report "run --rm --network=none busybox true" "$W/run.json"
report "run -d + rm -f" "$W/detach.json"
report "exec true" "$W/exec.json"
printf '%-44s skiff %8s KiB  conmon %8s KiB\n' "supervisor VmRSS, idle container" "$sup_rss" "$conmon_rss"
printf '%-44s skiff %8s KiB  conmon %8s KiB\n' "supervisor VmRSS, container logging 10 lines/s" "$sup_chatty" "$conmon_chatty"
echo
echo "== rootless results (median of $RUNS runs, as $TEST_USER)"
rl_report "run --rm --network=none busybox true" "$RL/run-none.json"
rl_report "run --rm busybox true (default network)" "$RL/run-net.json"
rl_report "ps -a" "$RL/ps.json"
rl_report "images" "$RL/images.json"
rl_report "version (start-up alone)" "$RL/version.json"
rl_report "run -d + rm -f" "$RL/detach.json"
rl_report "exec true" "$RL/exec.json"
printf '%-40s skiff %8s KiB  conmon %8s KiB\n' "supervisor VmRSS, idle, 6 s after start" "$rl_sup" "$rl_conmon"
as_user $PDEF rmi -af >/dev/null 2>&1 || true
as_user $POVL rmi -af >/dev/null 2>&1 || true
rm -rf "$RL" 2>/dev/null || as_user "$SK" unshare rm -rf "$RL" 2>/dev/null || true

# SKIFF_BENCH_CORE_ONLY=1 stops here: the sections below take several minutes more.
[ "${SKIFF_BENCH_CORE_ONLY:-}" = 1 ] && exit 0

echo
echo "== storage (scripts/bench-storage.sh)"
SKIFF_BENCH_NESTED=1 "$TOP/scripts/bench-storage.sh"

echo
echo "== registries (scripts/bench-registry.sh)"
SKIFF_BENCH_NESTED=1 "$TOP/scripts/bench-registry.sh"

echo
echo "== network (scripts/bench-network.sh)"
SKIFF_BENCH_NESTED=1 "$TOP/scripts/bench-network.sh"

echo
echo "== builds (scripts/bench-build.sh)"
SKIFF_BENCH_NESTED=1 "$TOP/scripts/bench-build.sh"

echo
echo "== pods and health checks (scripts/bench-pods.sh)"
SKIFF_BENCH_NESTED=1 "$TOP/scripts/bench-pods.sh"
