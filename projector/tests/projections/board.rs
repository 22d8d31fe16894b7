//! The board projection: posts, bodies, comments and counts follow every history, a
//! deleted post takes its comments with it, and a replay rebuilds exactly the same tables.

use crate::common;

use common::{Running, caught_up};
use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use schemas::{
    EventMetadata, NewEvent,
    board::{
        self, BoardEvent, CommentAdded, CommentDeleted, PostCreated, PostDeleted, PostUpdated,
    },
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

async fn append(store: &EventStore, stream: String, expected: i64, event: BoardEvent) {
    let expected = match expected {
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

/// Post `n` gets `n % 4` comments; every third post is edited, every fifth deleted, and
/// the first comment of every even post deleted.
async fn write_board(store: &EventStore, posts: std::ops::Range<i64>) {
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let author = Uuid::from_u128(1);
    for n in posts {
        let created = PostCreated {
            post_id: n,
            author_id: author,
            title: format!("Post {n}"),
            content: format!("Body of post {n}"),
            created_at: at,
        };
        append(
            store,
            board::post_stream(n),
            0,
            BoardEvent::PostCreated(created),
        )
        .await;
        for c in 0..n % 4 {
            let comment_id = n * 10 + c;
            let added = CommentAdded {
                comment_id,
                post_id: n,
                author_id: Uuid::from_u128(2),
                content: format!("comment {comment_id}"),
                created_at: at,
            };
            append(
                store,
                board::comment_stream(comment_id),
                0,
                BoardEvent::CommentAdded(added),
            )
            .await;
        }
        if n % 2 == 0 && n % 4 != 0 {
            let deleted = CommentDeleted {
                comment_id: n * 10,
                post_id: n,
                by: author,
            };
            let stream = board::comment_stream(n * 10);
            append(store, stream, 1, BoardEvent::CommentDeleted(deleted)).await;
        }
        let mut version = 1;
        if n % 3 == 0 {
            let updated = PostUpdated {
                post_id: n,
                title: format!("Post {n}, edited"),
                content: "  Edited\n\nbody ".into(),
                by: author,
                updated_at: at,
            };
            append(
                store,
                board::post_stream(n),
                1,
                BoardEvent::PostUpdated(updated),
            )
            .await;
            version = 2;
        }
        if n % 5 == 0 {
            let deleted = PostDeleted {
                post_id: n,
                by: author,
            };
            append(
                store,
                board::post_stream(n),
                version,
                BoardEvent::PostDeleted(deleted),
            )
            .await;
        }
    }
}

/// Post id, title, excerpt, comment count, body; and the comments' (post, id).
type Board = (Vec<(i64, String, String, i32, String)>, Vec<(i64, i64)>);

async fn read_board(pool: &PgPool) -> Board {
    let posts = sqlx::query_as(
        "SELECT p.post_id, p.title, p.excerpt, p.comment_count, b.content \
         FROM posts p JOIN post_bodies b USING (post_id) ORDER BY p.post_id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let comments = sqlx::query_as("SELECT post_id, comment_id FROM comments ORDER BY comment_id")
        .fetch_all(pool)
        .await
        .unwrap();
    (posts, comments)
}

#[tokio::test]
async fn posts_comments_and_counts_follow_every_history_and_a_replay_rebuilds_them() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    write_board(&store, 1..61).await;
    caught_up(&db.pool, "board").await;
    let (posts, comments) = read_board(&db.pool).await;

    let live: Vec<i64> = (1..61).filter(|n| n % 5 != 0).collect();
    assert_eq!(posts.iter().map(|p| p.0).collect::<Vec<_>>(), live);
    for (id, title, excerpt, count, body) in &posts {
        let removed = i32::from(id % 2 == 0 && id % 4 != 0);
        assert_eq!(*count, (id % 4) as i32 - removed, "post {id}");
        let edited = id % 3 == 0;
        assert_eq!(title.ends_with("edited"), edited, "post {id}");
        assert_eq!(excerpt, if edited { "Edited body" } else { body.as_str() });
    }
    assert!(
        comments.iter().all(|(post, _)| post % 5 != 0),
        "deleted posts keep no comments"
    );
    let counted: i32 = posts.iter().map(|p| p.3).sum();
    assert_eq!(comments.len() as i32, counted);

    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == "board")
        .unwrap();
    projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    assert_eq!(read_board(&db.pool).await, (posts, comments));
    running.stop().await;
    db.drop().await;
}
