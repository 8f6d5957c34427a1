//! Owner processes: one small process per stored object that needs one (a Pod's
//! kubelet, a workload's controller), started from the same binary with a hidden
//! subcommand. Each holds a lock in `kube/owners/` of the runtime root while it lives,
//! so there is never a second one, and anyone can tell whether it runs; its pid file
//! lets `kube down` stop it.

use crate::error::Result;
use crate::kube::api::Kind;
use crate::paths::Paths;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub struct Owner {
    key: String,
    target: String,
}

/// One line to the command that started the owner.
pub fn say(report: &mut Option<std::fs::File>, line: &str) {
    if let Some(f) = report {
        use std::io::Write;
        let _ = writeln!(f, "{line}");
    }
}

fn dir(paths: &Paths) -> PathBuf {
    paths.runroot.join("kube").join("owners")
}

impl Owner {
    pub fn new(kind: Kind, ns: &str, name: &str) -> Owner {
        let k = kind.name().to_ascii_lowercase();
        Owner {
            key: format!("{ns}_{k}_{name}"),
            target: if kind == Kind::Pod {
                format!("{ns}/{name}")
            } else {
                format!("{ns}/{}/{name}", kind.name())
            },
        }
    }

    fn file(&self, paths: &Paths, ext: &str) -> PathBuf {
        dir(paths).join(format!("{}.{ext}", self.key))
    }

    /// Whether the owner runs (it holds its lock while it lives).
    pub fn is_running(&self, paths: &Paths) -> bool {
        let path = self.file(paths, "lock");
        path.exists() && matches!(crate::lock::StoreLock::try_exclusive(&path), Ok(None))
    }

    /// Starts the owner unless it runs; returns once it has made its first pass.
    pub fn ensure_running(&self, paths: &Paths, subcommand: &str) -> Result<()> {
        if self.is_running(paths) {
            return Ok(());
        }
        crate::fsutil::create_dir_all(&dir(paths))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file(paths, "log"))
            .map_err(|e| crate::error::Error::io("opening the owner's log", e))?;
        let args: Vec<std::ffi::OsString> = vec![
            subcommand.into(),
            "--root".into(),
            paths.root.clone().into(),
            "--runroot".into(),
            paths.runroot.clone().into(),
            self.target.clone().into(),
        ];
        let report = crate::selfexec::spawn_detached(&crate::selfexec::own_name(), &args, log)?;
        let mut line = String::new();
        use std::io::BufRead;
        let _ = std::io::BufReader::new(report).read_line(&mut line);
        match line.trim() {
            "" | "ready" | "running" => Ok(()),
            other => Err(crate::error::Error::InvalidArgument(
                other.trim_start_matches("error ").to_string(),
            )),
        }
    }

    /// In the owner: takes the lock and writes the pid file; None (after telling the
    /// starter) when another owner already runs.
    pub fn claim(
        &self,
        paths: &Paths,
        report: &mut Option<std::fs::File>,
    ) -> Option<crate::lock::StoreLock> {
        let _ = crate::fsutil::create_dir_all(&dir(paths));
        match crate::lock::StoreLock::try_exclusive(&self.file(paths, "lock")) {
            Ok(Some(l)) => {
                let me = std::process::id() as i32;
                let _ = std::fs::write(
                    self.file(paths, "pid"),
                    format!("{me} {}", crate::procinfo::start_time(me).unwrap_or(0)),
                );
                Some(l)
            }
            Ok(None) => {
                say(report, "running");
                None
            }
            Err(e) => {
                say(report, &format!("error {e}"));
                None
            }
        }
    }

    /// Stops the owner (SIGTERM) and waits until it is gone.
    pub fn stop(&self, paths: &Paths) {
        let pidfile = self.file(paths, "pid");
        if let Some((pid, start)) = std::fs::read_to_string(&pidfile).ok().and_then(|t| {
            let (p, s) = t.trim().split_once(' ')?;
            Some((p.parse::<i32>().ok()?, s.parse::<u64>().ok()?))
        }) {
            if crate::procinfo::alive(pid, start) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
                let end = Instant::now() + Duration::from_secs(10);
                while crate::procinfo::alive(pid, start) && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let _ = std::fs::remove_file(pidfile);
        // Nothing to keep once the object is gone.
        for ext in ["lock", "log"] {
            let _ = std::fs::remove_file(self.file(paths, ext));
        }
    }
}
