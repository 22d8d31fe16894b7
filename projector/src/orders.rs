//! The orders read model: one row per order, and order counts per member and status.
//!
//! A batch becomes a few set-based statements: runs of placements are one insert, runs
//! of moves one update, and the counts one upsert at the end. A move waits for the
//! insert of its own order, and two moves of one order are never in the same update.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    orders::{OrderEvent, OrderPlaced, OrderStatus},
};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Projection, Tables};

pub struct OrdersProjection;

#[async_trait]
impl Projection for OrdersProjection {
    const NAME: &str = "orders";
    const CONTEXT: &str = OrderEvent::CONTEXT;
    const TABLES: &[&str] = &["orders", "order_totals"];

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let orders = tables.name("orders");
        let mut placed = Placements::default();
        let mut moves = Moves::default();
        let mut totals = Totals::default();
        for event in events {
            match Change::of(event.decode::<OrderEvent>()?) {
                Change::Placed(e) => {
                    totals.add(e.member_id, OrderStatus::Placed, 1);
                    placed.push(e, event.stream_version);
                }
                Change::Moved(moved) => {
                    if placed.numbers.contains(&moved.number) {
                        placed.insert(conn, &orders).await?;
                    }
                    if moves.numbers.contains(&moved.number) {
                        moves.update(conn, &orders).await?;
                    }
                    totals.moved(moved.member, moved.from, moved.to);
                    moves.push(moved.number, moved.to, event.stream_version, moved.at);
                }
            }
        }
        placed.insert(conn, &orders).await?;
        moves.update(conn, &orders).await?;
        totals.save(conn, &tables.name("order_totals")).await
    }
}

/// Consecutive placements, as column arrays.
#[derive(Default)]
struct Placements {
    numbers: HashSet<i64>,
    number: Vec<i64>,
    member: Vec<Uuid>,
    product: Vec<String>,
    quantity: Vec<i32>,
    unit_price: Vec<i64>,
    note: Vec<String>,
    version: Vec<i64>,
    at: Vec<OffsetDateTime>,
}

impl Placements {
    fn push(&mut self, placed: OrderPlaced, version: i64) {
        self.numbers.insert(placed.number);
        self.number.push(placed.number);
        self.member.push(placed.member_id);
        self.product.push(placed.product_name);
        self.quantity.push(placed.quantity);
        self.unit_price.push(placed.unit_price);
        self.note.push(placed.note);
        self.version.push(version);
        self.at.push(placed.placed_at);
    }

    /// Inserts and clears. Strict on purpose: an order placed twice fails the batch
    /// (primary key) instead of being absorbed, so a delivery bug cannot hide.
    async fn insert(&mut self, conn: &mut PgConnection, orders: &str) -> anyhow::Result<()> {
        if self.number.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "INSERT INTO {orders} (number, member_id, product_name, quantity, unit_price, \
             total_price, note, status, version, placed_at, updated_at) \
             SELECT n, m, p, q, u, q::bigint * u, t, 'PLACED', v, a, a \
             FROM UNNEST($1::bigint[], $2::uuid[], $3::text[], $4::integer[], $5::bigint[], \
                         $6::text[], $7::bigint[], $8::timestamptz[]) AS r(n, m, p, q, u, t, v, a)"
        ))
        .bind(&self.number)
        .bind(&self.member)
        .bind(&self.product)
        .bind(&self.quantity)
        .bind(&self.unit_price)
        .bind(&self.note)
        .bind(&self.version)
        .bind(&self.at)
        .execute(conn)
        .await?;
        *self = Self::default();
        Ok(())
    }
}

/// What one order event does to the read model.
enum Change {
    /// A new row.
    Placed(OrderPlaced),
    /// A new status for an existing row.
    Moved(Move),
}

