//! Who may call which chat endpoint: anonymous, a member of the room, a user who is not
//! one, a member an admin blocked, and a member removed from the room.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    authorization::Endpoint,
    chat::room_id,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Member,
    NonMember,
    BlockedMember,
    RemovedMember,
}

/// Every chat route. `{room}` is a group room of its owner `{owner}` with one message;
/// `{caller}` is the calling user, `{outsider}` a user in no room.
fn endpoints() -> Vec<Endpoint> {
    let endpoint = Endpoint::new;
    vec![
        endpoint(Method::GET, "/api/v1/chats", None),
        endpoint(Method::GET, "/api/v1/chats/stream", None),
        endpoint(Method::GET, "/api/v1/chats/{room}", None),
        endpoint(Method::GET, "/api/v1/chats/{room}/stream", None),
        endpoint(Method::GET, "/api/v1/chats/{room}/messages", None),
        endpoint(Method::GET, "/api/v1/chats/{room}/messages/1", None),
        endpoint(Method::GET, "/api/v1/users?online=true", None),
        endpoint(Method::GET, "/api/v1/users/search?q=owner", None),
        endpoint(Method::GET, "/api/v1/users/{owner}/chats", None),
        endpoint(
            Method::POST,
            "/api/v1/chats",
            Some(json!({ "type": "group", "name": "mine", "members": [] })),
        ),
        endpoint(
            Method::POST,
            "/api/v1/chats/{room}/members",
            Some(json!({ "user_id": "{outsider}" })),
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/chats/{room}/members/{caller}",
            None,
        ),
        endpoint(
            Method::POST,
            "/api/v1/chats/{room}/messages",
            Some(json!({ "text": "hello" })),
        ),
        endpoint(
            Method::POST,
            "/api/v1/chats/{room}/read",
            Some(json!({ "seq": 1 })),
        ),
    ]
}

/// The expected status of each endpoint, in [`endpoints`] order.
fn expected(caller: Caller) -> [u16; 14] {
    match caller {
        // Blocking ends the member's sessions: their token is refused everywhere.
        Caller::Anonymous | Caller::BlockedMember => [401; 14],
        Caller::Member => [
            200, 200, 200, 200, 200, 200, 200, 200, 403, 201, 403, 204, 201, 204,
        ],
        Caller::NonMember | Caller::RemovedMember => [
            200, 200, 403, 403, 403, 403, 200, 200, 403, 201, 403, 403, 403, 403,
        ],
    }
}

#[tokio::test]
async fn every_chat_endpoint_answers_each_kind_of_caller_as_it_should() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let owner = app.sign_up("owner@example.com").await;
    let outsider = app.sign_up("outsider@example.com").await;
    let mut mismatches = Vec::new();
    for (n, caller) in [
        Caller::Anonymous,
        Caller::Member,
        Caller::NonMember,
        Caller::BlockedMember,
        Caller::RemovedMember,
    ]
    .into_iter()
    .enumerate()
    {
        let user = app.sign_up(&format!("caller{n}@example.com")).await;
        let member = matches!(
            caller,
            Caller::Member | Caller::BlockedMember | Caller::RemovedMember
        );
        // A fresh room for every call, so no call changes what the next sees.
        let mut rooms = Vec::new();
        for _ in endpoints() {
            rooms.push(prepare(&app, &owner, member.then_some(&user)).await);
        }
        let acting = match caller {
            Caller::Anonymous => None,
            Caller::Member | Caller::NonMember => Some(&user),
            Caller::BlockedMember => {
                let path = format!("/api/v1/members/{}/block", user.id);
                let response = app.send_as(Some(&admin), Method::POST, &path, None).await;
                assert_eq!(response.status(), StatusCode::OK);
                Some(&user)
            }
            Caller::RemovedMember => {
                for room in &rooms {
                    let path = format!("/api/v1/chats/{room}/members/{}", user.id);
                    let response = app.send_as(Some(&owner), Method::DELETE, &path, None).await;
                    assert_eq!(response.status(), StatusCode::NO_CONTENT);
                }
                Some(&user)
            }
        };
        // The user directory waits on the members read model, which in Kafka mode follows
        // the identity events alone: it is asked for the last of those.
        let (at, identity_at) = (head(&app, "chat").await, head(&app, "identity").await);
        for ((mut endpoint, want), room) in endpoints().into_iter().zip(expected(caller)).zip(rooms)
        {
            let fill = |text: &str| {
                text.replace("{room}", &room.to_string())
                    .replace("{owner}", &owner.id)
                    .replace("{outsider}", &outsider.id)
                    .replace("{caller}", &user.id)
            };
            let path = fill(endpoint.path);
            let at = if path.starts_with("/api/v1/users") {
                identity_at
            } else {
                at
            };
            endpoint.body = endpoint
                .body
                .map(|body| serde_json::from_str(&fill(&body.to_string())).unwrap());
            mismatches.extend(
                app.status_mismatch(caller, acting, &endpoint, &path, at, want)
                    .await,
            );
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    app.stop().await;
}

/// A group room of `owner` (with `member` in it, when given) holding one message.
async fn prepare(app: &TestApp, owner: &Account, member: Option<&Account>) -> i64 {
    let members: Vec<String> = member.map(|m| m.id.clone()).into_iter().collect();
    let room = room_id(&app.create_group(owner, "team", &members).await);
    app.say(owner, room, "first").await;
    room
}

/// The last position of `context`: every preparation of it is reflected once the read
/// models reach it.
async fn head(app: &TestApp, context: &str) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events WHERE context = $1")
        .bind(context)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}
