//! The subscribers: each opens one live stream and holds it until told to stop, counting
//! every message that arrives in the ledger and timing the measured ones from their due
//! send time.

use std::{borrow::Cow, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use reqwest::{
    Client, StatusCode, Url,
    header::{AUTHORIZATION, HeaderValue},
};
use serde::Deserialize;
use tokio::{
    sync::watch,
    time::{Instant, sleep, timeout},
};

use crate::{
    api::{self, REQUEST_TIMEOUT},
    ledger::{Delivery, Ledger, Stamp},
    sse::{self, Blocks},
};

/// Longest silence on a stream before it counts as broken: the platform sends a heartbeat
/// on an idle stream every 15 s (CHAT_HEARTBEAT_SECS).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A room stream answers 404 until the platform's live fan-out has seen the room: tries,
/// this far apart, before that counts as an error.
const OPEN_TRIES: u32 = 100;
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// The fields of a `message` event this benchmark reads.
#[derive(Debug, Deserialize)]
struct MessageData<'a> {
    room_id: i64,
    seq: i64,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// What one subscriber saw.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Due-to-arrival latency of each measured message, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Messages of this run counted in the ledger.
    pub messages: u64,
    /// Messages whose sequence was not above the last one of their room on this stream
    /// (a duplicate or a reordering): not counted.
    pub out_of_order: u64,
    /// Messages of a room this stream does not carry, or not sent by this run, or whose
    /// data did not parse.
    pub unexpected: u64,
    /// `reset` events: the platform could not resume the stream.
    pub resets: u64,
    /// Other events with data (membership, presence, read marks).
    pub other_events: u64,
    /// Why the stream ended before the run stopped it.
    pub ended: Option<String>,
}

/// One open stream.
pub(crate) struct Subscriber {
    /// The rooms the stream carries, with the last sequence seen in each.
    carried: Vec<(i64, i64)>,
    /// The streaming response: its body is read chunk by chunk as it arrives.
    response: reqwest::Response,
    blocks: Blocks,
}

impl Subscriber {
    /// Opens the stream at `url` as `auth` and waits for its first block (the `retry`
    /// preamble the platform writes once the stream is registered).
    pub(crate) async fn open(
        client: &Client,
        url: &Url,
        auth: &HeaderValue,
        carried: Vec<i64>,
    ) -> anyhow::Result<Self> {
        let response = connect(client, url, auth).await?;
        let mut subscriber = Self {
            carried: carried.into_iter().map(|room| (room, 0)).collect(),
            response,
            blocks: Blocks::default(),
        };
        while !subscriber.blocks.has_block() {
            match timeout(REQUEST_TIMEOUT, subscriber.response.chunk()).await {
                Err(_) => bail!("GET {url}: no first block within {REQUEST_TIMEOUT:?}"),
                Ok(Ok(None)) => bail!("GET {url}: the stream ended at once"),
                Ok(Ok(Some(chunk))) => subscriber.blocks.push(&chunk)?,
                Ok(Err(error)) => return Err(error).with_context(|| format!("GET {url}")),
            }
        }
        Ok(subscriber)
    }

    /// Reads the stream until `stop` turns true or the stream fails.
    pub(crate) async fn run(
        mut self,
        ledger: Arc<Ledger>,
        base: Instant,
        mut stop: watch::Receiver<bool>,
    ) -> Received {
        let mut received = Received::default();
        let mut arrived = Instant::now();
        loop {
            if let Err(error) = self.take_blocks(arrived, &ledger, base, &mut received) {
                received.ended = Some(format!("{error:#}"));
                break;
            }
            let chunk = tokio::select! {
                biased;
                _ = stop.wait_for(|stop| *stop) => break,
                chunk = timeout(IDLE_TIMEOUT, self.response.chunk()) => chunk,
            };
            arrived = Instant::now();
            let chunk = match chunk {
                Err(_) => Err(anyhow::anyhow!("silent for {IDLE_TIMEOUT:?}")),
                Ok(Ok(None)) => Err(anyhow::anyhow!("the platform ended the stream")),
                Ok(Ok(Some(chunk))) => Ok(chunk),
                Ok(Err(error)) => Err(anyhow::Error::new(error).context("reading the stream")),
            };
            if let Err(error) = chunk.and_then(|chunk| self.blocks.push(&chunk)) {
                received.ended = Some(format!("{error:#}"));
                break;
            }
        }
        received
    }

    /// Counts the whole blocks received so far, all of which arrived at `arrived`.
    fn take_blocks(
        &mut self,
        arrived: Instant,
        ledger: &Ledger,
        base: Instant,
        received: &mut Received,
    ) -> anyhow::Result<()> {
        let carried = &mut self.carried;
        self.blocks.drain(|block| {
            let Some(data) = block.data.as_deref() else {
                return;
            };
            match block.kind() {
                "message" => {
                    let Ok(message) = serde_json::from_str::<MessageData<'_>>(data) else {
                        received.unexpected += 1;
                        return;
                    };
                    count(carried, ledger, &message, arrived, base, received);
                }
                "reset" => received.resets += 1,
                _ => received.other_events += 1,
            }
        })
    }
}

/// Counts one message in the ledger and times it if it is measured.
fn count(
    carried: &mut [(i64, i64)],
    ledger: &Ledger,
    message: &MessageData<'_>,
    arrived: Instant,
    base: Instant,
    received: &mut Received,
) {
    let Some((_, last_seq)) = carried
        .iter_mut()
        .find(|(room, _)| *room == message.room_id)
    else {
        received.unexpected += 1;
        return;
    };
    if message.seq <= *last_seq {
        received.out_of_order += 1;
        return;
    }
    *last_seq = message.seq;
    let Some(stamp) = Stamp::parse(&message.text) else {
        received.unexpected += 1;
        return;
    };
    if ledger.deliver(stamp.n, message.room_id) != Delivery::Counted {
        received.unexpected += 1;
        return;
    }
    received.messages += 1;
    if stamp.measured {
        let due = base + Duration::from_micros(stamp.due_us);
        let micros = arrived.saturating_duration_since(due).as_micros();
        received
            .latencies_us
            .push(u32::try_from(micros).unwrap_or(u32::MAX));
    }
}

/// `GET url` until it answers 200 with an event stream; a 404 (the room not yet known to
/// the live fan-out) is retried a bounded number of times.
async fn connect(
    client: &Client,
    url: &Url,
    auth: &HeaderValue,
) -> anyhow::Result<reqwest::Response> {
    for _ in 1..OPEN_TRIES {
        let response = timeout(
            REQUEST_TIMEOUT,
            client
                .get(url.clone())
                .header(AUTHORIZATION, auth.clone())
                .send(),
        )
        .await
        .with_context(|| format!("GET {url}: no answer within {REQUEST_TIMEOUT:?}"))??;
        match response.status() {
            StatusCode::OK => {
                sse::check_content_type(&response).with_context(|| format!("GET {url}"))?;
                return Ok(response);
            }
            StatusCode::NOT_FOUND => sleep(OPEN_RETRY_PAUSE).await,
            status => {
                let body = response.bytes().await.unwrap_or_default();
                let hint = if status == StatusCode::TOO_MANY_REQUESTS {
                    " (start the platform with a higher --chat-max-streams-per-user)"
                } else {
                    ""
                };
                bail!("GET {url}: status {status}{hint}: {}", api::snippet(&body));
            }
        }
    }
    bail!("GET {url}: still 404 after {OPEN_TRIES} tries {OPEN_RETRY_PAUSE:?} apart")
}
