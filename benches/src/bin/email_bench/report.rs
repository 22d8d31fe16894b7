//! What a run measured: the JSON summary and the printed table.

use benches::latency::Micros;
use serde::Serialize;

use crate::{
    args::Args,
    round::{PhaseResult, Round},
};

/// The goal: the worker delivers at no less than this share of the ceiling's rate...
pub(crate) const GOAL_RATIO: f64 = 0.8;
/// ...while `POST /api/v1/emails` answers with p99 under this.
pub(crate) const GOAL_P99_US: u64 = 20_000;

#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub benchmark: &'static str,
    pub emails: u64,
    pub warmup_emails: u64,
    pub concurrency: u32,
    pub smtp_concurrency: u32,
    pub ceiling: Option<PhaseResult>,
    pub platform: Option<PhaseResult>,
    /// The platform's delivery rate ÷ the ceiling's, both from the first message handed
    /// over to the last arrival.
    pub delivered_per_ceiling: Option<f64>,
    /// The same ratio of the rates from the first arrival to the last.
    pub delivered_per_ceiling_between_arrivals: Option<f64>,
    /// Whether the run met the goal; unknown without both phases measured.
    pub goal_met: Option<bool>,
    pub failures: Vec<String>,
    pub passed: bool,
}

impl Summary {
    pub(crate) fn new(args: &Args) -> Self {
        Self {
            benchmark: "email-bench",
            emails: args.emails,
            warmup_emails: args.warmup_emails,
            concurrency: args.concurrency,
            smtp_concurrency: args.smtp_concurrency,
            ceiling: None,
            platform: None,
            delivered_per_ceiling: None,
            delivered_per_ceiling_between_arrivals: None,
            goal_met: None,
            failures: Vec::new(),
            passed: false,
        }
    }

