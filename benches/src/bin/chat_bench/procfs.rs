//! What Linux's /proc says about a process (the platform's, or this one's): resident
//! memory, CPU time and the open-files limit.

use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux
/// architecture this runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// A process: another one by id, or this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Process {
    Pid(u32),
    Own,
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
    pub(crate) fn rss_kib(self) -> anyhow::Result<u64> {
        parse_vm_rss(&self.read("status")?).context("no VmRSS line in /proc/<pid>/status")
    }

    /// User and system CPU time so far.
    pub(crate) fn cpu_time(self) -> anyhow::Result<Duration> {
        let ticks = parse_cpu_ticks(&self.read("stat")?).context("unreadable /proc/<pid>/stat")?;
        Ok(Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND))
    }

    /// The soft limit on open files (None: unlimited).
    pub(crate) fn open_files_limit(self) -> anyhow::Result<Option<u64>> {
        parse_open_files_limit(&self.read("limits")?)
            .context("no \"Max open files\" line in /proc/<pid>/limits")
    }
}

/// Resident memory of the platform and of this benchmark at one moment, in KiB.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Rss {
    pub platform_kib: Option<u64>,
    pub bench_kib: Option<u64>,
}

impl Rss {
    pub(crate) fn sample(platform: Option<u32>) -> Self {
        Self {
            platform_kib: platform.and_then(|pid| Process::Pid(pid).rss_kib().ok()),
            bench_kib: Process::Own.rss_kib().ok(),
        }
    }
}

/// CPU time of the platform and of this benchmark so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuSample {
    at: tokio::time::Instant,
    platform: Option<Duration>,
    bench: Option<Duration>,
}

/// Cores used between two samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct CpuUse {
    pub seconds: f64,
    pub platform_cores: Option<f64>,
    pub bench_cores: Option<f64>,
}

impl CpuSample {
    pub(crate) fn now(platform: Option<u32>) -> Self {
        Self {
            at: tokio::time::Instant::now(),
            platform: platform.and_then(|pid| Process::Pid(pid).cpu_time().ok()),
            bench: Process::Own.cpu_time().ok(),
        }
    }

    pub(crate) fn until(&self, later: &CpuSample) -> CpuUse {
        let seconds = later.at.saturating_duration_since(self.at).as_secs_f64();
        let cores = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) if seconds > 0.0 => {
                Some(b.saturating_sub(a).as_secs_f64() / seconds)
            }
            _ => None,
        };
        CpuUse {
            seconds,
            platform_cores: cores(self.platform, later.platform),
            bench_cores: cores(self.bench, later.bench),
        }
    }
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
    fn reads_the_open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max open files            20000                20000                files     \n";
        assert_eq!(parse_open_files_limit(limits), Some(Some(20_000)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), Some(None));
    }
}
