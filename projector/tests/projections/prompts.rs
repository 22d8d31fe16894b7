//! The prompts projections: profiles link only their owner's books and texts that are
//! there, a deleted book or text leaves every profile that linked it, public scripts keep
//! their scripts by number through reorders, and a replay rebuilds exactly the same tables.

use crate::common;

use common::{Running, caught_up};
use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    prompts::{
        self, Language, ProfileSettings, PromptProfileCreated, PromptProfileDeleted,
        PromptProfileUpdated, PromptsEvent, PublicScriptCreated, PublicScriptDeleted,
        PublicScriptReordered, RefBookCreated, RefBookDeleted, RefDataCreated, RefDataDeleted,
        RefDataUpdated, Script,
    },
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

const ADA: Uuid = Uuid::from_u128(1);
const BOB: Uuid = Uuid::from_u128(2);

/// Appends `event` to `stream`, which must be at `version` (0: absent).
async fn append(store: &EventStore, stream: String, version: i64, event: PromptsEvent) {
    let expected = match version {
        0 => ExpectedVersion::NoStream,
        n => ExpectedVersion::Exact(n),
    };
    store
        .append(AppendRequest::new(
            stream,
            expected,
            vec![NewEvent::from_domain(&event)],
            EventMetadata::default(),
        ))
        .await
        .expect("append");
}

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn settings(major: &str, books: Vec<i64>, data: Vec<i64>) -> ProfileSettings {
    ProfileSettings {
        description: "No Description".into(),
        language: Language::English,
        major: major.into(),
        understanding_level: 1,
        only_references: false,
        data_in_sequence: true,
        ref_book_ids: books,
        ref_data_ids: data,
    }
}

async fn book(store: &EventStore, id: i64, owner: Uuid) {
    let created = RefBookCreated {
        book_id: id,
        owner_id: owner,
        author: format!("Author {id}"),
        title: format!("Book {id}"),
        created_at: at(),
    };
    let stream = prompts::book_stream_id(id);
    append(store, stream, 0, PromptsEvent::RefBookCreated(created)).await;
}

async fn text(store: &EventStore, id: i64, owner: Uuid) {
    let created = RefDataCreated {
        data_id: id,
        owner_id: owner,
        title: format!("Text {id}"),
        text: format!("Body of text {id}"),
        created_at: at(),
    };
    let stream = prompts::data_stream_id(id);
    append(store, stream, 0, PromptsEvent::RefDataCreated(created)).await;
}

async fn profile(store: &EventStore, id: i64, owner: Uuid, settings: ProfileSettings) {
    let created = PromptProfileCreated {
        profile_id: id,
        owner_id: owner,
        settings,
        created_at: at(),
    };
    let stream = prompts::profile_stream_id(id);
    append(
        store,
        stream,
        0,
        PromptsEvent::PromptProfileCreated(created),
    )
    .await;
}

/// Ada's books 1-3 and texts 1-2, Bob's book 4; book 3 deleted before profile 1 links
/// it, book 1 after; text 2 edited, then deleted. Profile 2 links Bob's book (which the
/// command side refuses; the read model must not show it either), profile 3 is deleted.
async fn write_profiles(store: &EventStore) {
    for id in 1..=3 {
        book(store, id, ADA).await;
    }
    book(store, 4, BOB).await;
    text(store, 1, ADA).await;
    text(store, 2, ADA).await;
    let deleted = |id| {
        PromptsEvent::RefBookDeleted(RefBookDeleted {
            book_id: id,
            owner_id: ADA,
            deleted_at: at(),
        })
    };
    append(store, prompts::book_stream_id(3), 1, deleted(3)).await;
    profile(
        store,
        1,
        ADA,
        settings("Physics", vec![2, 3, 1], vec![2, 1]),
    )
    .await;
    profile(store, 2, ADA, settings("Chemistry", vec![4], vec![])).await;
    profile(store, 3, ADA, settings("Biology", vec![1], vec![1])).await;
    let updated = PromptProfileUpdated {
        profile_id: 1,
        owner_id: ADA,
        settings: settings("Physics II", vec![2, 3, 1], vec![2, 1]),
        updated_at: at(),
    };
    let stream = prompts::profile_stream_id(1);
    append(
        store,
        stream,
        1,
        PromptsEvent::PromptProfileUpdated(updated),
    )
    .await;
    append(store, prompts::book_stream_id(1), 1, deleted(1)).await;
    let edited = RefDataUpdated {
        data_id: 2,
        owner_id: ADA,
        title: "Text 2, edited".into(),
        text: "Edited body".into(),
        updated_at: at(),
    };
    append(
        store,
        prompts::data_stream_id(2),
        1,
        PromptsEvent::RefDataUpdated(edited),
    )
    .await;
    let removed = PromptProfileDeleted {
        profile_id: 3,
        owner_id: ADA,
        deleted_at: at(),
    };
    let stream = prompts::profile_stream_id(3);
    append(
        store,
        stream,
        1,
        PromptsEvent::PromptProfileDeleted(removed),
    )
    .await;
    let gone = RefDataDeleted {
        data_id: 1,
        owner_id: ADA,
        deleted_at: at(),
    };
    let stream = prompts::data_stream_id(1);
    append(store, stream, 1, PromptsEvent::RefDataDeleted(gone)).await;
}

