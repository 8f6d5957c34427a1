//! `top`: the processes of a running container, in the columns podman's descriptors
//! name (its psgo library: user, huser, hpid, capeff, seccomp, …, and the AIX `%x`
//! forms). Reading /proc happens in `processes`; the columns are pure functions of
//! what was read, so they are tested without a container.

use crate::error::{Error, Result};
use crate::procinfo;
use std::str::FromStr;

/// One column of `top`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descriptor {
    Args,
    CapAmb,
    CapBnd,
    CapEff,
    CapInh,
    CapPrm,
    Comm,
    Etime,
    Group,
    HGroup,
    HPid,
    HUser,
    Label,
    Nice,
    Pcpu,
    Pgid,
    Pid,
    Ppid,
    RGroup,
    RUser,
    Seccomp,
    State,
    Stime,
    Time,
    Tty,
    User,
    Vsz,
}

/// (name, AIX form, descriptor, header), as podman spells them.
const TABLE: &[(&str, &str, Descriptor, &str)] = &[
    ("args", "%a", Descriptor::Args, "COMMAND"),
    ("capamb", "", Descriptor::CapAmb, "AMBIENT CAPS"),
    ("capbnd", "", Descriptor::CapBnd, "BOUNDING CAPS"),
    ("capeff", "", Descriptor::CapEff, "EFFECTIVE CAPS"),
    ("capinh", "", Descriptor::CapInh, "INHERITED CAPS"),
    ("capprm", "", Descriptor::CapPrm, "PERMITTED CAPS"),
    ("comm", "%c", Descriptor::Comm, "COMMAND"),
    ("etime", "%t", Descriptor::Etime, "ELAPSED"),
    ("group", "%G", Descriptor::Group, "GROUP"),
    ("hgroup", "", Descriptor::HGroup, "HGROUP"),
    ("hpid", "", Descriptor::HPid, "HPID"),
    ("huser", "", Descriptor::HUser, "HUSER"),
    ("label", "", Descriptor::Label, "LABEL"),
    ("nice", "%n", Descriptor::Nice, "NI"),
    ("pcpu", "%C", Descriptor::Pcpu, "%CPU"),
    ("pgid", "%r", Descriptor::Pgid, "PGID"),
    ("pid", "%p", Descriptor::Pid, "PID"),
    ("ppid", "%P", Descriptor::Ppid, "PPID"),
    ("rgroup", "%g", Descriptor::RGroup, "RGROUP"),
    ("ruser", "%u", Descriptor::RUser, "RUSER"),
    ("seccomp", "", Descriptor::Seccomp, "SECCOMP"),
    ("state", "", Descriptor::State, "STATE"),
    ("stime", "", Descriptor::Stime, "STIME"),
    ("time", "%x", Descriptor::Time, "TIME"),
    ("tty", "%y", Descriptor::Tty, "TTY"),
    ("user", "%U", Descriptor::User, "USER"),
    ("vsz", "%z", Descriptor::Vsz, "VSZ"),
];

impl FromStr for Descriptor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Descriptor> {
        TABLE
            .iter()
            .find(|(name, aix, _, _)| *name == s || (!aix.is_empty() && *aix == s))
            .map(|(_, _, d, _)| *d)
            .ok_or_else(|| Error::InvalidArgument(format!("'{s}': unknown descriptor")))
    }
}

impl Descriptor {
    pub fn header(self) -> &'static str {
        TABLE
            .iter()
            .find(|(_, _, d, _)| *d == self)
            .map(|(_, _, _, h)| *h)
            .unwrap_or("")
    }

    /// podman's columns when none are asked for.
    pub fn defaults() -> Vec<Descriptor> {
        use Descriptor::*;
        vec![User, Pid, Ppid, Pcpu, Etime, Tty, Time, Args]
    }

    /// Descriptors from arguments that may each hold several, comma- or space-separated.
    pub fn parse_all(args: &[String]) -> Result<Vec<Descriptor>> {
        let descs: Vec<Descriptor> = args
            .iter()
            .flat_map(|a| a.split([',', ' ']))
            .filter(|d| !d.is_empty())
            .map(str::parse)
            .collect::<Result<_>>()?;
        Ok(if descs.is_empty() {
            Descriptor::defaults()
        } else {
            descs
        })
    }
}

