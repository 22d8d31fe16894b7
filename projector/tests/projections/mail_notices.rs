//! The platform's own mail: each source event requests its email once, however often the
//! reactor is given it (a redelivery, a batch resumed after a crash, a rewound checkpoint).

use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use projector::Tables;
use schemas::{
    EventMetadata, NewEvent,
    email::EmailEvent,
    identity::{self, IdentityEvent, Role, UserRegistered},
};
use uuid::Uuid;

#[tokio::test]
async fn a_welcome_is_requested_once_however_often_its_registration_is_applied() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    for n in 0..3 {
        let user_id = Uuid::now_v7();
        let registered = IdentityEvent::UserRegistered(UserRegistered {
            user_id,
            email: format!("user{n}@example.com"),
            name: format!("User {n}"),
            role: Role::User,
        });
        store
            .append(AppendRequest::new(
                identity::user_stream(user_id),
                ExpectedVersion::NoStream,
                vec![NewEvent::from_domain(&registered)],
                EventMetadata::default(),
            ))
            .await
            .unwrap();
    }
    let registrations = store.log().read_all(0, 100).await.unwrap();
    let welcome = projector::mail::notices::all(&store)
        .into_iter()
        .find(|reactor| reactor.name() == "mail.welcome")
        .unwrap();

    for _ in 0..3 {
        let mut tx = db.pool.begin().await.unwrap();
        welcome
            .apply(&mut tx, Tables::Live, &registrations)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    let requested = store.log().read_all(0, 100).await.unwrap();
    let mut sources: Vec<Uuid> = requested
        .iter()
        .filter_map(|event| match event.decode::<EmailEvent>() {
            Ok(EmailEvent::Requested(request)) => request.source_event_id,
            _ => None,
        })
        .collect();
    sources.sort();
    let mut expected: Vec<Uuid> = registrations.iter().map(|e| e.event_id).collect();
    expected.sort();
    assert_eq!(sources, expected, "one request per registration");
    db.drop().await;
}
