//! The errors dashboard (`GET /errors`) end to end, in a real headless Chromium: an admin
//! logs in through the form and sees the latest records, then new ones arrive live;
//! pausing holds them back with a count, resuming shows them; a text filter narrows the
//! tail; the chart counts them per level; the issues list shows the issue, whose page has
//! its stack trace and resolves it, after which it is under the Resolved tab.

use crate::support;

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::json;
use support::{
    TestApp,
    accounts::ADMIN_FLAGS,
    browser::{Browser, ChromeDriver},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_watches_records_arrive_live_and_resolves_an_issue_in_the_page() {
    let mut driver = ChromeDriver::start();
    driver.ready().await;
    let browser = driver.open_browser().await;
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let outcome = AssertUnwindSafe(watch_in_the_page(&app, &browser))
        .catch_unwind()
        .await;
    browser.quit().await;
    drop(driver);
    app.stop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A script that is true when the tail shows a record whose title holds `text`.
fn shows_record(text: &str) -> String {
    format!(
        "return [...document.querySelectorAll('#records .record .title')]\
         .some((t) => t.textContent.includes({}));",
        json!(text)
    )
}

/// The titles the tail shows, in order.
const TITLES: &str = "return [...document.querySelectorAll('#records .record .title')]\
    .map((t) => t.textContent);";

async fn watch_in_the_page(app: &TestApp, browser: &Browser) {
    // Reported before the page opens: the stream starts with it.
    let (disk, _) = app.log_error(0, "Disk full on volume 3").await;

    browser.goto(&format!("{}/errors", app.base)).await;
    browser.type_into("#email", "root@example.com").await;
    browser.type_into("#password", "Rootpass1").await;
    browser.click("#login").await;
    browser
        .wait_until("the latest record is shown", &shows_record("Disk full"))
        .await;
    browser
        .wait_until(
            "the stream is open",
            "return $('status').dataset.state === 'open';",
        )
        .await;

    app.log_error(0, "Queue stalled for 30 s").await;
    browser
        .wait_until("a new record arrives live", &shows_record("Queue stalled"))
        .await;

    // Paused: new records are counted, not shown, until resumed.
    browser.click("#pause").await;
    app.log_error(0, "Cache miss storm").await;
    browser
        .wait_until(
            "the paused page counts what arrived",
            "return $('waiting').textContent === '1 new while paused';",
        )
        .await;
    assert_eq!(
        browser.eval(&shows_record("Cache miss")).await,
        false,
        "a paused tail shows nothing new"
    );
    browser.click("#pause").await;
    browser
        .wait_until("resuming shows what was held", &shows_record("Cache miss"))
        .await;

    // A text filter starts a fresh stream with only the matching records.
    browser.type_into("#q", "queue").await;
    browser.click("#apply").await;
    browser
        .wait_until(
            "only the matching record is left",
            &format!(
                "return JSON.stringify((() => {{ {TITLES} }})()) === {};",
                json!(json!(["Queue stalled for 30 s"]).to_string())
            ),
        )
        .await;

    // The chart counts every record of the last hour per level.
    browser
        .wait_until(
            "the chart counts the three errors",
            "return $('legend').querySelector('[data-level=error]')?.dataset.total === '3';",
        )
        .await;

    // The issue, its stack trace, and resolving it.
    browser
        .wait_until(
            "the open issues list it",
            &format!("return document.querySelector('#issues [data-issue=\"{disk}\"]') !== null;"),
        )
        .await;
    browser
        .click(&format!("#issues [data-issue=\"{disk}\"]"))
        .await;
    browser
        .wait_until(
            "the issue's page opens",
            "return !$('issue').hidden && $('issue-title').textContent === 'Disk full on volume 3';",
        )
        .await;
    browser
        .wait_until(
            "the latest event is shown",
            "return $('stack').textContent.includes('Disk full on volume 3');",
        )
        .await;
    browser.click("#resolve").await;
    browser
        .wait_until(
            "the issue is resolved",
            "return $('issue').dataset.status === 'resolved';",
        )
        .await;
    browser.click(".tabs [data-status=resolved]").await;
    browser
        .wait_until(
            "the Resolved tab lists it",
            &format!("return document.querySelector('#issues [data-issue=\"{disk}\"]') !== null;"),
        )
        .await;
    assert_eq!(
        browser.eval("return $('error').textContent;").await,
        "",
        "the page showed no error"
    );
}
