//! kube play --publish and --network: the command line over the YAML, as podman's
//! kube play takes them.

mod common;
use common::*;
use serde_json::Value;

fn httpd_pod(name: &str, port: u16) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, "mkdir -p /tmp/w && echo {name} > /tmp/w/index.html && exec httpd -f -p {port} -h /tmp/w"]
    ports:
    - containerPort: {port}
"#
    )
}

fn pod_ip(s: &Skiff, name: &str) -> String {
    s.kube_pod(name)["status"]["podIP"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn publish_and_network_override_the_yaml() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["network", "create", "side"]);
        let net: Value = serde_json::from_str(&s.ok(&["network", "inspect", "side"])).unwrap();
        let subnet = net[0]["subnets"][0]["subnet"].as_str().unwrap().to_string();
        let prefix = subnet.rsplit_once('.').unwrap().0.to_string();

        // --publish gives the declared containerPort a hostPort; --network a network.
        let port = free_port();
        let f = s
            .share("a.yaml", httpd_pod("alpha", 8080).as_bytes())
            .display()
            .to_string();
        let published = format!("{port}:8080");
        s.ok(&[
            "kube",
            "play",
            "--wait",
            "--publish",
            &published,
            "--network",
            "side",
            &f,
        ]);
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("alpha"),
            "{mode:?}"
        );
        let ip = pod_ip(&s, "alpha");
        assert!(
            ip.starts_with(&format!("{prefix}.")),
            "{ip} not in {subnet}"
        );
        let stored = s.ok(&["kube", "get", "pod", "alpha", "-o", "yaml"]);
        assert!(stored.contains(&format!("hostPort: {port}")), "{stored}");
        assert!(stored.contains("io.skiff.kube/network: side"), "{stored}");
        s.ok(&["kube", "down", &f]);

        // --network host: the pod is the host's network.
        let port = free_port();
        let f = s
            .share("b.yaml", httpd_pod("beta", port).as_bytes())
            .display()
            .to_string();
        s.ok(&["kube", "play", "--wait", "--network", "host", &f]);
        assert_eq!(
            http_get(port).as_deref().map(str::trim),
            Some("beta"),
            "{mode:?}"
        );
        assert_eq!(pod_ip(&s, "beta"), "127.0.0.1");
        s.ok(&["kube", "down", &f]);

        // Bad values are refused before anything is stored.
        let e = s.fails(&["kube", "play", "--network", "nowhere", &f], 125);
        assert!(e.contains("nowhere"), "{e}");
        let e = s.fails(&["kube", "play", "--publish", "80:80/sctp", &f], 125);
        assert!(e.contains("sctp"), "{e}");
        let e = s.fails(&["kube", "play", "--network", "container:x", &f], 125);
        assert!(e.contains("not supported"), "{e}");
        let out = s.run(&["kube", "get", "pods"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("No resources found"));
    }
}
