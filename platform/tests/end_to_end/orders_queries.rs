//! Order listings: whose orders, filters, totals, paging by number and by cursor, and
//! caches that follow the order events.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use support::{
    TestApp,
    accounts::{ADMIN_FLAGS, Account},
    bad_request, error, header, json,
    orders::{number, numbers},
    position_of,
};

/// Places `count` orders for `account`; returns their numbers and the last position.
async fn place(app: &TestApp, account: &Account, count: usize) -> (Vec<i64>, i64) {
    let mut placed = Vec::new();
    let mut at = 0;
    for n in 0..count {
        let data = app.place_order(account, &format!("Product {n}")).await;
        placed.push(number(&data));
        at = position_of(&data);
    }
    (placed, at)
}

#[tokio::test]
async fn a_member_lists_their_own_orders_newest_first_and_an_admin_everyones() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let (adas, _) = place(&app, &ada, 3).await;
    let (bobs, at) = place(&app, &bob, 2).await;
    let page = app.list_orders(&ada, "", at).await;
    let newest_first: Vec<i64> = adas.iter().rev().copied().collect();
    assert_eq!(numbers(&page), newest_first);
    assert_eq!(
        (&page["total"], &page["total_pages"]),
        (&3.into(), &1.into())
    );
    let all = app.list_orders(&admin, "", at).await;
    assert_eq!(all["total"], 5);
    let only_bob = app
        .list_orders(&admin, &format!("member_id={}", bob.id), at)
        .await;
    assert_eq!(
        numbers(&only_bob),
        bobs.iter().rev().copied().collect::<Vec<_>>()
    );
    let own = app
        .list_orders(&ada, &format!("member_id={}", ada.id), at)
        .await;
    assert_eq!(own["total"], 3);
    let response = app
        .get_as(
            Some(&ada),
            &format!("/api/v1/orders?member_id={}", bob.id),
            at,
        )
        .await;
    error(
        response,
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "their own orders",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn status_filters_and_totals_follow_the_status_machine() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let admin = app.admin().await;
    let ada = app.sign_up("ada@example.com").await;
    let (orders, _) = place(&app, &ada, 4).await;
    json(
        app.move_order(Some(&ada), orders[0], "pay").await,
        StatusCode::OK,
    )
    .await;
    json(
        app.move_order(Some(&ada), orders[1], "pay").await,
        StatusCode::OK,
    )
    .await;
    json(
        app.move_order(Some(&admin), orders[1], "ship").await,
        StatusCode::OK,
    )
    .await;
    let cancelled = app.move_order(Some(&ada), orders[2], "cancel").await;
    let at = position_of(&json(cancelled, StatusCode::OK).await["data"]);
    for (status, expected) in [
        ("PLACED", vec![orders[3]]),
        ("PAID", vec![orders[0]]),
        ("SHIPPED", vec![orders[1]]),
        ("CANCELLED", vec![orders[2]]),
        ("DELIVERED", vec![]),
    ] {
        let page = app.list_orders(&ada, &format!("status={status}"), at).await;
        assert_eq!(numbers(&page), expected, "{status}");
        assert_eq!(page["total"], expected.len(), "{status}");
        let everyone = app
            .list_orders(&admin, &format!("status={status}"), at)
            .await;
        assert_eq!(
            everyone["total"],
            expected.len(),
            "{status} over every member"
        );
    }
    assert_eq!(app.list_orders(&ada, "", at).await["total"], 4);
    app.stop().await;
}

#[tokio::test]
async fn a_date_range_narrows_the_listing_and_its_total() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (orders, at) = place(&app, &ada, 3).await;
    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let page = app
        .list_orders(&ada, &format!("from={today}&to={tomorrow}"), at)
        .await;
    assert_eq!(page["total"], 3);
    let page = app.list_orders(&ada, &format!("from={tomorrow}"), at).await;
    assert_eq!((numbers(&page), &page["total"]), (vec![], &0.into()));
    let page = app.list_orders(&ada, &format!("to={today}"), at).await;
    assert_eq!(page["total"], 0);
    // An RFC 3339 time (the offset's '+' encoded) works as well as a date.
    let first = app
        .get_as(Some(&ada), &format!("/api/v1/orders/{}", orders[0]), at)
        .await;
    let placed_at = json(first, StatusCode::OK).await["data"]["placed_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = app
        .list_orders(&ada, &format!("from={}", placed_at.replace('+', "%2B")), at)
        .await;
    assert!(numbers(&page).contains(&orders[0]));
    app.stop().await;
}

