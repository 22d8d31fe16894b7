//! The orders projection: rows and counts follow every history, including placements and
//! moves of one order in one batch, and a replay rebuilds exactly the same tables.

use crate::common;

use std::collections::BTreeMap;

use common::{Running, caught_up};
use event_log::testing::TestDatabase;
use event_store::{AppendRequest, EventStore, ExpectedVersion};
use futures::{StreamExt, stream};
use schemas::{
    EventMetadata, NewEvent,
    orders::{self, OrderCancelled, OrderEvent, OrderPlaced, OrderStatus, OrderStatusChanged},
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

const MEMBERS: u128 = 7;

/// The moves order `n` makes after being placed; every history the machine allows.
fn moves(n: i64) -> &'static [OrderStatus] {
    use OrderStatus::*;
    match n % 6 {
        0 => &[],
        1 => &[Paid],
        2 => &[Paid, Shipped],
        3 => &[Paid, Shipped, Delivered],
        4 => &[Cancelled],
        _ => &[Paid, Cancelled],
    }
}

fn member(n: i64) -> Uuid {
    Uuid::from_u128(1 + n as u128 % MEMBERS)
}

/// Appends every order's whole history in one append (so one batch holds its placement
/// and its moves); returns each order's final status.
async fn write_orders(store: &EventStore, numbers: std::ops::Range<i64>) -> BTreeMap<i64, String> {
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    stream::iter(numbers)
        .map(|n| {
            let store = store.clone();
            async move {
                let mut events = vec![OrderEvent::Placed(OrderPlaced {
                    number: n,
                    member_id: member(n),
                    product_name: format!("Product {n}"),
                    quantity: 1 + (n % 3) as i32,
                    unit_price: 100,
                    note: String::new(),
                    placed_at: at,
                })];
                let mut from = OrderStatus::Placed;
                for to in moves(n) {
                    events.push(match to {
                        OrderStatus::Cancelled => OrderEvent::Cancelled(OrderCancelled {
                            number: n,
                            member_id: member(n),
                            from,
                            by: member(n),
                            cancelled_at: at,
                        }),
                        _ => OrderEvent::StatusChanged(OrderStatusChanged {
                            number: n,
                            member_id: member(n),
                            from,
                            to: *to,
                            by: member(n),
                            changed_at: at,
                        }),
                    });
                    from = *to;
                }
                store
                    .append(AppendRequest::new(
                        orders::stream_id(n),
                        ExpectedVersion::NoStream,
                        events.iter().map(NewEvent::from_domain).collect(),
                        EventMetadata::default(),
                    ))
                    .await
                    .expect("append");
                (n, from.as_str().to_owned())
            }
        })
        .buffer_unordered(32)
        .collect()
        .await
}

/// Number -> status, and (member, status) -> count, as the read model holds them.
async fn read_model(pool: &PgPool) -> (BTreeMap<i64, String>, BTreeMap<(Uuid, String), i64>) {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT number, status FROM orders")
        .fetch_all(pool)
        .await
        .unwrap();
    let totals: Vec<(Uuid, String, i64)> =
        sqlx::query_as("SELECT member_id, status, orders FROM order_totals WHERE orders <> 0")
            .fetch_all(pool)
            .await
            .unwrap();
    (
        rows.into_iter().collect(),
        totals.into_iter().map(|(m, s, n)| ((m, s), n)).collect(),
    )
}

/// The counts the statuses imply, per member and over everyone (the nil member).
fn counts(statuses: &BTreeMap<i64, String>) -> BTreeMap<(Uuid, String), i64> {
    let mut counts = BTreeMap::new();
    for (n, status) in statuses {
        for who in [member(*n), Uuid::nil()] {
            *counts.entry((who, status.clone())).or_default() += 1;
        }
    }
    counts
}

#[tokio::test]
async fn rows_and_counts_follow_every_history_and_a_replay_rebuilds_them_exactly() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let running = Running::projections(&db.pool);
    let mut expected = write_orders(&store, 1..601).await;
    expected.extend(write_orders(&store, 601..1201).await);
    caught_up(&db.pool, "orders").await;
    let (rows, totals) = read_model(&db.pool).await;
    assert_eq!(rows, expected);
    assert_eq!(totals, counts(&expected));

    let projection = projector::projections()
        .into_iter()
        .find(|p| p.name() == "orders")
        .unwrap();
    let indexes = index_definitions(&db.pool).await;
    assert!(
        indexes.iter().any(|i| i.starts_with("orders_by_member ")),
        "{indexes:?}"
    );
    // The secondary indexes are built after the rows: they come back as they were, names
    // included (the listings' plans are checked by name).
    let replayed = projector::replay::replay(&db.pool, projection.as_ref())
        .await
        .unwrap();
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE context = 'orders'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(replayed.events, logged as u64);
    assert_eq!(read_model(&db.pool).await, (rows, totals));
    assert_eq!(index_definitions(&db.pool).await, indexes);
    running.stop().await;
    db.drop().await;
}

/// Each secondary index of `orders` as `<name> <definition after its table>`.
async fn index_definitions(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname || ' ' || split_part(pg_get_indexdef(i.indexrelid), ' USING ', 2) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = 'orders'::regclass AND NOT i.indisunique ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}
