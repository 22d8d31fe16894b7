//! Errors as they arrive: every error whole (an issue's latest event and its list of
//! events), the counts per project, level and minute of arrival that the chart shows, the
//! users each issue affected, and what errors add to their issues.
//!
//! A run of consecutive errors is applied together, a few set-based statements whatever
//! its length: errors come in floods, mostly of few issues, and a statement per error
//! would update the same issue rows (and their indexes) once per error.

use std::collections::HashMap;

use schemas::{RecordedEvent, errors::ErrorLogged};
use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Tables;

/// Consecutive errors, in log order, waiting to be applied.
#[derive(Default)]
pub(super) struct Run<'a> {
    errors: Vec<(ErrorLogged, &'a RecordedEvent)>,
}

impl<'a> Run<'a> {
    pub(super) fn push(&mut self, error: ErrorLogged, recorded: &'a RecordedEvent) {
        self.errors.push((error, recorded));
    }

    /// Applies the run and empties it.
    pub(super) async fn apply(
        &mut self,
        conn: &mut PgConnection,
        tables: Tables,
    ) -> anyhow::Result<()> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let errors = std::mem::take(&mut self.errors);
        let columns = Columns::of(&errors);
        insert_events(conn, tables, &errors, &columns).await?;
        add_counts(conn, tables, &errors, &columns).await?;
        let new_users = remember_users(conn, tables, &errors).await?;
        let issues = IssueChanges::of(&errors, &new_users);
        issues.apply(conn, tables).await
    }
}

/// The columns both the errors and their counts are keyed by, read once.
struct Columns {
    project: Vec<i64>,
    level: Vec<i16>,
    received: Vec<OffsetDateTime>,
}

impl Columns {
    fn of(errors: &[(ErrorLogged, &RecordedEvent)]) -> Self {
        Self {
            project: errors.iter().map(|(e, _)| e.project).collect(),
            level: errors.iter().map(|(e, _)| e.level.rank()).collect(),
            received: errors.iter().map(|(e, _)| e.received_at).collect(),
        }
    }
}

