//! The chat page (`GET /chat`) end to end, in a real headless Chromium driven over
//! WebDriver: a user logs in through the form, opens a room, sends a message, sees
//! another member's message arrive live (and another room's unread badge move), sees the
//! server's error when a message is too long, and opens a group and a direct room.
//!
//! Needs Debian's Chromium and its driver (`scripts/ensure-chromium` installs them);
//! without them the test fails, it never skips. The WebDriver client is a few plain HTTP
//! calls over reqwest: `fantoccini` would bring a second `http` major version (0.2, via
//! `webdriver` 0.53) and a second ICU stack for this one test.

use crate::support;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use reqwest::StatusCode;
use serde_json::json;
use support::{
    TestApp,
    browser::{Browser, ChromeDriver},
    chat::room_id,
    json, position_of,
};

/// The texts of the messages the page shows, in order.
const TEXTS: &str = "return [...document.querySelectorAll('#messages [data-seq]')]
    .map((m) => m.querySelector('.text').textContent);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_logs_in_sends_and_sees_messages_arrive_live_in_the_page() {
    let mut driver = ChromeDriver::start();
    driver.ready().await;
    let browser = driver.open_browser().await;
    let app = TestApp::spawn().await;
    let outcome = AssertUnwindSafe(chat_in_the_page(&app, &browser))
        .catch_unwind()
        .await;
    // Always end the browser, the driver (by its guard) and the app, then report.
    browser.quit().await;
    drop(driver);
    app.stop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Ada and Bob share the rooms Engines and Side; Ada uses the page, Bob the API.
async fn chat_in_the_page(app: &TestApp, browser: &Browser) {
    let ada = app.sign_up_named("ada@example.com", "Ada").await;
    let bob = &app.sign_up_named("bob@example.com", "Bob").await;
    let members = [ada.id.clone()];
    let engines = room_id(&app.create_group(bob, "Engines", &members).await);
    let side = room_id(&app.create_group(bob, "Side", &members).await);
    let welcome = app.say(bob, engines, "Welcome, Ada").await;
    // The page lists rooms once at login: let the read models catch up first.
    let rooms = app
        .get_as(Some(&ada), "/api/v1/chats", position_of(&welcome))
        .await;
    assert_eq!(json(rooms, StatusCode::OK).await["data"]["total"], 2);

    browser.goto(&format!("{}/chat", app.base)).await;
    browser.type_into("#email", &ada.email).await;
    browser
        .type_into("#password", support::accounts::PASSWORD)
        .await;
    browser.click("#login").await;
    let engines_button = format!("#rooms [data-room-id=\"{engines}\"]");
    browser
        .wait_until("the rooms are listed", &exists(&engines_button))
        .await;
    browser
        .wait_until(
            "the stream is open",
            "return document.querySelector('#status').dataset.state === 'open';",
        )
        .await;
    browser.click(&engines_button).await;
    browser
        .wait_until("the room's history shows", &texts_are(&["Welcome, Ada"]))
        .await;

    browser.type_into("#text", "Hello from the page").await;
    browser.click("#send").await;
    let shown = ["Welcome, Ada", "Hello from the page"];
    browser
        .wait_until("the sent message shows", &texts_are(&shown))
        .await;
    assert_eq!(browser.eval("return $('text').value;").await, "");

    // Comes over the stream only; after Ada's own message there, so once it shows, that
    // echo has been handled too: each message shows exactly once.
    let live = "<img src=x onerror=alert(1)> live from Bob";
    let said = app.say(bob, engines, live).await;
    browser
        .wait_until(
            "Bob's message arrives live",
            &texts_are(&[shown[0], shown[1], live]),
        )
        .await;
    let path = format!("/api/v1/chats/{engines}/messages");
    let history = app.get_as(Some(bob), &path, position_of(&said)).await;
    let sent = &json(history, StatusCode::OK).await["data"]["items"][1];
    assert_eq!(
        sent["text"], "Hello from the page",
        "the page really sent it"
    );
    assert_eq!(sent["sender_id"], ada.id.as_str());
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#messages img').length;")
            .await,
        0,
        "user text must be shown as text"
    );

    app.say(bob, side, "Psst").await;
    let badge = format!("#rooms [data-room-id=\"{side}\"] .unread");
    browser
        .wait_until(
            "the other room's unread badge counts it",
            &format!("return document.querySelector('{badge}')?.textContent === '1';"),
        )
        .await;

    browser.type_into("#text", &"x".repeat(1001)).await;
    browser.click("#send").await;
    browser
        .wait_until(
            "the server's error shows",
            "return $('error').textContent === 'text must be at most 1000 characters, got 1001';",
        )
        .await;
    assert_eq!(
        browser.eval(TEXTS).await,
        json!([shown[0], shown[1], live]),
        "a refused message must not show"
    );

    // Rooms opened from the page: a group, then a direct room with a user found by name.
    let open_room_is = |name: &str| {
        format!(
            "return $('room-title').textContent === {} \
             && document.querySelector('#rooms [aria-current=\"true\"]')?.textContent === {0};",
            json!(name)
        )
    };
    browser.type_into("#group-name", "Notes").await;
    browser.click("#create-group").await;
    browser
        .wait_until("the new group opens", &open_room_is("Notes"))
        .await;
    browser.type_into("#user-q", "bo").await;
    browser.click("#search").await;
    let found = format!("#users [data-user-id=\"{}\"]", bob.id);
    browser.wait_until("Bob is found", &exists(&found)).await;
    browser.click(&found).await;
    browser
        .wait_until("the direct room with Bob opens", &open_room_is("Bob"))
        .await;
    let rooms = app.get_as(Some(bob), "/api/v1/chats?type=direct", 0).await;
    let rooms = json(rooms, StatusCode::OK).await;
    assert_eq!(
        rooms["data"]["items"][0]["peer"]["user_id"],
        ada.id.as_str()
    );
}

/// A script that is true when `css` matches an element.
fn exists(css: &str) -> String {
    format!("return document.querySelector({}) !== null;", json!(css))
}

/// A script that is true when the page shows exactly these message texts.
fn texts_are(texts: &[&str]) -> String {
    format!(
        "return JSON.stringify((() => {{ {TEXTS} }})()) === {};",
        json!(json!(texts).to_string())
    )
}
