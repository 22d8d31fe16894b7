//! chat-bench: the chat's live delivery over Server-Sent Events. How many streams the
//! platform holds, what each costs in memory, and how long a message takes from its send
//! to its arrival on every stream of its room at a steady rate, with no message lost.
//!
//! 1. Setup: registers and logs in `--subscribers ÷ --streams-per-user` users, and creates
//!    `--rooms` group rooms with the subscribers spread evenly over them (by default 1,000
//!    users and 1,000 rooms of 10 members, each user in 10 rooms).
//! 2. Streams: waits `--settle-seconds` (the registrations' argon2 buffers stay resident
//!    until the platform's blocking threads idle out), reads the platform's resident memory
//!    (VmRSS, `/proc/<pid>/status`), opens one stream per room membership
//!    (`--stream-kind room`: `GET /api/v1/chats/{id}/stream`; `user`: the all-rooms stream
//!    `GET /api/v1/chats/stream`) in two halves, waiting for each to answer and send its
//!    first block, and reads the memory after each half: the growth over the streams is the
//!    memory per stream, and the second half's growth over its streams the marginal cost.
//! 3. Load: an open loop sends `--rate` messages a second, round-robin over the rooms, for
//!    `--warmup-seconds` then `--duration` seconds. Each message's text carries its number
//!    and when its send was due; every stream that receives it counts it in a ledger and
//!    times it from that due time to its arrival (no coordinated omission: a stall of the
//!    platform, or of the sending loop, is charged to every message it delayed). Every
//!    delivery of a measured message is timed, on every stream of its room.
//! 4. Drain: waits (at most `--drain-seconds`) until every message sent has reached every
//!    stream that carries its room, then counts what is missing, duplicated or foreign.
//!
//! The benchmark client runs on the same machine as the platform and PostgreSQL and shares
//! their cores; the CPU each process used during the measured sending is printed.
//! `--json` adds one summary line. The exit status is non-zero when a send failed, a
//! stream broke, or a delivery is missing, duplicated or unexpected.
//!
//! Run it on a fresh database (builds everything, starts the platform, cleans up after):
//!
//! ```text
//! benches/run-chat-bench [--subscribers 10000 --rooms 1000 --rate 1000 --duration 30 ...]
//! ```
//!
//! Only loopback addresses are contacted unless `--allow-remote` is given.
//!
//! Layout: [`args`] the command line; [`layout`] who is in which room and which stream
//! carries what; [`api`] users, rooms and sends over HTTP; [`sse`] the event-stream
//! format; [`subscriber`] one stream's reader; [`ledger`] every message and its
//! deliveries; [`phases`] the steps of a run; [`procfs`] memory and CPU from /proc;
//! [`summary`] and [`report`] the results.

mod api;
mod args;
mod layout;
mod ledger;
mod phases;
mod procfs;
mod report;
mod sse;
mod subscriber;
mod summary;

use std::{process::ExitCode, sync::Arc, time::Duration};

use anyhow::{Context, ensure};
use benches::procfs::Process;
use clap::Parser;
use tokio::{
    sync::watch,
    task::JoinSet,
    time::{Instant, sleep},
};
use uuid::Uuid;

use crate::{
    args::Args,
    layout::Layout,
    ledger::Ledger,
    phases::{Opener, Shared},
    procfs::Rss,
    summary::{DeliveryResult, Summary},
};

/// File descriptors the benchmark and the platform each need besides one per stream and
/// per send connection (the platform's database pool, listener and logs, say).
const SPARE_FILES: u64 = 256;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(error) = args::check_args(&args) {
        eprintln!("chat-bench: {error:#}");
        return ExitCode::from(2);
    }
    let layout = Arc::new(Layout::new(
        args.subscribers as usize,
        args.rooms as usize,
        args.users() as usize,
        args.stream_kind,
    ));
    let mut summary = Summary::new(&args, &layout);
    if let Err(error) = run(&args, layout, &mut summary).await {
        summary.failures.push(format!("{error:#}"));
    }
    summary.finish();
    report::print_table(&args, &summary);
    benches::cli::finish("chat-bench", args.options.json, &summary, &summary.failures)
}

