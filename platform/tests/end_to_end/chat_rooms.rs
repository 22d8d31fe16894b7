//! Chat rooms: direct rooms unique per pair, group rooms with an owner and at most 100
//! members, and the listings with last message and unread count.

use crate::support;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    TestApp, accounts::ADMIN_FLAGS, chat::room_id, error, header, json, position, position_of,
    unprocessable,
};

#[tokio::test]
async fn a_direct_room_between_two_users_is_unique_even_when_both_ask_at_once() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let asks = (0..10).map(|n| {
        let (from, to) = if n % 2 == 0 {
            (&ada, &bob)
        } else {
            (&bob, &ada)
        };
        app.open_direct(from, &to.id)
    });
    let mut created = 0;
    let mut rooms = Vec::new();
    for response in join_all(asks).await {
        let status = response.status();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
        let data = json(response, status).await;
        rooms.push(data["data"].clone());
    }
    assert_eq!(created, 1, "exactly one request creates the room");
    let first = room_id(&rooms[0]);
    assert!(rooms.iter().all(|room| room_id(room) == first));
    assert_eq!(rooms[0]["type"], "direct");
    assert_eq!(rooms[0]["owner_id"], Value::Null);
    let mut members: Vec<&str> = rooms[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    members.sort();
    let mut expected = [ada.id.as_str(), bob.id.as_str()];
    expected.sort();
    assert_eq!(members, expected);
    // Later, either way round: the same room, 200.
    let again = app.open_direct(&bob, &ada.id).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(header(&again, "location"), format!("/api/v1/chats/{first}"));
    assert_eq!(room_id(&json(again, StatusCode::OK).await["data"]), first);
    app.stop().await;
}

#[tokio::test]
async fn a_direct_room_needs_another_existing_user() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    unprocessable(
        app.open_direct(&ada, &ada.id).await,
        "user_id must be another user",
    )
    .await;
    let nobody = uuid::Uuid::now_v7().to_string();
    let body = error(
        app.open_direct(&ada, &nobody).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        &format!("no such user: {nobody}"),
    )
    .await;
    assert_eq!(body["details"]["unknown_users"], json!([nobody]));
    let unknown_type = json!({ "type": "channel" });
    let response = app
        .send_as(
            Some(&ada),
            Method::POST,
            "/api/v1/chats",
            Some(&unknown_type),
        )
        .await;
    unprocessable(response, "type must be \"direct\" or \"group\"").await;
    app.stop().await;
}

