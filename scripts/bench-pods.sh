#!/usr/bin/env bash
# Pods and health checks, skiff beside podman on this machine (medians, hyperfine):
#  - a pod's life: pod create, two `run -d --pod`, `pod rm -f -t 0`; as root and as the
#    test user (podman in its default configuration for that user, and on overlay);
#  - one health check: `skiff healthcheck run` beside `podman healthcheck run` (podman
#    runs its checks from systemd timers, one such process per check; skiff's
#    supervisor runs the same subcommand on its own timer), wall and CPU time;
#  - the CPU the supervisor and its checks use over a minute of 1 s checks, per check;
#  - supervisor VmRSS with a health check running, beside conmon's.
set -euo pipefail
. "$(dirname "$0")/common.sh"
bench_prologue
RUNS=${BENCH_RUNS:-10}
W=$(mktemp -d /tmp/skiff-bench-pods.XXXXXX)
chown "$TEST_USER" "$W"
# podman's default runtime (crun) refuses this host's hybrid cgroups and its default
# ulimits exceed the hard limits here; a pod's infra takes both from containers.conf,
# so that is where runc and the limits are set (for root and the user alike).
write_podman_conf "$W/containers.conf"
PM_FLAGS=""
cleanup() {
  export CONTAINERS_CONF="$W/containers.conf"
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs pod rm -af -t 0 >/dev/null 2>&1 || true
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rm -af -t 0 >/dev/null 2>&1 || true
  podman --root "$W/p" --runroot "$W/pr" --storage-driver vfs rmi -af >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/up" --runroot "$W/upr" pod rm -af -t 0 >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/up" --runroot "$W/upr" rmi -af >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/uo" --runroot "$W/uor" --storage-driver overlay pod rm -af -t 0 >/dev/null 2>&1 || true
  as_user env CONTAINERS_CONF="$W/containers.conf" podman --root "$W/uo" --runroot "$W/uor" --storage-driver overlay rmi -af >/dev/null 2>&1 || true
  as_user "$SK" --root "$W/us" --runroot "$W/usr" pod rm -af -t 0 >/dev/null 2>&1 || true
  "$SK" --root "$W/s" --runroot "$W/sr" pod rm -af -t 0 >/dev/null 2>&1 || true
  rm -rf "$W" 2>/dev/null || as_user "$SK" unshare rm -rf "$W" 2>/dev/null || true
}
trap cleanup EXIT

median_ms() { jq -r ".results[$1].median * 1000" "$2"; }
cpu_ms() { jq -r "(.results[$1].user + .results[$1].system) * 1000" "$2"; }

SKR="$SK --root $W/s --runroot $W/sr"
PMR="env CONTAINERS_CONF=$W/containers.conf podman --root $W/p --runroot $W/pr --storage-driver vfs"
bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/s" --runroot "$W/sr" >/dev/null
$SKR save -o "$W/busybox.tar" localhost/busybox:latest
chmod 644 "$W/busybox.tar"
$PMR load -q -i "$W/busybox.tar" >/dev/null
# podman builds its pause image on first use: not part of what is measured.
$PMR pod create --name warm >/dev/null && $PMR pod rm -f -t 0 warm >/dev/null

pod_life() { # the store command, then run's extra flags

  echo "$1 pod create --name bp >/dev/null && $1 run -d $2 --pod bp localhost/busybox:latest sleep 100 >/dev/null && $1 run -d $2 --pod bp localhost/busybox:latest sleep 100 >/dev/null && $1 pod rm -f -t 0 bp >/dev/null"
}

echo "== root: pod create + 2 run -d --pod + pod rm -f"
hyperfine -w 2 -r "$RUNS" --export-json "$W/pod-root.json" \
  "$(pod_life "$SKR" "")" "$(pod_life "$PMR" "$PM_FLAGS")" >/dev/null

echo "== rootless: the same as $TEST_USER"
SKU="$SK --root $W/us --runroot $W/usr"
PDEF="env CONTAINERS_CONF=$W/containers.conf podman --root $W/up --runroot $W/upr"
POVL="env CONTAINERS_CONF=$W/containers.conf podman --root $W/uo --runroot $W/uor --storage-driver overlay"
as_user bash "$TOP/scripts/mkimage-busybox.sh" "$SK" --root "$W/us" --runroot "$W/usr" >/dev/null
as_user $PDEF load -q -i "$W/busybox.tar" >/dev/null 2>&1
as_user $POVL load -q -i "$W/busybox.tar" >/dev/null 2>&1
as_user $PDEF pod create --name warm >/dev/null 2>&1 && as_user $PDEF pod rm -f -t 0 warm >/dev/null 2>&1
as_user $POVL pod create --name warm >/dev/null 2>&1 && as_user $POVL pod rm -f -t 0 warm >/dev/null 2>&1
pdef=$(as_user $PDEF info --format '{{.Store.GraphDriverName}}/{{.Host.OCIRuntime.Name}}' 2>/dev/null)
as_user hyperfine -w 2 -r "$RUNS" --export-json "$W/pod-rootless.json" \
  "$(pod_life "$SKU" "")" "$(pod_life "$PDEF" "")" "$(pod_life "$POVL" "")" >/dev/null 2>&1