/// What /proc tells about one process of the container.
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub host_pid: i32,
    /// Pids as the container sees them.
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub comm: String,
    pub args: String,
    pub state: char,
    pub nice: i64,
    pub tty_nr: i32,
    pub cpu_ticks: u64,
    pub start_ticks: u64,
    pub vsize: u64,
    /// Host ids (real, effective), as /proc shows them to us.
    pub uid: (u32, u32),
    pub gid: (u32, u32),
    /// Ids inside the container (real, effective), through its maps.
    pub container_uid: (u32, u32),
    pub container_gid: (u32, u32),
    pub caps: Caps,
    pub seccomp: u8,
}

/// Capability sets as /proc/PID/status gives them (bit masks).
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    pub inh: u64,
    pub prm: u64,
    pub eff: u64,
    pub bnd: u64,
    pub amb: u64,
}

/// Names an id: through a passwd- or group-shaped file, else as a number.
pub type Namer<'a> = &'a dyn Fn(u32) -> String;

/// What the columns need beyond the process.
pub struct Clock {
    pub ticks_per_sec: u64,
    pub uptime_secs: f64,
    /// Seconds since the epoch at boot, for STIME.
    pub boot_time: i64,
}

/// The value of one column for one process.
pub fn column(
    d: Descriptor,
    p: &Process,
    clock: &Clock,
    names: &Names,
    init_host_pid: i32,
) -> String {
    let elapsed = (clock.uptime_secs - p.start_ticks as f64 / clock.ticks_per_sec as f64).max(0.0);
    match d {
        Descriptor::Args if p.args.is_empty() => format!("[{}]", p.comm),
        Descriptor::Args => p.args.clone(),
        Descriptor::Comm => p.comm.clone(),
        Descriptor::CapAmb => cap_names(p.caps.amb),
        Descriptor::CapBnd => cap_names(p.caps.bnd),
        Descriptor::CapEff => cap_names(p.caps.eff),
        Descriptor::CapInh => cap_names(p.caps.inh),
        Descriptor::CapPrm => cap_names(p.caps.prm),
        Descriptor::Etime => crate::time::human_duration(elapsed as i64),
        Descriptor::Group => (names.container_group)(p.container_gid.1),
        Descriptor::RGroup => (names.container_group)(p.container_gid.0),
        Descriptor::User => (names.container_user)(p.container_uid.1),
        Descriptor::RUser => (names.container_user)(p.container_uid.0),
        Descriptor::HGroup => (names.host_group)(p.gid.1),
        Descriptor::HUser => (names.host_user)(p.uid.1),
        Descriptor::HPid => p.host_pid.to_string(),
        Descriptor::Label => "-".into(),
        Descriptor::Nice => p.nice.to_string(),
        Descriptor::Pcpu => {
            let cpu = if elapsed > 0.0 {
                p.cpu_ticks as f64 / clock.ticks_per_sec as f64 / elapsed * 100.0
            } else {
                0.0
            };
            format!("{cpu:.3}")
        }
        Descriptor::Pgid => p.pgid.to_string(),
        Descriptor::Pid => p.pid.to_string(),
        // The container's init has no parent it can see.
        Descriptor::Ppid if p.host_pid == init_host_pid => "0".into(),
        Descriptor::Ppid => p.ppid.to_string(),
        Descriptor::Seccomp => match p.seccomp {
            0 => "disabled",
            1 => "strict",
            _ => "filter",
        }
        .into(),
        Descriptor::State => p.state.to_string(),
        Descriptor::Stime => {
            let start = clock.boot_time + (p.start_ticks / clock.ticks_per_sec) as i64;
            chrono::DateTime::from_timestamp(start, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
                .unwrap_or_default()
        }
        Descriptor::Time => {
            let secs = p.cpu_ticks / clock.ticks_per_sec;
            format!("{}h{}m{}s", secs / 3600, secs / 60 % 60, secs % 60)
        }
        Descriptor::Tty if p.tty_nr == 0 => "?".into(),
        Descriptor::Tty => format!("pts/{}", tty_minor(p.tty_nr)),
        Descriptor::Vsz => (p.vsize / 1024).to_string(),
    }
}

/// The minor number of a tty device number as /proc encodes it.
fn tty_minor(nr: i32) -> i32 {
    (nr & 0xff) | ((nr >> 12) & 0xfff00)
}

/// A capability mask as podman prints it: "full", "none", or the names without CAP_.
pub fn cap_names(mask: u64) -> String {
    let last = caps::runtime::thread_all_supported()
        .iter()
        .map(|c| c.index())
        .max()
        .unwrap_or(40);
    let all = if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    };
    if mask == 0 {
        return "none".into();
    }
    if mask & all == all {
        return "full".into();
    }
    let mut names: Vec<String> = caps::all()
        .into_iter()
        .filter(|c| c.index() < 64 && mask & (1u64 << c.index()) != 0)
        .map(|c| c.to_string().trim_start_matches("CAP_").to_string())
        .collect();
    names.sort();
    names.join(",")
}

