//! What Linux's /proc says about a process (the platform's, the SMTP sink's, or this
//! one's): resident memory, CPU time and the open-files limit.

use std::time::Duration;

use anyhow::Context;

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux
/// architecture this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// A process: another one by id, or this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    Pid(u32),
    Own,
}

/// The cores a process used while its CPU time went from `before` to `after` over
/// `seconds` of wall time; None when either reading is missing or no time passed.
pub fn cores(before: Option<Duration>, after: Option<Duration>, seconds: f64) -> Option<f64> {
    match (before, after) {
        (Some(before), Some(after)) if seconds > 0.0 => {
            Some(after.saturating_sub(before).as_secs_f64() / seconds)
        }
        _ => None,
    }
}

impl Process {
    fn read(self, file: &str) -> anyhow::Result<String> {
        let path = match self {
            Self::Pid(pid) => format!("/proc/{pid}/{file}"),
            Self::Own => format!("/proc/self/{file}"),
        };
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
    }

    /// Resident memory (VmRSS) in KiB.
    pub fn rss_kib(self) -> anyhow::Result<u64> {
        parse_vm_rss(&self.read("status")?).context("no VmRSS line in /proc/<pid>/status")
    }

    /// User and system CPU time so far.
    pub fn cpu_time(self) -> anyhow::Result<Duration> {
        let ticks = parse_cpu_ticks(&self.read("stat")?).context("unreadable /proc/<pid>/stat")?;
        Ok(Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND))
    }

    /// The soft limit on open files (None: unlimited).
    pub fn open_files_limit(self) -> anyhow::Result<Option<u64>> {
        parse_open_files_limit(&self.read("limits")?)
            .context("no \"Max open files\" line in /proc/<pid>/limits")
    }
}

/// CPU time every core of the machine has spent working so far, whatever the process:
/// user, nice, system, irq and softirq time of `/proc/stat` (idle, iowait and the time a
/// hypervisor stole are left out).
pub fn machine_busy_time() -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let ticks = parse_busy_ticks(&stat).context("no cpu line in /proc/stat")?;
    Ok(Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND))
}

/// The ids of the processes whose command name (`/proc/<pid>/comm`) is `name`, such as
/// every process of a PostgreSQL server (`postgres`).
pub fn pids_named(name: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .collect()
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let kib = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(kib)
}

/// utime + stime: fields 14 and 15, counted after the command name in parentheses (which
/// may itself hold spaces and parentheses).
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// user + nice + system + irq + softirq of the `cpu` line (all cores together).
fn parse_busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let field = |k: usize| fields.get(k).copied();
    Some(field(0)? + field(1)? + field(2)? + field(5)? + field(6)?)
}

fn parse_open_files_limit(limits: &str) -> Option<Option<u64>> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        return Some(None);
    }
    soft.parse().ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_resident_memory() {
        let status = "Name:\tplatform\nVmPeak:\t  900 kB\nVmRSS:\t   48212 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(48_212));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(Process::Own.rss_kib().unwrap() > 0);
    }

    #[test]
    fn reads_cpu_ticks_past_a_command_name_with_spaces() {
        let stat =
            "4201 (a (b) c) R 4156 4156 16738 0 -1 4194304 97 0 0 0 70 30 0 0 20 0 1 0 236619";
        assert_eq!(parse_cpu_ticks(stat), Some(100));
        assert!(Process::Own.cpu_time().is_ok());
    }

    #[test]
    fn reads_the_machine_busy_time() {
        let stat = "cpu  482484 7 90695 109660 2910 11 3968 4065 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n";
        assert_eq!(
            parse_busy_ticks(stat),
            Some(482_484 + 7 + 90_695 + 11 + 3_968)
        );
        assert_eq!(parse_busy_ticks("intr 1 2\n"), None);
        assert!(machine_busy_time().is_ok());
    }

    #[test]
    fn finds_processes_by_name() {
        let own = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(pids_named(own.trim_end()).contains(&std::process::id()));
        assert!(pids_named("no-such-process-name").is_empty());
    }

    #[test]
    fn reads_the_open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max open files            20000                20000                files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(Some(20_000)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), Some(None));
    }
}
