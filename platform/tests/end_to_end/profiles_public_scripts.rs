//! Public scripts end to end: admins write, replace, reorder and delete them; every
//! logged-in user reads them; bad ones are refused naming each field.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    error, header, json, position, position_of,
    prompts::public_script,
};

fn texts(script: &Value) -> Vec<(i64, String)> {
    script["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["number"].as_i64().unwrap(),
                s["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `body` sent as the admin with `If-Match`; asserts `200` and returns the position.
async fn change(app: &TestApp, admin: &Account, path: &str, body: &Value, version: i64) -> i64 {
    let response = app
        .as_user(Some(admin), Method::PUT, path)
        .header("If-Match", format!("\"{version}\""))
        .json(body)
        .send()
        .await
        .unwrap();
    let at = position(&response);
    json(response, StatusCode::OK).await;
    at
}

#[tokio::test]
async fn admins_write_reorder_and_delete_public_scripts_every_member_reads() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let ada = app.sign_up("ada@example.com").await;
    let body = json!({
        "name": "Code review", "description": "One file at a time.",
        "scripts": [
            { "number": 2, "text": "Here is the file." },
            { "number": 1, "text": "You are a careful reviewer." },
            { "number": 3, "text": "List the risks first." },
        ],
    });
    let response = app
        .send_as(
            Some(&admin),
            Method::POST,
            "/api/v1/public-scripts",
            Some(&body),
        )
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/public-scripts/1");
    let at = position(&response);
    let listed = app.read_as(&ada, "/api/v1/public-scripts", at).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["script_count"], 3);
    assert!(
        listed["items"][0].get("scripts").is_none(),
        "listings carry no texts"
    );
    let read = app.read_as(&ada, "/api/v1/public-scripts/1", at).await;
    assert_eq!(read["name"], "Code review");
    let numbers: Vec<i64> = texts(&read).iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [1, 2, 3], "by number, whatever order they came in");

    let path = "/api/v1/public-scripts/1/order";
    let at = change(&app, &admin, path, &json!({ "order": [3, 1, 2] }), 1).await;
    let reordered = app.read_as(&ada, "/api/v1/public-scripts/1", at).await;
    assert_eq!(
        texts(&reordered),
        [
            (1, "List the risks first.".to_owned()),
            (2, "You are a careful reviewer.".to_owned()),
            (3, "Here is the file.".to_owned()),
        ]
    );
    let replaced = public_script("Short review", &["Review this."]);
    let at = change(&app, &admin, "/api/v1/public-scripts/1", &replaced, 2).await;
    let read = app.read_as(&ada, "/api/v1/public-scripts/1", at).await;
    assert_eq!(
        (&read["name"], &read["version"]),
        (&json!("Short review"), &json!(3))
    );
    assert_eq!(texts(&read), [(1, "Review this.".to_owned())]);

    let response = app
        .send_as(
            Some(&admin),
            Method::DELETE,
            "/api/v1/public-scripts/1",
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let gone = app
        .get_as(Some(&ada), "/api/v1/public-scripts/1", position(&response))
        .await;
    error(
        gone,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no public script with id 1",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn bad_public_scripts_and_orders_are_refused_naming_each_field() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let body = json!({
        "name": "n".repeat(101),
        "scripts": [
            { "number": 0, "text": "a" }, { "number": 11, "text": "b" },
            { "number": 2, "text": "c" }, { "number": 2, "text": "x".repeat(3001) },
        ],
    });
    let response = app
        .send_as(
            Some(&admin),
            Method::POST,
            "/api/v1/public-scripts",
            Some(&body),
        )
        .await;
    let refused = error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "",
    )
    .await;
    let fields = &refused["details"]["fields"];
    assert_eq!(fields["name"], "must be at most 100 characters, got 101");
    assert_eq!(fields["scripts[0].number"], "must be 1 to 10, got 0");
    assert_eq!(fields["scripts[1].number"], "must be 1 to 10, got 11");
    assert_eq!(fields["scripts[3].number"], "repeats number 2");
    assert_eq!(
        fields["scripts[3].text"],
        "must be at most 3000 characters, got 3001"
    );
    assert!(fields.get("scripts[2].number").is_none(), "{fields}");

    let eleven: Vec<String> = (1..=11).map(|n| format!("step {n}")).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let response = app
        .send_as(
            Some(&admin),
            Method::POST,
            "/api/v1/public-scripts",
            Some(&public_script("Too long", &eleven)),
        )
        .await;
    let refused = error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_INPUT",
        "",
    )
    .await;
    assert_eq!(
        refused["details"]["fields"]["scripts"],
        "must hold 1 to 10 scripts, got 11"
    );

    let created = app
        .create_as(
            &admin,
            "/api/v1/public-scripts",
            &public_script("Ok", &["a", "b"]),
        )
        .await;
    let path = format!("/api/v1/public-scripts/{}/order", created["id"]);
    for order in [json!([1]), json!([1, 3]), json!([2, 2])] {
        let response = app
            .send_as(
                Some(&admin),
                Method::PUT,
                &path,
                Some(&json!({ "order": order })),
            )
            .await;
        let refused = error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_INPUT",
            "order",
        )
        .await;
        assert!(
            refused["details"]["fields"]
                .as_object()
                .unwrap()
                .keys()
                .all(|k| k.starts_with("order"))
        );
    }
    let read = app
        .read_as(
            &admin,
            &format!("/api/v1/public-scripts/{}", created["id"]),
            position_of(&created),
        )
        .await;
    assert_eq!(read["version"], 1, "no refused change was appended");
    app.stop().await;
}