/// How ids become names.
pub struct Names<'a> {
    pub container_user: Namer<'a>,
    pub container_group: Namer<'a>,
    pub host_user: Namer<'a>,
    pub host_group: Namer<'a>,
}

/// A table of rows under `headers`.
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The processes of the container whose init is `init` (a host pid), in `descs`.
pub fn top(init: i32, descs: &[Descriptor]) -> Table {
    let procs: Vec<Process> = procinfo::pids_in_pid_ns(init)
        .into_iter()
        .filter_map(|pid| read_process(init, pid))
        .collect();
    let passwd = std::fs::read_to_string(format!("/proc/{init}/root/etc/passwd")).ok();
    let group = std::fs::read_to_string(format!("/proc/{init}/root/etc/group")).ok();
    let host_passwd = std::fs::read_to_string("/etc/passwd").ok();
    let host_group = std::fs::read_to_string("/etc/group").ok();
    let lookup = |file: &Option<String>, id: u32| name_in(file.as_deref(), id);
    let names = Names {
        container_user: &|id| lookup(&passwd, id),
        container_group: &|id| lookup(&group, id),
        host_user: &|id| lookup(&host_passwd, id),
        host_group: &|id| lookup(&host_group, id),
    };
    let clock = Clock {
        ticks_per_sec: procinfo::clock_ticks(),
        uptime_secs: procinfo::uptime(),
        boot_time: procinfo::boot_time(),
    };
    Table {
        headers: descs.iter().map(|d| d.header()).collect(),
        rows: procs
            .iter()
            .map(|p| {
                descs
                    .iter()
                    .map(|d| column(*d, p, &clock, &names, init))
                    .collect()
            })
            .collect(),
    }
}

/// The name of `id` in a passwd- or group-shaped file, else the number.
pub fn name_in(file: Option<&str>, id: u32) -> String {
    file.and_then(|f| {
        f.lines().find_map(|l| {
            let mut parts = l.split(':');
            let name = parts.next()?;
            (parts.nth(1)? == id.to_string()).then(|| name.to_string())
        })
    })
    .unwrap_or_else(|| id.to_string())
}