    /// The ratios and the goal, from the two measured rounds.
    pub(crate) fn compare(&mut self) {
        let (Some(ceiling), Some(platform)) = (measured(&self.ceiling), measured(&self.platform))
        else {
            return;
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let (c, p) = (&ceiling.deliveries, &platform.deliveries);
        let delivered = ratio(p.per_second, c.per_second);
        let between = ratio(p.per_second_between_arrivals, c.per_second_between_arrivals);
        let p99_us = platform.sends.latency_us.p99_us;
        self.delivered_per_ceiling = delivered;
        self.delivered_per_ceiling_between_arrivals = between;
        self.goal_met = delivered.map(|ratio| ratio >= GOAL_RATIO && p99_us < GOAL_P99_US);
    }
}

/// A phase's measured round, if it got that far.
fn measured(phase: &Option<PhaseResult>) -> Option<&Round> {
    phase.as_ref()?.measured.as_ref()
}

pub(crate) fn print_table(args: &Args, summary: &Summary) {
    println!();
    println!(
        "email-bench: {} messages per phase after {} of warm-up; {} API clients; EMAIL_CONCURRENCY {} (the ceiling's pool and senders)",
        args.emails, args.warmup_emails, args.concurrency, args.smtp_concurrency
    );
    let rounds: Vec<(&str, &str, &Round)> = [
        ("ceiling", "lettre send (250)", &summary.ceiling),
        ("platform", "POST /api/v1/emails (202)", &summary.platform),
    ]
    .into_iter()
    .filter_map(|(name, what, phase)| Some((name, what, measured(phase)?)))
    .collect();
    if !rounds.is_empty() {
        print_rounds(&rounds);
    }
    for (name, phase) in [
        ("ceiling", &summary.ceiling),
        ("platform", &summary.platform),
    ] {
        if let Some(warmup) = phase.as_ref().and_then(|p| p.warmup.as_ref()) {
            println!(
                "  {name} warm-up: {} of {} arrived, {} copies",
                warmup.delivered, warmup.sent, warmup.duplicates
            );
        }
    }
    if let Some(ratio) = summary.delivered_per_ceiling {
        println!();
        print!("platform delivered/s ÷ ceiling delivered/s = {ratio:.3}");
        match summary.delivered_per_ceiling_between_arrivals {
            Some(between) => println!(" (first to last arrival: {between:.3})"),
            None => println!(),
        }
    }
    if let Some(met) = summary.goal_met {
        println!();
        println!(
            "goal: the worker delivers at no less than {GOAL_RATIO} of the ceiling, with POST p99 under {}",
            Micros(GOAL_P99_US)
        );
        println!("  goal met: {}", if met { "yes" } else { "no" });
    }
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}

fn print_rounds(rounds: &[(&str, &str, &Round)]) {
    println!();
    println!(
        "{:<36} {:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "handed over", "ok", "errors", "per s", "p50", "p99", "p99.9", "max"
    );
    for (name, what, round) in rounds {
        let (s, l) = (&round.sends, round.sends.latency_us);
        println!(
            "{:<36} {:>7} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10}",
            format!("{name}: {what}"),
            s.ok,
            s.errors,
            s.per_second,
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.p999_us),
            Micros(l.max_us)
        );
    }
    println!();
    println!(
        "{:<10} {:>9} {:>7} {:>6} {:>8} {:>16} {:>16} {:>10} {:>10} {:>10}",
        "arrived",
        "delivered",
        "missing",
        "copies",
        "foreign",
        "per s from 1st",
        "per s arriving",
        "p50",
        "p99",
        "max"
    );
    let rate = |r: Option<f64>| r.map_or("-".to_owned(), |r| format!("{r:.1}"));
    for (name, _, round) in rounds {
        let (d, l) = (&round.deliveries, round.deliveries.latency_us);
        println!(
            "{:<10} {:>9} {:>7} {:>6} {:>8} {:>16} {:>16} {:>10} {:>10} {:>10}",
            name,
            d.delivered,
            d.missing,
            d.duplicates,
            d.foreign,
            rate(d.per_second),
            rate(d.per_second_between_arrivals),
            Micros(l.p50_us),
            Micros(l.p99_us),
            Micros(l.max_us)
        );
    }
    println!("  (per s from 1st: messages ÷ first hand-over to last arrival; per s arriving:");
    println!(
        "   arrivals after the first ÷ first to last arrival; p50/p99/max: hand-over to arrival)"
    );
    println!();
    println!(
        "{:<10} {:>8} {:>10} {:>8} {:>12} {:>12} {:>10}",
        "CPU", "seconds", "platform", "sink", "PostgreSQL", "email-bench", "machine"
    );
    let cores = |c: Option<f64>| c.map_or("-".to_owned(), |c| format!("{c:.2}"));
    for (name, _, round) in rounds {
        let c = round.cpu;
        println!(
            "{:<10} {:>8.2} {:>10} {:>8} {:>12} {:>12} {:>10}",
            name,
            c.seconds,
            cores(c.platform_cores),
            cores(c.sink_cores),
            cores(c.postgres_cores),
            cores(c.bench_cores),
            cores(c.machine_cores)
        );
    }
    println!("  (cores, from the first hand-over until the last arrival was seen; machine: every");
    println!("   process, so what it has above the others' sum ran beside this benchmark)");
    for (name, _, round) in rounds {
        for error in &round.sends.error_samples {
            println!("  {name} error: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use benches::{latency::LatencySummary, load::Measured};
    use clap::Parser;

    use super::*;
    use crate::{cpu::CpuUse, ledger::Deliveries};

    /// A phase whose messages arrived at `per_second`, handed over with p99 `p99_us`.
    fn phase(per_second: f64, p99_us: u64) -> Option<PhaseResult> {
        let latency_us = LatencySummary {
            p99_us,
            ..LatencySummary::default()
        };
        let round = Round {
            sends: Measured {
                ok: 500,
                errors: 0,
                seconds: 0.5,
                per_second: 1000.0,
                latency_us,
                warmup_ops: 0,
                warmup_errors: 0,
                error_samples: Vec::new(),
            },
            deliveries: Deliveries {
                sent: 500,
                delivered: 500,
                missing: 0,
                duplicates: 0,
                foreign: 0,
                from_first_sent_seconds: Some(500.0 / per_second),
                per_second: Some(per_second),
                between_arrivals_seconds: Some(499.0 / per_second),
                per_second_between_arrivals: Some(per_second),
                latency_us: LatencySummary::default(),
            },
            cpu: CpuUse::default(),
            last: None,
        };
        Some(PhaseResult {
            warmup: None,
            measured: Some(round),
            problems: Vec::new(),
        })
    }

    fn compared(ceiling: f64, platform: f64, p99_us: u64) -> Summary {
        let args = Args::try_parse_from(["email-bench", "--spool", "/tmp/spool"]).unwrap();
        let mut summary = Summary::new(&args);
        summary.ceiling = phase(ceiling, 60_000);
        summary.platform = phase(platform, p99_us);
        summary.compare();
        summary
    }

    #[test]
    fn the_goal_is_four_fifths_of_the_ceiling_with_a_quick_answer() {
        let met = compared(400.0, 320.0, 19_999);
        assert_eq!(met.delivered_per_ceiling, Some(0.8));
        assert_eq!(met.goal_met, Some(true));
        assert_eq!(compared(400.0, 319.0, 5_000).goal_met, Some(false));
        assert_eq!(compared(400.0, 400.0, 20_000).goal_met, Some(false));
    }

    #[test]
    fn without_both_rates_there_is_no_verdict() {
        let mut summary = compared(400.0, 400.0, 5_000);
        summary.platform.as_mut().unwrap().measured = None;
        summary.delivered_per_ceiling = None;
        summary.goal_met = None;
        summary.compare();
        assert_eq!(summary.goal_met, None);
    }
}