echo "== root: one health check, and a minute of them"
$SKR run -d --name hc --network=none --health-cmd true --health-interval 1s localhost/busybox:latest sleep 1000 >/dev/null
$PMR run -d $PM_FLAGS --name hc --network=none --health-cmd true --health-interval 1s localhost/busybox:latest sleep 1000 >/dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/hc.json" \
  "$SKR healthcheck run hc" "$PMR healthcheck run hc" >/dev/null
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
sup=$($SKR inspect --format '{{.State.ConmonPid}}' hc)
conmon=$($PMR inspect --format '{{.State.ConmonPid}}' hc)
# utime, stime, cutime, cstime of the supervisor, in clock ticks: its own work and that
# of the checks it ran and reaped.
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks "$sup")
sleep 60
after=$(ticks "$sup")
sup_rss=$(rss_kib "$sup"); conmon_rss=$(rss_kib "$conmon")
per_check_ms=$(echo "($after - $before) * 1000 / $hz / 60" | bc -l)
$SKR rm -f hc >/dev/null
$PMR rm -f -t 0 hc >/dev/null

r() { printf '%.1f' "$1"; }
echo
echo "== results (median of $RUNS runs, $(nproc) cores)"
a=$(median_ms 0 "$W/pod-root.json"); b=$(median_ms 1 "$W/pod-root.json")
printf '%-52s skiff %7.1f ms  podman(vfs/runc) %7.1f ms  %5.1fx\n' \
  "root: pod create + 2 run -d --pod + pod rm -f" "$a" "$b" "$(echo "$b/$a" | bc -l)"
a=$(median_ms 0 "$W/pod-rootless.json"); b=$(median_ms 1 "$W/pod-rootless.json"); c=$(median_ms 2 "$W/pod-rootless.json")
printf '%-52s skiff %7.1f ms  podman(%s) %7.1f ms %5.1fx  podman(overlay) %7.1f ms %5.1fx\n' \
  "rootless: pod create + 2 run -d --pod + pod rm -f" "$a" "$pdef" "$b" "$(echo "$b/$a" | bc -l)" \
  "$c" "$(echo "$c/$a" | bc -l)"
a=$(median_ms 0 "$W/hc.json"); b=$(median_ms 1 "$W/hc.json")
ac=$(cpu_ms 0 "$W/hc.json"); bc_=$(cpu_ms 1 "$W/hc.json")
printf '%-52s skiff %7.1f ms (cpu %s ms)  podman %7.1f ms (cpu %s ms)  %5.1fx\n' \
  "healthcheck run (one check, exec true)" "$a" "$(r "$ac")" "$b" "$(r "$bc_")" "$(echo "$b/$a" | bc -l)"
printf '%-52s %s ms of CPU per check (supervisor and the checks it ran, over 60 s)\n' \
  "skiff: a 1 s health check in the supervisor" "$(r "$per_check_ms")"
printf '%-52s skiff %6s KiB  conmon %6s KiB\n' "supervisor VmRSS with a 1 s health check" "$sup_rss" "$conmon_rss"

# kube play of a Pod until its container runs, then kube down: skiff beside podman.
cat >"$W/kube-pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: bench
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: localhost/busybox:latest
    # Absolute: podman's kube play gives no PATH when the image sets none.
    command: ["/bin/sleep", "1000"]
YAML
chmod 644 "$W/kube-pod.yaml"
echo "== kube play of a Pod + kube down, root and rootless"
hyperfine -w 2 -r "$RUNS" --export-json "$W/kube-root.json" \
  "$SKR kube play $W/kube-pod.yaml >/dev/null && $SKR kube down $W/kube-pod.yaml >/dev/null" \
  "$PMR kube play $W/kube-pod.yaml >/dev/null && $PMR kube down $W/kube-pod.yaml >/dev/null" >/dev/null
as_user hyperfine -w 2 -r "$RUNS" --export-json "$W/kube-rootless.json" \
  "$SKU kube play $W/kube-pod.yaml >/dev/null && $SKU kube down $W/kube-pod.yaml >/dev/null" \
  "$PDEF kube play $W/kube-pod.yaml >/dev/null && $PDEF kube down $W/kube-pod.yaml >/dev/null" \
  "$POVL kube play $W/kube-pod.yaml >/dev/null && $POVL kube down $W/kube-pod.yaml >/dev/null" >/dev/null 2>&1
