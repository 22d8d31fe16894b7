//! One row per issue, whichever of its first error (see [`super::logged`]) and its
//! `IssueOpened` comes first.
//!
//! The rules that make the order not matter: the title is `IssueOpened`'s once it came
//! (an error's until then); the level is the highest seen; `first_seen` the least and
//! `last_seen` the greatest time; the counts are sums. The status moves only with the
//! issue's own stream, whose events all follow its `IssueOpened`, and with an error on a
//! resolved issue, which reopens it as a regression.

use schemas::errors::{IssueOpened, IssueStatus};
use sqlx::PgConnection;
use uuid::Uuid;

use super::At;
use crate::Tables;

pub(super) async fn opened(
    conn: &mut PgConnection,
    tables: Tables,
    e: &IssueOpened,
    at: At,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO {} AS i (id, project, fingerprint, title, level, status, times_seen, \
         users_seen, first_seen, last_seen, opened_at, version, position) \
         VALUES ($1, $2, $3, $4, $5, 'open', 0, 0, $6, $6, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, \
         level = greatest(i.level, EXCLUDED.level), \
         first_seen = least(i.first_seen, EXCLUDED.first_seen), \
         last_seen = greatest(i.last_seen, EXCLUDED.last_seen), \
         opened_at = EXCLUDED.opened_at, version = EXCLUDED.version, \
         position = greatest(i.position, EXCLUDED.position)",
        tables.name("error_issues")
    ))
    .bind(e.issue_id)
    .bind(e.project)
    .bind(&e.fingerprint)
    .bind(&e.title)
    .bind(e.level.rank())
    .bind(e.opened_at)
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// An admin resolved, muted or reopened the issue: whatever brought it here, a
/// regression is over.
pub(super) async fn moved(
    conn: &mut PgConnection,
    tables: Tables,
    issue: Uuid,
    status: IssueStatus,
    at: At,
) -> anyhow::Result<()> {
    let changed = sqlx::query(&format!(
        "UPDATE {} SET status = $2, regressed = false, version = $3, \
         position = greatest(position, $4) WHERE id = $1",
        tables.name("error_issues")
    ))
    .bind(issue)
    .bind(status.as_str())
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?
    .rows_affected();
    anyhow::ensure!(
        changed == 1,
        "issue {issue} moved to {status} before it was opened"
    );
    Ok(())
}
