//! `kube play --publish` and `--network`: the command line's say over the YAML, as
//! podman's kube play gives it. They are written into what is stored (hostPorts on
//! the pod specs, hostNetwork, or the network named in an annotation the kubelet
//! reads), so a restarted kubelet or controller makes the same pods.

use super::api::pod::ContainerPort;
use super::api::{ObjectMeta, PodSpec};
use super::play::Planned;
use crate::container::options::NetMode;
use crate::error::{Error, Result};
use crate::network::ports::PortMapping;

/// The annotation naming the network (`--network`) a pod's kubelet attaches it to.
pub const NETWORK_ANNOTATION: &str = "io.skiff.kube/network";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--publish`, parsed.
    pub publish: Vec<PortMapping>,
    /// `--network`, as given (each value a mode or a network's name).
    pub network: Vec<String>,
}

impl Overrides {
    pub fn parse(publish: &[String], network: &[String]) -> Result<Overrides> {
        let mut ports = Vec::new();
        for p in publish {
            ports.extend(crate::network::ports::parse(p)?);
        }
        if !network.is_empty() {
            if let NetMode::Container(_) = NetMode::parse_all(network)? {
                return Err(Error::InvalidArgument(
                    "kube play --network container:… is not supported: a pod has its own network"
                        .into(),
                ));
            }
        }
        Ok(Overrides {
            publish: ports,
            network: network.to_vec(),
        })
    }

    /// The bridge networks `--network` names (which must exist).
    pub fn networks_named(&self) -> Vec<String> {
        match NetMode::parse_all(&self.network) {
            Ok(NetMode::Bridge(names)) => names,
            _ => Vec::new(),
        }
    }
}

/// Writes the overrides into every planned pod and pod template.
pub fn apply(planned: &mut [Planned], o: &Overrides) {
    for p in planned {
        let Some((meta, spec)) = p.pod_template_mut() else {
            continue;
        };
        publish(spec, &o.publish);
        network(meta, spec, &o.network);
    }
}

/// A published port sets the hostPort of the container port it names, or is added to
/// the first container when no container declares it.
fn publish(spec: &mut PodSpec, ports: &[PortMapping]) {
    for m in ports {
        let proto = m.protocol.to_uppercase();
        let host_ip = Some(m.host_ip.clone()).filter(|h| !h.is_empty() && h != "0.0.0.0");
        let declared = spec
            .containers
            .iter_mut()
            .flat_map(|c| c.ports.iter_mut())
            .find(|p| {
                p.container_port == i64::from(m.container_port)
                    && p.protocol
                        .as_deref()
                        .unwrap_or("TCP")
                        .eq_ignore_ascii_case(&proto)
            });
        match declared {
            Some(p) => {
                p.host_port = Some(m.host_port.into());
                p.host_ip = host_ip;
            }
            None => {
                if let Some(c) = spec.containers.first_mut() {
                    c.ports.push(ContainerPort {
                        container_port: m.container_port.into(),
                        host_port: Some(m.host_port.into()),
                        host_ip,
                        name: None,
                        protocol: Some(proto),
                    });
                }
            }
        }
    }
}

fn network(meta: &mut ObjectMeta, spec: &mut PodSpec, network: &[String]) {
    if network.is_empty() {
        return;
    }
    if network == ["host"] {
        spec.host_network = true;
        meta.annotations.remove(NETWORK_ANNOTATION);
    } else {
        spec.host_network = false;
        meta.annotations
            .insert(NETWORK_ANNOTATION.into(), network.join(","));
    }
}

/// The network a pod's annotation asks for, if any.
pub fn network_of(meta: &ObjectMeta) -> Option<Result<NetMode>> {
    let v = meta.annotations.get(NETWORK_ANNOTATION)?;
    let values: Vec<String> = v.split(',').map(String::from).collect();
    Some(NetMode::parse_all(&values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::api::{Container, Pod};

    fn pod_with_port(port: i64) -> Planned {
        Planned::Pod(Box::new(Pod {
            spec: PodSpec {
                containers: vec![Container {
                    name: "web".into(),
                    image: "busybox".into(),
                    ports: vec![ContainerPort {
                        container_port: port,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    fn ports(p: &Planned) -> Vec<(i64, Option<i64>, Option<String>)> {
        p.pod_specs()[0].containers[0]
            .ports
            .iter()
            .map(|p| (p.container_port, p.host_port, p.host_ip.clone()))
            .collect()
    }

    #[test]
    fn publish_sets_a_declared_port_or_adds_one() {
        let o = Overrides::parse(&["8080:80".into(), "127.0.0.1:9090:90".into()], &[]).unwrap();
        let mut planned = vec![pod_with_port(80)];
        apply(&mut planned, &o);
        assert_eq!(
            ports(&planned[0]),
            vec![
                (80, Some(8080), None),
                (90, Some(9090), Some("127.0.0.1".into()))
            ]
        );
    }

    #[test]
    fn network_host_sets_host_network_and_a_name_goes_in_an_annotation() {
        let mut planned = vec![pod_with_port(80)];
        apply(
            &mut planned,
            &Overrides::parse(&[], &["host".into()]).unwrap(),
        );
        assert!(planned[0].pod_specs()[0].host_network);
        let mut planned = vec![pod_with_port(80)];
        let o = Overrides::parse(&[], &["mynet".into()]).unwrap();
        assert_eq!(o.networks_named(), vec!["mynet".to_string()]);
        apply(&mut planned, &o);
        let (meta, _) = planned[0].pod_template_mut().unwrap();
        assert_eq!(
            network_of(meta).unwrap().unwrap(),
            NetMode::Bridge(vec!["mynet".into()])
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Overrides::parse(&["80:80/sctp".into()], &[]).is_err());
        assert!(Overrides::parse(&[], &["container:x".into()]).is_err());
        assert!(Overrides::parse(&[], &["Bad Name!".into()]).is_err());
    }
}
