//! One suite, run against both ways of following the log: the PostgreSQL log (embedded
//! mode) and Kafka fed by the relay. Above all: no reader ever skips an event.

// Test support code unwraps too: a panic there is the test failing, with its cause.
#![allow(clippy::unwrap_used)]

mod common;

use std::{collections::HashSet, time::Duration};

use common::{append_one, event, request};
use event_log::{
    subscription::{EventSource, Subscription},
    testing::{self, TestDatabase},
};
use event_store::{EventStore, ExpectedVersion, relay::Relay};
use futures::future::join_all;
use schemas::RecordedEvent;
use tokio_util::sync::CancellationToken;

/// A database, a source to follow it by, and (for Kafka) the relay feeding the broker.
struct Fixture {
    db: TestDatabase,
    store: EventStore,
    source: EventSource,
    relay: CancellationToken,
}

impl Fixture {
    async fn new(kafka: bool) -> Self {
        let db = TestDatabase::new().await;
        let store = EventStore::new(db.pool.clone());
        let relay = CancellationToken::new();
        let source = if kafka {
            let config = testing::kafka_config();
            let relay_task = Relay::new(db.pool.clone(), config.clone()).unwrap();
            tokio::spawn(relay_task.run(relay.clone()));
            EventSource::Kafka(config)
        } else {
            EventSource::log(&db.pool)
        };
        Self {
            db,
            store,
            source,
            relay,
        }
    }

    async fn subscribe(&self, after: i64) -> Box<dyn Subscription> {
        let group = format!("g-{}", uuid::Uuid::new_v4().simple());
        self.source.subscribe("items", &group, after).await.unwrap()
    }

    async fn finish(self) {
        self.relay.cancel();
        self.db.drop().await;
    }
}

/// Reads until `count` events arrived (bounded in time), checking `through` never regresses.
async fn collect(subscription: &mut Box<dyn Subscription>, count: usize) -> Vec<RecordedEvent> {
    let mut events = Vec::new();
    let mut through = 0;
    tokio::time::timeout(Duration::from_secs(60), async {
        while events.len() < count {
            let batch = subscription.next_batch(100).await.unwrap();
            assert!(batch.through >= through, "through went back");
            through = batch.through;
            if let Some(last) = batch.events.last() {
                assert!(batch.through >= last.position);
            }
            events.extend(batch.events);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {count} events arrived", events.len()));
    events
}

/// Appends one event to a new stream after `delay`, while the test waits on a follower.
fn append_later(
    store: &EventStore,
    delay: Duration,
    stream: &'static str,
    context: &'static str,
) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        append_one(&store, stream, context, 0).await;
    })
}

fn assert_once_in_order(events: &[RecordedEvent], expected: usize) {
    assert_eq!(events.len(), expected);
    assert!(
        events.windows(2).all(|w| w[0].position < w[1].position),
        "out of order"
    );
    let distinct: HashSet<_> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(distinct.len(), expected, "an event arrived twice");
}

async fn delivers_only_the_followed_context_in_position_order(kafka: bool) {
    let fixture = Fixture::new(kafka).await;
    for n in 0..60 {
        let context = if n % 3 == 0 { "other" } else { "items" };
        append_one(&fixture.store, &format!("s-{n}"), context, n).await;
    }
    let mut subscription = fixture.subscribe(0).await;
    let events = collect(&mut subscription, 40).await;
    assert_once_in_order(&events, 40);
    assert!(events.iter().all(|e| e.context == "items"));
    fixture.finish().await;
}

