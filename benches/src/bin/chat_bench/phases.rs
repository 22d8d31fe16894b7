//! The steps of a run: users and rooms, opening the streams, sending at a fixed rate, and
//! waiting for the last deliveries.

use std::{ops::Range, sync::Arc, time::Duration};

use anyhow::{Context, ensure};
use benches::{latency::LatencySummary, load};
use futures::{StreamExt, TryStreamExt};
use reqwest::{Client, Url, header::HeaderValue};
use serde::Serialize;
use tokio::{
    sync::watch,
    task::JoinSet,
    time::{Instant, sleep, sleep_until},
};

use crate::{
    api::{self, User},
    args::{Args, StreamKind},
    layout::Layout,
    ledger::{Ledger, Stamp},
    procfs::{CpuSample, CpuUse},
    subscriber::{Received, Subscriber},
};

/// Rooms created at once.
const ROOM_CONCURRENCY: usize = 16;
/// `GET /metrics` requests of [`stir`], and how many at once.
const STIR_REQUESTS: usize = 100;
const STIR_CONCURRENCY: usize = 8;
/// How often the drain looks at the ledger.
const DRAIN_POLL: Duration = Duration::from_millis(50);

/// Creates every room of the layout, each by its first member; their ids, in order.
pub(crate) async fn create_rooms(
    client: &Client,
    base: &Url,
    layout: &Layout,
    users: &[User],
    tag: &str,
) -> anyhow::Result<Vec<i64>> {
    futures::stream::iter(layout.members.iter().enumerate())
        .map(|(room, members)| async move {
            let others: Vec<_> = members[1..].iter().map(|&m| users[m].id).collect();
            let name = format!("chat-bench {tag} room {room}");
            api::create_room(client, base, &users[members[0]], &others, &name)
                .await
                .with_context(|| format!("creating room {room}"))
        })
        .buffered(ROOM_CONCURRENCY)
        .try_collect()
        .await
}

/// Requests that wake the platform after the quiet wait: its allocator gives freed pages
/// back on its threads' next activity, not while they idle, so a baseline read straight
/// after the wait would count pages the first streams' requests give back.
pub(crate) async fn stir(client: &Client, base: &Url) -> anyhow::Result<()> {
    futures::stream::iter(0..STIR_REQUESTS)
        .map(|_| api::streams_open(client, base))
        .buffer_unordered(STIR_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .context("GET /metrics before reading the memory")?;
    Ok(())
}

/// What the subscribers share: the ledger they count in, the time base of the due times,
/// and the signal to stop.
pub(crate) struct Shared {
    pub ledger: Arc<Ledger>,
    pub base: Instant,
    pub stop: watch::Receiver<bool>,
}

/// Where and how the streams are opened.
pub(crate) struct Opener<'a> {
    pub client: &'a Client,
    pub base: &'a Url,
    pub layout: &'a Layout,
    pub users: &'a [User],
    pub concurrency: usize,
}

