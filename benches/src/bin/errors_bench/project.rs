//! The project the ingest phase reports to. The benchmark appends the project's first
//! event itself, as the platform would (it predates `POST /api/v1/errors/projects`, which
//! needs an admin): `ProjectCreated` on `project-<n>`, through the event store's own
//! `append_batch` function (so positions, the log's head and the readers' notification
//! are those of any append). A project that exists is reused with its key.

use anyhow::{Context, bail};
use sqlx::{PgPool, Row, postgres::PgPoolOptions};
use uuid::Uuid;

/// Events a minute the project takes: far more than any run sends, so no report is
/// refused for its quota.
const RATE_LIMIT_PER_MINUTE: i64 = 1_000_000_000;

/// One `ProjectCreated` on `$1` (which must not exist yet), its payload built by the
/// database so its time is the database's, in RFC 3339.
const CREATE: &str = r#"
SELECT first_position, conflict FROM append_batch(
    ARRAY[NULL]::integer[], ARRAY[$1], ARRAY[0::bigint], ARRAY[NULL]::text[],
    ARRAY[NULL]::text[], ARRAY[1], ARRAY['errors-bench'], ARRAY[NULL]::text[],
    ARRAY[NULL]::text[], ARRAY[NULL]::text[], ARRAY[1], ARRAY[$2::uuid], ARRAY['errors'],
    ARRAY['ProjectCreated'], ARRAY[1],
    ARRAY[jsonb_build_object(
        'project', $3::bigint,
        'name', 'errors-bench',
        'public_key', $4::text,
        'rate_limit_per_minute', $5::bigint,
        'created_by', $6::uuid,
        'created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    )::text],
    now())
"#;

/// The project's current client key, from the last event that set one.
const KEY: &str = "
SELECT data->>'public_key' AS key FROM events
WHERE stream_id = $1 AND event_type IN ('ProjectCreated', 'ProjectKeyRotated')
ORDER BY stream_version DESC LIMIT 1";

/// The client key of `project` in `database_url`, creating the project when it has none.
pub(crate) async fn ensure_project(database_url: &str, project: i64) -> anyhow::Result<String> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .with_context(|| format!("connecting to {database_url}"))?;
    let key = key_of(&pool, project).await;
    pool.close().await;
    key
}

async fn key_of(pool: &PgPool, project: i64) -> anyhow::Result<String> {
    let stream = format!("project-{project}");
    if let Some(key) = current_key(pool, &stream).await? {
        return Ok(key);
    }
    let key = Uuid::new_v4().simple().to_string();
    let row = sqlx::query(CREATE)
        .bind(&stream)
        .bind(Uuid::now_v7())
        .bind(project)
        .bind(&key)
        .bind(RATE_LIMIT_PER_MINUTE)
        .bind(Uuid::nil())
        .fetch_one(pool)
        .await
        .context("appending ProjectCreated (is the platform migrated?)")?;
    let appended: Option<i64> = row.try_get("first_position")?;
    if appended.is_some() {
        return Ok(key);
    }
    // Created by someone else meanwhile: theirs is the key.
    match current_key(pool, &stream).await? {
        Some(key) => Ok(key),
        None => bail!("{stream} was neither created nor found"),
    }
}

async fn current_key(pool: &PgPool, stream: &str) -> anyhow::Result<Option<String>> {
    let row = sqlx::query(KEY)
        .bind(stream)
        .fetch_optional(pool)
        .await
        .with_context(|| format!("reading {stream}"))?;
    Ok(row.and_then(|row| row.get::<Option<String>, _>("key")))
}
