//! How far each projection has applied the log: its checkpoint rows (one per source it
//! follows) and the [`Notice`] that announces every move on the [`CHANNEL`]. The projector
//! writes both, in the transaction of the rows it applied; query-api reads both to know
//! what its read models reflect.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};

/// The `NOTIFY` channel of checkpoint moves.
pub const CHANNEL: &str = "projections";

/// What a checkpoint move announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub projection: String,
    /// The projection has applied the log up to here.
    pub position: i64,
    /// The projection's tables were replaced wholesale (a replay swapped them in), so
    /// whatever was read from them before is stale.
    pub reset: bool,
}

impl Notice {
    /// A notice as sent on the channel; `None` for one this version does not understand.
    pub fn parse(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }

    fn payload(&self) -> String {
        serde_json::to_string(self).expect("a notice serializes")
    }
}

/// The payload announcing that `projection` has applied the log up to `position`.
fn announcement(projection: &str, position: i64, reset: bool) -> String {
    Notice {
        projection: projection.to_owned(),
        position,
        reset,
    }
    .payload()
}

/// A projection's checkpoint for a source (0 before it first ran).
pub async fn position<'e>(
    executor: impl PgExecutor<'e>,
    projection: &str,
    source: &str,
) -> Result<i64, sqlx::Error> {
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE projection = $1 AND source = $2",
    )
    .bind(projection)
    .bind(source)
    .fetch_optional(executor)
    .await?;
    Ok(position.unwrap_or(0))
}

/// The least of a projection's checkpoints over its sources (0 before it first ran): what
/// it has surely applied, whichever source it follows now.
pub async fn least<'e>(
    executor: impl PgExecutor<'e>,
    projection: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(min(position), 0) FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(projection)
    .fetch_one(executor)
    .await
}

/// Every source a projection keeps a checkpoint for.
pub async fn sources(
    conn: &mut PgConnection,
    projection: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT source FROM projection_checkpoints WHERE projection = $1")
        .bind(projection)
        .fetch_all(conn)
        .await
}

/// Sets a checkpoint inside the caller's transaction, together with the rows it covers,
/// and announces it at commit.
pub async fn save(
    conn: &mut PgConnection,
    projection: &str,
    source: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH c AS (INSERT INTO projection_checkpoints (projection, source, position) \
             VALUES ($1, $2, $3) ON CONFLICT (projection, source) \
             DO UPDATE SET position = EXCLUDED.position, updated_at = now()) \
         SELECT pg_notify($4, $5)",
    )
    .bind(projection)
    .bind(source)
    .bind(position)
    .bind(CHANNEL)
    .bind(announcement(projection, position, false))
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a checkpoint over a stretch of the log with nothing for the projection (other
/// contexts' events), in one statement: no rows change, so neither the projection's lock
/// nor a flush to disk is needed (a crash only repeats the stretch), and the checkpoint
/// only ever moves forward, whatever a concurrent [`save`] wrote.
pub async fn advance<'e>(
    executor: impl PgExecutor<'e>,
    projection: &str,
    source: &str,
    through: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "WITH s AS (SELECT set_config('synchronous_commit', 'off', true)), \
         c AS (INSERT INTO projection_checkpoints (projection, source, position) \
             VALUES ($1, $2, $3) ON CONFLICT (projection, source) DO UPDATE \
             SET position = greatest(projection_checkpoints.position, EXCLUDED.position), \
                 updated_at = now()) \
         SELECT pg_notify($4, $5) FROM s",
    )
    .bind(projection)
    .bind(source)
    .bind(through)
    .bind(CHANNEL)
    .bind(announcement(projection, through, false))
    .execute(executor)
    .await?;
    Ok(())
}

/// Announces at commit that a projection's tables were replaced and reflect `position`.
pub async fn announce_reset(
    conn: &mut PgConnection,
    projection: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(announcement(projection, position, true))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_reads_back_as_it_was_sent() {
        let notice = Notice {
            projection: "orders".into(),
            position: 42,
            reset: true,
        };
        assert_eq!(Notice::parse(&notice.payload()), Some(notice));
    }

    #[test]
    fn a_payload_that_is_not_a_notice_is_ignored() {
        assert_eq!(Notice::parse("{\"projection\":\"orders\"}"), None);
        assert_eq!(Notice::parse("not json"), None);
    }
}
