//! Chat across two query-api instances, as behind nginx: a message sent through either
//! reaches subscribers on both, and presence is one picture on both.

use crate::support;

use std::{collections::BTreeSet, time::Duration};

use reqwest::StatusCode;
use serde_json::Value;
use support::{
    TestApp,
    accounts::Account,
    chat::{Events, room_id},
    instances::SHARED_SECRET,
    json, position_of,
};

const GRACE: &str = "--chat-presence-grace-ms=300";

#[tokio::test]
async fn a_message_reaches_subscribers_on_both_instances_and_ids_resume_on_either() {
    let app = TestApp::spawn_with(&[SHARED_SECRET]).await;
    let other = app.second_query_api().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let room = app
        .create_group(&ada, "team", std::slice::from_ref(&bob.id))
        .await;
    let (at, room) = (position_of(&room), room_id(&room));
    let stream = "/api/v1/chats/stream";
    let mut on_first = app.events_at(&app.base, &ada, stream, None, at).await;
    let mut on_second = app.events_at(&other.base, &bob, stream, None, at).await;
    app.say(&ada, room, "from Ada").await;
    app.say(&bob, room, "from Bob").await;
    assert_eq!(on_first.texts(2).await, ["from Ada", "from Bob"]);
    let first = on_second.next_of("message").await;
    assert_eq!(first.data["text"], "from Ada");
    assert_eq!(on_second.texts(1).await, ["from Bob"]);
    drop(on_second);
    // Bob resumes on the other instance from the id the second one gave him.
    app.say(&ada, room, "while Bob moved").await;
    let mut resumed = app
        .events(&app.base, &bob, "/api/v1/chats/stream", first.id.as_deref())
        .await;
    assert_eq!(resumed.texts(2).await, ["from Bob", "while Bob moved"]);
    other.stop().await;
    app.stop().await;
}