fn read_process(init: i32, pid: i32) -> Option<Process> {
    let stat = procinfo::stat(pid)?;
    let status = procinfo::status(pid)?;
    let uid_map = std::fs::read_to_string(format!("/proc/{init}/uid_map")).ok();
    let gid_map = std::fs::read_to_string(format!("/proc/{init}/gid_map")).ok();
    let inside = |map: &Option<String>, id: u32| {
        map.as_deref()
            .and_then(|m| crate::userns::host_to_container(m, id))
            .unwrap_or(id)
    };
    Some(Process {
        host_pid: pid,
        pid: status.ns_pid.unwrap_or(pid),
        ppid: procinfo::status(stat.ppid)
            .and_then(|s| s.ns_pid)
            .unwrap_or(stat.ppid),
        pgid: status.ns_pgid.unwrap_or(stat.pgrp),
        args: procinfo::cmdline(pid).unwrap_or_default(),
        comm: stat.comm.clone(),
        state: stat.state,
        nice: stat.nice,
        tty_nr: stat.tty_nr,
        cpu_ticks: stat.cpu_ticks,
        start_ticks: stat.start_ticks,
        vsize: stat.vsize,
        uid: (status.uid.0, status.uid.1),
        gid: (status.gid.0, status.gid.1),
        container_uid: (
            inside(&uid_map, status.uid.0),
            inside(&uid_map, status.uid.1),
        ),
        container_gid: (
            inside(&gid_map, status.gid.0),
            inside(&gid_map, status.gid.1),
        ),
        caps: Caps {
            inh: status.cap_inh,
            prm: status.cap_prm,
            eff: status.cap_eff,
            bnd: status.cap_bnd,
            amb: status.cap_amb,
        },
        seccomp: status.seccomp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_parse_by_name_and_aix_form() {
        let table = [
            ("user", Descriptor::User),
            ("%U", Descriptor::User),
            ("huser", Descriptor::HUser),
            ("hpid", Descriptor::HPid),
            ("%C", Descriptor::Pcpu),
            ("capeff", Descriptor::CapEff),
        ];
        for (s, d) in table {
            assert_eq!(s.parse::<Descriptor>().unwrap(), d, "{s}");
        }
        let err = "bogus".parse::<Descriptor>().unwrap_err().to_string();
        assert!(err.contains("'bogus': unknown descriptor"), "{err}");
        let many = Descriptor::parse_all(&["pid,user".into(), "hpid huser".into()]).unwrap();
        assert_eq!(
            many,
            vec![
                Descriptor::Pid,
                Descriptor::User,
                Descriptor::HPid,
                Descriptor::HUser
            ]
        );
        assert_eq!(Descriptor::parse_all(&[]).unwrap(), Descriptor::defaults());
    }

    #[test]
    fn columns_from_what_proc_said() {
        let p = Process {
            host_pid: 4242,
            pid: 1,
            ppid: 7,
            comm: "sleep".into(),
            args: String::new(),
            uid: (1001, 1001),
            gid: (1001, 1001),
            container_uid: (0, 0),
            container_gid: (0, 0),
            caps: Caps {
                eff: (1 << 0) | (1 << 1),
                ..Caps::default()
            },
            seccomp: 2,
            tty_nr: 0x8801,
            cpu_ticks: 3700 * 100,
            vsize: 4096 * 1024,
            ..Process::default()
        };
        let clock = Clock {
            ticks_per_sec: 100,
            uptime_secs: 10_000.0,
            boot_time: 0,
        };
        let names = Names {
            container_user: &|id| name_in(Some("root:x:0:0::/:/bin/sh\n"), id),
            container_group: &|id| name_in(Some("root:x:0:\n"), id),
            host_user: &|id| name_in(Some("alice:x:1001:1001::/:/bin/sh\n"), id),
            host_group: &|id| name_in(None, id),
        };
        let col = |d| column(d, &p, &clock, &names, 4242);
        assert_eq!(col(Descriptor::User), "root");
        assert_eq!(col(Descriptor::HUser), "alice");
        assert_eq!(col(Descriptor::HGroup), "1001");
        assert_eq!(col(Descriptor::HPid), "4242");
        assert_eq!(col(Descriptor::Pid), "1");
        assert_eq!(col(Descriptor::Ppid), "0", "the init's parent is outside");
        assert_eq!(col(Descriptor::Args), "[sleep]");
        assert_eq!(col(Descriptor::CapEff), "CHOWN,DAC_OVERRIDE");
        assert_eq!(col(Descriptor::CapInh), "none");
        assert_eq!(col(Descriptor::Seccomp), "filter");
        assert_eq!(col(Descriptor::Tty), "pts/1");
        assert_eq!(col(Descriptor::Time), "1h1m40s");
        assert_eq!(col(Descriptor::Vsz), "4096");
        assert_eq!(col(Descriptor::Label), "-");
    }
}
