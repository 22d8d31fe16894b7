//! Write load through a fault, and the count of what it left: clients create items, each
//! under an `Idempotency-Key` of its own, and retry what a fault interrupted (a `503`, a
//! connection refused or cut) under the same key, as a careful client does. What was
//! acknowledged is then compared with what is readable: none lost, none doubled.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// How long one write may keep being retried: longer than any fault the suite injects
/// lasts (a process restart, a server restart), short enough to end a broken test.
const RETRY_LIMIT: Duration = Duration::from_secs(60);
/// The pause between retries, unless a `Retry-After` asks for more.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The log filter of processes under faults: warnings up, with the lines tests wait for
/// (the address a process listens on, which command process leads the relay).
pub(crate) const LOG: &str = "warn,service_kit::server=info,event_store::relay=info";

/// One acknowledged creation.
#[derive(Debug, Clone)]
pub(crate) struct Acked {
    pub id: i64,
    pub name: String,
    pub position: i64,
}

/// What the clients saw.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub acked: Vec<Acked>,
    /// `503`s answered with the error envelope and `Retry-After`, then retried.
    pub unavailable: usize,
    /// Connections refused or cut (a process or server down), then retried.
    pub disconnected: usize,
    /// Anything else: wrong answers, and writes given up after [`RETRY_LIMIT`].
    pub failures: Vec<String>,
}

/// Clients writing to the base URL `target` holds (a test may point it elsewhere).
pub(crate) struct Load {
    acked: Arc<AtomicUsize>,
    writers: Vec<JoinHandle<Tally>>,
}

/// Where the clients send their writes.
pub(crate) type Target = Arc<Mutex<String>>;

pub(crate) fn target(base: &str) -> Target {
    Arc::new(Mutex::new(base.to_owned()))
}

impl Load {
    /// Starts `writers` clients creating `each` items one after another.
    pub(crate) fn start(target: &Target, writers: usize, each: usize) -> Self {
        Self::spawn(target, writers, each, false)
    }

    /// The same, each client reading every item back from the same instance once it is
    /// acknowledged (through the same faults, so reads are held to the same answers).
    pub(crate) fn start_reading(target: &Target, writers: usize, each: usize) -> Self {
        Self::spawn(target, writers, each, true)
    }

