//! Which pods a ReplicaSet removes first when it scales down, as the controller's
//! ranking orders them: pending before running, not ready before ready, more restarts
//! before fewer, newer before older.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    pub name: String,
    pub running: bool,
    pub ready: bool,
    pub restarts: u64,
    /// RFC 3339, so that string order is time order.
    pub created: String,
}

/// `pods` in the order to remove them.
pub fn deletion_order(mut pods: Vec<PodFacts>) -> Vec<PodFacts> {
    pods.sort_by(|a, b| {
        a.running
            .cmp(&b.running)
            .then(a.ready.cmp(&b.ready))
            .then(b.restarts.cmp(&a.restarts))
            .then(b.created.cmp(&a.created))
            .then(a.name.cmp(&b.name))
    });
    pods
}

/// A generated name's suffix: five characters of the alphabet Kubernetes uses (no
/// vowels, no look-alikes).
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let h = crate::ids::new_id();
    h.as_bytes()
        .chunks(2)
        .take(5)
        .map(|c| {
            let n = u8::from_str_radix(std::str::from_utf8(c).unwrap_or("0"), 16).unwrap_or(0);
            ALPHABET[n as usize % ALPHABET.len()] as char
        })
        .collect()
}

/// The pod-template-hash: the template's JSON hashed, in the same alphabet, ten long.
pub fn template_hash(template: &serde_json::Value) -> String {
    use sha2::Digest;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let d = sha2::Sha256::digest(template.to_string().as_bytes());
    d.iter()
        .take(10)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, running: bool, ready: bool, restarts: u64, created: &str) -> PodFacts {
        PodFacts {
            name: name.into(),
            running,
            ready,
            restarts,
            created: created.into(),
        }
    }

    #[test]
    fn the_controllers_ranking() {
        let order: Vec<String> = deletion_order(vec![
            pod("old-ready", true, true, 0, "2026-01-01T00:00:00Z"),
            pod("new-ready", true, true, 0, "2026-01-02T00:00:00Z"),
            pod("pending", false, false, 0, "2026-01-01T00:00:00Z"),
            pod("unready", true, false, 0, "2026-01-01T00:00:00Z"),
            pod("flaky", true, true, 5, "2026-01-01T00:00:00Z"),
        ])
        .into_iter()
        .map(|p| p.name)
        .collect();
        assert_eq!(
            order,
            ["pending", "unready", "flaky", "new-ready", "old-ready"]
        );
    }

    #[test]
    fn names_and_hashes() {
        let s = random_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        let a = template_hash(&serde_json::json!({"spec": {"containers": [{"image": "a"}]}}));
        let b = template_hash(&serde_json::json!({"spec": {"containers": [{"image": "b"}]}}));
        assert_eq!(a.len(), 10);
        assert_ne!(a, b);
        assert_eq!(
            a,
            template_hash(&serde_json::json!({"spec": {"containers": [{"image": "a"}]}}))
        );
    }
}
