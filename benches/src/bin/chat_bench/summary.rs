//! What a run measured, as printed and as the JSON summary line; and its verdict.

use std::time::Duration;

use benches::latency::{LatencySummary, Recorder};
use serde::Serialize;

use crate::{
    args::{Args, StreamKind},
    layout::Layout,
    ledger::{Ledger, Tally},
    phases::SendResult,
    procfs::Rss,
    subscriber::Received,
};

#[derive(Debug, Default, Serialize)]
pub(crate) struct Setup {
    pub users: usize,
    pub registration_seconds: f64,
    pub rooms_seconds: f64,
    pub streams_opened: usize,
    pub open_seconds: f64,
}

/// Resident memory around the streams, and per stream.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Memory {
    /// Right after the setup (with --settle-seconds), before the wait.
    pub after_setup: Rss,
    pub before_streams: Rss,
    /// With the first half of the streams open.
    pub half_open: Rss,
    pub half_streams: usize,
    pub streams_open: Rss,
    pub after_load: Rss,
    /// (all open − before) ÷ streams.
    pub platform_kib_per_stream: Option<f64>,
    pub bench_kib_per_stream: Option<f64>,
    /// (all open − half open) ÷ the second half's streams.
    pub platform_kib_per_stream_marginal: Option<f64>,
    pub bench_kib_per_stream_marginal: Option<f64>,
}

/// The streams held, as the benchmark and the platform count them.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Streams {
    pub opened: usize,
    /// Streams that broke before the run ended them.
    pub ended_early: usize,
    /// The platform's `chat_streams_open` gauge with every stream open, and after the
    /// load.
    pub platform_gauge_before_load: Option<u64>,
    pub platform_gauge_after_load: Option<u64>,
    /// Why streams broke (the first few).
    pub end_samples: Vec<String>,
}

/// The receiving side of the load.
#[derive(Debug, Default, Serialize)]
pub(crate) struct DeliveryResult {
    /// Due → arrival on a stream, every delivery of every measured message.
    pub latency_us: LatencySummary,
    /// Every message and delivery of the run, warm-up included.
    pub tally: Tally,
    pub out_of_order: u64,
    pub unexpected: u64,
    pub resets: u64,
    /// From the last send's answer until every delivery had arrived; None when some
    /// never did within --drain-seconds.
    pub drain_seconds: Option<f64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    pub benchmark: &'static str,
    pub stream_kind: StreamKind,
    pub subscribers: u32,
    pub rooms: u32,
    pub users: u32,
    /// Streams the busiest user holds (the platform's --chat-max-streams-per-user must
    /// allow as many).
    pub max_streams_per_user: usize,
    pub max_members_per_room: u32,
    /// Streams each message must reach, on average over the rooms.
    pub receivers_per_message: f64,
    pub rate: f64,
    pub duration_seconds: f64,
    pub warmup_seconds: f64,
    pub setup: Setup,
    pub streams: Streams,
    pub memory: Memory,
    pub send: Option<SendResult>,
    pub delivery: Option<DeliveryResult>,
    pub failures: Vec<String>,
    pub passed: bool,
}

impl Summary {
    pub(crate) fn new(args: &Args, layout: &Layout) -> Self {
        Self {
            benchmark: "chat-bench",
            stream_kind: args.stream_kind,
            subscribers: args.subscribers,
            rooms: args.rooms,
            users: args.users(),
            max_streams_per_user: layout.max_streams_per_user(),
            max_members_per_room: args.members_per_room(),
            receivers_per_message: layout.receivers.iter().map(|&r| f64::from(r)).sum::<f64>()
                / f64::from(args.rooms),
            rate: args.rate,
            duration_seconds: args.duration,
            warmup_seconds: args.warmup_seconds,
            setup: Setup::default(),
            streams: Streams::default(),
            memory: Memory::default(),
            send: None,
            delivery: None,
            failures: Vec::new(),
            passed: false,
        }
    }
}

impl DeliveryResult {
    /// Merges what the subscribers saw with the ledger's tally.
    pub(crate) fn new(
        received: &[Received],
        ledger: &Ledger,
        layout: &Layout,
        drained: Option<Duration>,
    ) -> Self {
        let mut latency = Recorder::new();
        let mut result = Self {
            tally: ledger.tally(&layout.receivers),
            drain_seconds: drained.map(|d| d.as_secs_f64()),
            ..Self::default()
        };
        for r in received {
            for &micros in &r.latencies_us {
                latency.record(Duration::from_micros(u64::from(micros)));
            }
            result.out_of_order += r.out_of_order;
            result.unexpected += r.unexpected;
            result.resets += r.resets;
        }
        result.latency_us = latency.summary();
        result
    }
}

impl Streams {
    /// Counts the streams that broke before the run ended them, with the first few reasons.
    pub(crate) fn record_ends(&mut self, received: &[Received]) {
        for reason in received.iter().filter_map(|r| r.ended.as_ref()) {
            self.ended_early += 1;
            if self.end_samples.len() < 5 {
                self.end_samples.push(reason.clone());
            }
        }
    }
}

impl Summary {
    /// Memory per stream, and the verdict.
    pub(crate) fn finish(&mut self) {
        let opened = self.streams.opened;
        let memory = &mut self.memory;
        let per_stream =
            |before: Option<u64>, after: Option<u64>, streams: usize| match (before, after) {
                (Some(before), Some(after)) if streams > 0 => {
                    Some((after as f64 - before as f64) / streams as f64)
                }
                _ => None,
            };
        let (before, half, all) = (
            &memory.before_streams,
            &memory.half_open,
            &memory.streams_open,
        );
        let second_half = opened.saturating_sub(memory.half_streams);
        memory.platform_kib_per_stream = per_stream(before.platform_kib, all.platform_kib, opened);
        memory.bench_kib_per_stream = per_stream(before.bench_kib, all.bench_kib, opened);
        memory.platform_kib_per_stream_marginal =
            per_stream(half.platform_kib, all.platform_kib, second_half);
        memory.bench_kib_per_stream_marginal =
            per_stream(half.bench_kib, all.bench_kib, second_half);

        let failures = &mut self.failures;
        if let Some(send) = &self.send {
            let failed = send.errors + send.warmup_errors;
            if failed > 0 {
                failures.push(format!("{failed} sends failed"));
            }
        }
        let streams = &self.streams;
        if streams.ended_early > 0 {
            failures.push(format!(
                "{} of {} streams broke before the end",
                streams.ended_early, streams.opened
            ));
        }
        if let Some(d) = &self.delivery {
            let t = &d.tally;
            if t.missing > 0 {
                failures.push(format!(
                "{} of {} deliveries missing ({} of {} messages did not reach every stream of their room)",
                t.missing, t.expected, t.incomplete, t.sent
            ));
            }
            let extra = t.surplus + d.out_of_order + d.unexpected + d.resets + t.of_unsent;
            if extra > 0 {
                failures.push(format!(
                "unexpected arrivals: {} beyond a message's receivers, {} out of order, {} foreign, \
                 {} resets, {} of messages never sent",
                t.surplus, d.out_of_order, d.unexpected, d.resets, t.of_unsent
            ));
            }
        }
        self.passed = self.failures.is_empty();
    }
}
