//! The command line.

use benches::{
    cli::{self, positive_rate, positive_seconds, seconds_or_zero},
    load::Limits,
};
use clap::{Parser, ValueEnum};
use reqwest::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Phase {
    /// Single-row INSERT transactions straight into PostgreSQL.
    Raw,
    /// POST /api/v1/items from concurrent clients.
    Commands,
    /// Time from a command's response until the query side can read its result.
    Lag,
}

#[derive(Debug, Parser)]
#[command(
    name = "append-bench",
    about = "Append throughput and latency: raw PostgreSQL inserts, item commands, command-to-readable lag"
)]
pub(crate) struct Args {
    /// Base URL of the command API.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub command_url: Url,

    /// Base URL of the query API [default: the command URL].
    #[arg(long)]
    pub query_url: Option<Url>,

    /// Database of the raw phase; it creates the table bench_raw_events there and drops it.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/platform")]
    pub database_url: String,

    /// Concurrent clients of the raw and commands phases (and PostgreSQL connections of the
    /// raw phase).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Measured seconds of each phase.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub seconds: f64,

    /// Warm-up seconds before each phase measures (results discarded).
    #[arg(long, default_value_t = 2.0, value_parser = seconds_or_zero)]
    pub warmup_seconds: f64,

    /// Most operations measured in one phase (the warm-up is bounded the same way).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: u64,

    /// Items measured by the lag phase.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub lag_samples: u64,

    /// Items per second created by the lag phase.
    #[arg(long, default_value_t = 200.0, value_parser = positive_rate)]
    pub lag_rate: f64,

    /// Longest the lag phase waits for the read model to catch up with the throughput phase
    /// before it starts.
    #[arg(long, default_value_t = 120.0, value_parser = positive_seconds)]
    pub catch_up_seconds: f64,

    /// Phases to run, comma-separated; they always run in the order raw, commands, lag.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "raw,commands,lag"
    )]
    pub phases: Vec<Phase>,

    #[command(flatten)]
    pub options: cli::Options,
}

impl Args {
    pub(crate) fn query_url(&self) -> &Url {
        self.query_url.as_ref().unwrap_or(&self.command_url)
    }

    pub(crate) fn runs(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits::from_seconds(self.warmup_seconds, self.seconds, self.max_requests)
    }
}
