//! Admission: LimitRange defaults written into stored pods and its bounds refused,
//! ResourceQuota refusals in Kubernetes' words with nothing stored, usage kept
//! current as pods come and go, and a controller's refused pod told as an event.

mod common;
use common::*;

const POLICY: &str = r#"apiVersion: v1
kind: LimitRange
metadata: {name: sizes, namespace: team}
spec:
  limits:
  - type: Container
    default: {cpu: 200m, memory: 64Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: 500m}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team}
spec:
  hard: {pods: "2", requests.cpu: 300m, configmaps: "1"}
"#;

fn pod(name: &str, resources: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: team}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, '1000']\n{resources}"
    )
}

#[test]
fn limit_ranges_and_quotas_admit_or_refuse_as_the_api_server() {
    for mode in modes() {
        let s = Skiff::with_busybox(mode);
        s.ok(&["kube", "create", "namespace", "team"]);
        let f = |name: &str, yaml: &str| s.share(name, yaml.as_bytes()).display().to_string();
        s.ok(&["kube", "play", &f("policy.yaml", POLICY)]);

        // Defaults from the LimitRange are in the stored spec.
        s.ok(&["kube", "play", "--start=false", &f("a.yaml", &pod("a", ""))]);
        let a = s.ok(&["kube", "get", "pod", "a", "-n", "team", "-o", "json"]);
        let a: serde_json::Value = serde_json::from_str(&a).unwrap();
        let res = &a["spec"]["containers"][0]["resources"];
        assert_eq!(res["limits"]["cpu"], "200m", "{res}");
        assert_eq!(res["limits"]["memory"], "64Mi", "{res}");
        assert_eq!(res["requests"]["cpu"], "100m", "{res}");
        assert_eq!(res["requests"]["memory"], "64Mi", "{res}");
        let quota = s.ok(&["kube", "get", "quota", "-n", "team"]);
        assert!(
            quota.contains("pods: 1/2") && quota.contains("requests.cpu: 100m/300m"),
            "{quota}"
        );

        // Over the LimitRange's max: refused, nothing stored.
        let big = "    resources:\n      limits: {cpu: '1'}\n";
        let e = s.fails(&["kube", "play", &f("big.yaml", &pod("big", big))], 125);
        assert!(
            e.contains("pods \"big\" is forbidden: maximum cpu usage per Container is 500m, but limit is 1"),
            "{e}"
        );
        assert!(!s
            .run(&["kube", "get", "pod", "big", "-n", "team"])
            .status
            .success());

        // The quota's pods: the third is refused until one goes.
        s.ok(&["kube", "play", "--start=false", &f("b.yaml", &pod("b", ""))]);
        let c = f("c.yaml", &pod("c", ""));
        let e = s.fails(&["kube", "play", "--start=false", &c], 125);
        assert!(
            e.contains("pods \"c\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"),
            "{e}"
        );
        s.ok(&["kube", "delete", "pod", "a", "-n", "team"]);
        assert!(s
            .ok(&["kube", "get", "quota", "-n", "team"])
            .contains("pods: 1/2"));
        s.ok(&["kube", "play", "--start=false", &c]);

        // Counted objects.
        let cm = |n: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: team}}\ndata: {{k: v}}\n")
        };
        s.ok(&["kube", "play", &f("cm1.yaml", &cm("one"))]);
        let e = s.fails(&["kube", "play", &f("cm2.yaml", &cm("two"))], 125);
        assert!(
            e.contains("configmaps \"two\" is forbidden: exceeded quota: q, requested: configmaps=1, used: configmaps=1, limited: configmaps=1"),
            "{e}"
        );

        // A controller's pod over the quota: the ReplicaSet says so in an event.
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: more, namespace: team}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: more}}\n  template:\n    metadata: {labels: {app: more}}\n    spec:\n      terminationGracePeriodSeconds: 1\n      containers: [{name: main, image: busybox, command: [sleep, '1000']}]\n";
        let d = f("d.yaml", deploy);
        s.ok(&["kube", "play", &d]);
        assert!(
            wait_until(10, || s
                .ok(&["kube", "get", "events", "-n", "team"])
                .contains("exceeded quota: q")),
            "{}",
            s.ok(&["kube", "get", "events", "-n", "team"])
        );
        let pods = s.ok(&["kube", "get", "pods", "-n", "team", "-o", "name"]);
        assert!(!pods.contains("more-"), "{pods}");
        s.ok(&["kube", "delete", "namespace", "team"]);
    }
}
