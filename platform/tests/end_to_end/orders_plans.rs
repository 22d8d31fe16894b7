//! The order listings use their indexes on a table of a million orders: each shape of
//! listing is planned as an index walk in sort order (no sort, no bitmap scan, whose
//! rows come out of order), never a scan of the whole table.

use event_log::testing::TestDatabase;
use query_api::orders::{
    listing::{Cursor, OrderSearch, Sort},
    queries::listing_query,
};
use schemas::identity::Role;
use serde_json::Value;
use service_kit::auth::Caller;
use time::OffsetDateTime;
use uuid::Uuid;

const ORDERS: i64 = 1_000_000;
const MEMBERS: i64 = 10_000;
/// Orders of the member the member listings are planned for: a page must not cost what
/// sorting all of a busy member's orders would.
const BUSY: i64 = 50_000;
const BY_MEMBER: &[&str] = &["orders_by_member"];
/// A busy member's orders (one in twenty) are found about as soon by walking the dates and
/// skipping the others' as by their own index: the planner's pick between the two turns
/// on its sample of the table, and either reads about a page's worth of rows.
const BY_BUSY_MEMBER: &[&str] = &["orders_by_member", "orders_by_date"];
const BY_DATE: &[&str] = &["orders_by_date"];
const BY_STATUS_OR_DATE: &[&str] = &["orders_by_status", "orders_by_date"];

/// The member of order `n` in the seeded table.
fn member(n: i64) -> Uuid {
    Uuid::from_u128(1 + (n % MEMBERS) as u128)
}

/// The member with [`BUSY`] orders of their own.
fn busy_member() -> Uuid {
    Uuid::from_u128(1 + MEMBERS as u128)
}

/// A million orders over ten thousand members and a year, a busy member's on top, with
/// their counts.
async fn seed(db: &TestDatabase) {
    sqlx::query(
        "INSERT INTO orders (number, member_id, product_name, quantity, unit_price, total_price, \
             note, status, version, placed_at, updated_at) \
         SELECT n, ('00000000-0000-0000-0000-' || lpad(to_hex(1 + n % $2), 12, '0'))::uuid, \
             'Product ' || n % 997, 1 + n % 5, 100, 100 * (1 + n % 5), '', \
             (ARRAY['PLACED','PAID','SHIPPED','DELIVERED','CANCELLED'])[1 + n % 5], 1, \
             timestamptz '2026-01-01' + n * interval '30 seconds', \
             timestamptz '2026-01-01' + n * interval '30 seconds' \
         FROM generate_series(1, $1) AS n",
    )
    .bind(ORDERS)
    .bind(MEMBERS)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO orders (number, member_id, product_name, quantity, unit_price, total_price, \
             note, status, version, placed_at, updated_at) \
         SELECT $1 + n, $3, 'Product ' || n % 997, 1, 100, 100, '', \
             (ARRAY['PLACED','PAID','SHIPPED','DELIVERED','CANCELLED'])[1 + n % 5], 1, \
             timestamptz '2026-01-01' + n * interval '10 minutes', \
             timestamptz '2026-01-01' + n * interval '10 minutes' \
         FROM generate_series(1, $2) AS n",
    )
    .bind(ORDERS)
    .bind(BUSY)
    .bind(busy_member())
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO order_totals (member_id, status, orders) \
         SELECT member_id, status, count(*) FROM orders GROUP BY member_id, status \
         UNION ALL SELECT '00000000-0000-0000-0000-000000000000', status, count(*) \
         FROM orders GROUP BY status",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE orders, order_totals")
        .execute(&db.pool)
        .await
        .unwrap();
}

fn caller(role: Role) -> Caller {
    Caller {
        user_id: busy_member(),
        session_id: Uuid::nil(),
        role,
    }
}

fn search(query: &str) -> OrderSearch {
    serde_urlencoded(query)
}

