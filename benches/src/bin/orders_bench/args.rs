//! The command line: what to seed, where, and how hard to load.

use anyhow::ensure;
use benches::{
    cli::{self, positive_rate, positive_seconds, seconds_or_zero},
    load::Limits,
};
use clap::{Parser, ValueEnum};
use reqwest::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Phase {
    /// Closed loop of --concurrency clients.
    Throughput,
    /// Open loop at a fixed rate.
    Latency,
}

#[derive(Debug, Parser)]
#[command(
    name = "orders-bench",
    about = "GET /api/v1/orders over a million orders: uncached (PostgreSQL) against cached"
)]
pub(crate) struct Args {
    /// Base URL of the whole platform with its caches (also registers members and places orders).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub cached_url: Url,

    /// Base URL of a query-api started with CACHE_CAPACITY=0 on the same database.
    #[arg(long, default_value = "http://127.0.0.1:8082")]
    pub uncached_url: Url,

    /// Base URL of the platform's metrics listener (its METRICS_ADDR).
    #[arg(long, default_value = "http://127.0.0.1:9080")]
    pub cached_metrics_url: Url,

    /// Base URL of the uncached query-api's metrics listener (its METRICS_ADDR).
    #[arg(long, default_value = "http://127.0.0.1:9082")]
    pub uncached_metrics_url: Url,

    /// Base URL of nginx in front of two or more query-api instances with their caches
    /// (the deployment's load balancer), measured as a third target beside the other two.
    #[arg(long, requires = "balanced_metrics_urls")]
    pub balanced_url: Option<Url>,

    /// The metrics listeners of the query-api instances behind `--balanced-url`,
    /// comma-separated: their cache counters are added, and each must have served.
    #[arg(long, value_delimiter = ',', requires = "balanced_url")]
    pub balanced_metrics_urls: Vec<Url>,

    /// The platform's database: the seed writes its event log.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/platform")]
    pub database_url: String,

    /// Members registered and logged in through the API; the load spreads over them.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub members: u32,

    /// Members the seeded orders belong to (the registered ones, then random ids).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub order_members: u32,

    /// Orders seeded into the event log (0: none).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(i64).range(0..=100_000_000))]
    pub orders: i64,

    /// Longest wait for the seed and for the projection to apply it.
    #[arg(long, default_value_t = 600.0, value_parser = positive_seconds)]
    pub seed_timeout_seconds: f64,

    /// Leave the seeded log without fresh statistics, as a restore or a bulk import leaves
    /// it: the projection then catches up a log its plans know nothing of.
    #[arg(long)]
    pub stale_statistics: bool,

    /// Stop after the setup (the seed, the projection catching it up, the checks): no load
    /// phase runs. For measuring how fast the log is projected, live and by a replay.
    #[arg(long)]
    pub setup_only: bool,

    /// Clients of the throughput phase.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,

    /// Measured seconds of each phase on each target.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub seconds: f64,

    /// Warm-up seconds before each measurement (results discarded).
    #[arg(long, default_value_t = 3.0, value_parser = seconds_or_zero)]
    pub warmup_seconds: f64,

    /// Requests per second of the cached latency phase.
    #[arg(long, default_value_t = 20_000.0, value_parser = positive_rate)]
    pub rate: f64,

    /// Requests per second of the uncached latency phase [default: 80 % of the uncached
    /// throughput, at most --rate].
    #[arg(long, value_parser = positive_rate)]
    pub uncached_rate: Option<f64>,

    /// Requests per second of the latency phase through nginx [default: 80 % of its
    /// measured throughput, at most --rate].
    #[arg(long, value_parser = positive_rate)]
    pub balanced_rate: Option<f64>,

    /// Most requests in flight in the latency phase (also the connection pool size).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=16_384))]
    pub max_in_flight: u32,

    /// Most requests measured per phase and target (the warm-up is bounded the same way).
    #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: u64,

    /// Load phases to run, comma-separated; they run in the order throughput, latency.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "throughput,latency"
    )]
    pub phases: Vec<Phase>,

    #[command(flatten)]
    pub options: cli::Options,
}

impl Args {
    pub(crate) fn limits(&self) -> Limits {
        Limits::from_seconds(self.warmup_seconds, self.seconds, self.max_requests)
    }
}

/// Refuses non-loopback hosts unless `--allow-remote` (the bench writes a million events
/// and loads hard), and inconsistent sizes.
pub(crate) fn check_args(args: &Args) -> anyhow::Result<()> {
    ensure!(
        args.order_members >= args.members,
        "--order-members ({}) must be at least --members ({})",
        args.order_members,
        args.members
    );
    if args.options.allow_remote {
        return Ok(());
    }
    for url in [
        &args.cached_url,
        &args.uncached_url,
        &args.cached_metrics_url,
        &args.uncached_metrics_url,
    ] {
        cli::ensure_loopback_url(url)?;
    }
    cli::ensure_loopback_database(&args.database_url)?;
    Ok(())
}
