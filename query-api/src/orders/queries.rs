//! SQL of the orders read model. Each query also returns the projection's checkpoint from
//! the same snapshot (one statement), which tells the cache how current the rows are.
//!
//! Listings are built with only the conditions they use, so each shape gets a plan of its
//! own that walks one index in sort order (see the orders migration).

use crate::snapshot;
use schemas::orders::OrderStatus;
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder, Row, postgres::PgRow};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::listing::{Listing, Scope, Sort, Start};

/// An order as the read model holds it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrderView {
    pub number: i64,
    pub member_id: Uuid,
    pub product_name: String,
    pub quantity: i32,
    /// In the currency's minor unit.
    pub unit_price: i64,
    /// Quantity times unit price, in the currency's minor unit.
    pub total_price: i64,
    pub note: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = OrderStatusSchema)]
    pub status: OrderStatus,
    /// Version of the order; send it in `If-Match` when moving it.
    pub version: i64,
    /// The order date.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub shipped_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<OffsetDateTime>,
}

crate::docs::status_schema!(
    /// The names of [`OrderStatus`] in OpenAPI.
    OrderStatusSchema for OrderStatus,
    "OrderStatus",
    "PLACED -> PAID -> SHIPPED -> DELIVERED, and CANCELLED from PLACED or PAID."
);

const COLUMNS: &str = "o.number, o.member_id, o.product_name, o.quantity, o.unit_price, \
     o.total_price, o.note, o.status, o.version, o.placed_at, o.updated_at, o.paid_at, \
     o.shipped_at, o.delivered_at, o.cancelled_at";

/// One order and the position the snapshot reflects.
pub async fn order(
    pool: &PgPool,
    source: &str,
    number: i64,
) -> Result<Option<(i64, OrderView)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, ");
    query.push(COLUMNS).push(" FROM orders o, ");
    snapshot::push_checkpoint(&mut query, "orders", source);
    query.push(" c WHERE o.number = ").push_bind(number);
    let row = query.build().fetch_optional(pool).await?;
    row.map(|row| Ok((row.try_get("applied")?, sqlx::FromRow::from_row(&row)?)))
        .transpose()
}

/// One page of a listing: the position the snapshot reflects, the total (not for cursor
/// pages), the orders, and whether more follow.
pub struct Page {
    pub applied: i64,
    pub total: Option<i64>,
    pub orders: Vec<OrderView>,
    pub more: bool,
}

/// Runs a listing in one statement: checkpoint, total and rows share one snapshot.
pub async fn page(pool: &PgPool, source: &str, listing: &Listing) -> Result<Page, sqlx::Error> {
    let rows = listing_query("", source, listing)
        .build()
        .fetch_all(pool)
        .await?;
    // The total is null where the listing was not counted, so it is read here.
    let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    let applied = first.try_get("applied")?;
    let total = first.try_get("total")?;
    let mut orders = snapshot::items(&rows, "number")
        .map(|row: &PgRow| sqlx::FromRow::from_row(row))
        .collect::<Result<Vec<OrderView>, _>>()?;
    // One row more than the page was asked for says whether another page follows.
    let more = orders.len() > listing.size as usize;
    orders.truncate(listing.size as usize);
    Ok(Page {
        applied,
        total,
        orders,
        more,
    })
}

/// The statement of a listing, after `prefix` (e.g. `EXPLAIN `). One row always comes
/// back, with the order columns null when the page is empty.
pub fn listing_query<'a>(
    prefix: &str,
    source: &'a str,
    listing: &'a Listing,
) -> QueryBuilder<'a, Postgres> {
    let mut query = QueryBuilder::new(prefix);
    query.push("SELECT c.applied, t.total, o.* FROM ");
    snapshot::push_checkpoint(&mut query, "orders", source);
    query.push(" c CROSS JOIN (SELECT ");
    total(&mut query, listing);
    query.push(" AS total) t LEFT JOIN LATERAL (SELECT ");
    query.push(COLUMNS).push(" FROM orders o");
    filters(&mut query, listing, true);
    let (direction, _) = direction(listing.sort);
    query.push(format_args!(
        " ORDER BY o.placed_at {direction}, o.number {direction} LIMIT "
    ));
    query.push_bind(i64::from(listing.size) + 1);
    if let Start::Page(page) = listing.start {
        query
            .push(" OFFSET ")
            .push_bind(i64::from(page - 1) * i64::from(listing.size));
    }
    query.push(format_args!(
        ") o ON true ORDER BY o.placed_at {direction}, o.number {direction}"
    ));
    query
}

/// The number of orders in the whole listing: from the counts kept per member and status,
/// or counted when a date range narrows it; none for cursor pages.
fn total<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a Listing) {
    if matches!(listing.start, Start::After(_)) {
        query.push("NULL::bigint");
    } else if listing.has_date_range() {
        query.push("(SELECT count(*) FROM orders o");
        filters(query, listing, false);
        query.push(")");
    } else {
        let member = match listing.scope {
            Scope::All => Uuid::nil(),
            Scope::Member(member) => member,
        };
        query
            .push("(SELECT coalesce(sum(orders), 0)::bigint FROM order_totals WHERE member_id = ")
            .push_bind(member);
        if let Some(status) = listing.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        query.push(")");
    }
}

/// The WHERE clause of a listing; the cursor condition only when `with_cursor`.
fn filters<'a>(query: &mut QueryBuilder<'a, Postgres>, listing: &'a Listing, with_cursor: bool) {
    let mut clause = " WHERE ";
    let mut next = |query: &mut QueryBuilder<'a, Postgres>| {
        query.push(clause);
        clause = " AND ";
    };
    if let Scope::Member(member) = listing.scope {
        next(query);
        query.push("o.member_id = ").push_bind(member);
    }
    if let Some(status) = listing.status {
        next(query);
        query
            .push("o.status = ")
            .push_bind(OrderStatus::as_str(status));
    }
    if let Some(from) = listing.from {
        next(query);
        query.push("o.placed_at >= ").push_bind(from);
    }
    if let Some(to) = listing.to {
        next(query);
        query.push("o.placed_at < ").push_bind(to);
    }
    if let (true, Start::After(cursor)) = (with_cursor, listing.start) {
        next(query);
        let (_, after) = direction(listing.sort);
        query
            .push(format_args!("(o.placed_at, o.number) {after} ("))
            .push_bind(cursor.placed_at)
            .push(", ")
            .push_bind(cursor.number)
            .push(")");
    }
}

/// The SQL sort direction, and the comparison that selects what comes after a cursor.
fn direction(sort: Sort) -> (&'static str, &'static str) {
    match sort {
        Sort::Newest => ("DESC", "<"),
        Sort::Oldest => ("ASC", ">"),
    }
}
