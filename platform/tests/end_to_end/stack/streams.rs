//! A chat stream through nginx: unbuffered (a message arrives while the stream is open),
//! and resumed with `Last-Event-ID` on the other query-api once the instance serving it
//! is killed, with nothing missed and nothing repeated.

use crate::support::{chat::room_id, position_of, stack::Stack};

/// Streams open on query-api instance `name`.
async fn streams_open(stack: &Stack, name: &str) -> f64 {
    stack
        .metrics(name)
        .await
        .lines()
        .find_map(|line| line.strip_prefix("chat_streams_open "))
        .map_or(0.0, |value| value.parse().unwrap())
}

pub(super) async fn a_chat_stream_resumes_on_the_other_query_api_after_its_own_is_killed(
    stack: &Stack,
) {
    let app = &stack.app;
    let ada = app.sign_up("listener@stack.test").await;
    let bob = app.sign_up("talker@stack.test").await;
    let room = app
        .create_group(&ada, "streams", std::slice::from_ref(&bob.id))
        .await;
    let (room, at) = (room_id(&room), position_of(&room));
    let path = format!("/api/v1/chats/{room}/stream");

    let mut events = app.events_at(&app.base, &ada, &path, None, at).await;
    app.say(&bob, room, "one").await;
    let first = events.next_of("message").await;
    assert_eq!(first.data["text"], "one");
    assert!(!events.ended, "the event came while the stream was open");

    let mut serving = Vec::new();
    for name in ["query-api-1", "query-api-2"] {
        if streams_open(stack, name).await >= 1.0 {
            serving.push(name);
        }
    }
    assert_eq!(
        serving.len(),
        1,
        "one instance serves the stream: {serving:?}"
    );
    stack.kill(serving[0]);
    events.end().await;

    app.say(&bob, room, "two").await;
    let last_id = first.id.expect("messages carry ids");
    let mut resumed = app.events(&app.base, &ada, &path, Some(&last_id)).await;
    assert_eq!(resumed.texts(1).await, ["two"], "the missed message first");
    app.say(&bob, room, "three").await;
    assert_eq!(
        resumed.texts(1).await,
        ["three"],
        "then live ones, none twice"
    );
}