    fn spawn(target: &Target, writers: usize, each: usize, read_back: bool) -> Self {
        let acked = Arc::new(AtomicUsize::new(0));
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let run = uuid::Uuid::new_v4().simple().to_string();
        let writers = (0..writers)
            .map(|writer| {
                let (client, target, acked) = (client.clone(), target.clone(), acked.clone());
                let names: Vec<String> = (0..each)
                    .map(|n| format!("load {run} {writer}-{n}"))
                    .collect();
                tokio::spawn(async move {
                    let mut tally = Tally::default();
                    for name in names {
                        if let Some(item) = create(&client, &target, &name, &mut tally).await {
                            if read_back {
                                read(&client, &target, &item, &mut tally).await;
                            }
                            tally.acked.push(item);
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    tally
                })
            })
            .collect();
        Self { acked, writers }
    }

    /// Waits (at most `limit`) until `count` writes are acknowledged.
    pub(crate) async fn wait_for_acks(&self, count: usize, limit: Duration) {
        let started = Instant::now();
        while self.acked.load(Ordering::Relaxed) < count {
            assert!(
                started.elapsed() < limit,
                "only {} of {count} writes acknowledged within {limit:?}",
                self.acked.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for every client to finish and adds up what they saw.
    pub(crate) async fn finish(self) -> Tally {
        let mut total = Tally::default();
        for writer in self.writers {
            let tally = writer.await.unwrap();
            total.acked.extend(tally.acked);
            total.unavailable += tally.unavailable;
            total.disconnected += tally.disconnected;
            total.failures.extend(tally.failures);
        }
        total
    }
}

/// Creates one item, retrying under one key until it is acknowledged or [`RETRY_LIMIT`]
/// passes.
async fn create(client: &Client, target: &Target, name: &str, tally: &mut Tally) -> Option<Acked> {
    let key = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    while started.elapsed() < RETRY_LIMIT {
        let base = target.lock().unwrap().clone();
        let sent = client
            .post(format!("{base}/api/v1/items"))
            .header("Idempotency-Key", &key)
            .json(&json!({ "name": name }))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(_) => {
                tally.disconnected += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        let Ok(body) = response.json::<Value>().await else {
            // The body was cut off: the process went away while answering.
            tally.disconnected += 1;
            continue;
        };
        match status {
            StatusCode::CREATED => {
                let data = &body["data"];
                return Some(Acked {
                    id: data["id"].as_i64().unwrap(),
                    name: name.to_owned(),
                    position: data["position"].as_i64().unwrap(),
                });
            }
            StatusCode::SERVICE_UNAVAILABLE
                if body["error"]["code"] == "UNAVAILABLE" && retry_after.is_some() =>
            {
                tally.unavailable += 1;
                let asked = Duration::from_secs(retry_after.unwrap_or_default());
                tokio::time::sleep(asked.max(RETRY_PAUSE)).await;
            }
            _ => {
                tally.failures.push(format!(
                    "{name}: {status} (Retry-After {retry_after:?}) {body}"
                ));
                return None;
            }
        }
    }
    tally
        .failures
        .push(format!("{name}: not acknowledged within {RETRY_LIMIT:?}"));
    None
}

/// Reads an acknowledged item back at its position, retrying what a fault interrupted
/// (a `503`, a `504` while the read model catches up, a lost connection).
async fn read(client: &Client, target: &Target, item: &Acked, tally: &mut Tally) {
    let started = Instant::now();
    while started.elapsed() < RETRY_LIMIT {
        let base = target.lock().unwrap().clone();
        let sent = client
            .get(format!("{base}/api/v1/items/{}", item.id))
            .header("X-Min-Position", item.position)
            .send()
            .await;
        let Ok(response) = sent else {
            tally.disconnected += 1;
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        let status = response.status();
        let retry_after = response.headers().contains_key("retry-after");
        let body = response.json::<Value>().await.unwrap_or_default();
        match status {
            StatusCode::OK if body["data"]["name"] == item.name.as_str() => return,
            StatusCode::SERVICE_UNAVAILABLE
                if body["error"]["code"] == "UNAVAILABLE" && retry_after =>
            {
                tally.unavailable += 1;
            }
            StatusCode::GATEWAY_TIMEOUT => {}
            _ => {
                tally
                    .failures
                    .push(format!("reading {}: {status} {body}", item.name));
                return;
            }
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
    tally
        .failures
        .push(format!("{} not readable within {RETRY_LIMIT:?}", item.name));
}

/// Asserts the fault cost nothing: no write failed, and `base` (once its read models
/// reach the last acknowledged position) lists every acknowledged item once, as
/// acknowledged, and nothing else. `created` is how many `ItemCreated` events the log
/// holds: one per acknowledged write, none doubled by a retry.
pub(crate) async fn assert_all_readable_once(tally: &Tally, base: &str, created: i64) {
    eprintln!(
        "{base}: {} writes acknowledged, {} created in the log; {} answers 503, {} connections lost",
        tally.acked.len(),
        created,
        tally.unavailable,
        tally.disconnected
    );
    assert!(
        tally.failures.is_empty(),
        "writes failed: {:#?}",
        tally.failures
    );
    assert_eq!(
        created,
        tally.acked.len() as i64,
        "the log holds {created} creations for {} acknowledged writes",
        tally.acked.len()
    );
    let client = Client::new();
    let last = tally.acked.iter().map(|a| a.position).max().unwrap_or(0);
    let mut listed = BTreeMap::new();
    for page in 1.. {
        let path = format!("{base}/api/v1/items?page={page}&size=100");
        let data = read_at(&client, &path, last).await;
        let items = data["items"].as_array().unwrap().clone();
        assert_eq!(data["total"], tally.acked.len(), "items listed in total");
        for item in &items {
            let id = item["id"].as_i64().unwrap();
            let name = item["name"].as_str().unwrap().to_owned();
            assert!(listed.insert(id, name).is_none(), "item {id} listed twice");
        }
        if items.len() < 100 || page > 100 {
            break;
        }
    }
    let acked: BTreeMap<i64, String> = tally.acked.iter().map(|a| (a.id, a.name.clone())).collect();
    assert_eq!(
        acked.len(),
        tally.acked.len(),
        "an id was acknowledged twice"
    );
    assert_eq!(
        listed, acked,
        "readable items differ from acknowledged ones"
    );
}

/// The `data` of `url` once it reflects `position`: a read model still catching up after
/// a fault answers `504` (its wait is bounded) until it has, for at most [`RETRY_LIMIT`].
async fn read_at(client: &Client, url: &str, position: i64) -> Value {
    let started = Instant::now();
    loop {
        let response = client
            .get(url)
            .header("X-Min-Position", position)
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::OK {
            return response.json::<Value>().await.unwrap()["data"].clone();
        }
        assert!(
            status == StatusCode::GATEWAY_TIMEOUT && started.elapsed() < RETRY_LIMIT,
            "{url} did not reach position {position}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
}

/// How many items the log says were created.
pub(crate) async fn created_in_log(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ItemCreated'")
        .fetch_one(pool)
        .await
        .unwrap()
}
