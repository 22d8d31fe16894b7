//! Two query-api instances, as behind nginx: each keeps its own caches, and both stay
//! correct because both follow the event stream.

use crate::support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{
    TestApp,
    accounts::Account,
    instances::SHARED_SECRET,
    json,
    orders::{number, numbers},
    position_of,
};

/// `GET {base}{path}` as `account`, once it reflects `position`.
async fn get(app: &TestApp, base: &str, account: &Account, path: &str, position: i64) -> Value {
    let response = app
        .client
        .get(format!("{base}{path}"))
        .bearer_auth(&account.token)
        .header("x-min-position", position.to_string())
        .send()
        .await
        .unwrap();
    json(response, StatusCode::OK).await["data"].clone()
}

#[tokio::test]
async fn a_write_through_one_instance_is_read_through_the_other_past_its_warm_cache() {
    let app = TestApp::spawn_with(&[SHARED_SECRET]).await;
    let other = app.second_query_api().await;
    let ada = app.sign_up("ada@example.com").await;
    let first = app.place_order(&ada, "Tea").await;
    let mut at = position_of(&first);
    for round in 0..5 {
        // Both instances cache the listing and the order as they are now...
        for base in [&app.base, &other.base] {
            for _ in 0..2 {
                get(&app, base, &ada, "/api/v1/orders", at).await;
                get(
                    &app,
                    base,
                    &ada,
                    &format!("/api/v1/orders/{}", number(&first)),
                    at,
                )
                .await;
            }
        }
        // ...then writes go through the platform (an order placed; the first order paid,
        // then cancelled), and each instance must show them at their position.
        let placed = app.place_order(&ada, &format!("Cake {round}")).await;
        at = position_of(&placed);
        let status = match round {
            0 => Some("pay"),
            1 => Some("cancel"),
            _ => None,
        };
        if let Some(action) = status {
            let moved = app.move_order(Some(&ada), number(&first), action).await;
            at = position_of(&json(moved, StatusCode::OK).await["data"]);
        }
        let status = if round == 0 { "PAID" } else { "CANCELLED" };
        for base in [&app.base, &other.base] {
            let page = get(&app, base, &ada, "/api/v1/orders", at).await;
            assert_eq!(
                numbers(&page)[0],
                number(&placed),
                "round {round} at {base}"
            );
            assert_eq!(page["total"], round + 2, "round {round} at {base}");
            let order = get(
                &app,
                base,
                &ada,
                &format!("/api/v1/orders/{}", number(&first)),
                at,
            )
            .await;
            assert_eq!(order["status"], status, "round {round} at {base}");
        }
    }
    other.stop().await;
    app.stop().await;
}
