//! Requesting, seeing and cancelling emails: bad input refused before anything is
//! appended, another user's email invisible, the per-user limit, retries of a request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    TestApp, error, header, json,
    smtp::{SmtpBehaviour, SmtpServer},
    unprocessable,
};

async fn email_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE context = 'email'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_appended() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let fifty_one: Vec<String> = (0..51).map(|n| format!("r{n}@example.com")).collect();
    let cases: [(Value, &str); 5] = [
        (
            json!({ "to": ["bob@example.com"], "subject": "Hi\r\nBcc: eve@example.com", "text": "x" }),
            "subject",
        ),
        (
            json!({ "to": fifty_one, "subject": "Hi", "text": "x" }),
            "to",
        ),
        (
            json!({ "to": ["bob@example.com"], "subject": "", "text": "x" }),
            "subject",
        ),
        (
            json!({ "to": ["bob@"], "subject": "Hi", "text": "x" }),
            "to[0]",
        ),
        (json!({ "to": [], "subject": "Hi", "text": "x" }), "to"),
    ];
    for (body, field) in cases {
        let error = unprocessable(app.post_email(&ada, &body, None).await, "").await;
        assert!(
            error["details"]["fields"][field].is_string(),
            "{field} is not named: {error}"
        );
    }
    assert_eq!(email_events(&app).await, 0, "nothing was appended");
    app.stop().await;
}

#[tokio::test]
async fn another_user_can_neither_see_nor_cancel_someone_s_email() {
    // A server that is down keeps the email waiting, and a long pause after the first
    // failure keeps it retrying (not sending) while it is cancelled.
    let mut smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    smtp.stop().await;
    let app = TestApp::spawn_mailing(&smtp, &["--email-retry-base-ms=60000"]).await;
    let ada = app.sign_up("ada@example.com").await;
    let eve = app.sign_up("eve@example.com").await;
    let id = app.request_email(&ada, "bob@example.com", "Private").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/emails/{id}");
    app.email_in(&ada, &id, "retrying").await;

    let seen = app
        .as_user(Some(&eve), Method::GET, &path)
        .send()
        .await
        .unwrap();
    error(seen, StatusCode::NOT_FOUND, "NOT_FOUND", "").await;
    let cancel = format!("{path}/cancel");
    let cancelled = app
        .as_user(Some(&eve), Method::POST, &cancel)
        .send()
        .await
        .unwrap();
    error(cancelled, StatusCode::NOT_FOUND, "NOT_FOUND", "").await;
    let listed = app
        .as_user(Some(&eve), Method::GET, "/api/v1/emails")
        .send()
        .await
        .unwrap();
    let listed = json(listed, StatusCode::OK).await;
    assert_eq!(listed["data"]["items"], json!([]), "{listed}");

    let cancelled = app
        .as_user(Some(&ada), Method::POST, &cancel)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(cancelled, StatusCode::OK).await["data"]["status"],
        "cancelled"
    );
    app.email_in(&ada, &id, "cancelled").await;
    smtp.restart(SmtpBehaviour::default()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        smtp.received().is_empty(),
        "a cancelled email is never sent"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_user_over_the_email_limit_is_told_when_to_come_back() {
    let app = TestApp::spawn_with(&["--email-rate-limit-per-minute=2"]).await;
    let ada = app.sign_up("ada@example.com").await;
    for n in 0..2 {
        app.request_email(&ada, "bob@example.com", &format!("Within {n}"))
            .await;
    }
    let body = json!({ "to": ["bob@example.com"], "subject": "Over", "text": "x" });
    let response = app.post_email(&ada, &body, None).await;
    let retry_after: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    error(response, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "").await;

    // Another user has a limit of their own.
    let bob = app.sign_up("bob@example.com").await;
    app.request_email(&bob, "ada@example.com", "Mine").await;
    app.stop().await;
}

#[tokio::test]
async fn a_request_sent_again_with_its_key_is_answered_with_the_same_email() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let body = json!({ "to": ["bob@example.com"], "subject": "Once", "text": "x" });
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = app.post_email(&ada, &body, Some("mail-1")).await;
        let location = header(&response, "location");
        let data = json(response, StatusCode::ACCEPTED).await["data"].clone();
        assert_eq!(
            location,
            format!("/api/v1/emails/{}", data["id"].as_str().unwrap())
        );
        answers.push(data["id"].clone());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(email_events_requested(&app).await, 1);
    app.stop().await;
}

async fn email_events_requested(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'EmailRequested'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}
