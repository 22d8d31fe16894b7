//! Chat messages: text of 1 to 1,000 characters from members only, a sequence per room,
//! client message ids that make retries harmless, and history by sequence.

use crate::support;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use support::{TestApp, chat::room_id, error, header, json, position_of, unprocessable};

#[tokio::test]
async fn members_send_text_of_one_to_a_thousand_characters_counted_not_as_bytes() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    let room = room_id(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    // 1,000 Hangul syllables are 3,000 bytes; 1,000 emoji 4,000.
    let hangul = "한".repeat(1000);
    let sent = app.say(&ada, room, &hangul).await;
    assert_eq!(sent["seq"], 1);
    assert_eq!(sent["text"], hangul.as_str());
    assert_eq!(sent["sender_id"], ada.id.as_str());
    assert_eq!(app.say(&bob, room, &"🙂".repeat(1000)).await["seq"], 2);
    let long = app
        .try_say(&ada, room, &json!({ "text": "한".repeat(1001) }))
        .await;
    unprocessable(long, "text must be at most 1000 characters, got 1001").await;
    let empty = app.try_say(&ada, room, &json!({ "text": "" })).await;
    unprocessable(empty, "text must not be empty").await;
    let control = app
        .try_say(&ada, room, &json!({ "text": "bell \u{7}" }))
        .await;
    unprocessable(control, "text must not contain control characters").await;
    let image = app
        .try_say(&ada, room, &json!({ "text": "x", "image": "cat.png" }))
        .await;
    assert_eq!(image.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Outsiders and missing rooms.
    let outsider = app
        .try_say(&eve, room, &json!({ "text": "let me in" }))
        .await;
    error(
        outsider,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "only members of the room may do this",
    )
    .await;
    let nowhere = app.try_say(&ada, 999, &json!({ "text": "hello?" })).await;
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_retry_with_the_same_message_id_does_not_send_twice() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let room = json(app.open_direct(&ada, &bob.id).await, StatusCode::CREATED).await;
    let room = room_id(&room["data"]);
    let id = uuid::Uuid::now_v7();
    let body = json!({ "text": "only once", "message_id": id });
    // The same message sent five times at once, then again later.
    let tries = (0..5).map(|_| app.try_say(&ada, room, &body));
    let mut answers = Vec::new();
    for response in join_all(tries).await {
        assert_eq!(
            header(&response, "location"),
            format!("/api/v1/chats/{room}/messages/1")
        );
        answers.push(json(response, StatusCode::CREATED).await["data"].clone());
    }
    let late = json(app.try_say(&ada, room, &body).await, StatusCode::CREATED).await;
    answers.push(late["data"].clone());
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0]["message_id"], id.to_string());
    assert_eq!(answers[0]["seq"], 1);
    // The same id for another text is refused; another id is another message.
    let changed = json!({ "text": "changed", "message_id": id });
    unprocessable(
        app.try_say(&ada, room, &changed).await,
        "this Idempotency-Key was already used with a different request",
    )
    .await;
    let next = app.say(&ada, room, "second").await;
    assert_eq!(next["seq"], 2);
    let path = format!("/api/v1/chats/{room}/messages");
    let history = json(
        app.get_as(Some(&bob), &path, position_of(&next)).await,
        StatusCode::OK,
    )
    .await;
    let texts: Vec<&str> = history["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["only once", "second"]);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_senders_get_distinct_consecutive_sequences() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let room = room_id(
        &app.create_group(&ada, "busy", std::slice::from_ref(&bob.id))
            .await,
    );
    let texts: Vec<String> = (0..40).map(|n| format!("m{n}")).collect();
    let sends = texts.iter().enumerate().map(|(n, text)| {
        let from = if n % 2 == 0 { &ada } else { &bob };
        app.say(from, room, text)
    });
    let mut seqs: Vec<i64> = join_all(sends)
        .await
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    seqs.sort();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    app.stop().await;
}

#[tokio::test]
async fn history_pages_by_sequence_for_members_only() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    let room = room_id(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    let mut at = 0;
    for n in 1..=7 {
        at = position_of(&app.say(&ada, room, &format!("m{n}")).await);
    }
    let (shared, reader) = (&app, &bob);
    let page = |query: &str| {
        let path = format!("/api/v1/chats/{room}/messages{query}");
        async move {
            let data =
                json(shared.get_as(Some(reader), &path, at).await, StatusCode::OK).await["data"]
                    .clone();
            let seqs: Vec<i64> = data["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["seq"].as_i64().unwrap())
                .collect();
            (seqs, data["more"].as_bool().unwrap())
        }
    };
    assert_eq!(page("?limit=3").await, (vec![5, 6, 7], true));
    assert_eq!(page("?limit=3&before=5").await, (vec![2, 3, 4], true));
    assert_eq!(page("?limit=3&before=2").await, (vec![1], false));
    assert_eq!(page("?limit=3&after=4").await, (vec![5, 6, 7], false));
    assert_eq!(page("?after=0&limit=2").await, (vec![1, 2], true));
    let one = format!("/api/v1/chats/{room}/messages/3");
    let message = json(app.get_as(Some(&bob), &one, at).await, StatusCode::OK).await;
    assert_eq!(message["data"]["text"], "m3");
    let path = format!("/api/v1/chats/{room}/messages");
    assert_eq!(
        app.get_as(Some(&eve), &path, at).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(Some(&eve), &one, at).await.status(),
        StatusCode::FORBIDDEN
    );
    let both = format!("{path}?before=3&after=1");
    assert_eq!(
        app.get_as(Some(&bob), &both, at).await.status(),
        StatusCode::BAD_REQUEST
    );
    let huge = format!("{path}?limit=201");
    assert_eq!(
        app.get_as(Some(&bob), &huge, at).await.status(),
        StatusCode::BAD_REQUEST
    );
    let missing = format!("/api/v1/chats/{room}/messages/99");
    assert_eq!(
        app.get_as(Some(&bob), &missing, at).await.status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}
