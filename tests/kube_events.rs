//! Events and describe: what the kubelets and controllers record, kubectl's describe
//! layout, and image pulls as the kubelet makes them (ErrImagePull, ImagePullBackOff,
//! ErrImageNeverPull, and a pod that starts once its image is there).

mod common;
use common::*;

fn waiting_reason(s: &Skiff, pod: &str) -> String {
    s.kube_pod(pod)["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn events_and_describe_tell_what_happened_to_pods_and_their_images() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        // A port nothing listens on: the pull fails at once, without leaving loopback.
        let missing = format!("127.0.0.1:{}/absent:1", free_port());
        let yaml = format!(
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: flaky}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: flaky}}}}
  template:
    metadata: {{labels: {{app: flaky}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox
        command: [sleep, "1000"]
        livenessProbe:
          exec: {{command: ["false"]}}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: later}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: {missing}
    command: [sleep, "1000"]
---
apiVersion: v1
kind: Pod
metadata: {{name: never}}
spec:
  containers:
  - name: main
    image: not-here-at-all
    imagePullPolicy: Never
"#
        );
        let f = s
            .share("events.yaml", yaml.as_bytes())
            .display()
            .to_string();
        s.ok(&["kube", "play", &f]);

        // The image that cannot be pulled: ErrImagePull, then ImagePullBackOff.
        assert!(
            wait_until(10, || waiting_reason(&s, "later") == "ImagePullBackOff"),
            "{mode:?}: {}",
            s.ok(&["kube", "get", "pod", "later", "-o", "yaml"])
        );
        assert_eq!(waiting_reason(&s, "never"), "ErrImageNeverPull");
        let table = s.ok(&["kube", "get", "pods"]);
        assert!(
            table.contains("ImagePullBackOff") && table.contains("ErrImageNeverPull"),
            "{table}"
        );
        let text = s.ok(&["kube", "describe", "pod", "later"]);
        for want in [
            "Status:           Pending",
            "Reason:       ImagePullBackOff",
            "default-scheduler  Successfully assigned default/later to",
            &format!("Pulling image \"{missing}\""),
            "Error: ErrImagePull",
        ] {
            assert!(text.contains(want), "{mode:?}: {want:?} in\n{text}");
        }

        // Once the image is there, the next try (after the 10 s backoff) starts it.
        s.ok(&["tag", "busybox", &missing]);
        assert!(
            wait_until(30, || s
                .ok(&["kube", "get", "pod", "later"])
                .contains("Running")),
            "{}",
            s.ok(&["kube", "describe", "pod", "later"])
        );

        // The failing liveness probe: restarts, each told as the kubelet tells it.
        let pod = s
            .ok(&["kube", "get", "pods", "-l", "app=flaky", "-o", "name"])
            .trim()
            .trim_start_matches("pod/")
            .to_string();
        assert!(
            wait_until(20, || s
                .ok(&["kube", "describe", "pod", &pod])
                .contains("Back-off restarting failed container main")),
            "{}",
            s.ok(&["kube", "describe", "pod", &pod])
        );
        let text = s.ok(&["kube", "describe", "pod", &pod]);
        for want in [
            "Controlled By:  ReplicaSet/flaky-",
            "Liveness:       exec [false] delay=0s timeout=1s period=1s #success=1 #failure=1",
            "Warning  Unhealthy",
            "Liveness probe failed",
            "Container main failed liveness probe, will be restarted",
            "Started container main",
            "Last State:     Terminated",
        ] {
            assert!(text.contains(want), "{mode:?}: {want:?} in\n{text}");
        }
        let deploy = s.ok(&["kube", "describe", "deploy", "flaky"]);
        assert!(deploy.contains("Scaled up replica set flaky-"), "{deploy}");
        assert!(deploy.contains("Replicas:           1 desired"), "{deploy}");
        let rs = s.ok(&["kube", "describe", "rs", "-l", "app=flaky"]);
        assert!(rs.contains(&format!("Created pod: {pod}")), "{rs}");

        let events = s.ok(&["kube", "get", "events"]);
        let head = events.lines().next().unwrap_or("");
        assert!(head.starts_with("LAST SEEN   TYPE"), "{events}");
        assert!(
            events.contains("pod/never") && events.contains("deployment/flaky"),
            "{events}"
        );

        // A deleted object's events go with it.
        s.ok(&["kube", "delete", "pod", "never"]);
        assert!(!s.ok(&["kube", "get", "events"]).contains("pod/never"));
        let e = s.fails(&["kube", "describe", "pod", "never"], 125);
        assert!(e.contains("not found"), "{e}");
        s.ok(&["kube", "down", &f]);
    }
}
