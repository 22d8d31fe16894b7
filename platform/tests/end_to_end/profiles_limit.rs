//! At most 50 profiles a user, whatever races: the original's "at most 10" let an 11th
//! through; here 20 creations racing at 49 give exactly one 50th.

use crate::support;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestApp, error, position, position_of, prompts::profile};

#[tokio::test]
async fn of_twenty_creations_racing_at_forty_nine_profiles_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    for n in 1..=49 {
        app.create_profile(&ada, &profile("en", &format!("Major {n}"), 1, &[], &[]))
            .await;
    }
    let body = profile("en", "Racing", 1, &[], &[]);
    let racing = (0..20).map(|_| {
        app.as_user(Some(&ada), Method::POST, "/api/v1/profiles")
            .json(&body)
            .send()
    });
    // Every creation counts Ada's profiles before any of them appends.
    let answers = app.with_appends_held(join_all(racing)).await;
    let mut created = Vec::new();
    let mut refused = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::CREATED => created.push(position(&answer)),
            _ => {
                let err = error(
                    answer,
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    "at most 50 profiles",
                )
                .await;
                assert_eq!(err["details"], json!({ "limit": 50, "profiles": 50 }));
                refused += 1;
            }
        }
    }
    assert_eq!((created.len(), refused), (1, 19));
    let listed = app
        .read_as(&ada, "/api/v1/profiles?size=100", created[0])
        .await;
    assert_eq!(listed["total"], 50);

    // The limit is each user's own, and a deletion frees a place.
    let bobs = app.create_profile(&bob, &body).await;
    assert_eq!(bobs["major"], "Racing");
    let over = app
        .send_as(Some(&ada), Method::POST, "/api/v1/profiles", Some(&body))
        .await;
    error(
        over,
        StatusCode::CONFLICT,
        "CONFLICT",
        "at most 50 profiles",
    )
    .await;
    let newest = listed["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/profiles/{newest}");
    let deleted = app.send_as(Some(&ada), Method::DELETE, &path, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again: Value = app.create_profile(&ada, &body).await;
    let listed = app
        .read_as(&ada, "/api/v1/profiles", position_of(&again))
        .await;
    assert_eq!(listed["total"], 50);
    app.stop().await;
}
