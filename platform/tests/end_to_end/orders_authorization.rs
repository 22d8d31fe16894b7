//! Who may call which order endpoint: anonymous, the member who placed the order,
//! another member, an admin, and the member once blocked.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::json;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    authorization::Endpoint,
    json,
    orders::{number, order_body},
    position_of,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Owner,
    OtherMember,
    Admin,
    BlockedOwner,
}

/// An endpoint; `{order}` is an order of the owner in the status `needs`, `{member}` the
/// owner's id.
struct OrderEndpoint {
    call: Endpoint,
    needs: &'static [&'static str],
}

fn endpoints() -> Vec<OrderEndpoint> {
    let endpoint = |method, path, body, needs| OrderEndpoint {
        call: Endpoint::new(method, path, body),
        needs,
    };
    vec![
        endpoint(Method::POST, "/api/v1/orders", Some(order_body("Tea")), &[]),
        endpoint(Method::GET, "/api/v1/orders/{order}", None, &[]),
        endpoint(Method::GET, "/api/v1/orders", None, &[]),
        endpoint(Method::GET, "/api/v1/orders?member_id={member}", None, &[]),
        endpoint(Method::POST, "/api/v1/orders/{order}/pay", None, &[]),
        endpoint(Method::POST, "/api/v1/orders/{order}/ship", None, &["pay"]),
        endpoint(
            Method::POST,
            "/api/v1/orders/{order}/deliver",
            None,
            &["pay", "ship"],
        ),
        endpoint(Method::POST, "/api/v1/orders/{order}/cancel", None, &[]),
    ]
}

/// The expected status of each endpoint, in [`endpoints`] order.
fn expected(caller: Caller) -> [u16; 8] {
    match caller {
        Caller::Anonymous | Caller::BlockedOwner => [401; 8],
        Caller::Owner => [201, 200, 200, 200, 200, 403, 403, 200],
        Caller::OtherMember => [201, 403, 200, 403, 403, 403, 403, 403],
        Caller::Admin => [201, 200, 200, 200, 200, 200, 200, 200],
    }
}

#[tokio::test]
async fn every_order_endpoint_answers_each_kind_of_caller_as_it_should() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let mut mismatches = Vec::new();
    for (n, caller) in [
        Caller::Anonymous,
        Caller::Owner,
        Caller::OtherMember,
        Caller::Admin,
        Caller::BlockedOwner,
    ]
    .into_iter()
    .enumerate()
    {
        let owner = app.sign_up(&format!("owner{n}@example.com")).await;
        let mut at = owner.position;
        let mut orders = Vec::new();
        for endpoint in endpoints() {
            let (order, moved) = prepare(&app, &owner, &admin, endpoint.needs).await;
            orders.push(order);
            at = at.max(moved);
        }
        let acting = acting(&app, caller, &owner, &admin, n).await;
        for ((endpoint, order), want) in endpoints().iter().zip(orders).zip(expected(caller)) {
            let path = endpoint
                .call
                .path
                .replace("{order}", &order.to_string())
                .replace("{member}", &owner.id);
            mismatches.extend(
                app.status_mismatch(caller, acting.as_ref(), &endpoint.call, &path, at, want)
                    .await,
            );
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    app.stop().await;
}

/// An order of `owner` moved by the admin through `moves`; returns its number and the
/// position of its last event.
async fn prepare(app: &TestApp, owner: &Account, admin: &Account, moves: &[&str]) -> (i64, i64) {
    let placed = app.place_order(owner, "Lamp").await;
    let mut at = position_of(&placed);
    for action in moves {
        let response = app.move_order(Some(admin), number(&placed), action).await;
        at = position_of(&json(response, StatusCode::OK).await["data"]);
    }
    (number(&placed), at)
}

/// The account that makes the call (None: anonymous).
async fn acting(
    app: &TestApp,
    caller: Caller,
    owner: &Account,
    admin: &Account,
    n: usize,
) -> Option<Account> {
    match caller {
        Caller::Anonymous => None,
        Caller::Owner => Some(owner.clone()),
        Caller::OtherMember => Some(app.sign_up(&format!("other{n}@example.com")).await),
        Caller::Admin => Some(admin.clone()),
        Caller::BlockedOwner => {
            let path = format!("/api/v1/members/{}/block", owner.id);
            let response = app.send_as(Some(admin), Method::POST, &path, None).await;
            assert_eq!(response.status(), StatusCode::OK);
            Some(owner.clone())
        }
    }
}

#[tokio::test]
async fn placing_an_order_for_a_blocked_member_is_refused_and_places_nothing() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let ada = app.sign_up("ada@example.com").await;
    let path = format!("/api/v1/members/{}/block", ada.id);
    json(
        app.send_as(Some(&admin), Method::POST, &path, None).await,
        StatusCode::OK,
    )
    .await;
    let body = json!({ "product_name": "Tea", "quantity": 1, "unit_price": 1 });
    let response = app
        .send_as(Some(&ada), Method::POST, "/api/v1/orders", Some(&body))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE context = 'orders'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(orders, 0);
    app.stop().await;
}
