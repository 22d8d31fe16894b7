//! The command line.

use benches::{
    cli::{self, positive_rate, positive_seconds, seconds_or_zero},
    load::Limits,
};
use clap::{Parser, ValueEnum};
use reqwest::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Phase {
    /// POST /api/v1/items from concurrent clients: the rate ingestion is held to.
    Commands,
    /// Sentry envelopes of one event each from as many concurrent senders.
    Ingest,
    /// Latency of one endpoint with the error layer and without it.
    Layer,
}

/// How the envelopes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Encoding {
    /// Compressed as the Python SDK sends (gzip, level 9).
    Gzip,
    /// Uncompressed, as the Rust SDK sends.
    Identity,
}

impl Encoding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Identity => "identity",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "errors-bench",
    about = "Sentry ingestion against item commands on the same append path, and the error layer's cost to a request's latency"
)]
pub(crate) struct Args {
    /// Base URL of the platform the commands and ingest phases load.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: Url,

    /// Base URL of the platform with the error layer, for the layer phase [default: the
    /// `--url` one].
    #[arg(long)]
    pub layer_url: Option<Url>,

    /// Base URL of the same platform without the error layer (the layer phase's baseline).
    #[arg(long)]
    pub baseline_url: Option<Url>,

    /// An admin of `--url`'s platform (its `ADMIN_EMAIL`), who creates the project the
    /// ingest phase reports to.
    #[arg(long, env = "ADMIN_EMAIL", default_value = "root@example.com")]
    pub admin_email: String,

    /// That admin's password (the platform's `ADMIN_PASSWORD`).
    #[arg(
        long,
        env = "ADMIN_PASSWORD",
        default_value = "Rootpass1",
        hide_env_values = true
    )]
    pub admin_password: String,

    /// Concurrent clients of the commands and ingest phases.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Encodings the ingest phase measures, one after the other, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "gzip,identity"
    )]
    pub encodings: Vec<Encoding>,

    /// Measured seconds of the commands phase and of each encoding of the ingest phase.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub seconds: f64,

    /// Warm-up seconds before each of them (results discarded).
    #[arg(long, default_value_t = 2.0, value_parser = seconds_or_zero)]
    pub warmup_seconds: f64,

    /// Most operations measured in one of them (the warm-up is bounded the same way).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: u64,

    /// Requests per second of the layer phase, on a fixed schedule.
    #[arg(long, default_value_t = 200.0, value_parser = positive_rate)]
    pub layer_rate: f64,

    /// Rounds of the layer phase; each measures both platforms, one after the other, so
    /// that a change in the machine's load reaches both.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub layer_rounds: u32,

    /// Measured seconds of one platform in one round of the layer phase.
    #[arg(long, default_value_t = 10.0, value_parser = positive_seconds)]
    pub layer_seconds: f64,

    /// Phases to run, comma-separated; they always run in the order commands, ingest,
    /// layer.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "commands,ingest,layer"
    )]
    pub phases: Vec<Phase>,

    #[command(flatten)]
    pub options: cli::Options,
}

impl Args {
    pub(crate) fn runs(&self, phase: Phase) -> bool {
        self.phases.contains(&phase)
    }

    pub(crate) fn layer_url(&self) -> &Url {
        self.layer_url.as_ref().unwrap_or(&self.url)
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits::from_seconds(self.warmup_seconds, self.seconds, self.max_requests)
    }

    /// Refuses non-loopback hosts unless `--allow-remote`: the bench writes data and loads
    /// hard.
    pub(crate) fn check_local(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.runs(Phase::Layer) || self.baseline_url.is_some(),
            "the layer phase needs --baseline-url, a platform without the error layer"
        );
        if self.options.allow_remote {
            return Ok(());
        }
        cli::ensure_loopback_url(&self.url)?;
        cli::ensure_loopback_url(self.layer_url())?;
        if let Some(baseline) = &self.baseline_url {
            cli::ensure_loopback_url(baseline)?;
        }
        Ok(())
    }
}
