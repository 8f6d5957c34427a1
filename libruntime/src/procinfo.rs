//! What /proc says about a process: liveness that survives pid reuse, namespaces, and
//! the fields `top` and `stats` show.

use std::fs;

/// Fields of /proc/<pid>/stat that skiff uses.
#[derive(Debug, Clone)]
pub struct Stat {
    pub pid: i32,
    pub comm: String,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub tty_nr: i32,
    pub nice: i64,
    /// Virtual memory size in bytes.
    pub vsize: u64,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot, in clock ticks.
    pub start_ticks: u64,
    pub rss_pages: u64,
}

pub fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    // comm may hold spaces and parentheses: it ends at the last ')'.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    let f: Vec<&str> = text[close + 1..].split_whitespace().collect();
    // f[0] is field 3 (state).
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
    Some(Stat {
        pid,
        comm,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        tty_nr: f.get(4)?.parse().ok()?,
        nice: f.get(16)?.parse().ok()?,
        vsize: num(20)?,
        cpu_ticks: num(11)? + num(12)?,
        start_ticks: num(19)?,
        rss_pages: num(21)?,
    })
}

/// The start time of `pid`, which with the pid names one process for its whole life.
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.start_ticks)
}

/// True when `pid` still is the process that started at `start` and is not a zombie.
pub fn alive(pid: i32, start: u64) -> bool {
    pid > 0 && matches!(stat(pid), Some(s) if s.start_ticks == start && s.state != 'Z')
}

/// The inode of one of the process's namespaces (`pid`, `mnt`, `user`, ...).
pub fn ns_inode(pid: i32, ns: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/ns/{ns}"))
        .ok()
        .map(|m| m.ino())
}

/// Every process in the same pid namespace as `pid` (itself included), by host pid.
pub fn pids_in_pid_ns(pid: i32) -> Vec<i32> {
    let Some(target) = ns_inode(pid, "pid") else {
        return vec![];
    };
    let Ok(entries) = fs::read_dir("/proc") else {
        return vec![];
    };
    let mut out: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&p| ns_inode(p, "pid") == Some(target))
        .collect();
    out.sort_unstable();
    out
}

/// Fields of /proc/<pid>/status that `top` shows.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// (real, effective)
    pub uid: (u32, u32),
    pub gid: (u32, u32),
    /// The pid and process group in the process's own pid namespace.
    pub ns_pid: Option<i32>,
    pub ns_pgid: Option<i32>,
    pub cap_inh: u64,
    pub cap_prm: u64,
    pub cap_eff: u64,
    pub cap_bnd: u64,
    pub cap_amb: u64,
    /// 0 disabled, 1 strict, 2 filter.
    pub seccomp: u8,
}

pub fn status(pid: i32) -> Option<Status> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(parse_status(&text))
}

fn parse_status(text: &str) -> Status {
    let mut s = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let nums: Vec<&str> = value.split_whitespace().collect();
        let n = |i: usize| nums.get(i).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0);
        let hex = || u64::from_str_radix(value.trim(), 16).unwrap_or(0);
        match key {
            "Uid" => s.uid = (n(0), n(1)),
            "Gid" => s.gid = (n(0), n(1)),
            "NSpid" => s.ns_pid = nums.last().and_then(|x| x.parse().ok()),
            "NSpgid" => s.ns_pgid = nums.last().and_then(|x| x.parse().ok()),
            "CapInh" => s.cap_inh = hex(),
            "CapPrm" => s.cap_prm = hex(),
            "CapEff" => s.cap_eff = hex(),
            "CapBnd" => s.cap_bnd = hex(),
            "CapAmb" => s.cap_amb = hex(),
            "Seccomp" => s.seccomp = n(0) as u8,
            _ => {}
        }
    }
    s
}