async fn delivers_only_the_followed_event_types_and_passes_over_the_rest(kafka: bool) {
    let fixture = Fixture::new(kafka).await;
    for n in 0..30 {
        let mut event = event("items", n);
        if n % 3 == 0 {
            event.event_type = "ItemDeleted";
        }
        let stream = format!("s-{n}");
        let request = request(&stream, ExpectedVersion::NoStream, vec![event]);
        fixture.store.append(request).await.unwrap();
    }
    let group = format!("g-{}", uuid::Uuid::new_v4().simple());
    let mut subscription = fixture
        .source
        .subscribe_types("items", Some(&["ItemDeleted"]), &group, 0)
        .await
        .unwrap();
    let mut events = Vec::new();
    let mut through = 0;
    tokio::time::timeout(Duration::from_secs(60), async {
        while through < 30 {
            let batch = subscription.next_batch(4).await.unwrap();
            assert!(batch.through >= through, "through went back");
            through = batch.through;
            events.extend(batch.events);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("through reached only {through} of 30"));
    assert_once_in_order(&events, 10);
    assert!(events.iter().all(|e| e.event_type == "ItemDeleted"));
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(positions, (0..10).map(|n| 3 * n + 1).collect::<Vec<_>>());
    fixture.finish().await;
}

async fn resumes_after_the_given_position(kafka: bool) {
    let fixture = Fixture::new(kafka).await;
    for n in 0..10 {
        append_one(&fixture.store, &format!("s-{n}"), "items", n).await;
    }
    let mut subscription = fixture.subscribe(6).await;
    let events = collect(&mut subscription, 4).await;
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(positions, [7, 8, 9, 10]);
    fixture.finish().await;
}

async fn wakes_up_for_events_appended_while_it_waits(kafka: bool) {
    let fixture = Fixture::new(kafka).await;
    let mut subscription = fixture.subscribe(0).await;
    let writer = append_later(&fixture.store, Duration::from_millis(300), "late", "items");
    let started = std::time::Instant::now();
    let events = collect(&mut subscription, 1).await;
    assert_eq!(events[0].stream_id, "late");
    // Woken by the append, not by a periodic safety read (30 s for the PostgreSQL log).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the event arrived only after {:?}",
        started.elapsed()
    );
    writer.await.unwrap();
    fixture.finish().await;
}

/// Writers in several stores (as several processes would be) append concurrently while
/// the subscription follows: every event must arrive exactly once, in position order.
async fn never_skips_an_event_under_concurrent_appends(kafka: bool) {
    const STORES: usize = 4;
    const TASKS: usize = 8;
    const APPENDS: usize = 60;
    let fixture = Fixture::new(kafka).await;
    let mut subscription = fixture.subscribe(0).await;
    let stores: Vec<EventStore> = (0..STORES)
        .map(|_| EventStore::new(fixture.db.pool.clone()))
        .collect();
    let writers = (0..STORES * TASKS).map(|task| {
        let store = stores[task % STORES].clone();
        tokio::spawn(async move {
            for n in 0..APPENDS {
                let stream = format!("w{task}-{n}");
                let events = vec![event("items", n as i64); 1 + n % 3];
                store
                    .append(request(&stream, ExpectedVersion::NoStream, events))
                    .await
                    .unwrap();
            }
        })
    });
    let writers = tokio::spawn(join_all(writers));
    let expected: usize = STORES * TASKS * (0..APPENDS).map(|n| 1 + n % 3).sum::<usize>();
    let events = collect(&mut subscription, expected).await;
    for result in writers.await.unwrap() {
        result.unwrap();
    }
    assert_once_in_order(&events, expected);
    let positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=expected as i64).collect::<Vec<_>>(),
        "a position is missing"
    );
    fixture.finish().await;
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod pg_log {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(false).await })*
        }
        mod kafka {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(true).await })*
        }
    };
}

suite!(
    delivers_only_the_followed_context_in_position_order,
    delivers_only_the_followed_event_types_and_passes_over_the_rest,
    resumes_after_the_given_position,
    wakes_up_for_events_appended_while_it_waits,
    never_skips_an_event_under_concurrent_appends,
);

/// Every follower of one PostgreSQL log source shares one `LISTEN` connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_of_one_log_source_share_one_listening_connection() {
    let fixture = Fixture::new(false).await;
    let mut followers = Vec::new();
    for context in ["items", "orders", "board", "chat", "identity"] {
        let group = format!("g-{context}");
        followers.push(fixture.source.subscribe(context, &group, 0).await.unwrap());
    }
    let listening: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(&fixture.db.pool)
    .await
    .unwrap();
    assert_eq!(listening, 1);
    drop(followers);
    fixture.finish().await;
}

