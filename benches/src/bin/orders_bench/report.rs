//! The results table printed at the end of a run.

use benches::latency::Micros;

use crate::{GOAL_P99_US, GOAL_PER_SECOND, Summary, args::Args, phases::PhaseResult};

pub(crate) fn print_table(args: &Args, summary: &Summary) {
    let setup = &summary.setup;
    println!();
    println!(
        "orders-bench: GET /api/v1/orders, {} orders of {} members, load spread over {} logged-in members",
        summary.orders, summary.order_members, summary.members
    );
    println!(
        "mix: 70 % page 1, 15 % page 2, 10 % status=PAID, 5 % sort=oldest (size 20); \
         {} s measured after {} s of warm-up per phase and target (at most {} requests)",
        args.seconds, args.warmup_seconds, args.max_requests
    );
    println!(
        "setup: members registered and logged in in {:.1} s",
        setup.registration_seconds
    );
    if let (Some(seed), Some(seed_rate)) = (setup.seed_seconds, setup.seed_events_per_second) {
        println!(
            "setup: {} orders and {} status changes written to the log in {seed:.1} s ({seed_rate:.0} events/s)",
            setup.seeded_orders, setup.status_changes
        );
    }
    if let (Some(projection), Some(rate)) =
        (setup.projection_seconds, setup.projection_events_per_second)
    {
        println!("setup: projected in {projection:.1} s ({rate:.0} events/s)");
    }

    let phases = [
        &summary.throughput_uncached,
        &summary.throughput_cached,
        &summary.throughput_balanced,
        &summary.latency_uncached,
        &summary.latency_trivial,
        &summary.latency_cached,
        &summary.latency_balanced,
    ];
    if phases.iter().any(|p| p.is_some()) {
        println!();
        println!(
            "{:<30} {:<9} {:>9} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9}",
            "phase", "target", "ok", "errors", "req/s", "p50", "p99", "p99.9", "max", "hit ratio"
        );
    }
    for phase in phases.into_iter().flatten() {
        row(phase);
    }
    for phase in phases.into_iter().flatten() {
        for error in &phase.measured.error_samples {
            println!("  {} {} error: {error}", phase.mode, phase.target);
        }
    }
    if let Some(ratio) = summary.cached_per_uncached {
        println!();
        println!("cached ÷ uncached throughput = {ratio:.2}");
    }
    if let Some(ratio) = summary.balanced_per_cached {
        println!("through nginx ÷ cached throughput = {ratio:.2}");
    }
    for phase in phases.into_iter().flatten() {
        if let Some(cache) = phase
            .cache
            .as_ref()
            .filter(|c| c.lookups_per_instance.len() > 1)
        {
            let total: u64 = cache.lookups_per_instance.iter().sum();
            let shares: Vec<String> = cache
                .lookups_per_instance
                .iter()
                .map(|n| format!("{:.1} %", 100.0 * *n as f64 / total.max(1) as f64))
                .collect();
            println!(
                "{} {}: lookups per query-api instance {:?} ({})",
                phase.mode,
                phase.target,
                cache.lookups_per_instance,
                shares.join(", ")
            );
        }
    }

    println!();
    println!(
        "goal: over {GOAL_PER_SECOND:.0} requests/s cached with p99 under {} (both a closed loop above it and an open loop at it)",
        Micros(GOAL_P99_US)
    );
    if let Some(t) = &summary.throughput_cached {
        println!(
            "  closed loop, cached: {:.0} requests/s (p99 {})",
            t.measured.per_second,
            Micros(t.measured.latency_us.p99_us)
        );
    }
    if let Some(l) = &summary.latency_cached {
        println!(
            "  open loop, cached: {:.0} requests/s asked, {:.0} achieved, p99 {}, {} errors",
            l.target_rate.unwrap_or(0.0),
            l.measured.per_second,
            Micros(l.measured.latency_us.p99_us),
            l.measured.errors
        );
    }
    println!(
        "  goal met: {}",
        if summary.goal.met { "yes" } else { "no" }
    );
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}

fn row(phase: &PhaseResult) {
    let name = match (phase.concurrency, phase.target_rate) {
        (Some(clients), _) => format!("throughput, {clients} clients"),
        (_, Some(rate)) => format!("latency, open loop {rate:.0}/s"),
        _ => phase.mode.to_owned(),
    };
    let hit_ratio = phase
        .cache
        .as_ref()
        .and_then(|c| c.hit_ratio)
        .map_or_else(|| "-".to_owned(), |r| format!("{:.2} %", r * 100.0));
    let l = phase.measured.latency_us;
    println!(
        "{:<30} {:<9} {:>9} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10} {:>9}",
        name,
        phase.target,
        phase.measured.ok,
        phase.measured.errors,
        phase.measured.per_second,
        Micros(l.p50_us),
        Micros(l.p99_us),
        Micros(l.p999_us),
        Micros(l.max_us),
        hit_ratio
    );
}
