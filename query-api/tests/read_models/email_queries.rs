//! The emails read model's queries: one email with its attempts, listings, and the last
//! change of each email that a resuming stream is sent.

use crate::common::{self, ADA, BOB, SOURCE, Written};

use event_log::testing::TestDatabase;
use event_store::EventStore;
use query_api::email::{
    change::EmailChange,
    listing::{Listing, Scope},
    queries,
};
use schemas::email::EmailStatus;
use serde_json::{Value, json};
use service_kit::paging::Page;
use uuid::Uuid;

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn sorted<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names
}

const FIELDS: [&str; 12] = [
    "id",
    "requested_by",
    "to",
    "subject",
    "status",
    "message_id",
    "last_reply",
    "next_attempt_at",
    "source_event_id",
    "requested_at",
    "updated_at",
    "version",
];

#[tokio::test]
async fn an_email_reads_back_with_its_attempts_and_the_position_it_reflects() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mail = common::write_mail(&store).await;
    let head = common::project(&db.pool).await;
    let retried = &mail[6];
    let (applied, view) = queries::email(&db.pool, SOURCE, retried.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(applied, head);
    let json = serde_json::to_value(&view).unwrap();
    let mut expected_keys = FIELDS.to_vec();
    expected_keys.push("attempts");
    assert_eq!(keys(&json), sorted(&expected_keys));
    assert_eq!(json["id"], json!(retried.id));
    assert_eq!(json["requested_by"], json!(ADA));
    assert_eq!(
        json["to"],
        json!(["Bob <bob@example.com>", "cat@example.com"])
    );
    assert_eq!(json["status"], "queued");
    assert_eq!(
        json["message_id"],
        format!("<{}@platform.localhost>", retried.id)
    );
    assert_eq!(json["last_reply"], "421 4.4.2 timed out");
    assert_eq!(
        json["next_attempt_at"], "2027-01-15T08:01:13Z",
        "the retry time"
    );
    assert_eq!(json["source_event_id"], Value::Null);
    assert_eq!(json["requested_at"], "2027-01-15T08:01:10Z");
    assert_eq!(json["version"], 4);
    assert_eq!(
        json["attempts"],
        json!([{
            "attempt": 1,
            "worker": "worker-1",
            "started_at": "2027-01-15T08:01:11Z",
            "outcome": "dead",
            "reply": "421 4.4.2 timed out",
            "ended_at": "2027-01-15T08:01:12Z",
            "retry_at": null,
        }])
    );
    let (_, queued) = queries::email(&db.pool, SOURCE, mail[0].id)
        .await
        .unwrap()
        .unwrap();
    let queued = serde_json::to_value(&queued).unwrap();
    assert_eq!(queued["attempts"], json!([]));
    assert_eq!(queued["message_id"], Value::Null);
    assert!(
        queries::email(&db.pool, SOURCE, Uuid::from_u128(99))
            .await
            .unwrap()
            .is_none()
    );
    db.drop().await;
}

fn ids(items: &[queries::EmailSummary]) -> Vec<Uuid> {
    items.iter().map(|item| item.email.id).collect()
}

fn newest_first<'a>(mail: &'a [Written], keep: impl Fn(&Written) -> bool + 'a) -> Vec<Uuid> {
    mail.iter()
        .rev()
        .filter(|w| keep(w))
        .map(|w| w.id)
        .collect()
}

#[tokio::test]
async fn listings_are_newest_first_for_one_user_or_everyone_with_totals() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mail = common::write_mail(&store).await;
    let head = common::project(&db.pool).await;
    let listing = |scope, status, page, size| Listing {
        scope,
        status,
        page: Page { page, size },
    };
    let (applied, total, adas) =
        queries::page(&db.pool, SOURCE, &listing(Scope::Sender(ADA), None, 1, 20))
            .await
            .unwrap();
    assert_eq!((applied, total), (head, 6));
    assert_eq!(ids(&adas), newest_first(&mail, |w| w.owner == ADA));
    let item = serde_json::to_value(&adas[1]).unwrap();
    let mut expected_keys = FIELDS.to_vec();
    expected_keys.push("attempt_count");
    assert_eq!(keys(&item), sorted(&expected_keys));
    assert_eq!(
        (item["status"].as_str(), item["attempt_count"].as_i64()),
        (Some("queued"), Some(1))
    );
    let (_, total, dead) = queries::page(
        &db.pool,
        SOURCE,
        &listing(Scope::All, Some(EmailStatus::Dead), 1, 20),
    )
    .await
    .unwrap();
    assert_eq!((total, ids(&dead)), (1, vec![mail[5].id]));
    let (_, total, second) = queries::page(&db.pool, SOURCE, &listing(Scope::All, None, 2, 3))
        .await
        .unwrap();
    assert_eq!(total, 8);
    assert_eq!(ids(&second), newest_first(&mail, |_| true)[3..6]);
    let (_, total, none) = queries::page(
        &db.pool,
        SOURCE,
        &listing(Scope::Sender(BOB), Some(EmailStatus::Sent), 1, 20),
    )
    .await
    .unwrap();
    assert_eq!((total, none.len()), (0, 0));
    db.drop().await;
}

#[tokio::test]
async fn an_emails_last_change_reads_back_as_its_last_event_made_it() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mail = common::write_mail(&store).await;
    let head = common::project(&db.pool).await;
    // Every ending is there, so the row gives each kind of change as its event does.
    let expected = |owner, after: i64| -> Vec<EmailChange> {
        mail.iter()
            .filter(|w| w.owner == owner && w.last().1 > after)
            .map(|w| EmailChange::of_event(w.last().0, w.last().1))
            .collect()
    };
    for owner in [ADA, BOB] {
        let changes = queries::changes_between(&db.pool, owner, 0, head, 100)
            .await
            .unwrap();
        assert_eq!(changes, expected(owner, 0));
    }
    let after = mail[2].last().1;
    let later = queries::changes_between(&db.pool, ADA, after, head, 100)
        .await
        .unwrap();
    assert_eq!(later, expected(ADA, after));
    let first_two = queries::changes_between(&db.pool, ADA, 0, head, 2)
        .await
        .unwrap();
    assert_eq!(first_two, expected(ADA, 0)[..2]);
    db.drop().await;
}