/// Every error, by its position in the log, which holds its payload. Strict on purpose: an error applied twice fails the batch (primary
/// key) instead of being absorbed, so a delivery bug cannot hide.
async fn insert_events(
    conn: &mut PgConnection,
    tables: Tables,
    errors: &[(ErrorLogged, &RecordedEvent)],
    columns: &Columns,
) -> anyhow::Result<()> {
    let event_id: Vec<Uuid> = errors.iter().map(|(e, _)| e.event_id).collect();
    let issue: Vec<Uuid> = errors.iter().map(|(e, _)| e.issue_id).collect();
    let title: Vec<&str> = errors.iter().map(|(e, _)| e.title.as_str()).collect();
    let occurred: Vec<OffsetDateTime> = errors.iter().map(|(e, _)| e.occurred_at).collect();
    let position: Vec<i64> = errors.iter().map(|(_, r)| r.position).collect();
    sqlx::query(&format!(
        "INSERT INTO {} (project, event_id, issue, level, title, received_at, occurred_at, \
         position) \
         SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::uuid[], $4::smallint[], \
         $5::text[], $6::timestamptz[], $7::timestamptz[], $8::bigint[])",
        tables.name("error_events")
    ))
    .bind(&columns.project)
    .bind(event_id)
    .bind(issue)
    .bind(&columns.level)
    .bind(title)
    .bind(&columns.received)
    .bind(occurred)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// The chart's counts: per project, level and minute of arrival.
async fn add_counts(
    conn: &mut PgConnection,
    tables: Tables,
    errors: &[(ErrorLogged, &RecordedEvent)],
    columns: &Columns,
) -> anyhow::Result<()> {
    let count: Vec<i64> = errors.iter().map(|(e, _)| e.count).collect();
    // Grouped first: one statement may not update the same row twice.
    sqlx::query(&format!(
        "INSERT INTO {counts} AS c (project, level, minute, count) \
         SELECT p, l, date_trunc('minute', t, 'UTC'), sum(n)::bigint \
         FROM UNNEST($1::bigint[], $2::smallint[], $3::timestamptz[], $4::bigint[]) \
         AS r(p, l, t, n) GROUP BY 1, 2, 3 \
         ON CONFLICT (project, level, minute) DO UPDATE SET count = c.count + EXCLUDED.count",
        counts = tables.name("error_counts")
    ))
    .bind(&columns.project)
    .bind(&columns.level)
    .bind(&columns.received)
    .bind(count)
    .execute(conn)
    .await?;
    Ok(())
}

/// Remembers the users the errors happened to; answers how many are new to each issue.
async fn remember_users(
    conn: &mut PgConnection,
    tables: Tables,
    errors: &[(ErrorLogged, &RecordedEvent)],
) -> anyhow::Result<HashMap<Uuid, i64>> {
    let (issue, user): (Vec<Uuid>, Vec<&str>) = errors
        .iter()
        .filter_map(|(e, _)| Some((e.issue_id, e.user.as_deref()?)))
        .unzip();
    if issue.is_empty() {
        return Ok(HashMap::new());
    }
    let inserted: Vec<Uuid> = sqlx::query_scalar(&format!(
        "INSERT INTO {} (issue, \"user\") \
         SELECT DISTINCT i, u FROM UNNEST($1::uuid[], $2::text[]) AS r(i, u) \
         ON CONFLICT DO NOTHING RETURNING issue",
        tables.name("error_issue_users")
    ))
    .bind(issue)
    .bind(user)
    .fetch_all(conn)
    .await?;
    let mut new_users = HashMap::new();
    for issue in inserted {
        *new_users.entry(issue).or_insert(0) += 1;
    }
    Ok(new_users)
}

/// What a run of errors adds to each of its issues: the same as its errors applied one
/// by one would.
#[derive(Default)]
struct IssueChanges {
    id: Vec<Uuid>,
    project: Vec<i64>,
    /// Each fingerprint as a JSON array (a column of arrays does not unnest row by row).
    fingerprint: Vec<Value>,
    /// The first error's: an issue's title is `IssueOpened`'s once it came.
    title: Vec<String>,
    culprit: Vec<Option<String>>,
    level: Vec<i16>,
    times_seen: Vec<i64>,
    new_users: Vec<i64>,
    first_seen: Vec<OffsetDateTime>,
    last_seen: Vec<OffsetDateTime>,
    /// When the first of them arrived: a resolved issue regressed then.
    first_arrived: Vec<OffsetDateTime>,
    last_event_id: Vec<Uuid>,
    last_release: Vec<Option<String>>,
    last_environment: Vec<Option<String>>,
    position: Vec<i64>,
}

impl IssueChanges {
    fn of(errors: &[(ErrorLogged, &RecordedEvent)], new_users: &HashMap<Uuid, i64>) -> Self {
        let mut changes = Self::default();
        let mut index: HashMap<Uuid, usize> = HashMap::new();
        for (e, recorded) in errors {
            let Some(&at) = index.get(&e.issue_id) else {
                index.insert(e.issue_id, changes.id.len());
                changes.start(e, recorded, new_users);
                continue;
            };
            let rank = e.level.rank();
            changes.level[at] = changes.level[at].max(rank);
            changes.times_seen[at] += e.count;
            changes.first_seen[at] = changes.first_seen[at].min(e.received_at);
            changes.last_seen[at] = changes.last_seen[at].max(e.received_at);
            changes.last_event_id[at] = e.event_id;
            changes.position[at] = changes.position[at].max(recorded.position);
            // Each kept from the latest error that has one.
            let latest = |kept: &mut Option<String>, new: &Option<String>| {
                if new.is_some() {
                    kept.clone_from(new);
                }
            };
            latest(&mut changes.culprit[at], &e.culprit);
            latest(&mut changes.last_release[at], &e.release);
            latest(&mut changes.last_environment[at], &e.environment);
        }
        changes
    }

    fn start(&mut self, e: &ErrorLogged, recorded: &RecordedEvent, new_users: &HashMap<Uuid, i64>) {
        self.id.push(e.issue_id);
        self.project.push(e.project);
        self.fingerprint.push(Value::from(e.fingerprint.clone()));
        self.title.push(e.title.clone());
        self.culprit.push(e.culprit.clone());
        self.level.push(e.level.rank());
        self.times_seen.push(e.count);
        self.new_users
            .push(new_users.get(&e.issue_id).copied().unwrap_or(0));
        self.first_seen.push(e.received_at);
        self.last_seen.push(e.received_at);
        self.first_arrived.push(e.received_at);
        self.last_event_id.push(e.event_id);
        self.last_release.push(e.release.clone());
        self.last_environment.push(e.environment.clone());
        self.position.push(recorded.position);
    }

    /// Creates the rows of issues not seen yet; adds to the others, reopening a resolved
    /// one as a regression (a muted one stays muted).
    async fn apply(self, conn: &mut PgConnection, tables: Tables) -> anyhow::Result<()> {
        sqlx::query(&format!(
            "WITH r AS (SELECT * FROM UNNEST($1::uuid[], $2::bigint[], $3::jsonb[], \
             $4::text[], $5::text[], $6::smallint[], $7::bigint[], $8::bigint[], \
             $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::uuid[], \
             $13::text[], $14::text[], $15::bigint[]) \
             AS r(id, project, fingerprint, title, culprit, level, times, users, \
             first_seen, last_seen, first_arrived, event_id, release, environment, position)) \
             INSERT INTO {issues} AS i (id, project, fingerprint, title, culprit, level, \
             status, times_seen, users_seen, first_seen, last_seen, last_event_id, \
             last_release, last_environment, version, position) \
             SELECT id, project, ARRAY(SELECT jsonb_array_elements_text(fingerprint)), \
             title, culprit, level, 'open', times, users, first_seen, last_seen, event_id, \
             release, environment, 0, position FROM r \
             ON CONFLICT (id) DO UPDATE SET culprit = coalesce(EXCLUDED.culprit, i.culprit), \
             level = greatest(i.level, EXCLUDED.level), \
             times_seen = i.times_seen + EXCLUDED.times_seen, \
             users_seen = i.users_seen + EXCLUDED.users_seen, \
             first_seen = least(i.first_seen, EXCLUDED.first_seen), \
             last_seen = greatest(i.last_seen, EXCLUDED.last_seen), \
             last_event_id = EXCLUDED.last_event_id, \
             last_release = coalesce(EXCLUDED.last_release, i.last_release), \
             last_environment = coalesce(EXCLUDED.last_environment, i.last_environment), \
             status = CASE WHEN i.status = 'resolved' THEN 'open' ELSE i.status END, \
             regressed = i.regressed OR i.status = 'resolved', \
             last_regressed_at = CASE WHEN i.status = 'resolved' \
                 THEN (SELECT first_arrived FROM r WHERE r.id = i.id) \
                 ELSE i.last_regressed_at END, \
             position = greatest(i.position, EXCLUDED.position)",
            issues = tables.name("error_issues")
        ))
        .bind(self.id)
        .bind(self.project)
        .bind(self.fingerprint)
        .bind(self.title)
        .bind(self.culprit)
        .bind(self.level)
        .bind(self.times_seen)
        .bind(self.new_users)
        .bind(self.first_seen)
        .bind(self.last_seen)
        .bind(self.first_arrived)
        .bind(self.last_event_id)
        .bind(self.last_release)
        .bind(self.last_environment)
        .bind(self.position)
        .execute(conn)
        .await?;
        Ok(())
    }
}
