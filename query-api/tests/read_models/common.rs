//! Writing email and chat histories to the store, and building their read models.

use std::sync::Arc;

use event_log::subscription::Batch;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use projector::{AnyProjection, chat::ChatProjection, email::EmailProjection};
use schemas::{
    DomainEvent, EventMetadata, NewEvent,
    chat::{self, ChatEvent, MessageSent, RoomCreated, RoomKind},
    email::{
        self, EmailAttemptStarted, EmailDead, EmailDeferred, EmailEvent, EmailFailed,
        EmailRequested, EmailRetried, EmailSent,
    },
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) const ADA: Uuid = Uuid::from_u128(1);
pub(crate) const BOB: Uuid = Uuid::from_u128(2);
pub(crate) const ADMIN: Uuid = Uuid::from_u128(3);

/// Where the read models' checkpoints are kept when following the PostgreSQL log.
pub(crate) const SOURCE: &str = "log";

pub(crate) fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
}

/// Appends `events` to a stream holding `expected` events; returns their positions.
pub(crate) async fn append<E: DomainEvent>(
    store: &EventStore,
    stream: String,
    expected: i64,
    events: &[E],
) -> Vec<i64> {
    let expected = match expected {
        0 => ExpectedVersion::NoStream,
        n => ExpectedVersion::Exact(n),
    };
    let appended = store
        .append(AppendRequest::new(
            stream,
            expected,
            events.iter().map(NewEvent::from_domain).collect(),
            EventMetadata::default(),
        ))
        .await
        .expect("append");
    (appended.first_position..=appended.last_position).collect()
}

/// Applies the whole log to the emails and chat read models, as the projector does, and
/// returns the log's head.
pub(crate) async fn project(pool: &PgPool) -> i64 {
    let head = event_log::read::head(pool).await.unwrap();
    let events = event_log::read::read_all(pool, 0, 100_000, None)
        .await
        .unwrap();
    let projections: [Arc<dyn AnyProjection>; 2] =
        [Arc::new(EmailProjection), Arc::new(ChatProjection)];
    for projection in projections {
        let batch = Batch {
            events: events
                .iter()
                .filter(|e| e.context == projection.context())
                .cloned()
                .collect(),
            through: head,
        };
        projector::runner::apply_batch(pool, projection.as_ref(), SOURCE, &batch)
            .await
            .unwrap();
    }
    head
}

/// Where an email's history ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Queued,
    Sending,
    Sent,
    Retrying,
    Failed,
    Dead,
    /// Dead, then put back in the queue by an admin.
    Retried,
    Cancelled,
}

/// An email as written: its id, owner and events with their positions.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub id: Uuid,
    pub owner: Uuid,
    pub events: Vec<EmailEvent>,
    pub positions: Vec<i64>,
}

impl Written {
    pub(crate) fn last(&self) -> (&EmailEvent, i64) {
        (self.events.last().unwrap(), *self.positions.last().unwrap())
    }
}

/// The events of an email of `owner` requested at `at(t)` whose history ends as `ending`.
pub(crate) fn history(id: Uuid, owner: Uuid, t: i64, ending: Ending) -> Vec<EmailEvent> {
    let mut events = vec![EmailEvent::Requested(EmailRequested {
        email_id: id,
        requested_by: owner,
        to: vec!["Bob <bob@example.com>".into(), "cat@example.com".into()],
        subject: format!("Mail {t}"),
        text: "Hello".into(),
        html: None,
        source_event_id: None,
        requested_at: at(t),
    })];
    if ending == Ending::Cancelled {
        events.push(EmailEvent::Cancelled(email::EmailCancelled {
            email_id: id,
            requested_by: owner,
            by: owner,
            cancelled_at: at(t + 1),
        }));
        return events;
    }
    if ending == Ending::Queued {
        return events;
    }
    events.push(EmailEvent::AttemptStarted(EmailAttemptStarted {
        email_id: id,
        requested_by: owner,
        attempt: 1,
        message_id: format!("<{id}@platform.localhost>"),
        worker: "worker-1".into(),
        started_at: at(t + 1),
        lease_until: at(t + 61),
    }));
    let ended = match ending {
        Ending::Sending => return events,
        Ending::Sent => EmailEvent::Sent(EmailSent {
            email_id: id,
            requested_by: owner,
            attempt: 1,
            message_id: format!("<{id}@platform.localhost>"),
            reply: "250 2.0.0 Ok: queued".into(),
            sent_at: at(t + 2),
        }),
        Ending::Retrying => EmailEvent::Deferred(EmailDeferred {
            email_id: id,
            requested_by: owner,
            attempt: 1,
            reply: "451 4.3.0 try again later".into(),
            failed_at: at(t + 2),
            retry_at: at(t + 17),
        }),
        Ending::Failed => EmailEvent::Failed(EmailFailed {
            email_id: id,
            requested_by: owner,
            attempt: 1,
            reply: "550 5.1.1 no such user".into(),
            failed_at: at(t + 2),
        }),
        Ending::Dead | Ending::Retried => EmailEvent::Dead(EmailDead {
            email_id: id,
            requested_by: owner,
            attempt: 1,
            reply: "421 4.4.2 timed out".into(),
            died_at: at(t + 2),
        }),
        Ending::Queued | Ending::Cancelled => unreachable!("ended above"),
    };
    events.push(ended);
    if ending == Ending::Retried {
        events.push(EmailEvent::Retried(EmailRetried {
            email_id: id,
            requested_by: owner,
            by: ADMIN,
            retried_at: at(t + 3),
        }));
    }
    events
}

/// Writes one email; `k` orders them (later ones are requested later).
pub(crate) async fn write_email(
    store: &EventStore,
    k: i64,
    owner: Uuid,
    ending: Ending,
) -> Written {
    let id = Uuid::from_u128(1000 + k as u128);
    let events = history(id, owner, 10 * k, ending);
    let positions = append(store, email::stream_id(id), 0, &events).await;
    Written {
        id,
        owner,
        events,
        positions,
    }
}

/// Eight emails, one per ending: Ada's 1-4, 7 and 8, Bob's 5 and 6, requested in order.
pub(crate) async fn write_mail(store: &EventStore) -> Vec<Written> {
    let plan = [
        (ADA, Ending::Queued),
        (ADA, Ending::Sending),
        (ADA, Ending::Sent),
        (ADA, Ending::Retrying),
        (BOB, Ending::Failed),
        (BOB, Ending::Dead),
        (ADA, Ending::Retried),
        (ADA, Ending::Cancelled),
    ];
    let mut written = Vec::new();
    for (k, (owner, ending)) in (1..).zip(plan) {
        written.push(write_email(store, k, owner, ending).await);
    }
    written
}

/// Creates room 1 of Ada and Bob; returns the position.
pub(crate) async fn create_room(store: &EventStore) -> i64 {
    let created = ChatEvent::RoomCreated(RoomCreated {
        room_id: 1,
        kind: RoomKind::Direct,
        name: None,
        owner_id: None,
        members: vec![ADA, BOB],
        created_by: ADA,
        created_at: at(0),
    });
    append(store, chat::room_stream(1), 0, &[created]).await[0]
}

/// Sends message `seq` (from 1) to room 1; returns its position.
pub(crate) async fn say(store: &EventStore, seq: i64) -> i64 {
    let sent = ChatEvent::MessageSent(MessageSent {
        room_id: 1,
        message_id: Uuid::from_u128(5000 + seq as u128),
        sender_id: BOB,
        text: format!("message {seq}"),
        sent_at: at(seq),
    });
    append(store, chat::messages_stream(1), seq - 1, &[sent]).await[0]
}
