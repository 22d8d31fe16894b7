//! Two projectors follow the log; each projection's Kafka consumer group gives the
//! context's one partition to one of them. The one applying the board projection is
//! killed (SIGKILL) while comments are written: the other takes the partition over, and
//! every comment is counted exactly once — the post's `comment_count`, which each
//! `CommentAdded` increments in the same transaction as the checkpoint, equals the number
//! written, and so does the listing's total.

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{accounts::Account, id, json, position, position_of, stack::Stack};

/// Comments written under load, and after how many the active projector is killed.
const COMMENTS: usize = 240;
const KILL_AFTER: usize = 60;
/// Writes in flight at once.
const CONCURRENCY: usize = 4;
/// A consumer group notices a dead member after its session timeout (6 s), then
/// rebalances; the survivor then catches up.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(90);

/// Events of `projection` that projector `name` has applied since it started.
async fn applied(stack: &Stack, name: &str, projection: &str) -> u64 {
    let wanted = format!("projection_events_applied_total{{projection=\"{projection}\"}} ");
    stack
        .metrics(name)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&wanted))
        .map_or(0, |value| value.parse::<f64>().unwrap() as u64)
}

async fn comment(stack: &Stack, author: &Account, post: i64, n: usize) -> i64 {
    let path = format!("/api/v1/posts/{post}/comments");
    let body = json!({ "content": format!("comment {n}") });
    let response = stack
        .app
        .send_as(Some(author), Method::POST, &path, Some(&body))
        .await;
    let at = position(&response);
    json(response, StatusCode::CREATED).await;
    at
}

pub(super) async fn a_projector_killed_under_writes_is_taken_over_without_loss_or_repeat(
    stack: &Stack,
) {
    let app = &stack.app;
    let author = app.sign_up("writer@stack.test").await;
    let post = app
        .create_as(
            &author,
            "/api/v1/posts",
            &json!({ "title": "Load", "content": "-" }),
        )
        .await;
    let (post, at) = (id(&post), position_of(&post));
    let path = format!("/api/v1/posts/{post}");
    app.read_as(&author, &path, at).await;
    let names = ["projector-1", "projector-2"];
    let before = [
        applied(stack, names[0], "board").await,
        applied(stack, names[1], "board").await,
    ];
    let (killed, survivor) = match before {
        [n, 0] if n > 0 => (names[0], names[1]),
        [0, n] if n > 0 => (names[1], names[0]),
        other => panic!("one projector applies the board projection, not {other:?}"),
    };
    let survivor_before = applied(stack, survivor, "board").await;

    let mut last = 0;
    let mut written = stream::iter(0..COMMENTS)
        .map(|n| comment(stack, &author, post, n))
        .buffer_unordered(CONCURRENCY)
        .enumerate();
    while let Some((done, at)) = written.next().await {
        last = last.max(at);
        if done + 1 == KILL_AFTER {
            stack.kill(killed);
        }
    }

    // Every comment counted once, by the survivor for those after the kill.
    let deadline = Instant::now() + TAKEOVER_LIMIT;
    let read = loop {
        let response = app.get_as(Some(&author), &path, last).await;
        if response.status() == StatusCode::OK {
            break json(response, StatusCode::OK).await["data"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the board projection did not reach position {last} within {TAKEOVER_LIMIT:?} of {killed}'s death"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        read["comment_count"],
        json!(COMMENTS),
        "comments counted: {read}"
    );
    let listed: Value = app
        .read_as(&author, &format!("{path}/comments?size=1"), last)
        .await;
    assert_eq!(listed["total"], json!(COMMENTS), "comments listed");
    let survivor_after = applied(stack, survivor, "board").await;
    assert!(
        survivor_after > survivor_before,
        "{survivor} took nothing over ({survivor_before} events applied before, {survivor_after} after)"
    );
}
