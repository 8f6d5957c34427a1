//! Requests and limits: the QoS class in status, the cgroup values read back, the
//! kubelet's oom_score_adj, and a memory limit ending in OOMKilled (as root; this
//! host's cgroups are v1). Rootless, where limits cannot be enforced, the pod runs and
//! an event says so.

mod common;
use common::*;
use std::path::PathBuf;

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim()
        .to_string()
}

const PODS: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - name: info
    downwardAPI:
      items:
      - path: mem_limit
        resourceFieldRef: {containerName: main, resource: limits.memory, divisor: 1Mi}
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    volumeMounts: [{name: info, mountPath: /etc/info}]
    env:
    - name: CPU_LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.cpu}}
    - name: CPU_REQUEST_M
      valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}
    - name: MEM_REQUEST
      valueFrom: {resourceFieldRef: {resource: requests.memory}}
    resources:
      limits: {cpu: 500m, memory: 64Mi}
      requests: {cpu: 0.25}
---
apiVersion: v1
kind: Pod
metadata: {name: fixed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "1000"]
    resources:
      limits: {cpu: 100m, memory: 32Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "head -c 300m /dev/zero | tail"]
    resources:
      limits: {memory: 20Mi}
"#;

#[test]
fn requests_and_limits_reach_cgroups_and_set_the_qos_class() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        let f = s.share("pods.yaml", PODS.as_bytes()).display().to_string();
        s.ok(&["kube", "play", &f]);
        assert!(wait_until(15, || {
            let p = s.kube_pod("burst");
            p["status"]["phase"] == "Running" && s.kube_pod("fixed")["status"]["phase"] == "Running"
        }));
        assert_eq!(s.kube_pod("burst")["status"]["qosClass"], "Burstable");
        assert_eq!(s.kube_pod("fixed")["status"]["qosClass"], "Guaranteed");
        // The API server's canonical forms are what is stored.
        assert_eq!(
            s.kube_pod("burst")["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "250m"
        );
        // The downward API's resourceFieldRef: cpu rounds up to whole cores, a
        // request not set is the limit, a divisor scales.
        assert_eq!(
            s.ok(&[
                "kube",
                "exec",
                "burst",
                "--",
                "sh",
                "-c",
                "echo $CPU_LIMIT $CPU_REQUEST_M $MEM_REQUEST; cat /etc/info/mem_limit"
            ]),
            format!("1 250 {}\n64", 64u64 << 20)
        );
        let describe = s.ok(&["kube", "describe", "pod", "burst"]);
        assert!(
            describe.contains("QoS Class:") && describe.contains("Burstable"),
            "{describe}"
        );

        if mode == Mode::Root {
            assert_eq!(
                read(s.cgroup_dir("burst-main", "cpu").join("cpu.cfs_quota_us")),
                "50000"
            );
            assert_eq!(
                read(s.cgroup_dir("burst-main", "cpu").join("cpu.cfs_period_us")),
                "100000"
            );
            assert_eq!(
                read(s.cgroup_dir("burst-main", "cpu").join("cpu.shares")),
                "256"
            );
            assert_eq!(
                read(
                    s.cgroup_dir("burst-main", "memory")
                        .join("memory.limit_in_bytes")
                ),
                (64u64 << 20).to_string()
            );
            // The kubelet's oom_score_adj: Guaranteed -997; Burstable by its request.
            let adj = |pod: &str| {
                s.ok(&["kube", "exec", pod, "--", "cat", "/proc/1/oom_score_adj"])
                    .trim()
                    .to_string()
            };
            // Lowering it needs CAP_SYS_RESOURCE, which root lacks in some sandboxes.
            let cap_eff = std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| {
                    l.strip_prefix("CapEff:")
                        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
                })
                .unwrap();
            let may_lower = cap_eff & (1 << 24) != 0;
            assert_eq!(adj("fixed"), if may_lower { "-997" } else { "0" });
            let total: u64 = std::fs::read_to_string("/proc/meminfo")
                .unwrap()
                .lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
                .unwrap()
                * 1024;
            let want = (1000 - (1000 * (64u128 << 20) / total as u128)).clamp(3, 999);
            assert_eq!(adj("burst"), want.to_string());
            // Over its memory limit the container is killed, and the status says so.
            assert!(
                wait_until(30, || s.kube_pod("hog")["status"]["phase"] == "Failed"),
                "{}",
                s.kube_pod("hog")
            );
            let term = &s.kube_pod("hog")["status"]["containerStatuses"][0]["state"]["terminated"];
            assert_eq!(term["reason"], "OOMKilled", "{term}");
            assert_eq!(term["exitCode"], 137);
        } else if !std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
            // cgroup v1: no delegation to a plain user; the pod runs without limits.
            assert!(
                describe.contains("requests and limits are not enforced"),
                "{describe}"
            );
        }
        s.ok(&["kube", "down", &f]);
    }
}