# The kubelet's footprint with one running Pod, over 20 s.
$SKR kube play "$W/kube-pod.yaml" >/dev/null
kl=$(cut -d' ' -f1 "$W/sr/kube/owners/default_pod_bench.pid")
kb=$(ticks "$kl"); sleep 20; ka=$(ticks "$kl")
kl_rss=$(rss_kib "$kl")
kl_cpu=$(echo "($ka - $kb) * 1000 / $hz / 20" | bc -l)
$SKR kube down "$W/kube-pod.yaml" >/dev/null
a=$(median_ms 0 "$W/kube-root.json"); b=$(median_ms 1 "$W/kube-root.json")
printf '%-52s skiff %7.1f ms  podman(vfs/runc) %7.1f ms  %5.1fx\n' \
  "root: kube play Pod + kube down" "$a" "$b" "$(echo "$b/$a" | bc -l)"
a=$(median_ms 0 "$W/kube-rootless.json"); b=$(median_ms 1 "$W/kube-rootless.json"); c=$(median_ms 2 "$W/kube-rootless.json")
printf '%-52s skiff %7.1f ms  podman(%s) %7.1f ms %5.1fx  podman(overlay) %7.1f ms %5.1fx\n' \
  "rootless: kube play Pod + kube down" "$a" "$pdef" "$b" "$(echo "$b/$a" | bc -l)" \
  "$c" "$(echo "$c/$a" | bc -l)"
printf '%-52s VmRSS %s KiB, %s ms of CPU per second idle\n' "skiff: the kubelet of one running Pod" "$kl_rss" "$(r "$kl_cpu")"

# kube play of a 1-replica Deployment (podman plays one replica) until its pod runs.
deploy() { # name replicas
cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: localhost/busybox:latest
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; /bin/sleep 1000 & wait"]
YAML
}
deploy one 1 >"$W/deploy-1.yaml"
deploy ten 10 >"$W/deploy-10.yaml"
chmod 644 "$W"/deploy-*.yaml
echo "== kube play of a 1-replica Deployment + kube down, root"
hyperfine -w 2 -r "$RUNS" --export-json "$W/deploy-root.json" \
  "$SKR kube play $W/deploy-1.yaml >/dev/null && $SKR kube down $W/deploy-1.yaml >/dev/null" \
  "$PMR kube play $W/deploy-1.yaml >/dev/null && $PMR kube down $W/deploy-1.yaml >/dev/null" >/dev/null
echo "== kube play --wait of a 10-replica Deployment until every pod is Ready, root"
hyperfine -w 1 -r 5 --export-json "$W/deploy-10.json" \
  "$SKR kube play --wait $W/deploy-10.yaml >/dev/null && $SKR kube down $W/deploy-10.yaml >/dev/null" >/dev/null
$SKR kube play --wait "$W/deploy-10.yaml" >/dev/null
sleep 2
owners="$W/sr/kube/owners"
dc=$(cut -d' ' -f1 "$owners/default_deployment_ten.pid")
rc=$(cut -d' ' -f1 "$owners"/default_replicaset_ten-*.pid)
k1=$(cut -d' ' -f1 "$(ls "$owners"/default_pod_ten-*.pid | head -1)")
db=$(ticks "$dc"); rb=$(ticks "$rc"); kb1=$(ticks "$k1"); sleep 20
da=$(ticks "$dc"); ra=$(ticks "$rc"); ka1=$(ticks "$k1")
d_rss=$(rss_kib "$dc"); r_rss=$(rss_kib "$rc"); k_rss=$(rss_kib "$k1")
$SKR kube down "$W/deploy-10.yaml" >/dev/null
a=$(median_ms 0 "$W/deploy-root.json"); b=$(median_ms 1 "$W/deploy-root.json")
printf '%-52s skiff %7.1f ms  podman(vfs/runc) %7.1f ms  %5.1fx\n' \
  "root: kube play Deployment(1) + kube down" "$a" "$b" "$(echo "$b/$a" | bc -l)"
printf '%-52s skiff %7.1f ms (podman plays one replica only)\n' \
  "root: kube play --wait Deployment(10) + kube down" "$(median_ms 0 "$W/deploy-10.json")"
cpu() { echo "($2 - $1) * 1000 / $hz / 20" | bc -l; }
printf '%-52s VmRSS %s KiB, %s ms CPU/s idle\n' "  Deployment controller" "$d_rss" "$(r "$(cpu "$db" "$da")")"
printf '%-52s VmRSS %s KiB, %s ms CPU/s idle\n' "  ReplicaSet controller (10 pods)" "$r_rss" "$(r "$(cpu "$rb" "$ra")")"
printf '%-52s VmRSS %s KiB, %s ms CPU/s idle\n' "  one pod's kubelet" "$k_rss" "$(r "$(cpu "$kb1" "$ka1")")"