#[tokio::test]
async fn a_group_room_holds_a_hundred_members_and_refuses_the_hundred_and_first() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@example.com").await;
    let seeded = app.seed_users(100).await;
    // 100 others are one too many at creation.
    let body = json!({ "type": "group", "name": "crowd", "members": seeded });
    let response = app
        .send_as(Some(&owner), Method::POST, "/api/v1/chats", Some(&body))
        .await;
    unprocessable(response, "members must name at most 99 others").await;
    let room = app.create_group(&owner, "crowd", &seeded[..98]).await;
    let id = room_id(&room);
    assert_eq!(room["members"].as_array().unwrap().len(), 99);
    assert_eq!(room["owner_id"], owner.id.as_str());
    let (shared, owner) = (&app, &owner);
    let add = |user: &str| {
        let body = json!({ "user_id": user });
        let path = format!("/api/v1/chats/{id}/members");
        async move {
            shared
                .send_as(Some(owner), Method::POST, &path, Some(&body))
                .await
        }
    };
    let hundredth = json(add(&seeded[98]).await, StatusCode::OK).await;
    assert_eq!(hundredth["data"]["members"].as_array().unwrap().len(), 100);
    error(
        add(&seeded[99]).await,
        StatusCode::CONFLICT,
        "CONFLICT",
        "a group room holds at most 100 members",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn owners_add_and_remove_members_anyone_leaves_and_ownership_passes_on() {
    let app = TestApp::spawn().await;
    let owner = app.sign_up("owner@example.com").await;
    let ann = app.sign_up("ann@example.com").await;
    let ben = app.sign_up("ben@example.com").await;
    let room = app
        .create_group(&owner, "team", std::slice::from_ref(&ann.id))
        .await;
    let id = room_id(&room);
    let members = format!("/api/v1/chats/{id}/members");
    let add_ben = json!({ "user_id": ben.id });
    // Only the owner adds.
    let by_ann = app
        .send_as(Some(&ann), Method::POST, &members, Some(&add_ben))
        .await;
    error(
        by_ann,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "only the room's owner may add or remove other members",
    )
    .await;
    let by_outsider = app
        .send_as(Some(&ben), Method::POST, &members, Some(&add_ben))
        .await;
    assert_eq!(by_outsider.status(), StatusCode::FORBIDDEN);
    let added = app
        .send_as(Some(&owner), Method::POST, &members, Some(&add_ben))
        .await;
    let added = json(added, StatusCode::OK).await["data"].clone();
    assert_eq!(added["version"], 2);
    let again = app
        .send_as(Some(&owner), Method::POST, &members, Some(&add_ben))
        .await;
    error(
        again,
        StatusCode::CONFLICT,
        "CONFLICT",
        "the user is a member already",
    )
    .await;
    // A stale If-Match is a conflict.
    let stale = app
        .as_user(
            Some(&owner),
            Method::DELETE,
            &format!("{members}/{}", ben.id),
        )
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    // Ann may not remove Ben, but may leave.
    let removal = app
        .send_as(
            Some(&ann),
            Method::DELETE,
            &format!("{members}/{}", ben.id),
            None,
        )
        .await;
    assert_eq!(removal.status(), StatusCode::FORBIDDEN);
    let left = app
        .send_as(
            Some(&ann),
            Method::DELETE,
            &format!("{members}/{}", ann.id),
            None,
        )
        .await;
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    let gone = app
        .send_as(
            Some(&owner),
            Method::DELETE,
            &format!("{members}/{}", ann.id),
            None,
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    // The owner leaves: Ben, the longest-standing member left, owns the room.
    let owner_left = app
        .send_as(
            Some(&owner),
            Method::DELETE,
            &format!("{members}/{}", owner.id),
            None,
        )
        .await;
    assert_eq!(owner_left.status(), StatusCode::NO_CONTENT);
    let at = position(&owner_left);
    let view = app
        .get_as(Some(&ben), &format!("/api/v1/chats/{id}"), at)
        .await;
    let view = json(view, StatusCode::OK).await["data"].clone();
    assert_eq!(view["owner_id"], ben.id.as_str());
    assert_eq!(view["member_count"], 1);
    assert_eq!(view["members"][0]["user_id"], ben.id.as_str());
    // A direct room's members are fixed.
    let direct = json(app.open_direct(&ann, &ben.id).await, StatusCode::CREATED).await;
    let direct = room_id(&direct["data"]);
    let leave_direct = app
        .send_as(
            Some(&ann),
            Method::DELETE,
            &format!("/api/v1/chats/{direct}/members/{}", ann.id),
            None,
        )
        .await;
    error(
        leave_direct,
        StatusCode::CONFLICT,
        "CONFLICT",
        "a direct room's members do not change",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn listings_show_each_room_with_its_last_message_and_the_callers_unread_count() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let bob = app.sign_up_named("bob@example.com", "Bob").await;
    let eve = app.sign_up("eve@example.com").await;
    // Names come from the members read model, which follows identity apart from chat (in
    // Kafka mode, on its own topic): read the listings once it holds everyone.
    let me = app
        .get_as(Some(&bob), "/api/v1/users/me", bob.position)
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    let group = room_id(
        &app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await,
    );
    let direct = json(app.open_direct(&ada, &bob.id).await, StatusCode::CREATED).await;
    let direct = room_id(&direct["data"]);
    app.say(&ada, group, "one").await;
    app.say(&ada, group, "two").await;
    let last = app.say(&bob, direct, "hi Ada").await;
    let at = position_of(&last);
    let shared = &app;
    let list = |account, query: &str| {
        let path = format!("/api/v1/chats{query}");
        async move {
            json(
                shared.get_as(Some(account), &path, at).await,
                StatusCode::OK,
            )
            .await["data"]
                .clone()
        }
    };
    // Ada: the direct room is the most recently active; Bob wrote in it.
    let mine = list(&ada, "").await;
    assert_eq!(mine["total"], 2);
    assert_eq!(mine["items"][0]["id"], direct);
    assert_eq!(mine["items"][0]["peer"]["name"], "Bob");
    assert_eq!(mine["items"][0]["last_message"]["text"], "hi Ada");
    assert_eq!(mine["items"][0]["unread"], 1);
    assert_eq!(mine["items"][1]["unread"], 0, "one's own messages are read");
    // Bob has two unread in the group, none in the room he wrote last.
    let groups = list(&bob, "?type=group").await;
    assert_eq!(groups["total"], 1);
    assert_eq!(groups["items"][0]["name"], "team");
    assert_eq!(groups["items"][0]["last_message"]["seq"], 2);
    assert_eq!(groups["items"][0]["unread"], 2);
    let directs = list(&bob, "?type=direct").await;
    assert_eq!(directs["items"][0]["unread"], 0);
    // Reading moves the marker.
    let read = app
        .send_as(
            Some(&bob),
            Method::POST,
            &format!("/api/v1/chats/{group}/read"),
            Some(&json!({ "seq": 2 })),
        )
        .await;
    assert_eq!(read.status(), StatusCode::NO_CONTENT);
    let read_at = position(&read);
    let path = format!("/api/v1/users/{}/chats?type=group", bob.id);
    let after = json(app.get_as(Some(&bob), &path, read_at).await, StatusCode::OK).await;
    assert_eq!(after["data"]["items"][0]["unread"], 0);
    let beyond = app
        .send_as(
            Some(&bob),
            Method::POST,
            &format!("/api/v1/chats/{group}/read"),
            Some(&json!({ "seq": 3 })),
        )
        .await;
    unprocessable(beyond, "seq 3 is beyond the room's last message (2)").await;
    // Another user's rooms are theirs and the admins' to see.
    let other = app.get_as(Some(&eve), &path, read_at).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let admin = app.admin().await;
    let by_admin = app.get_as(Some(&admin), &path, read_at).await;
    assert_eq!(json(by_admin, StatusCode::OK).await["data"]["total"], 1);
    // A room by number: members and admins.
    let room = format!("/api/v1/chats/{group}");
    let view = json(app.get_as(Some(&bob), &room, read_at).await, StatusCode::OK).await;
    assert_eq!(view["data"]["members"].as_array().unwrap().len(), 2);
    assert_eq!(view["data"]["members"][0]["name"], "Ada");
    assert_eq!(
        app.get_as(Some(&eve), &room, read_at).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(Some(&admin), &room, read_at).await.status(),
        StatusCode::OK
    );
    let missing = app.get_as(Some(&bob), "/api/v1/chats/999", read_at).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad_type = app
        .get_as(Some(&bob), "/api/v1/chats?type=channel", read_at)
        .await;
    assert_eq!(bad_type.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn user_search_takes_its_text_literally() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up_named("ada@example.com", "Ada Lovelace").await;
    app.sign_up_named("pct@example.com", "100% Real").await;
    let last = app.sign_up_named("under@example.com", "snake_case").await;
    let (shared, ada) = (&app, &ada);
    let search = |q: &str| {
        let path = format!("/api/v1/users/search?q={q}");
        async move {
            let response = shared.get_as(Some(ada), &path, last.position).await;
            let page = json(response, StatusCode::OK).await["data"].clone();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("love").await, ["Ada Lovelace"]);
    // `%` and `_` are characters, not wildcards.
    assert_eq!(search("%25").await, ["100% Real"]);
    assert_eq!(search("_").await, ["snake_case"]);
    assert!(search("a%25e").await.is_empty());
    let empty = app.get_as(Some(ada), "/api/v1/users/search?q=", 0).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let not_online = app.get_as(Some(ada), "/api/v1/users", 0).await;
    assert_eq!(not_online.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}