impl Change {
    fn of(event: OrderEvent) -> Self {
        match event {
            OrderEvent::Placed(e) => Self::Placed(e),
            OrderEvent::StatusChanged(e) => Self::Moved(Move {
                number: e.number,
                member: e.member_id,
                from: e.from,
                to: e.to,
                at: e.changed_at,
            }),
            OrderEvent::Cancelled(e) => Self::Moved(Move {
                number: e.number,
                member: e.member_id,
                from: e.from,
                to: OrderStatus::Cancelled,
                at: e.cancelled_at,
            }),
        }
    }
}

/// A status change, from either event that records one.
struct Move {
    number: i64,
    member: Uuid,
    from: OrderStatus,
    to: OrderStatus,
    at: OffsetDateTime,
}

/// Status changes of distinct orders, as column arrays.
#[derive(Default)]
struct Moves {
    numbers: HashSet<i64>,
    number: Vec<i64>,
    status: Vec<&'static str>,
    version: Vec<i64>,
    at: Vec<OffsetDateTime>,
}

impl Moves {
    fn push(&mut self, number: i64, to: OrderStatus, version: i64, at: OffsetDateTime) {
        self.numbers.insert(number);
        self.number.push(number);
        self.status.push(to.as_str());
        self.version.push(version);
        self.at.push(at);
    }

    /// Updates and clears. Each move must follow its row's version exactly.
    async fn update(&mut self, conn: &mut PgConnection, orders: &str) -> anyhow::Result<()> {
        if self.number.is_empty() {
            return Ok(());
        }
        let changed = sqlx::query(&format!(
            "UPDATE {orders} o SET status = m.s, version = m.v, updated_at = m.a, \
                 paid_at = CASE WHEN m.s = 'PAID' THEN m.a ELSE o.paid_at END, \
                 shipped_at = CASE WHEN m.s = 'SHIPPED' THEN m.a ELSE o.shipped_at END, \
                 delivered_at = CASE WHEN m.s = 'DELIVERED' THEN m.a ELSE o.delivered_at END, \
                 cancelled_at = CASE WHEN m.s = 'CANCELLED' THEN m.a ELSE o.cancelled_at END \
             FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[]) AS m(n, s, v, a) \
             WHERE o.number = m.n AND o.version = m.v - 1"
        ))
        .bind(&self.number)
        .bind(&self.status)
        .bind(&self.version)
        .bind(&self.at)
        .execute(conn)
        .await?
        .rows_affected();
        anyhow::ensure!(
            changed == self.number.len() as u64,
            "{} of {} order moves do not follow the read model's rows (orders {:?})",
            self.number.len() as u64 - changed,
            self.number.len(),
            self.number
        );
        *self = Self::default();
        Ok(())
    }
}

/// Changes to the order counts, per member and status; the nil member counts everyone.
#[derive(Default)]
struct Totals(HashMap<(Uuid, OrderStatus), i64>);

impl Totals {
    fn add(&mut self, member: Uuid, status: OrderStatus, delta: i64) {
        for who in [member, Uuid::nil()] {
            *self.0.entry((who, status)).or_default() += delta;
        }
    }

    fn moved(&mut self, member: Uuid, from: OrderStatus, to: OrderStatus) {
        self.add(member, from, -1);
        self.add(member, to, 1);
    }

    async fn save(self, conn: &mut PgConnection, totals: &str) -> anyhow::Result<()> {
        let changes: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, delta)| *delta != 0)
            .collect();
        if changes.is_empty() {
            return Ok(());
        }
        let member: Vec<Uuid> = changes.iter().map(|((m, _), _)| *m).collect();
        let status: Vec<&str> = changes.iter().map(|((_, s), _)| s.as_str()).collect();
        let delta: Vec<i64> = changes.iter().map(|(_, d)| *d).collect();
        sqlx::query(&format!(
            "INSERT INTO {totals} (member_id, status, orders) \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::bigint[]) \
             ON CONFLICT (member_id, status) DO UPDATE SET orders = {totals}.orders + EXCLUDED.orders"
        ))
        .bind(&member)
        .bind(&status)
        .bind(&delta)
        .execute(conn)
        .await?;
        Ok(())
    }
}
