//! What fails acting on a pod.

#[derive(Debug, thiserror::Error)]
pub enum PodError {
    /// podman's text, which scripts match.
    #[error("no pod with name or ID {0} found: no such pod")]
    NotFound(String),
    #[error("the pod name {0:?} is already in use: remove that pod or choose another name")]
    NameInUse(String),
    #[error("invalid pod name {0:?}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    InvalidName(String),
    #[error("more than one pod matches {0:?}: give more of the id")]
    Ambiguous(String),
    /// podman's meaning: running members need `--force`.
    #[error(
        "pod {0} has containers that are running: stop the pod first or remove it with --force"
    )]
    Running(String),
    /// A flag that a pod member cannot have: the pod decides it.
    #[error("{0}")]
    MemberConflict(String),
    /// Some containers of the pod failed the verb; each line names one.
    #[error("{}", .0.join("; "))]
    Members(Vec<String>),
}