#[tokio::test]
async fn cursors_walk_every_order_once_in_either_order_and_pages_agree() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (orders, at) = place(&app, &ada, 25).await;
    for (sort, expected) in [
        ("newest", orders.iter().rev().copied().collect::<Vec<_>>()),
        ("oldest", orders.clone()),
    ] {
        let mut seen = Vec::new();
        let mut query = format!("size=10&sort={sort}");
        let mut pages = 0;
        loop {
            let page = app.list_orders(&ada, &query, at).await;
            pages += 1;
            seen.extend(numbers(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("size=10&cursor={cursor}"),
                None => break,
            }
            assert!(
                page["total"].is_null() || pages == 1,
                "cursor pages carry no total"
            );
        }
        assert_eq!(seen, expected, "{sort}");
        assert_eq!(pages, 3);
        let third = app
            .list_orders(&ada, &format!("size=10&page=3&sort={sort}"), at)
            .await;
        assert_eq!(numbers(&third), expected[20..].to_vec());
        assert!(third["next_cursor"].is_null());
        assert_eq!(
            (&third["total"], &third["total_pages"]),
            (&25.into(), &3.into())
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_listing_parameters_are_refused_precisely() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let list = |query: &'static str| {
        let ada = ada.clone();
        let app = &app;
        async move {
            app.get_as(Some(&ada), &format!("/api/v1/orders?{query}"), 0)
                .await
        }
    };
    bad_request(list("status=paid").await, "status must be one of").await;
    bad_request(list("sort=sideways").await, "sort must be newest or oldest").await;
    bad_request(list("size=101").await, "size must be between 1 and 100").await;
    bad_request(list("page=0").await, "page must be 1 or more").await;
    bad_request(list("cursor=bm90IGEgY3Vyc29y").await, "cursor is not one").await;
    bad_request(list("page=2&cursor=abc").await, "either page or cursor").await;
    bad_request(list("member_id=42").await, "member_id").await;
    bad_request(
        list("from=yesterday").await,
        "from must be an RFC 3339 time",
    )
    .await;
    bad_request(
        list("from=2026-12-02&to=2026-12-01").await,
        "from must be before to",
    )
    .await;
    let response = app.get("/api/v1/orders").await;
    error(
        response,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "access token",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_cached_listing_reflects_a_new_order_and_a_move_at_their_positions() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let (orders, at) = place(&app, &ada, 2).await;
    for _ in 0..3 {
        app.list_orders(&ada, "", at).await;
    }
    let newer = app.place_order(&ada, "Newer").await;
    let page = app.list_orders(&ada, "", position_of(&newer)).await;
    assert_eq!(numbers(&page)[0], number(&newer));
    assert_eq!(page["total"], 3);
    let paid = app.move_order(Some(&ada), orders[0], "pay").await;
    let at = position_of(&json(paid, StatusCode::OK).await["data"]);
    let page = app.list_orders(&ada, "status=PAID", at).await;
    assert_eq!(numbers(&page), vec![orders[0]]);
    let order = app
        .get_as(Some(&ada), &format!("/api/v1/orders/{}", orders[0]), at)
        .await;
    assert_eq!(json(order, StatusCode::OK).await["data"]["status"], "PAID");
    app.stop().await;
}

#[tokio::test]
async fn one_members_order_leaves_other_members_cached_pages_in_place() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let bob = app.sign_up("bob@example.com").await;
    let (_, at) = place(&app, &bob, 1).await;
    app.list_orders(&bob, "", at).await;
    let hits = page_hits(&app).await;
    app.list_orders(&bob, "", at).await;
    assert_eq!(page_hits(&app).await, hits + 1, "bob's page is cached");
    let adas = app.place_order(&ada, "Tea").await;
    app.list_orders(&ada, "", position_of(&adas)).await;
    let hits = page_hits(&app).await;
    app.list_orders(&bob, "", position_of(&adas)).await;
    assert_eq!(
        page_hits(&app).await,
        hits + 1,
        "ada's order does not retire bob's page"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("cache_hit_ratio{cache=\"order_pages\"}"),
        "the hit ratio is exported"
    );
    app.stop().await;
}

/// Hits of the order-page cache so far.
async fn page_hits(app: &TestApp) -> u64 {
    let metrics = app.metrics().await;
    metrics
        .lines()
        .find(|line| {
            line.starts_with("cache_requests_total{cache=\"order_pages\",outcome=\"hit\"}")
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0, |count| count.parse().unwrap())
}

#[tokio::test]
async fn an_order_carries_its_version_as_etag_and_answers_not_modified() {
    let app = TestApp::spawn().await;
    let ada = app.sign_up("ada@example.com").await;
    let placed = app.place_order(&ada, "Lamp").await;
    let path = format!("/api/v1/orders/{}", number(&placed));
    let response = app.get_as(Some(&ada), &path, position_of(&placed)).await;
    assert_eq!(header(&response, "etag"), "\"1\"");
    let body: Value = json(response, StatusCode::OK).await;
    assert_eq!(body["data"]["total_price"], 2500);
    let unchanged = app
        .as_user(Some(&ada), Method::GET, &path)
        .header("If-None-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    app.stop().await;
}
