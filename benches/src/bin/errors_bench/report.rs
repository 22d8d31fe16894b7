//! What a run measured: the JSON summary and the printed table.

use benches::{latency::Micros, load::Measured};
use serde::Serialize;

use crate::{args::Args, ingest::IngestResult, layer::LayerResult};

/// The layer's goal: it adds less than this to the endpoint's p99, in %.
pub(crate) const GOAL_LAYER_P99_PERCENT: f64 = 5.0;

#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub benchmark: &'static str,
    pub concurrency: u32,
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub max_requests: u64,
    pub commands: Option<Measured>,
    pub ingest: Vec<IngestResult>,
    /// Envelopes recorded per second ÷ items created per second, per encoding.
    pub ingest_per_command: Vec<(&'static str, f64)>,
    /// Every measured encoding at no less than the command rate; unknown without both.
    pub ingest_goal_met: Option<bool>,
    pub layer: Option<LayerResult>,
    pub layer_goal_met: Option<bool>,
    pub failures: Vec<String>,
    pub passed: bool,
}

impl Summary {
    pub(crate) fn new(args: &Args) -> Self {
        Self {
            benchmark: "errors-bench",
            concurrency: args.concurrency,
            seconds: args.seconds,
            warmup_seconds: args.warmup_seconds,
            max_requests: args.max_requests,
            commands: None,
            ingest: Vec::new(),
            ingest_per_command: Vec::new(),
            ingest_goal_met: None,
            layer: None,
            layer_goal_met: None,
            failures: Vec::new(),
            passed: false,
        }
    }

    /// The ratios and the goals, from what was measured.
    pub(crate) fn compare(&mut self) {
        if let Some(commands) = &self.commands
            && commands.per_second > 0.0
            && !self.ingest.is_empty()
        {
            self.ingest_per_command = self
                .ingest
                .iter()
                .map(|i| (i.encoding, i.throughput.per_second / commands.per_second))
                .collect();
            self.ingest_goal_met = Some(self.ingest_per_command.iter().all(|(_, r)| *r >= 1.0));
        }
        self.layer_goal_met = self
            .layer
            .as_ref()
            .map(|layer| layer.p99_overhead_percent < GOAL_LAYER_P99_PERCENT);
    }
}

pub(crate) fn print_table(args: &Args, summary: &Summary) {
    println!();
    println!(
        "errors-bench: concurrency {}, {} s measured per phase after {} s of warm-up (at most {} operations)",
        args.concurrency, args.seconds, args.warmup_seconds, args.max_requests
    );
    print_throughput(summary);
    if let Some(layer) = &summary.layer {
        print_layer(layer);
    }
    let yes_no = |met: bool| if met { "yes" } else { "no" };
    if let Some(met) = summary.ingest_goal_met {
        println!();
        println!("goal: envelopes ingested at no less than the command rate");
        println!("  goal met: {}", yes_no(met));
    }
    if let Some(met) = summary.layer_goal_met {
        println!("goal: the error layer adds under {GOAL_LAYER_P99_PERCENT} % to the p99");
        println!("  goal met: {}", yes_no(met));
    }
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}

fn print_throughput(summary: &Summary) {
    if summary.commands.is_none() && summary.ingest.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<44} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "phase", "ok", "errors", "ops/s", "p50", "p99", "p99.9", "max"
    );
    let row = |name: &str, t: &Measured| {
        let l = t.latency_us;
        println!(
            "{:<44} {:>9} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10}",
            name,
            t.ok,
            t.errors,
            t.per_second,
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us),
        );
        for error in &t.error_samples {
            println!("  error: {error}");
        }
    };
    if let Some(commands) = &summary.commands {
        row("commands: POST /api/v1/items (201)", commands);
    }
    for ingest in &summary.ingest {
        let name = format!(
            "ingest: envelope, {} {} B (200)",
            ingest.encoding, ingest.body_bytes
        );
        row(&name, &ingest.throughput);
    }
    for (encoding, ratio) in &summary.ingest_per_command {
        println!("envelopes/s ({encoding}) ÷ commands/s = {ratio:.3}");
    }
}

fn print_layer(layer: &LayerResult) {
    println!();
    println!(
        "error layer: {} at {} requests/s, {} rounds of {} s on each platform, alternating",
        layer.endpoint, layer.rate, layer.rounds, layer.seconds_per_round
    );
    println!(
        "  {:<16} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10}   p99 by round",
        "", "ok", "errors", "p50", "p99", "p99.9", "max"
    );
    for (name, side) in [
        ("without layer", &layer.without_layer),
        ("with layer", &layer.with_layer),
    ] {
        let l = side.latency_us;
        let rounds: Vec<String> = side
            .p99_us_by_round
            .iter()
            .map(|us| Micros(*us).to_string())
            .collect();
        println!(
            "  {:<16} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10}   {}",
            name,
            side.ok,
            side.errors,
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us),
            rounds.join(", ")
        );
        for error in &side.error_samples {
            println!("    error: {error}");
        }
    }
    println!(
        "  overhead: p50 {:+.1} %, p99 {:+.1} %, p99.9 {:+.1} %",
        layer.p50_overhead_percent, layer.p99_overhead_percent, layer.p999_overhead_percent
    );
}