/// A follower that did not keep up with the notices (more batches were announced than
/// it could be told of) reads the log instead, and still gets every event once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_far_behind_the_notices_still_gets_every_event() {
    const BATCHES: i64 = 1_300;
    let fixture = Fixture::new(false).await;
    let mut subscription = fixture.subscribe(0).await;
    // Caught up, the follower waits; the notice of a batch of another context moves it
    // past that batch unread, and its next call waits for the next notice at once.
    let other = append_later(
        &fixture.store,
        Duration::from_millis(200),
        "other-first",
        "other",
    );
    let passed = subscription.next_batch(100).await.unwrap();
    assert_eq!((passed.events.len(), passed.through), (0, 1));
    other.await.unwrap();
    // Meanwhile more batches are announced than the follower can be told of, one append
    // at a time: each is a batch of its own, with a notice of its own.
    for n in 0..BATCHES {
        let context = if n % 2 == 0 { "items" } else { "other" };
        append_one(&fixture.store, &format!("s-{n}"), context, n).await;
    }
    let events = collect(&mut subscription, BATCHES as usize / 2).await;
    assert_once_in_order(&events, BATCHES as usize / 2);
    assert!(events.iter().all(|e| e.context == "items"));
    fixture.finish().await;
}

/// Followers of one log source read each announced batch from one shared read: those of
/// several contexts and event types, caught up or starting behind what it keeps, each get
/// every event of theirs once, in order, while writers append concurrently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_sharing_the_reads_of_one_source_each_get_all_their_events() {
    const TASKS: usize = 8;
    const APPENDS: i64 = 700;
    let fixture = Fixture::new(false).await;
    // Written before anyone follows, and more than the shared stretch holds.
    for n in 0..20 {
        let events = (0..250).map(|k| event("items", n * 250 + k)).collect();
        let request = request(&format!("early-{n}"), ExpectedVersion::NoStream, events);
        fixture.store.append(request).await.unwrap();
    }
    let early = 20 * 250;
    let group = "shared";
    let mut items = fixture.source.subscribe("items", group, 0).await.unwrap();
    let mut deleted = fixture
        .source
        .subscribe_types("items", Some(&["ItemDeleted"]), group, 0)
        .await
        .unwrap();
    let mut others = fixture.source.subscribe("other", group, 0).await.unwrap();
    let writers = (0..TASKS).map(|task| {
        let store = fixture.store.clone();
        tokio::spawn(async move {
            for n in 0..APPENDS {
                let mut event = event(if n % 4 == 0 { "other" } else { "items" }, n);
                if n % 4 == 1 {
                    event.event_type = "ItemDeleted";
                }
                let stream = format!("w{task}-{n}");
                let request = request(&stream, ExpectedVersion::NoStream, vec![event]);
                store.append(request).await.unwrap();
            }
        })
    });
    let writers = tokio::spawn(join_all(writers));
    let per_kind = TASKS * APPENDS as usize / 4;
    let (items, deleted, others) = tokio::join!(
        collect(&mut items, early + 3 * per_kind),
        collect(&mut deleted, per_kind),
        collect(&mut others, per_kind),
    );
    for result in writers.await.unwrap() {
        result.unwrap();
    }
    assert_once_in_order(&items, early + 3 * per_kind);
    assert!(items.iter().all(|e| e.context == "items"));
    assert_once_in_order(&deleted, per_kind);
    assert!(deleted.iter().all(|e| e.event_type == "ItemDeleted"));
    assert_once_in_order(&others, per_kind);
    assert!(others.iter().all(|e| e.context == "other"));
    // A follower starting now, far behind, still gets everything.
    let mut late = fixture.source.subscribe("items", group, 0).await.unwrap();
    let late = collect(&mut late, early + 3 * per_kind).await;
    assert_eq!(
        late.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        items.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    fixture.finish().await;
}
