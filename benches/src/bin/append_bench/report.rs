//! What a run measured: the JSON summary and the printed table.

use benches::{latency::Micros, load::Measured};
use serde::Serialize;

use crate::{args::Args, lag::LagResult, raw::RawResult};

/// The goal of the append path: commands at no less than the raw insert rate measured in the
/// same run, with p99 under this.
pub(crate) const GOAL_P99_US: u64 = 20_000;

#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub benchmark: &'static str,
    pub concurrency: u32,
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub max_requests: u64,
    pub raw: Option<RawResult>,
    pub commands: Option<Measured>,
    pub lag: Option<LagResult>,
    /// Items created per second ÷ raw inserts per second.
    pub commands_per_raw_insert: Option<f64>,
    /// Whether the run met the goal; unknown without both the raw and commands phases.
    pub goal_met: Option<bool>,
    pub failures: Vec<String>,
    pub passed: bool,
}

pub(crate) fn print_table(args: &Args, summary: &Summary) {
    println!();
    println!(
        "append-bench: concurrency {}, {} s measured per phase after {} s of warm-up (at most {} operations)",
        args.concurrency, args.seconds, args.warmup_seconds, args.max_requests
    );
    if let Some(raw) = &summary.raw {
        println!(
            "PostgreSQL durability: synchronous_commit={}, fsync={}",
            raw.synchronous_commit, raw.fsync
        );
    }
    let has_throughput = summary.raw.is_some() || summary.commands.is_some();
    if has_throughput {
        println!();
        println!(
            "{:<34} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "phase", "ok", "errors", "ops/s", "p50", "p99", "p99.9", "max"
        );
    }
    let row = |name: &str, t: &Measured| {
        let l = t.latency_us;
        println!(
            "{:<34} {:>9} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10}",
            name,
            t.ok,
            t.errors,
            t.per_second,
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us),
        );
    };
    if let Some(raw) = &summary.raw {
        row("raw INSERT, 1 row per transaction", &raw.throughput);
    }
    if let Some(commands) = &summary.commands {
        row("POST /api/v1/items (201)", commands);
    }
    if let Some(lag) = &summary.lag {
        println!();
        println!(
            "end-to-end lag: a separate phase after the throughput phase, {} items/s, {} items measured, {} errors",
            lag.rate, lag.ok, lag.errors
        );
        if let Some(ms) = lag.catch_up_ms {
            println!(
                "  (the read model had applied the whole throughput phase {:.0} ms after it ended)",
                ms
            );
        }
        println!("  {:<44} {:>10} {:>10} {:>10}", "", "p50", "p99", "max");
        for (name, l) in [
            ("POST sent -> 201 received", lag.post_us),
            ("201 received -> item readable (lag)", lag.lag_us),
            ("POST sent -> item readable (total)", lag.total_us),
        ] {
            println!(
                "  {:<44} {:>10} {:>10} {:>10}",
                name,
                Micros(l.p50_us),
                Micros(l.p99_us),
                Micros(l.max_us)
            );
        }
        println!("  (\"sent\" is the intended start on the fixed schedule)");
    }
    let samples = summary
        .raw
        .iter()
        .map(|raw| ("raw", &raw.throughput.error_samples))
        .chain(
            summary
                .commands
                .iter()
                .map(|c| ("commands", &c.error_samples)),
        )
        .chain(summary.lag.iter().map(|l| ("lag", &l.error_samples)));
    for (phase, errors) in samples {
        for error in errors {
            println!("  {phase} error: {error}");
        }
    }
    if let Some(ratio) = summary.commands_per_raw_insert {
        println!();
        println!("commands/s ÷ raw inserts/s = {ratio:.3}");
    }
    if let Some(met) = summary.goal_met {
        println!();
        println!(
            "goal: commands at no less than the raw insert rate, with p99 under {}",
            Micros(GOAL_P99_US)
        );
        println!("  goal met: {}", if met { "yes" } else { "no" });
    }
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}
