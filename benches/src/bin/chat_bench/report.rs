//! The results printed at the end of a run.

use benches::latency::{LatencySummary, Micros};

use crate::{args::Args, procfs::Rss, summary::Summary};

/// Movements of resident memory smaller than this are the allocator's own (purging freed
/// pages, growing a cache), seen with no streams at all.
const NOISE_KIB: u64 = 8 * 1024;

pub(crate) fn print_table(args: &Args, summary: &Summary) {
    println!();
    println!(
        "chat-bench: {} {} streams ({}) of {} users (up to {} each), {} rooms of up to {} \
         members; each message must reach {:.1} streams on average",
        summary.subscribers,
        summary.stream_kind.name(),
        summary.stream_kind.path(),
        summary.users,
        summary.max_streams_per_user,
        summary.rooms,
        summary.max_members_per_room,
        summary.receivers_per_message
    );
    println!(
        "load: {} messages/s round-robin over the rooms, open loop (at most {} sends in flight), \
         {} s measured after {} s of warm-up; latency from a message's due send time to its \
         arrival, on every stream of its room",
        args.rate, args.max_in_flight, args.duration, args.warmup_seconds
    );
    println!(
        "the benchmark client shares the machine's {} cores with the platform and PostgreSQL",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let setup = &summary.setup;
    println!(
        "setup: {} users registered and logged in in {:.1} s, {} rooms created in {:.1} s, \
         {} streams opened in {:.1} s",
        setup.users,
        setup.registration_seconds,
        summary.rooms,
        setup.rooms_seconds,
        setup.streams_opened,
        setup.open_seconds
    );
    print_streams(summary);
    print_memory(args, summary);
    print_load(summary);
    println!();
    println!("result: {}", if summary.passed { "PASS" } else { "FAIL" });
}

fn print_streams(summary: &Summary) {
    let streams = &summary.streams;
    let gauge = |g: Option<u64>| g.map_or_else(|| "-".to_owned(), |g| g.to_string());
    println!();
    println!(
        "streams held: {} opened, {} broke before the end; the platform's chat_streams_open: \
         {} with all open, {} after the load",
        streams.opened,
        streams.ended_early,
        gauge(streams.platform_gauge_before_load),
        gauge(streams.platform_gauge_after_load)
    );
    for reason in &streams.end_samples {
        println!("  stream ended: {reason}");
    }
}

fn print_memory(args: &Args, summary: &Summary) {
    let m = &summary.memory;
    let mib = |kib: Option<u64>| {
        kib.map_or_else(
            || "-".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    let per = |kib: Option<f64>| kib.map_or_else(|| "-".to_owned(), |k| format!("{k:.1} KiB"));
    println!();
    if let Some(kib) = m.after_setup.platform_kib {
        println!(
            "the platform's memory right after the setup: {}; \"before streams\" is after {} s \
             without requests and 100 GET /metrics",
            mib(Some(kib)),
            args.settle_seconds
        );
    }
    println!(
        "{:<22} {:>14} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "memory (VmRSS)",
        "before streams",
        "half open",
        "all open",
        "after load",
        "per stream",
        "marginal"
    );
    let platform = args.server_pid.map_or_else(
        || "platform (no pid)".to_owned(),
        |p| format!("platform (pid {p})"),
    );
    let row = |name: &str, of: fn(&Rss) -> Option<u64>, per_stream: Option<f64>, marginal| {
        println!(
            "{:<22} {:>14} {:>11} {:>11} {:>11} {:>11} {:>10}",
            name,
            mib(of(&m.before_streams)),
            mib(of(&m.half_open)),
            mib(of(&m.streams_open)),
            mib(of(&m.after_load)),
            per(per_stream),
            per(marginal)
        );
    };
    row(
        &platform,
        |r| r.platform_kib,
        m.platform_kib_per_stream,
        m.platform_kib_per_stream_marginal,
    );
    row(
        "chat-bench",
        |r| r.bench_kib,
        m.bench_kib_per_stream,
        m.bench_kib_per_stream_marginal,
    );
    println!(
        "  per stream: (all open − before) ÷ {} streams; marginal: (all open − half open) ÷ {} streams",
        summary.streams.opened,
        summary.streams.opened.saturating_sub(m.half_streams)
    );
    if let (Some(before), Some(all)) = (m.before_streams.platform_kib, m.streams_open.platform_kib)
        && before.abs_diff(all) < NOISE_KIB
    {
        println!(
            "  the platform's memory moved by less than {} MiB: within what its allocator moves \
             by itself, so these streams are too few to measure a stream's cost",
            NOISE_KIB / 1024
        );
    }
}

fn print_load(summary: &Summary) {
    let cores = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.2}"));
    if let Some(send) = &summary.send {
        println!(
            "CPU while the measured sends went out ({:.1} s): platform {} cores, chat-bench {} cores",
            send.cpu.seconds,
            cores(send.cpu.platform_cores),
            cores(send.cpu.bench_cores)
        );
    }
    if summary.send.is_none() && summary.delivery.is_none() {
        return;
    }
    println!();
    println!(
        "{:<32} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "latency", "count", "mean", "p50", "p99", "p99.9", "max"
    );
    if let Some(send) = &summary.send {
        row("send: due → 201", &send.latency_us);
    }
    if let Some(delivery) = &summary.delivery {
        row("delivery: due → on a stream", &delivery.latency_us);
    }
    println!();
    if let Some(send) = &summary.send {
        println!(
            "sends: {} measured ({} answered 201, {} failed) at {:.1}/s of {}/s asked; \
             {} in the warm-up ({} failed)",
            send.ok + send.errors,
            send.ok,
            send.errors,
            send.per_second,
            send.rate,
            send.warmup_sends,
            send.warmup_errors
        );
        for error in &send.error_samples {
            println!("  send error: {error}");
        }
    }
    if let Some(d) = &summary.delivery {
        let t = &d.tally;
        println!(
            "messages (warm-up included): {} sent, {} failed; deliveries: {} expected, {} arrived, \
             {} missing ({} messages incomplete)",
            t.sent, t.failed, t.expected, t.delivered, t.missing, t.incomplete
        );
        println!(
            "  unexpected: {} beyond a message's receivers, {} out of order, {} foreign, {} resets, \
             {} of failed sends, {} of messages never sent",
            t.surplus, d.out_of_order, d.unexpected, d.resets, t.of_failed, t.of_unsent
        );
        match d.drain_seconds {
            Some(s) => println!(
                "  every delivery had arrived {} after the last send was answered",
                Micros((s * 1e6) as u64)
            ),
            None => println!("  some deliveries had not arrived when the drain gave up"),
        }
    }
}

fn row(name: &str, l: &LatencySummary) {
    println!(
        "{:<32} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10}",
        name,
        l.count,
        Micros(l.mean_us as u64),
        Micros(l.p50_us),
        Micros(l.p99_us),
        Micros(l.p999_us),
        Micros(l.max_us)
    );
}
