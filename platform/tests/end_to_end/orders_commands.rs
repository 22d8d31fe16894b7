//! Placing orders and moving them through the status machine, end to end.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::ADMIN_FLAGS,
    error, header, json,
    orders::{number, order_body},
    position, position_of, unprocessable,
};

#[tokio::test]
async fn placing_an_order_numbers_it_and_records_the_member_and_date() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let before = time::OffsetDateTime::now_utc();
    let body =
        json!({ "product_name": "  Keyboard ", "quantity": 3, "unit_price": 4990, "note": "gift" });
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/orders", Some(&body))
        .await;
    assert_eq!(header(&response, "location"), "/api/v1/orders/1");
    assert_eq!(header(&response, "etag"), "\"1\"");
    let at = position(&response);
    let data = json(response, StatusCode::CREATED).await["data"].clone();
    assert_eq!(data["number"], 1);
    assert_eq!(data["member_id"], ada.id.as_str());
    assert_eq!(data["product_name"], "Keyboard");
    assert_eq!(data["total_price"], 3 * 4990);
    assert_eq!(data["status"], "PLACED");
    assert_eq!(position_of(&data), at);
    let placed_at = time::OffsetDateTime::parse(
        data["placed_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(placed_at >= before - time::Duration::seconds(1));
    let second = app.place_order(&ada, "Mouse").await;
    assert_eq!(number(&second), 2, "order numbers are sequential");
    // The read model holds what the command answered.
    let read = app
        .get_as(Some(&ada), "/api/v1/orders/1", position_of(&second))
        .await;
    let read = json(read, StatusCode::OK).await["data"].clone();
    assert_eq!(read["placed_at"], data["placed_at"]);
    assert_eq!(read["note"], "gift");
    app.stop().await;
}

#[tokio::test]
async fn invalid_orders_are_refused_with_every_broken_rule() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let place = |body: serde_json::Value| {
        let ada = ada.clone();
        let app = &app;
        async move {
            app.send_as(Some(&ada), Method::POST, "/api/v1/orders", Some(&body))
                .await
        }
    };
    let long = "가".repeat(201);
    let response = place(json!({ "product_name": long, "quantity": 1001, "unit_price": -1 })).await;
    let refused = unprocessable(response, "product_name must be at most 200 characters").await;
    let fields = &refused["details"]["fields"];
    assert!(
        fields["quantity"]
            .as_str()
            .unwrap()
            .contains("between 1 and 1000")
    );
    assert!(fields["unit_price"].is_string());
    let response = place(json!({ "product_name": "Tea", "quantity": 0, "unit_price": 1 })).await;
    unprocessable(response, "quantity must be between 1 and 1000").await;
    let response =
        place(json!({ "product_name": "Tea", "quantity": "two", "unit_price": 1 })).await;
    unprocessable(response, "invalid type").await;
    let response = place(json!({ "product_name": "Tea", "unit_price": 1 })).await;
    unprocessable(response, "missing field `quantity`").await;
    let response =
        place(json!({ "product_name": "Tea", "quantity": 1, "unit_price": 1, "status": "PAID" }))
            .await;
    unprocessable(response, "unknown field `status`").await;
    let response = app
        .as_user(Some(&ada), Method::POST, "/api/v1/orders")
        .header("content-type", "application/json")
        .body("{\"product_name\":")
        .send()
        .await
        .unwrap();
    error(
        response,
        StatusCode::BAD_REQUEST,
        "INVALID_INPUT",
        "malformed JSON",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn an_order_goes_through_its_whole_life_and_each_move_is_recorded() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let admin = app.admin().await;
    let order = number(&app.place_order(&ada, "Lamp").await);
    let steps = [
        (&ada, "pay", "PAID", "paid_at"),
        (&admin, "ship", "SHIPPED", "shipped_at"),
        (&admin, "deliver", "DELIVERED", "delivered_at"),
    ];
    for (version, (who, action, status, stamp)) in (2..).zip(steps) {
        let response = app.move_order(Some(who), order, action).await;
        assert_eq!(header(&response, "etag"), format!("\"{version}\""));
        let data = json(response, StatusCode::OK).await["data"].clone();
        assert_eq!(
            (&data["status"], &data["version"]),
            (&json!(status), &json!(version))
        );
        let path = format!("/api/v1/orders/{order}");
        let read = app.get_as(Some(&ada), &path, position_of(&data)).await;
        let read = json(read, StatusCode::OK).await["data"].clone();
        assert_eq!(read["status"], status);
        assert!(read[stamp].is_string(), "{stamp} is set: {read}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_move_the_machine_does_not_allow_is_a_conflict_naming_the_current_status() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let admin = app.admin().await;
    let order = number(&app.place_order(&ada, "Lamp").await);
    let response = app.move_order(Some(&admin), order, "deliver").await;
    let err = error(response, StatusCode::CONFLICT, "CONFLICT", "is PLACED").await;
    assert_eq!(err["details"]["current_status"], "PLACED");
    json(
        app.move_order(Some(&ada), order, "cancel").await,
        StatusCode::OK,
    )
    .await;
    for action in ["pay", "cancel"] {
        let response = app.move_order(Some(&ada), order, action).await;
        let err = error(response, StatusCode::CONFLICT, "CONFLICT", "is CANCELLED").await;
        assert_eq!(err["details"]["current_status"], "CANCELLED");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_paid_order_can_be_cancelled_but_a_shipped_one_cannot() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let ada = app.sign_up("ada@example.com").await;
    let admin = app.admin().await;
    let paid = number(&app.place_order(&ada, "Lamp").await);
    json(
        app.move_order(Some(&ada), paid, "pay").await,
        StatusCode::OK,
    )
    .await;
    let cancelled = json(
        app.move_order(Some(&ada), paid, "cancel").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cancelled["data"]["status"], "CANCELLED");
    let shipped = number(&app.place_order(&ada, "Desk").await);
    json(
        app.move_order(Some(&ada), shipped, "pay").await,
        StatusCode::OK,
    )
    .await;
    json(
        app.move_order(Some(&admin), shipped, "ship").await,
        StatusCode::OK,
    )
    .await;
    let response = app.move_order(Some(&admin), shipped, "cancel").await;
    error(response, StatusCode::CONFLICT, "CONFLICT", "is SHIPPED").await;
    app.stop().await;
}

#[tokio::test]
async fn of_two_concurrent_moves_of_one_order_one_wins_and_the_other_hears_why_not() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    for round in 0..5 {
        let order = number(&app.place_order(&ada, &format!("Lamp {round}")).await);
        let (pay, cancel) = app
            .with_appends_held(async {
                tokio::join!(
                    app.move_order(Some(&ada), order, "pay"),
                    app.move_order(Some(&ada), order, "cancel"),
                )
            })
            .await;
        let statuses = [pay.status(), cancel.status()];
        assert!(
            statuses.contains(&StatusCode::OK) && statuses.contains(&StatusCode::CONFLICT),
            "round {round}: {statuses:?}"
        );
        let (winner, loser) = if pay.status() == StatusCode::OK {
            (pay, cancel)
        } else {
            (cancel, pay)
        };
        let won = json(winner, StatusCode::OK).await["data"]["status"].clone();
        let err = json(loser, StatusCode::CONFLICT).await["error"].clone();
        assert_eq!(err["details"]["current_status"], won, "round {round}");
    }
    app.stop().await;
}

#[tokio::test]
async fn two_concurrent_payments_pay_once() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let order = number(&app.place_order(&ada, "Lamp").await);
    let (first, second) = app
        .with_appends_held(async {
            tokio::join!(
                app.move_order(Some(&ada), order, "pay"),
                app.move_order(Some(&ada), order, "pay"),
            )
        })
        .await;
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
        .bind(format!("order-{order}"))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(events, 2, "placed and paid once");
    app.stop().await;
}

#[tokio::test]
async fn if_match_with_a_stale_version_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let order = number(&app.place_order(&ada, "Lamp").await);
    let path = format!("/api/v1/orders/{order}/pay");
    let stale = app
        .as_user(Some(&ada), Method::POST, &path)
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    let err = error(stale, StatusCode::CONFLICT, "CONFLICT", "stale").await;
    assert_eq!(err["details"]["current_version"], 1);
    let current = app
        .as_user(Some(&ada), Method::POST, &path)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    json(current, StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn a_retried_placement_with_the_same_key_places_one_order() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let place = || {
        app.as_user(Some(&ada), Method::POST, "/api/v1/orders")
            .header("Idempotency-Key", "order-once")
            .json(&order_body("Lamp"))
            .send()
    };
    let first = json(place().await.unwrap(), StatusCode::CREATED).await["data"].clone();
    let again = json(place().await.unwrap(), StatusCode::CREATED).await["data"].clone();
    assert_eq!(first, again);
    let other = app.sign_up("bob@example.com").await;
    // Keys are scoped to the caller: another member's identical key is a new order.
    let theirs = app
        .as_user(Some(&other), Method::POST, "/api/v1/orders")
        .header("Idempotency-Key", "order-once")
        .json(&order_body("Lamp"))
        .send()
        .await
        .unwrap();
    assert_eq!(number(&json(theirs, StatusCode::CREATED).await["data"]), 2);
    app.stop().await;
}

#[tokio::test]
async fn unknown_orders_and_actions_are_not_found() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let order = number(&app.place_order(&ada, "Lamp").await);
    let response = app.move_order(Some(&ada), 999, "pay").await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no order with number 999",
    )
    .await;
    let response = app.move_order(Some(&ada), order, "refund").await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no order action",
    )
    .await;
    let response = app.move_order(Some(&ada), order, "PAY").await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no order action",
    )
    .await;
    let response = app.get_as(Some(&ada), "/api/v1/orders/999", 0).await;
    error(
        response,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no order with number 999",
    )
    .await;
    let response = app.get_as(Some(&ada), "/api/v1/orders/abc", 0).await;
    error(response, StatusCode::BAD_REQUEST, "INVALID_INPUT", "").await;
    app.stop().await;
}