/// Opens the streams of `subscribers` (of the layout), `concurrency` at a time, each read
/// by its own task in `streams` from when it has answered. A stream that cannot be opened
/// ends the run (dropping the set ends the tasks).
pub(crate) async fn open_streams(
    opener: &Opener<'_>,
    subscribers: Range<usize>,
    shared: &Shared,
    streams: &mut JoinSet<Received>,
) -> anyhow::Result<()> {
    let Opener {
        client,
        base,
        layout,
        users,
        concurrency,
    } = *opener;
    let room_ids: Vec<i64> = (0..layout.members.len())
        .map(|room| shared.ledger.room_id(room))
        .collect();
    let room_ids = &room_ids;
    let mut opening = futures::stream::iter(subscribers)
        .map(|k| async move {
            let (user, room) = layout.subscriber(k);
            let path = match layout.kind {
                StreamKind::Room => format!("/api/v1/chats/{}/stream", room_ids[room]),
                StreamKind::User => "/api/v1/chats/stream".to_owned(),
            };
            let carried = layout.carried(k).iter().map(|&r| room_ids[r]).collect();
            let url = api::endpoint(base, &path)?;
            Subscriber::open(client, &url, &users[user].auth, carried)
                .await
                .with_context(|| format!("opening the stream of subscriber {k}"))
        })
        .buffer_unordered(concurrency);
    let started = Instant::now();
    while let Some(subscriber) = opening.next().await {
        let subscriber = subscriber?;
        streams.spawn(subscriber.run(Arc::clone(&shared.ledger), shared.base, shared.stop.clone()));
        if streams.len().is_multiple_of(1_000) {
            eprintln!(
                "streams: {} of {} open ({:.1} s)",
                streams.len(),
                layout.subscribers,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// The sending side of the load.
#[derive(Debug, Serialize)]
pub(crate) struct SendResult {
    pub rate: f64,
    /// Measured sends answered 201.
    pub ok: u64,
    pub errors: u64,
    pub seconds: f64,
    /// Measured sends answered 201 per second.
    pub per_second: f64,
    /// Due → 201 received.
    pub latency_us: LatencySummary,
    pub warmup_sends: u64,
    pub warmup_errors: u64,
    /// CPU used by the platform and this benchmark while the measured sends went out.
    pub cpu: CpuUse,
    pub error_samples: Vec<String>,
}

/// Sends `rate` messages a second, round-robin over the rooms, each by the member whose
/// turn it is, on a fixed schedule whatever the answers do. A message's text carries its
/// number and due time; the ledger records how its send ended.
pub(crate) async fn send(
    args: &Args,
    client: Client,
    layout: Arc<Layout>,
    users: &[User],
    shared: &Shared,
) -> anyhow::Result<SendResult> {
    let (rate, limits, server_pid) = (args.rate, args.limits(), args.server_pid);
    let ledger = Arc::clone(&shared.ledger);
    let urls: Arc<Vec<Url>> = Arc::new(
        (0..layout.members.len())
            .map(|room| {
                let path = format!("/api/v1/chats/{}/messages", ledger.room_id(room));
                api::endpoint(&args.url, &path)
            })
            .collect::<anyhow::Result<_>>()?,
    );
    let auths: Arc<Vec<HeaderValue>> = Arc::new(users.iter().map(|u| u.auth.clone()).collect());
    let base = shared.base;
    let measure_from = Instant::now() + limits.warmup;
    let first = tokio::spawn(async move {
        sleep_until(measure_from).await;
        CpuSample::now(server_pid)
    });
    let in_flight = args.max_in_flight as usize;
    let report = load::open_loop(rate, in_flight, limits, move |n, intended| {
        // The loop's start, as it computed `intended`; a message is measured when the
        // loop counts it as measured.
        let start = intended - Duration::from_secs_f64(n as f64 / rate);
        let stamp = Stamp {
            n,
            due_us: intended.saturating_duration_since(base).as_micros() as u64,
            measured: intended >= start + limits.warmup,
        };
        let (room, turn) = ledger.room_of(n);
        let (client, ledger, urls) = (client.clone(), Arc::clone(&ledger), Arc::clone(&urls));
        let auth = auths[layout.sender(room, turn)].clone();
        async move {
            ensure!(
                (n as usize) < ledger.capacity(),
                "message {n} beyond the ledger"
            );
            let result = api::send_message(&client, &urls[room], &auth, stamp.text()).await;
            ledger.sent(n, result.is_ok());
            result
        }
    })
    .await;
    let last = CpuSample::now(server_pid);
    let first = first.await.context("sampling CPU time")?;
    Ok(SendResult {
        rate,
        ok: report.ok,
        errors: report.errors,
        seconds: report.elapsed.as_secs_f64(),
        per_second: report.ok_per_second(),
        latency_us: report.latency.summary(),
        warmup_sends: report.warmup_ops,
        warmup_errors: report.warmup_errors,
        cpu: first.until(&last),
        error_samples: report.error_samples,
    })
}

/// Waits, at most `limit`, until every message sent has reached every stream of its
/// room; how long that took, or None if some never arrived.
pub(crate) async fn drain(ledger: &Ledger, receivers: &[u32], limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if ledger.outstanding(receivers) == 0 {
            return Some(started.elapsed());
        }
        if started.elapsed() >= limit {
            return None;
        }
        sleep(DRAIN_POLL).await;
    }
}
