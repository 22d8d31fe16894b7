//! The data set: OrderPlaced events (and a status change for every second order of each
//! member) written straight into the event log in one transaction, for the projector to
//! build the orders read model from; then what each member must see, and the query plans.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, ensure};
use sqlx::{
    PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::time::Instant;
use uuid::Uuid;

/// The seed spreads order dates over this span, ending two minutes ago (so the status
/// changes, a minute after their order, are in the past too).
const SPAN_SECONDS: f64 = 365.0 * 86_400.0 - 120.0;

/// Both kinds of events from one generated set of orders, in one statement. Order i
/// (1..=$3) is `order-<$2 + i>` at position $1 + i, placed by member $4[1 + i % len]. The
/// status changes follow all the placements; an order is paid when its index among its
/// member's orders (i / len) is odd, so every member has paid and unpaid orders.
/// Payload keys are exactly those of schemas/src/orders.rs (the decoder denies others).
const SEED: &str = r#"
WITH g AS MATERIALIZED (
    SELECT i,
           ($4::uuid[])[(1 + i % cardinality($4::uuid[]))::int]::text AS member,
           now() - interval '365 days' + make_interval(secs => i * $5::float8 / $3) AS placed_at,
           (i / cardinality($4::uuid[])) % 2 = 1 AS paid
    FROM generate_series(1::bigint, $3::bigint) AS i
), placed AS (
    INSERT INTO events (position, stream_id, stream_version, event_id, context, event_type,
                        schema_version, occurred_at, correlation_id, actor, data)
    SELECT $1 + i, 'order-' || ($2 + i), 1, gen_random_uuid(), 'orders', 'OrderPlaced', 1,
           placed_at, 'orders-bench-seed', member,
           jsonb_build_object('number', $2 + i, 'member_id', member,
                              'product_name', 'Product ' || (i % 997), 'quantity', 1 + i % 5,
                              'unit_price', 100 * (1 + i % 50), 'note', '',
                              'placed_at', to_char(placed_at AT TIME ZONE 'UTC',
                                                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
    FROM g
)
INSERT INTO events (position, stream_id, stream_version, event_id, context, event_type,
                    schema_version, occurred_at, correlation_id, actor, data)
SELECT $1 + $3 + row_number() OVER (ORDER BY i), 'order-' || ($2 + i), 2, gen_random_uuid(),
       'orders', 'OrderStatusChanged', 1, placed_at + interval '1 minute', 'orders-bench-seed',
       member,
       jsonb_build_object('number', $2 + i, 'member_id', member, 'from', 'PLACED', 'to', 'PAID',
                          'by', member,
                          'changed_at', to_char((placed_at + interval '1 minute') AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
FROM g WHERE paid
"#;

/// How often the wait for the projection polls, and prints progress.
const POLL: Duration = Duration::from_millis(250);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The bench's own connections: seeding, polling the checkpoint, query plans.
pub(crate) async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(database_url)
        .context("--database-url is not a PostgreSQL URL")?;
    let target = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {target}"))
}

/// What the seed wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seeded {
    /// The log head before the seed.
    pub head_before: i64,
    /// The log head after it: the position the projection must reach.
    pub head_after: i64,
    /// Order numbers were base+1 ..= base+orders.
    pub base: i64,
    pub orders: i64,
    pub status_changes: i64,
    pub elapsed: Duration,
}

/// Writes `orders` orders of `member_ids` into the log in one transaction, moves the log
/// head and the order number sequence past them and notifies the log's readers, as an
/// append would. With `analyze`, the log's statistics count the new rows at commit.
pub(crate) async fn seed(
    pool: &PgPool,
    member_ids: &[Uuid],
    orders: i64,
    analyze: bool,
) -> anyhow::Result<Seeded> {
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // The head lock keeps every appender out until the commit, as append_batch does.
    let head_before: i64 =
        sqlx::query_scalar("SELECT last_position FROM event_log_head WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await
            .context("locking the log head")?;
    let (last_value, is_called): (i64, bool) =
        sqlx::query_as("SELECT last_value, is_called FROM order_numbers")
            .fetch_one(&mut *tx)
            .await
            .context("reading the sequence order_numbers")?;
    let base = if is_called { last_value } else { 0 };
    let done = sqlx::query(SEED)
        .bind(head_before)
        .bind(base)
        .bind(orders)
        .bind(member_ids)
        .bind(SPAN_SECONDS)
        .execute(&mut *tx)
        .await
        .context("inserting the seed events")?;
    let status_changes = i64::try_from(done.rows_affected())?;
    let expected = paid_orders(orders, member_ids.len() as i64);
    ensure!(
        status_changes == expected,
        "the seed wrote {status_changes} status changes, expected {expected}"
    );
    let head_after = head_before + orders + status_changes;
    sqlx::query("UPDATE event_log_head SET last_position = $1 WHERE id")
        .bind(head_after)
        .execute(&mut *tx)
        .await?;
    sqlx::query("SELECT setval('order_numbers', $1)")
        .bind(base + orders)
        .execute(&mut *tx)
        .await?;
    // Statistics that count the new rows (ANALYZE samples its own transaction's inserts),
    // visible at commit, so the projection's statements are planned for the log as it now
    // is and the seed's timing does not depend on when autovacuum gets to it.
    if analyze {
        sqlx::query("ANALYZE events, event_log_head")
            .execute(&mut *tx)
            .await?;
    }
    // Delivered at commit, in the format append_batch uses: "first:last:contexts".
    sqlx::query("SELECT pg_notify('events', $1)")
        .bind(format!("{}:{head_after}:orders", head_before + 1))
        .execute(&mut *tx)
        .await?;
    tx.commit().await.context("committing the seed")?;
    Ok(Seeded {
        head_before,
        head_after,
        base,
        orders,
        status_changes,
        elapsed: started.elapsed(),
    })
}

/// The orders projection's checkpoint in the PostgreSQL log.
async fn projected(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce((SELECT position FROM projection_checkpoints \
         WHERE projection = 'orders' AND source = 'log'), 0)",
    )
    .fetch_one(pool)
    .await?)
}

/// Waits until the orders projection has applied the log up to `position`, printing
/// progress (counted from `from`) every few seconds. Returns how long it took.
pub(crate) async fn wait_projected(
    pool: &PgPool,
    from: i64,
    position: i64,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut next_progress = started + PROGRESS_EVERY;
    loop {
        let applied = projected(pool).await?;
        if applied >= position {
            return Ok(started.elapsed());
        }
        let now = Instant::now();
        ensure!(
            now < started + timeout,
            "the orders projection reached position {applied} of {position} in {} s",
            timeout.as_secs_f64()
        );
        if now >= next_progress {
            let done = (applied - from).max(0);
            eprintln!(
                "  projection: {done} of {} events applied ({:.0} events/s)",
                position - from,
                done as f64 / started.elapsed().as_secs_f64()
            );
            next_progress = now + PROGRESS_EVERY;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Fresh planner statistics and visibility map on the bulk-loaded table, so the plans and
/// the run do not depend on when autovacuum happens to get to it.
pub(crate) async fn vacuum_analyze(pool: &PgPool) -> anyhow::Result<Duration> {
    timed(pool, "VACUUM (ANALYZE) orders").await
}

/// Flushes what the seed and the projection wrote (a `CHECKPOINT`), so that the loads do
/// not meet PostgreSQL writing gigabytes back in the background. Needs a superuser or the
/// `pg_checkpoint` role.
pub(crate) async fn checkpoint(pool: &PgPool) -> anyhow::Result<Duration> {
    timed(pool, "CHECKPOINT").await
}

/// Runs one maintenance statement and returns how long it took. The simple protocol sends
/// it alone, outside a transaction block, where `VACUUM` must run.
async fn timed(pool: &PgPool, statement: &'static str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    sqlx::raw_sql(statement)
        .execute(pool)
        .await
        .context(statement)?;
    Ok(started.elapsed())
}

/// Orders 1..=`orders` whose index among their member's orders (i / members) is odd: the
/// ones the seed pays.
pub(crate) fn paid_orders(orders: i64, members: i64) -> i64 {
    // Whole blocks of `members` consecutive i (block b holds b*members ..= b*members+members-1,
    // i = 0 included, which is never paid), odd blocks paid; then the partial block.
    let blocks = (orders + 1) / members;
    let rest = (orders + 1) % members;
    blocks / 2 * members + if blocks % 2 == 1 { rest } else { 0 }
}

/// Orders of member `k` (of `members`), and how many of them are paid.
pub(crate) fn member_orders(k: i64, members: i64, orders: i64) -> (i64, i64) {
    let first = if k == 0 { members } else { k };
    let (mut total, mut paid) = (0, 0);
    let mut i = first;
    while i <= orders {
        total += 1;
        if (i / members) % 2 == 1 {
            paid += 1;
        }
        i += members;
    }
    (total, paid)
}

/// The listing queries of one member's (and an admin's) first pages, as the read model
/// serves them; none may read the whole table.
fn listings(member: Uuid) -> Vec<(&'static str, String)> {
    let newest = "ORDER BY placed_at DESC, number DESC";
    vec![
        (
            "member, newest first, page 1",
            format!("SELECT * FROM orders WHERE member_id = '{member}' {newest} LIMIT 20"),
        ),
        (
            "member, newest first, page 2",
            format!(
                "SELECT * FROM orders WHERE member_id = '{member}' {newest} LIMIT 20 OFFSET 20"
            ),
        ),
        (
            "member, status PAID, newest first",
            format!(
                "SELECT * FROM orders WHERE member_id = '{member}' AND status = 'PAID' {newest} LIMIT 20"
            ),
        ),
        (
            "member, oldest first",
            format!(
                "SELECT * FROM orders WHERE member_id = '{member}' ORDER BY placed_at, number LIMIT 20"
            ),
        ),
        (
            "status PAID, every member, newest first",
            format!("SELECT * FROM orders WHERE status = 'PAID' {newest} LIMIT 20"),
        ),
        (
            "every member, newest first",
            format!("SELECT * FROM orders {newest} LIMIT 20 OFFSET 0"),
        ),
    ]
}

/// Prints `EXPLAIN (ANALYZE, BUFFERS)` of the listing queries and of a whole-table count.
/// Returns a failure for each listing whose plan scans the whole table.
pub(crate) async fn print_plans(pool: &PgPool, member: Uuid) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    let count = (
        "whole-table count (not checked)",
        "SELECT count(*) FROM orders".to_owned(),
    );
    println!();
    println!("query plans (EXPLAIN (ANALYZE, BUFFERS), member {member}):");
    for (checked, (name, sql)) in listings(member)
        .into_iter()
        .map(|listing| (true, listing))
        .chain([(false, count)])
    {
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(pool)
            .await
            .with_context(|| format!("EXPLAIN {sql}"))?;
        println!();
        println!("-- {name}");
        println!("-- {sql}");
        for line in &plan {
            println!("   {line}");
        }
        if checked && plan.iter().any(|line| line.contains("Seq Scan on orders")) {
            failures.push(format!("the plan of `{sql}` scans the whole orders table"));
        }
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paid_orders_match_counting_them_one_by_one() {
        for members in [1, 2, 3, 7, 10, 200] {
            for orders in [0, 1, 5, 6, 7, 13, 14, 100, 999] {
                let slow = (1..=orders).filter(|i| (i / members) % 2 == 1).count() as i64;
                assert_eq!(paid_orders(orders, members), slow, "{orders} of {members}");
                let (total, paid): (i64, i64) = (0..members)
                    .map(|k| member_orders(k, members, orders))
                    .fold((0, 0), |(t, p), (mt, mp)| (t + mt, p + mp));
                assert_eq!((total, paid), (orders, slow), "{orders} of {members}");
            }
        }
    }

    #[test]
    fn member_orders_follow_i_mod_members() {
        // Member 0 owns 10, 20, ...; member 3 owns 3, 13, 23, ... of 1..=25.
        assert_eq!(member_orders(0, 10, 25), (2, 1)); // 10 (block 1, paid), 20 (block 2)
        assert_eq!(member_orders(3, 10, 25), (3, 1)); // 3, 13 (paid), 23
    }
}
