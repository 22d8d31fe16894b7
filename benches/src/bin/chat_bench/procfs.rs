//! The platform's and this benchmark's memory and CPU use, from /proc
//! ([`benches::procfs`]).

use std::time::Duration;

use benches::procfs::{self, Process};
use serde::Serialize;

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
        let cores = |before, after| procfs::cores(before, after, seconds);
        CpuUse {
            seconds,
            platform_cores: cores(self.platform, later.platform),
            bench_cores: cores(self.bench, later.bench),
        }
    }
}
