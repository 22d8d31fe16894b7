//! The mail the platform sends on its own: a welcome on registration, a confirmation
//! when an order is placed and a notice when it ships. (That reading the events again
//! requests nothing twice is tested on the reactors themselves, in the projector's tests.)

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{
    TestApp,
    accounts::ADMIN_FLAGS,
    json,
    smtp::{SmtpBehaviour, SmtpServer},
};

const PLATFORM_MAIL: &str = "--platform-mail-enabled=true";

/// The subjects of the mail `address` received, sorted.
fn subjects_to(smtp: &SmtpServer, address: &str) -> Vec<String> {
    let mut subjects: Vec<String> = smtp
        .received()
        .into_iter()
        .filter(|m| m.rcpt_tos == [address])
        .map(|m| m.subject.unwrap_or_default())
        .collect();
    subjects.sort();
    subjects
}

#[tokio::test]
async fn members_are_mailed_on_registration_and_as_their_order_moves_once_each() {
    let smtp = SmtpServer::start(SmtpBehaviour::default()).await;
    let mut extra = vec![PLATFORM_MAIL];
    extra.extend(ADMIN_FLAGS);
    let app = TestApp::spawn_mailing(&smtp, &extra).await;
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let admin = app.admin().await;

    let placed = app
        .as_user(Some(&ada), Method::POST, "/api/v1/orders")
        .json(&json!({ "product_name": "Tea", "quantity": 2, "unit_price": 450 }))
        .send()
        .await
        .unwrap();
    let number = json(placed, StatusCode::CREATED).await["data"]["number"]
        .as_i64()
        .unwrap();
    for (account, action) in [(&ada, "pay"), (&admin, "ship")] {
        let path = format!("/api/v1/orders/{number}/{action}");
        let moved = app
            .as_user(Some(account), Method::POST, &path)
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status(), StatusCode::OK, "{action}");
    }

    // The admin's welcome, then Ada's three.
    smtp.wait_for(4, Duration::from_secs(30)).await;
    let expected = [
        format!("Order #{number} placed"),
        format!("Order #{number} shipped"),
        "Welcome, Ada".to_owned(),
    ];
    assert_eq!(subjects_to(&smtp, "ada@example.com"), expected);
    // The platform's mail belongs to the member it is about.
    let listed = app
        .as_user(Some(&ada), Method::GET, "/api/v1/emails")
        .send()
        .await
        .unwrap();
    let listed = json(listed, StatusCode::OK).await;
    assert_eq!(
        listed["data"]["items"].as_array().unwrap().len(),
        3,
        "{listed}"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.received().len(), 4, "each mail once");
    app.stop().await;
}
