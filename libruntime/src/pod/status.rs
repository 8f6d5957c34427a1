//! A pod's status, computed from its containers' states (the infra's included), with
//! podman's names and rules: no container is Created, all running is Running, some
//! running is Degraded, and otherwise the state all share, else Exited.

use crate::container::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodStatus {
    Created,
    Running,
    Degraded,
    Paused,
    Exited,
}

impl PodStatus {
    pub fn word(self) -> &'static str {
        match self {
            PodStatus::Created => "Created",
            PodStatus::Running => "Running",
            PodStatus::Degraded => "Degraded",
            PodStatus::Paused => "Paused",
            PodStatus::Exited => "Exited",
        }
    }
}

pub fn pod_status(states: &[Status]) -> PodStatus {
    let count = |f: fn(&Status) -> bool| states.iter().filter(|s| f(s)).count();
    let running = count(|s| *s == Status::Running);
    let n = states.len();
    if n == 0 {
        PodStatus::Created
    } else if running == n {
        PodStatus::Running
    } else if running > 0 {
        PodStatus::Degraded
    } else if count(|s| *s == Status::Paused) == n {
        PodStatus::Paused
    } else if count(|s| matches!(s, Status::Created | Status::Initialized)) == n {
        PodStatus::Created
    } else {
        PodStatus::Exited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn podman_rules() {
        let table: &[(&[Status], PodStatus)] = &[
            (&[], PodStatus::Created),
            (&[Created, Created], PodStatus::Created),
            (&[Running, Running], PodStatus::Running),
            (&[Running, Exited], PodStatus::Degraded),
            (&[Running, Created], PodStatus::Degraded),
            (&[Paused, Running], PodStatus::Degraded),
            (&[Paused, Paused], PodStatus::Paused),
            (&[Exited, Exited], PodStatus::Exited),
            (&[Exited, Created], PodStatus::Exited),
            (&[Paused, Exited], PodStatus::Exited),
            (&[Initialized, Created], PodStatus::Created),
        ];
        for (states, want) in table {
            assert_eq!(pod_status(states), *want, "{states:?}");
        }
    }
}