/// Profiles (id, major, version); their links (profile, kind, id, place); books;
/// texts with their bodies.
type Profiles = (
    Vec<(i64, String, i64)>,
    Vec<(i64, String, i64, i64)>,
    Vec<(i64, String)>,
    Vec<(i64, String, String)>,
);

async fn read_profiles(pool: &PgPool) -> Profiles {
    let profiles = sqlx::query_as(
        "SELECT profile_id, major, version FROM prompt_profiles ORDER BY profile_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let links = sqlx::query_as(
        "SELECT profile_id, 'book', book_id, ord FROM prompt_profile_books \
         UNION ALL SELECT profile_id, 'data', data_id, ord FROM prompt_profile_data \
         ORDER BY 1, 2, 4",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let books = sqlx::query_as("SELECT book_id, title FROM prompt_books ORDER BY book_id")
        .fetch_all(pool)
        .await
        .unwrap();
    let texts = sqlx::query_as(
        "SELECT d.data_id, d.title, t.text FROM prompt_data d \
         JOIN prompt_data_texts t USING (data_id) ORDER BY d.data_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    (profiles, links, books, texts)
}

async fn replay(pool: &PgPool, name: &str) {
    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == name)
        .unwrap();
    projector::replay::replay(pool, projection.as_ref())
        .await
        .unwrap();
}

#[tokio::test]
async fn profiles_link_what_is_there_lose_what_is_deleted_and_a_replay_rebuilds_them() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    write_profiles(&store).await;
    caught_up(&db.pool, "profiles").await;
    let read = read_profiles(&db.pool).await;
    let (profiles, links, books, texts) = &read;
    assert_eq!(
        profiles,
        &[(1, "Physics II".into(), 2), (2, "Chemistry".into(), 1)]
    );
    // Book 3 was gone before profile 1 linked it, book 1 and text 1 went after; book 4 is
    // Bob's. What remains keeps its place in the profile's order.
    assert_eq!(links, &[(1, "book".into(), 2, 1), (1, "data".into(), 2, 1)]);
    assert_eq!(books, &[(2, "Book 2".into()), (4, "Book 4".into())]);
    assert_eq!(texts, &[(2, "Text 2, edited".into(), "Edited body".into())]);
    replay(&db.pool, "profiles").await;
    assert_eq!(read_profiles(&db.pool).await, read);
    running.stop().await;
    db.drop().await;
}

fn scripts(texts: &[&str]) -> Vec<Script> {
    (1..)
        .zip(texts)
        .map(|(number, text)| Script {
            number,
            text: (*text).into(),
        })
        .collect()
}

async fn read_scripts(pool: &PgPool) -> Vec<(i64, serde_json::Value, i32, i64)> {
    sqlx::query_as(
        "SELECT script_id, scripts, script_count, version FROM public_scripts ORDER BY script_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn public_scripts_keep_their_scripts_by_number_through_reorders_and_replays() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    for id in 1..=2 {
        let created = PublicScriptCreated {
            script_id: id,
            name: format!("Script {id}"),
            description: String::new(),
            scripts: scripts(&["a", "b", "c"]),
            by: ADA,
            created_at: at(),
        };
        let stream = prompts::script_stream_id(id);
        append(
            &store,
            stream,
            0,
            PromptsEvent::PublicScriptCreated(created),
        )
        .await;
    }
    let reordered = PublicScriptReordered {
        script_id: 1,
        order: vec![3, 1, 2],
        by: ADA,
        reordered_at: at(),
    };
    let stream = prompts::script_stream_id(1);
    append(
        &store,
        stream,
        1,
        PromptsEvent::PublicScriptReordered(reordered),
    )
    .await;
    let deleted = PublicScriptDeleted {
        script_id: 2,
        by: ADA,
        deleted_at: at(),
    };
    let stream = prompts::script_stream_id(2);
    append(
        &store,
        stream,
        1,
        PromptsEvent::PublicScriptDeleted(deleted),
    )
    .await;
    caught_up(&db.pool, "public_scripts").await;
    let rows = read_scripts(&db.pool).await;
    let expected = serde_json::to_value(scripts(&["c", "a", "b"])).unwrap();
    assert_eq!(rows, [(1, expected, 3, 2)]);
    replay(&db.pool, "public_scripts").await;
    assert_eq!(read_scripts(&db.pool).await, rows);
    running.stop().await;
    db.drop().await;
}
