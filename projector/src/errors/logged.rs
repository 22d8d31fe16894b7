//! Every error whole (an issue's latest event and its list of events), and the counts
//! per project, level and minute of arrival that the chart shows.

use schemas::{RecordedEvent, errors::ErrorLogged};
use sqlx::PgConnection;

use crate::Tables;

pub(super) async fn record(
    conn: &mut PgConnection,
    tables: Tables,
    e: &ErrorLogged,
    recorded: &RecordedEvent,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO {} (project, event_id, issue, level, title, received_at, occurred_at, \
         payload, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tables.name("error_events")
    ))
    .bind(e.project)
    .bind(e.event_id)
    .bind(e.issue_id)
    .bind(e.level.rank())
    .bind(&e.title)
    .bind(e.received_at)
    .bind(e.occurred_at)
    .bind(&recorded.data)
    .bind(recorded.position)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO {counts} AS c (project, level, minute, count) \
         VALUES ($1, $2, date_trunc('minute', $3::timestamptz, 'UTC'), $4) \
         ON CONFLICT (project, level, minute) DO UPDATE SET count = c.count + EXCLUDED.count",
        counts = tables.name("error_counts")
    ))
    .bind(e.project)
    .bind(e.level.rank())
    .bind(e.received_at)
    .bind(e.count)
    .execute(conn)
    .await?;
    Ok(())
}
