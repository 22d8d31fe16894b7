//! Live delivery over Server-Sent Events: one stream per user for all their rooms, one
//! per room; resuming with Last-Event-ID without gap or duplicate; access control that
//! takes effect at once.

use crate::support;

use std::time::Duration;

use query_api::chat::pauses::{self, Moment};
use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    chat::{Events, room_id},
    error, json, position_of,
};

/// Ada and Bob, with a group room and their direct room.
struct Pair {
    ada: Account,
    bob: Account,
    team: i64,
    direct: i64,
    /// The position of the later room's creation.
    at: i64,
}

impl Pair {
    async fn of(app: &TestApp) -> Self {
        let ada = app.sign_up("ada@example.com").await;
        let bob = app.sign_up("bob@example.com").await;
        let team = room_id(
            &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
                .await,
        );
        let direct = json(app.open_direct(&bob, &ada.id).await, StatusCode::CREATED).await;
        Self {
            at: position_of(&direct["data"]),
            direct: room_id(&direct["data"]),
            ada,
            bob,
            team,
        }
    }
}

#[tokio::test]
async fn a_users_stream_carries_all_their_rooms_and_a_room_stream_its_own() {
    let app = TestApp::spawn().await;
    let Pair {
        ada,
        bob,
        team,
        direct,
        at,
    } = Pair::of(&app).await;
    let mut all = app
        .events_at(&app.base, &ada, "/api/v1/chats/stream", None, at)
        .await;
    let mut only_team = app
        .events_at(
            &app.base,
            &ada,
            &format!("/api/v1/chats/{team}/stream"),
            None,
            at,
        )
        .await;
    let first = app.say(&bob, team, "in the team").await;
    app.say(&bob, direct, "just us").await;
    app.say(&ada, team, "back in the team").await;
    let event = all.next_of("message").await;
    assert_eq!(event.id, Some(first["position"].to_string()));
    assert_eq!(event.data["room_id"], team);
    assert_eq!(event.data["seq"], 1);
    assert_eq!(event.data["sender_id"], bob.id.as_str());
    assert_eq!(all.texts(2).await, ["just us", "back in the team"]);
    assert_eq!(
        only_team.texts(2).await,
        ["in the team", "back in the team"]
    );
    // A room the user is added to joins their stream at once.
    let cat = app.sign_up("cat@example.com").await;
    let other = room_id(&app.create_group(&cat, "elsewhere", &[]).await);
    let add = app
        .send_as(
            Some(&cat),
            Method::POST,
            &format!("/api/v1/chats/{other}/members"),
            Some(&json!({ "user_id": ada.id })),
        )
        .await;
    assert_eq!(add.status(), StatusCode::OK);
    let joined = all.next_of("member_joined").await;
    assert_eq!(joined.data["room_id"], other);
    app.say(&cat, other, "welcome").await;
    assert_eq!(all.texts(1).await, ["welcome"]);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_reconnects_gets_exactly_what_it_missed_then_live_messages() {
    let app = TestApp::spawn().await;
    let Pair {
        ada,
        bob,
        team,
        direct,
        at,
    } = Pair::of(&app).await;
    let mut stream = app
        .events_at(&app.base, &ada, "/api/v1/chats/stream", None, at)
        .await;
    app.say(&bob, team, "seen 1").await;
    app.say(&bob, direct, "seen 2").await;
    stream.texts(1).await;
    let last_seen = stream.next_of("message").await;
    assert_eq!(last_seen.data["text"], "seen 2");
    drop(stream);
    // Away: messages in both rooms, more than one history chunk's worth in total.
    let mut missed = Vec::new();
    for n in 0..620 {
        let room = if n % 3 == 0 { direct } else { team };
        let text = format!("missed {n}");
        app.say(&bob, room, &text).await;
        missed.push(text);
    }
    let mut resumed = app
        .events(
            &app.base,
            &ada,
            "/api/v1/chats/stream",
            last_seen.id.as_deref(),
        )
        .await;
    // Sent while history streams out: must follow it, once.
    let live = tokio::spawn({
        let app_base = app.base.clone();
        let client = app.client.clone();
        let token = bob.token.clone();
        async move {
            for n in 0..5 {
                client
                    .post(format!("{app_base}/api/v1/chats/{team}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({ "text": format!("live {n}") }))
                    .send()
                    .await
                    .unwrap();
            }
        }
    });
    let mut expected = missed;
    expected.extend((0..5).map(|n| format!("live {n}")));
    let mut positions = Vec::new();
    let mut texts = Vec::new();
    while texts.len() < expected.len() {
        let event = resumed.next_of("message").await;
        positions.push(event.id.clone().unwrap().parse::<i64>().unwrap());
        texts.push(event.data["text"].as_str().unwrap().to_owned());
    }
    live.await.unwrap();
    assert_eq!(
        texts, expected,
        "every missed message once, in order, then live ones"
    );
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "ids rise");
    assert!(
        resumed
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "nothing more: no duplicate"
    );
    app.stop().await;
}

/// Messages that commit while a resuming stream opens, at the two moments where history
/// and live frames meet: before the stream registers with the hub (they must come from
/// history) and after it registered but before its history is read (they come live and
/// must not come from history again). The opening is held at each moment by a pause.
#[tokio::test]
async fn messages_committed_while_a_stream_opens_arrive_once_each_in_order() {
    let app = TestApp::spawn().await;
    let Pair {
        ada,
        bob,
        team,
        direct,
        at,
    } = Pair::of(&app).await;
    let user: uuid::Uuid = ada.id.parse().unwrap();
    // Bob's stream shows when the hub has delivered what he sends.
    let mut bobs = app
        .events_at(&app.base, &bob, "/api/v1/chats/stream", None, at)
        .await;
    let mut first = app
        .events_at(&app.base, &ada, "/api/v1/chats/stream", None, at)
        .await;
    app.say(&bob, team, "seen").await;
    let mut last_seen = first.next_of("message").await.id.unwrap();
    bobs.texts(1).await;
    drop(first);
    for moment in [Moment::BeforeRegistering, Moment::BeforeHistory] {
        app.say(&bob, team, &format!("missed {moment:?}")).await;
        let mut pause = pauses::arm(moment, user);
        let opening = tokio::spawn({
            let (client, base, token, id) = (
                app.client.clone(),
                app.base.clone(),
                ada.token.clone(),
                last_seen.clone(),
            );
            async move {
                client
                    .get(format!("{base}/api/v1/chats/stream"))
                    .bearer_auth(token)
                    .timeout(Duration::from_secs(3600))
                    .header("last-event-id", id)
                    .send()
                    .await
                    .unwrap()
            }
        });
        pause.reached().await;
        let during = [
            (team, format!("during {moment:?} 1")),
            (direct, format!("during {moment:?} 2")),
        ];
        for (room, text) in &during {
            app.say(&bob, *room, text).await;
        }
        // Delivered by the hub (to Bob) while Ada's stream is held.
        let delivered = bobs.texts(3).await;
        assert_eq!(delivered[1..], [during[0].1.clone(), during[1].1.clone()]);
        pause.release();
        let response = opening.await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut resumed = Events::from(response);
        app.say(&bob, team, &format!("after {moment:?}")).await;
        bobs.texts(1).await;
        let mut texts = Vec::new();
        let mut ids = Vec::new();
        while texts.len() < 4 {
            let event = resumed.next_of("message").await;
            ids.push(event.id.unwrap().parse::<i64>().unwrap());
            texts.push(event.data["text"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            texts,
            [
                format!("missed {moment:?}"),
                during[0].1.clone(),
                during[1].1.clone(),
                format!("after {moment:?}"),
            ],
            "each message once, in order"
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids rise: {ids:?}");
        while let Some(event) = resumed.next_within(Duration::from_millis(500)).await {
            assert_ne!(event.kind, "message", "a duplicate: {event:?}");
        }
        last_seen = ids[3].to_string();
    }
    app.stop().await;
}

#[tokio::test]
async fn an_id_that_cannot_be_resumed_from_gets_an_explicit_reset() {
    let app = TestApp::spawn_with(&["--read-wait-timeout-ms=300"]).await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let team = room_id(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    for id in ["not-a-position", "999999"] {
        let mut stream = app
            .events(&app.base, &ada, "/api/v1/chats/stream", Some(id))
            .await;
        let reset = stream.next().await;
        assert_eq!(reset.kind, "reset", "{id}");
        let now = reset.data["position"].as_i64().unwrap();
        assert_eq!(reset.id, Some(now.to_string()));
        // Live messages follow the reset.
        app.say(&bob, team, "after the reset").await;
        assert_eq!(stream.texts(1).await, ["after the reset"]);
    }
    app.stop().await;
}

#[tokio::test]
async fn only_members_follow_a_room_and_a_removed_member_stops_receiving_at_once() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    let team = app
        .create_group(&ada, "team", std::slice::from_ref(&bob.id))
        .await;
    let (at, team) = (position_of(&team), room_id(&team));
    let path = format!("/api/v1/chats/{team}/stream");
    let refused = app.stream_at(&app.base, &eve, &path, None, at).await;
    error(
        refused,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "only members of the room may follow it",
    )
    .await;
    let missing = app
        .stream(&app.base, &eve, "/api/v1/chats/999/stream", None)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let anonymous = app.get("/api/v1/chats/stream").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let mut bobs_room = app.events_at(&app.base, &bob, &path, None, at).await;
    let mut bobs_all = app
        .events_at(&app.base, &bob, "/api/v1/chats/stream", None, at)
        .await;
    app.say(&ada, team, "before").await;
    assert_eq!(bobs_room.texts(1).await, ["before"]);
    assert_eq!(bobs_all.texts(1).await, ["before"]);
    let removed = app
        .send_as(
            Some(&ada),
            Method::DELETE,
            &format!("/api/v1/chats/{team}/members/{}", bob.id),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    app.say(&ada, team, "after").await;
    // The room stream ends; the all-rooms stream tells of the removal and no more.
    assert_eq!(
        bobs_room.next_of("member_left").await.data["user_id"],
        bob.id.as_str()
    );
    bobs_room.end().await;
    let left = bobs_all.next_of("member_left").await;
    assert_eq!(left.data["room_id"], team);
    assert!(
        bobs_all
            .next_within(Duration::from_millis(700))
            .await
            .is_none()
    );
    // History is closed to him too.
    let history = app
        .get_as(Some(&bob), &format!("/api/v1/chats/{team}/messages"), 0)
        .await;
    assert_eq!(history.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn logging_out_closes_the_sessions_streams() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let mut stream = app
        .events(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    let logout = app
        .send_as(
            Some(&ada),
            Method::POST,
            "/api/v1/auth/logout",
            Some(&json!({})),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    stream.end().await;
    let again = app
        .stream(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn blocking_a_user_closes_their_streams() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let bob = app.sign_up("bob@example.com").await;
    let mut stream = app
        .events(&app.base, &bob, "/api/v1/chats/stream", None)
        .await;
    let path = format!("/api/v1/members/{}/block", bob.id);
    let blocked = app
        .send_as(Some(&admin), Method::POST, &path, Some(&json!({})))
        .await;
    assert_eq!(blocked.status(), StatusCode::OK);
    stream.end().await;
    app.stop().await;
}

#[tokio::test]
async fn streams_per_user_are_capped_and_idle_streams_get_heartbeats() {
    let app =
        TestApp::spawn_with(&["--chat-max-streams-per-user=2", "--chat-heartbeat-secs=1"]).await;
    let ada = app.sign_up("ada@example.com").await;
    let mut first = app
        .events(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    let _second = app
        .events(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    let third = app
        .stream(&app.base, &ada, "/api/v1/chats/stream", None)
        .await;
    error(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "too many open streams: at most 2 per user",
    )
    .await;
    assert!(
        first
            .next_within(Duration::from_millis(2500))
            .await
            .is_none()
    );
    assert!(first.comments >= 2, "heartbeats: {}", first.comments);
    // Closing one frees its place.
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = app
            .stream(&app.base, &ada, "/api/v1/chats/stream", None)
            .await;
        if response.status() == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's place stays taken"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}
