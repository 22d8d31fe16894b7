//! Where a round's CPU went: the platform, the sink, PostgreSQL, this benchmark and the
//! whole machine, in cores (CPU seconds per second), from /proc. The machine's figure
//! shows what else was running: anything above the sum of the others is not this run's.

use std::{collections::HashMap, time::Duration};

use benches::procfs::{self, Process, machine_busy_time, pids_named};
use serde::Serialize;
use tokio::time::Instant;

/// The processes watched besides this one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watched {
    pub platform: Option<u32>,
    pub sink: Option<u32>,
}

/// CPU time of each watched process at one moment.
#[derive(Debug, Clone)]
pub(crate) struct CpuSample {
    at: Instant,
    platform: Option<Duration>,
    sink: Option<Duration>,
    /// Every process named `postgres` (the server's, whatever database they serve).
    postgres: HashMap<u32, Duration>,
    bench: Option<Duration>,
    machine: Option<Duration>,
}

/// Cores used between two samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct CpuUse {
    pub seconds: f64,
    pub platform_cores: Option<f64>,
    pub sink_cores: Option<f64>,
    /// PostgreSQL's processes that lived at the second sample (one that ended between
    /// the two is not counted; one that started counts from 0).
    pub postgres_cores: Option<f64>,
    pub bench_cores: Option<f64>,
    /// Every process of the machine.
    pub machine_cores: Option<f64>,
}

impl CpuSample {
    pub(crate) fn now(watched: Watched) -> Self {
        let time = |pid: Option<u32>| pid.and_then(|pid| Process::Pid(pid).cpu_time().ok());
        Self {
            at: Instant::now(),
            platform: time(watched.platform),
            sink: time(watched.sink),
            postgres: pids_named("postgres")
                .into_iter()
                .filter_map(|pid| Some((pid, Process::Pid(pid).cpu_time().ok()?)))
                .collect(),
            bench: Process::Own.cpu_time().ok(),
            machine: machine_busy_time().ok(),
        }
    }

    pub(crate) fn until(&self, later: &CpuSample) -> CpuUse {
        let seconds = later.at.saturating_duration_since(self.at).as_secs_f64();
        let cores = |before, after| procfs::cores(before, after, seconds);
        let postgres = (!later.postgres.is_empty()).then(|| {
            later
                .postgres
                .iter()
                .map(|(pid, &time)| {
                    time.saturating_sub(*self.postgres.get(pid).unwrap_or(&Duration::ZERO))
                })
                .sum::<Duration>()
        });
        CpuUse {
            seconds,
            platform_cores: cores(self.platform, later.platform),
            sink_cores: cores(self.sink, later.sink),
            postgres_cores: cores(postgres.map(|_| Duration::ZERO), postgres),
            bench_cores: cores(self.bench, later.bench),
            machine_cores: cores(self.machine, later.machine),
        }
    }
}
