//! One short main flow of every capability, through nginx: writes reach command-api,
//! reads (waiting for the position a write returned) reach either query-api, and the
//! projectors and reactors between them run in processes of their own.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp, accounts::Account, chat::room_id, id, item_path, json, orders::number, position_of,
    prompts::profile, sentry::send_with_python, stack::Stack,
};

pub(super) async fn every_capability_works_through_nginx(stack: &Stack) {
    let app = &stack.app;
    items(app).await;
    let ada = app.sign_up("ada@stack.test").await;
    let bob = app.sign_up("bob@stack.test").await;
    identity(app, &ada).await;
    orders(app, &ada).await;
    board(app, &ada, &bob).await;
    chat(app, &ada, &bob).await;
    email(app, &ada).await;
    errors(app).await;
    prompts(app, &ada).await;
}

async fn items(app: &TestApp) {
    let created = app.create_item("through nginx").await;
    let response = app
        .get_at(&item_path(id(&created)), position_of(&created))
        .await;
    assert_eq!(
        json(response, StatusCode::OK).await["data"]["name"],
        "through nginx"
    );
}

async fn identity(app: &TestApp, ada: &Account) {
    let me = app
        .get_as(Some(ada), "/api/v1/users/me", ada.position)
        .await;
    assert_eq!(
        json(me, StatusCode::OK).await["data"]["email"],
        "ada@stack.test"
    );
}

async fn orders(app: &TestApp, ada: &Account) {
    let placed = app.place_order(ada, "Lamp").await;
    let listed = app.list_orders(ada, "", position_of(&placed)).await;
    let numbers: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(numbers, [number(&placed)]);
}

async fn board(app: &TestApp, ada: &Account, bob: &Account) {
    let body = json!({ "title": "Stack", "content": "Two of everything." });
    let post = app.create_as(ada, "/api/v1/posts", &body).await;
    let path = format!("/api/v1/posts/{}", id(&post));
    let comment = app
        .create_as(
            bob,
            &format!("{path}/comments"),
            &json!({ "content": "Nice." }),
        )
        .await;
    let read = app.read_as(ada, &path, position_of(&comment)).await;
    assert_eq!(
        (&read["title"], &read["comment_count"]),
        (&json!("Stack"), &json!(1))
    );
}

async fn chat(app: &TestApp, ada: &Account, bob: &Account) {
    let room = room_id(
        &app.create_group(ada, "stack", std::slice::from_ref(&bob.id))
            .await,
    );
    let said = app.say(bob, room, "hello through nginx").await;
    let path = format!("/api/v1/chats/{room}/messages");
    let history = app.read_as(ada, &path, position_of(&said)).await;
    let texts: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello through nginx"]);
}

async fn email(app: &TestApp, ada: &Account) {
    let requested = app.request_email(ada, "carol@example.com", "Stack").await;
    // The worker in one of the projectors writes it to the mail folder.
    let sent = app
        .email_in(ada, requested["id"].as_str().unwrap(), "sent")
        .await;
    assert_eq!(sent["subject"], "Stack");
}

async fn errors(app: &TestApp) {
    let admin = app.admin().await;
    let project = app.create_project(&admin, "stack", 600).await;
    // The real Sentry SDK, to the DSN the platform handed out: nginx's address.
    assert!(
        project.dsn.contains(&app.base.replace("http://", "@")),
        "{}",
        project.dsn
    );
    send_with_python(&project.dsn, &["message=stack failure"]).await;
    let path = format!("/api/v1/errors/issues?project={}", project.id);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = app
            .as_user(Some(&admin), Method::GET, &path)
            .send()
            .await
            .unwrap();
        let issues: Value = json(response, StatusCode::OK).await["data"]["items"].clone();
        if let Some(issue) = issues.as_array().unwrap().first() {
            assert_eq!(issue["title"], "stack failure");
            return;
        }
        assert!(Instant::now() < deadline, "no issue from the SDK's report");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn prompts(app: &TestApp, ada: &Account) {
    let created = app
        .create_profile(ada, &profile("en", "Physics", 3, &[], &[]))
        .await;
    let path = format!("/api/v1/profiles/{}", id(&created));
    let view = app.read_as(ada, &path, position_of(&created)).await;
    assert_eq!(view["major"], "Physics");
}