/// Seconds since the epoch when the machine booted.
pub fn boot_time() -> i64 {
    fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The real uid of a process.
pub fn uid(pid: i32) -> Option<u32> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The command line, or `[comm]` for kernel-style processes without one.
pub fn cmdline(pid: i32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let parts: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    Some(parts.join(" "))
}

pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

pub fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Seconds since boot.
pub fn uptime() -> f64 {
    fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Gives back the memory a long-lived, mostly idle process no longer needs after its
/// start-up: freed heap goes back to the kernel, and the file-backed pages that start-up
/// faulted in (parsers, the sandbox code, the parts of libc they used) leave this
/// process's resident set. Pages it touches again are faulted back from the page cache.
pub fn shed_startup_memory() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe { libc::malloc_trim(0) };
    let Ok(smaps) = fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for m in file_mappings(&smaps) {
        // A read-only file mapping with no anonymous (copied-on-write) pages holds only
        // pages of the file itself, as executable code always does: dropping them loses
        // nothing, the next access reads them from the file again (also for pages
        // shared with other processes, such as libc's). One with anonymous pages holds
        // relocated data: it only gets MADV_PAGEOUT, which never discards.
        let advice = if m.anonymous_kib == 0 {
            libc::MADV_DONTNEED
        } else {
            libc::MADV_PAGEOUT
        };
        // SAFETY: advisory calls on whole mappings of our own, with the advice chosen
        // above so that no content is lost.
        unsafe { libc::madvise(m.start as *mut libc::c_void, m.end - m.start, advice) };
    }
}

/// A read-only mapping of a file, from /proc/self/smaps.
#[derive(Debug, PartialEq, Eq)]
struct FileMapping {
    start: usize,
    end: usize,
    anonymous_kib: u64,
}

/// The read-only file mappings of an smaps text, with their anonymous page counts.
fn file_mappings(smaps: &str) -> Vec<FileMapping> {
    let mut out: Vec<FileMapping> = Vec::new();
    let mut current: Option<FileMapping> = None;
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Anonymous:") {
            if let Some(m) = current.as_mut() {
                m.anonymous_kib = kib
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(1);
            }
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        else {
            continue; // a field line of the previous mapping
        };
        out.extend(current.take());
        let path = f.nth(3).unwrap_or("");
        if path.starts_with('/') && perms.len() == 4 && !perms.contains('w') {
            // Unknown until its Anonymous line says: counted as having some.
            current = Some(FileMapping {
                start,
                end,
                anonymous_kib: 1,
            });
        }
    }
    out.extend(current);
    out
}

/// Ends a helper process we started (fuse-overlayfs, pasta) and reaps it.
pub fn kill_and_reap(pid: nix::unistd::Pid) {
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(pid, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comm_with_spaces() {
        let s = parse_stat("42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5555 1000 25 18446744073709551615").unwrap();
        assert_eq!(s.pid, 42);
        assert_eq!(s.comm, "a (b) c");
        assert_eq!(s.ppid, 1);
        assert_eq!(s.cpu_ticks, 10);
        assert_eq!(s.start_ticks, 5555);
        assert_eq!(s.rss_pages, 25);
        assert_eq!((s.pgrp, s.nice, s.vsize), (42, 0, 1000));
    }

    #[test]
    fn status_fields_top_shows() {
        let s = parse_status(
            "Name:\tsh\nUid:\t1001\t1002\t1002\t1002\nGid:\t5\t6\t6\t6\nNSpid:\t4242\t1\nNSpgid:\t4242\t1\nCapEff:\t0000000000000003\nSeccomp:\t2\n",
        );
        assert_eq!((s.uid, s.gid), ((1001, 1002), (5, 6)));
        assert_eq!((s.ns_pid, s.ns_pgid), (Some(1), Some(1)));
        assert_eq!((s.cap_eff, s.cap_inh, s.seccomp), (3, 0, 2));
    }

    #[test]
    fn only_clean_read_only_file_mappings_may_be_dropped() {
        let smaps = "\
00200000-00436000 r--p 00000000 fe:00 5310533 /usr/bin/skiff
Rss:                 512 kB
Anonymous:             0 kB
00437000-00e65000 r-xp 00236000 fe:00 5310533 /usr/bin/skiff
Anonymous:             0 kB
00e65000-00f16000 r--p 00c63000 fe:00 5310533 /usr/bin/skiff
Anonymous:            12 kB
00f16000-00f1e000 rw-p 00d13000 fe:00 5310533 /usr/bin/skiff
Anonymous:            32 kB
7fff85c64000-7fff85c85000 rw-p 00000000 00:00 0 [stack]
Anonymous:            60 kB
";
        let m = file_mappings(smaps);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!((m[0].start, m[0].anonymous_kib), (0x200000, 0));
        assert_eq!(m[1].anonymous_kib, 0);
        assert_eq!(m[2].anonymous_kib, 12, "relocated data keeps its pages");
    }

    #[test]
    fn self_is_alive() {
        let me = std::process::id() as i32;
        let start = start_time(me).unwrap();
        assert!(alive(me, start));
        assert!(!alive(me, start + 1));
    }
}