/// Every message of a stream: `count` of them, each once, ids rising; then no more.
async fn every_message_once(events: &mut Events, count: usize) -> Vec<(i64, i64, String)> {
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count {
        let event = events.next_of("message").await;
        messages.push((
            event.id.unwrap().parse::<i64>().unwrap(),
            event.data["seq"].as_i64().unwrap(),
            event.data["text"].as_str().unwrap().to_owned(),
        ));
    }
    assert!(
        messages.windows(2).all(|w| w[0].0 < w[1].0),
        "ids rise, so none is repeated: {messages:?}"
    );
    while let Some(event) = events.next_within(Duration::from_millis(500)).await {
        assert_ne!(event.kind, "message", "one too many: {event:?}");
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_senders_reach_subscribers_on_both_instances_once_each_in_one_order() {
    const SENDERS: usize = 3;
    const EACH: usize = 20;
    let app = TestApp::spawn_with(&[SHARED_SECRET]).await;
    let other = app.second_query_api().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let cat = app.sign_up("cat@example.com").await;
    let room = app
        .create_group(&ada, "team", &[bob.id.clone(), cat.id.clone()])
        .await;
    let (at, room) = (position_of(&room), room_id(&room));
    let all = "/api/v1/chats/stream";
    let one = format!("/api/v1/chats/{room}/stream");
    let mut streams = vec![
        app.events_at(&app.base, &ada, all, None, at).await,
        app.events_at(&other.base, &bob, all, None, at).await,
        app.events_at(&app.base, &cat, &one, None, at).await,
        app.events_at(&other.base, &cat, &one, None, at).await,
    ];
    let senders: Vec<_> = [&ada, &bob, &cat]
        .into_iter()
        .enumerate()
        .map(|(n, sender)| {
            let (client, base, token) =
                (app.client.clone(), app.base.clone(), sender.token.clone());
            tokio::spawn(async move {
                for k in 0..EACH {
                    let sent = client
                        .post(format!("{base}/api/v1/chats/{room}/messages"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "text": format!("{n}-{k}") }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(sent.status(), StatusCode::CREATED);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    let expected: BTreeSet<String> = (0..SENDERS)
        .flat_map(|n| (0..EACH).map(move |k| format!("{n}-{k}")))
        .collect();
    let mut seen = Vec::new();
    for events in &mut streams {
        let messages = every_message_once(events, SENDERS * EACH).await;
        let texts: BTreeSet<String> = messages.iter().map(|m| m.2.clone()).collect();
        assert_eq!(texts, expected, "every message, none missed");
        let seqs: Vec<i64> = messages.iter().map(|m| m.1).collect();
        assert_eq!(seqs, (1..=(SENDERS * EACH) as i64).collect::<Vec<_>>());
        seen.push(messages);
    }
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "one order on every stream"
    );
    other.stop().await;
    app.stop().await;
}

/// Polls `GET /users?online=true` on `base` until `user` is (or is not) listed.
async fn await_listed(app: &TestApp, base: &str, viewer: &Account, user: &str, listed: bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = app
            .client
            .get(format!("{base}/api/v1/users?online=true&size=100"))
            .bearer_auth(&viewer.token)
            .send()
            .await
            .unwrap();
        let page = json(response, StatusCode::OK).await;
        let found = page["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["user_id"] == user && u["online"] == true);
        if found == listed {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} listed online: {found}, expected {listed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next presence change of `user` on a stream.
async fn presence_of(events: &mut Events, user: &str) -> Value {
    loop {
        let event = events.next_of("presence").await;
        if event.data["user_id"] == user {
            assert_eq!(event.id, None, "presence does not move the resume point");
            return event.data;
        }
    }
}

#[tokio::test]
async fn presence_follows_live_streams_on_any_instance_and_reaches_contacts() {
    let app = TestApp::spawn_with(&[SHARED_SECRET, GRACE]).await;
    let other = app.second_query_api_with(&[GRACE]).await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let bob = app.sign_up_named("bob@example.com", "Bob").await;
    let eve = app.sign_up_named("eve@example.com", "Eve").await;
    let at = position_of(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    let stream = "/api/v1/chats/stream";
    // Bob watches on the first instance; Eve shares no room with Ada.
    let mut bobs = app.events_at(&app.base, &bob, stream, None, at).await;
    let mut eves = app.events_at(&app.base, &eve, stream, None, at).await;
    let adas = app.events_at(&other.base, &ada, stream, None, at).await;
    await_listed(&app, &app.base, &bob, &ada.id, true).await;
    await_listed(&app, &other.base, &bob, &ada.id, true).await;
    assert_eq!(presence_of(&mut bobs, &ada.id).await["online"], true);
    // A reconnect within the grace period does not flap.
    drop(adas);
    let adas = app
        .events(&other.base, &ada, "/api/v1/chats/stream", None)
        .await;
    let quiet_until = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Some(event) = bobs
        .next_within(quiet_until - tokio::time::Instant::now())
        .await
    {
        assert_ne!(
            event.data["user_id"],
            ada.id.as_str(),
            "presence flapped: {event:?}"
        );
    }
    await_listed(&app, &app.base, &bob, &ada.id, true).await;
    // Gone for good: offline on both instances, contacts told, last seen recorded.
    drop(adas);
    await_listed(&app, &app.base, &bob, &ada.id, false).await;
    await_listed(&app, &other.base, &bob, &ada.id, false).await;
    assert_eq!(presence_of(&mut bobs, &ada.id).await["online"], false);
    let search = app
        .get_as(Some(&bob), "/api/v1/users/search?q=Ada", 0)
        .await;
    let found = json(search, StatusCode::OK).await["data"]["items"][0].clone();
    assert_eq!(found["online"], false);
    assert!(found["last_seen_at"].is_string(), "{found}");
    // Eve, no contact of Ada's, heard nothing of her.
    while let Some(event) = eves.next_within(Duration::from_millis(300)).await {
        assert_ne!(event.data["user_id"], ada.id.as_str(), "{event:?}");
    }
    other.stop().await;
    app.stop().await;
}
