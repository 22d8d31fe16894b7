//! A user's stream over a real log: what a resuming stream is sent, and the aligner that
//! moves a quiet lane of the hub's feed along.

use crate::common::{self, ADA, BOB, Ending};

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use event_log::testing::TestDatabase;
use event_store::EventStore;
use query_api::chat::{
    align,
    feed::Lane,
    history::{self, Missed, Scope},
    hub::Hub,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const SESSION: Uuid = Uuid::from_u128(9);

#[tokio::test]
async fn a_resuming_stream_gets_its_messages_and_its_emails_last_changes_in_log_order() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let resume_from = common::create_room(&store).await;
    let mut messages = Vec::new();
    let mut mail = Vec::new();
    for k in 1..=4 {
        messages.push(common::say(&store, k).await);
        let owner = if k == 3 { BOB } else { ADA };
        mail.push(common::write_email(&store, k, owner, Ending::Sent).await);
    }
    let head = common::project(&db.pool).await;
    let scope = Scope {
        rooms: &[1],
        emails_of: Some(ADA),
    };
    let (missed, covered) = history::next_chunk(&db.pool, &scope, resume_from, head)
        .await
        .unwrap();
    assert_eq!(covered, head);
    let mut expected: Vec<i64> = messages.clone();
    expected.extend(mail.iter().filter(|w| w.owner == ADA).map(|w| w.last().1));
    expected.sort_unstable();
    let positions: Vec<i64> = missed.iter().map(Missed::position).collect();
    assert_eq!(
        positions, expected,
        "messages and Ada's emails, once each, in order"
    );
    for missed in &missed {
        if let Missed::Email(change) = missed {
            assert_eq!(change.status.as_str(), "sent", "the email's latest status");
        }
    }
    // From the middle: only what lies after it.
    let middle = messages[1];
    let (rest, _) = history::next_chunk(&db.pool, &scope, middle, head)
        .await
        .unwrap();
    let rest: Vec<i64> = rest.iter().map(Missed::position).collect();
    assert_eq!(
        rest,
        expected
            .into_iter()
            .filter(|p| *p > middle)
            .collect::<Vec<_>>()
    );
    // A room's stream carries no email.
    let room_only = Scope {
        rooms: &[1],
        emails_of: None,
    };
    let (missed, _) = history::next_chunk(&db.pool, &room_only, resume_from, head)
        .await
        .unwrap();
    assert!(missed.iter().all(|m| matches!(m, Missed::Message(_))));
    db.drop().await;
}

/// The next frame on the stream: its id and event name.
async fn next_frame(frames: &mut tokio::sync::mpsc::Receiver<Bytes>) -> (i64, String) {
    let frame = tokio::time::timeout(Duration::from_secs(5), frames.recv())
        .await
        .expect("a frame in time")
        .expect("the stream is open");
    let text = String::from_utf8(frame.to_vec()).unwrap();
    let mut lines = text.lines();
    let id = lines
        .next()
        .unwrap()
        .strip_prefix("id: ")
        .unwrap()
        .parse()
        .unwrap();
    let event = lines
        .next()
        .unwrap()
        .strip_prefix("event: ")
        .unwrap()
        .to_owned();
    (id, event)
}

#[tokio::test]
async fn the_aligner_moves_a_quiet_lane_up_to_its_next_event_and_no_further() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    // Log: Ada's email (1-3), the room (4), another email of hers (5).
    let first = common::write_email(&store, 1, ADA, Ending::Sent).await;
    let room = common::create_room(&store).await;
    let second = common::write_email(&store, 2, ADA, Ending::Queued).await;
    let hub = Arc::new(Hub::new(8));
    hub.load(Vec::new(), 0, 0);
    let mut stream = hub.register(ADA, SESSION, None).unwrap();
    // The email follower has delivered everything; the chat follower has said nothing, as
    // a Kafka consumer of a quiet topic would not.
    let events = event_log::read::read_all(&db.pool, 0, 100, Some(&["email".to_owned()]))
        .await
        .unwrap();
    for event in &events {
        hub.push(Lane::Email, event);
    }
    hub.advance(Lane::Email, second.last().1);
    assert_eq!(hub.position(), 0, "held back by the chat lane");
    let shutdown = CancellationToken::new();
    let aligner = tokio::spawn(align::run(
        hub.clone(),
        db.pool.clone(),
        Duration::ZERO,
        shutdown.clone(),
    ));
    for position in &first.positions {
        assert_eq!(
            next_frame(&mut stream.frames).await,
            (*position, "email".into())
        );
    }
    // The room's creation lies before the second email: the chat lane must bring it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        stream.frames.try_recv().is_err(),
        "no frame passes the room's creation"
    );
    assert_eq!(hub.position(), room - 1);
    let created = event_log::read::read_context(&db.pool, "chat", 0, 10)
        .await
        .unwrap();
    hub.push(Lane::Chat, &created[0]);
    hub.advance(Lane::Chat, room);
    assert_eq!(
        next_frame(&mut stream.frames).await,
        (room, "room_created".into())
    );
    assert_eq!(
        next_frame(&mut stream.frames).await,
        (second.last().1, "email".into())
    );
    assert_eq!(hub.position(), second.last().1);
    shutdown.cancel();
    aligner.await.unwrap();
    db.drop().await;
}