/// Parses a query string as axum's `Query` would.
fn serde_urlencoded(query: &str) -> OrderSearch {
    let uri: axum::http::Uri = format!("/api/v1/orders?{query}").parse().unwrap();
    axum::extract::Query::<OrderSearch>::try_from_uri(&uri)
        .unwrap()
        .0
}

/// Every node of a JSON plan, depth first.
fn nodes(plan: &Value) -> Vec<&Value> {
    let mut all = vec![plan];
    for child in plan["Plans"].as_array().into_iter().flatten() {
        all.extend(nodes(child));
    }
    all
}

/// Why the page of a listing (the `LIMIT` over `orders`) is not read by walking one of
/// `indexes` in sort order, if it is not. The page's final sort by the same keys, above
/// the limit, orders a page's worth of rows and is no concern.
fn not_a_walk(root: &Value, indexes: &[&str]) -> Option<String> {
    let Some(page) = nodes(root).into_iter().find(|node| {
        node["Node Type"] == "Limit"
            && nodes(node)
                .iter()
                .any(|below| below["Relation Name"] == "orders")
    }) else {
        return Some("no page (a LIMIT over orders)".to_owned());
    };
    let below = nodes(page);
    let kinds: Vec<&str> = below
        .iter()
        .filter_map(|node| node["Node Type"].as_str())
        .collect();
    if let Some(sort) = kinds.iter().find(|kind| kind.ends_with("Sort")) {
        return Some(format!("a {sort} under the page's limit"));
    }
    if let Some(bitmap) = kinds.iter().find(|kind| kind.starts_with("Bitmap")) {
        return Some(format!("a {bitmap} (rows out of index order)"));
    }
    let walks = below.iter().any(|node| {
        matches!(
            node["Node Type"].as_str(),
            Some("Index Scan" | "Index Only Scan")
        ) && indexes.iter().any(|index| node["Index Name"] == *index)
    });
    (!walks).then(|| "no index scan of these indexes under the page's limit".to_owned())
}

#[tokio::test]
async fn every_listing_shape_walks_an_index_on_a_million_orders() {
    let db = TestDatabase::new().await;
    seed(&db).await;
    let deep = Cursor {
        sort: Sort::Newest,
        placed_at: OffsetDateTime::parse(
            "2026-06-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap(),
        number: 500_000,
    }
    .encode();
    let cases = [
        (Role::User, "".to_owned(), BY_BUSY_MEMBER),
        (Role::User, "status=PAID".to_owned(), BY_BUSY_MEMBER),
        (Role::User, "sort=oldest&page=3".to_owned(), BY_BUSY_MEMBER),
        (Role::User, format!("cursor={deep}"), BY_BUSY_MEMBER),
        (Role::Admin, "".to_owned(), BY_DATE),
        (Role::Admin, "sort=oldest".to_owned(), BY_DATE),
        (Role::Admin, format!("cursor={deep}"), BY_DATE),
        // A common status is found soonest by walking the dates; a rare one by its index.
        (
            Role::Admin,
            "status=CANCELLED".to_owned(),
            BY_STATUS_OR_DATE,
        ),
        (
            Role::Admin,
            "from=2026-03-01&to=2026-03-02".to_owned(),
            BY_DATE,
        ),
        (Role::Admin, format!("member_id={}", member(7)), BY_MEMBER),
    ];
    let mut failures = Vec::new();
    for (role, query, indexes) in cases {
        let listing = search(&query).parse(&caller(role)).unwrap();
        let plan: Value = listing_query("EXPLAIN (FORMAT JSON) ", "log", &listing)
            .build_query_scalar()
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let root = &plan[0]["Plan"];
        let seq = nodes(root)
            .iter()
            .any(|node| node["Relation Name"] == "orders" && node["Node Type"] == "Seq Scan");
        let flaw = if seq {
            Some("a sequential scan of orders".to_owned())
        } else {
            not_a_walk(root, indexes)
        };
        if let Some(flaw) = flaw {
            failures.push(format!(
                "{role:?} ?{query}: {flaw}, expected a walk of {indexes:?}; plan {root:#}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    db.drop().await;
}