/// Setup, streams, load and drain. An error here ends the run; broken streams and failed
/// sends are recorded in `summary` and the run goes on.
async fn run(args: &Args, layout: Arc<Layout>, summary: &mut Summary) -> anyhow::Result<()> {
    check_open_files(args)?;
    let commands = api::client(args.max_in_flight as usize)?;
    let stream_client = api::stream_client()?;
    let tag = Uuid::new_v4().simple().to_string()[..8].to_owned();

    eprintln!(
        "setup: registering and logging in {} users at {}",
        layout.users, args.url
    );
    let started = Instant::now();
    let users = api::register_users(
        &commands,
        &args.url,
        &format!("chat-bench-{tag}"),
        layout.users,
        args.register_concurrency as usize,
    )
    .await
    .context("registering users")?;
    summary.setup.users = users.len();
    summary.setup.registration_seconds = started.elapsed().as_secs_f64();

    eprintln!("setup: creating {} rooms", layout.members.len());
    let started = Instant::now();
    let room_ids = phases::create_rooms(&commands, &args.url, &layout, &users, &tag).await?;
    summary.setup.rooms_seconds = started.elapsed().as_secs_f64();

    if args.server_pid.is_some() && args.settle_seconds > 0.0 {
        summary.memory.after_setup = Rss::sample(args.server_pid);
        eprintln!(
            "memory: waiting {} s for the platform's resident memory to settle after the registrations",
            args.settle_seconds
        );
        sleep(Duration::from_secs_f64(args.settle_seconds)).await;
        phases::stir(&commands, &args.metrics_url).await?;
    }
    summary.memory.before_streams = Rss::sample(args.server_pid);
    let (stop, stopped) = watch::channel(false);
    let shared = Shared {
        ledger: Arc::new(Ledger::new(room_ids, args.scheduled())),
        base: Instant::now(),
        stop: stopped,
    };
    eprintln!(
        "streams: opening {} {} streams ({}), {} at a time",
        layout.subscribers,
        layout.kind.name(),
        layout.kind.path(),
        args.connect_concurrency
    );
    // In two halves, the memory read after each: the second half's cost is the marginal
    // cost of a stream, free of one-off effects.
    let opener = Opener {
        client: &stream_client,
        base: &args.url,
        layout: &layout,
        users: &users,
        concurrency: args.connect_concurrency as usize,
    };
    let half = layout.subscribers / 2;
    let started = Instant::now();
    let mut streams = JoinSet::new();
    phases::open_streams(&opener, 0..half, &shared, &mut streams).await?;
    summary.memory.half_open = Rss::sample(args.server_pid);
    summary.memory.half_streams = streams.len();
    phases::open_streams(&opener, half..layout.subscribers, &shared, &mut streams).await?;
    summary.setup.open_seconds = started.elapsed().as_secs_f64();
    summary.setup.streams_opened = streams.len();
    summary.streams.opened = streams.len();
    summary.memory.streams_open = Rss::sample(args.server_pid);
    summary.streams.platform_gauge_before_load = api::streams_open(&commands, &args.metrics_url)
        .await
        .ok()
        .flatten();

    eprintln!(
        "load: {} messages/s for {} s after {} s of warm-up",
        args.rate, args.duration, args.warmup_seconds
    );
    let sent = phases::send(args, commands.clone(), Arc::clone(&layout), &users, &shared).await?;
    let drained = phases::drain(
        &shared.ledger,
        &layout.receivers,
        Duration::from_secs_f64(args.drain_seconds),
    )
    .await;
    summary.memory.after_load = Rss::sample(args.server_pid);
    summary.streams.platform_gauge_after_load = api::streams_open(&commands, &args.metrics_url)
        .await
        .ok()
        .flatten();
    summary.send = Some(sent);

    stop.send_replace(true);
    let mut received = Vec::with_capacity(streams.len());
    while let Some(done) = streams.join_next().await {
        received.push(done.context("a subscriber panicked")?);
    }
    summary.delivery = Some(DeliveryResult::new(
        &received,
        &shared.ledger,
        &layout,
        drained,
    ));
    summary.streams.record_ends(&received);
    Ok(())
}

/// Each stream holds a socket, and so does each send in flight: refuses to start when the
/// open-files limit would break the run halfway.
fn check_open_files(args: &Args) -> anyhow::Result<()> {
    let need = u64::from(args.subscribers) + u64::from(args.max_in_flight) + SPARE_FILES;
    if let Some(limit) = Process::Own.open_files_limit()? {
        ensure!(
            limit >= need,
            "this process may open {limit} files but needs about {need}: raise `ulimit -n`"
        );
    }
    if let Some(pid) = args.server_pid
        && let Some(limit) = Process::Pid(pid).open_files_limit()?
    {
        ensure!(
            limit >= need,
            "the platform (pid {pid}) may open {limit} files but needs about {need}: \
             start it with a higher `ulimit -n`"
        );
    }
    Ok(())
}
