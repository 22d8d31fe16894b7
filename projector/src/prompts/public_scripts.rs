//! The `public_scripts` read model: admins' public scripts, each with its scripts as one
//! JSON array by number.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    prompts::{PromptsEvent, SCRIPT_EVENT_TYPES},
};
use sqlx::{PgConnection, types::Json};
use time::OffsetDateTime;

use super::follows;
use crate::{Projection, Tables};

pub struct PublicScriptsProjection;

#[async_trait]
impl Projection for PublicScriptsProjection {
    const NAME: &str = "public_scripts";
    const CONTEXT: &str = PromptsEvent::CONTEXT;
    const TABLES: &[&str] = &["public_scripts"];
    const EVENT_TYPES: Option<&'static [&'static str]> = Some(&SCRIPT_EVENT_TYPES);

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let table = tables.name("public_scripts");
        for recorded in events {
            let version = recorded.stream_version;
            // The rows a change or deletion found at the version before it; a creation
            // is strict on its own (a script created twice fails the batch).
            let found = match recorded.decode::<PromptsEvent>()? {
                PromptsEvent::PublicScriptCreated(e) => {
                    let sql = format!(
                        "INSERT INTO {table} (script_id, name, description, scripts, \
                         script_count, version, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
                    );
                    sqlx::query(&sql)
                        .bind(e.script_id)
                        .bind(&e.name)
                        .bind(&e.description)
                        .bind(Json(&e.scripts))
                        .bind(e.scripts.len() as i32)
                        .bind(version)
                        .bind(e.by)
                        .bind(e.created_at)
                        .execute(&mut *conn)
                        .await?;
                    None
                }
                PromptsEvent::PublicScriptUpdated(e) => {
                    let sql = format!(
                        "UPDATE {table} SET name = $2, description = $3, scripts = $4, \
                         script_count = $5, version = $6, updated_at = $7 \
                         WHERE script_id = $1 AND version = $6 - 1"
                    );
                    let changed = sqlx::query(&sql)
                        .bind(e.script_id)
                        .bind(&e.name)
                        .bind(&e.description)
                        .bind(Json(&e.scripts))
                        .bind(e.scripts.len() as i32)
                        .bind(version)
                        .bind(e.updated_at)
                        .execute(&mut *conn)
                        .await?;
                    Some(changed.rows_affected())
                }
                PromptsEvent::PublicScriptReordered(e) => Some(
                    reorder(conn, &table, e.script_id, &e.order, version, e.reordered_at).await?,
                ),
                PromptsEvent::PublicScriptDeleted(e) => {
                    let sql =
                        format!("DELETE FROM {table} WHERE script_id = $1 AND version = $2 - 1");
                    let deleted = sqlx::query(&sql)
                        .bind(e.script_id)
                        .bind(version)
                        .execute(&mut *conn)
                        .await?;
                    Some(deleted.rows_affected())
                }
                // Profiles, books, texts and slots are the `profiles` projection's.
                _ => None,
            };
            if let Some(rows) = found {
                follows(rows, recorded)?;
            }
        }
        Ok(())
    }
}

/// Renumbers the scripts in the new `order`: the one numbered `order[0]` becomes 1, and
/// so on (as the command side's fold does).
async fn reorder(
    conn: &mut PgConnection,
    table: &str,
    script_id: i64,
    order: &[i16],
    version: i64,
    at: OffsetDateTime,
) -> anyhow::Result<u64> {
    let sql = format!(
        "UPDATE {table} s SET scripts = coalesce((\
             SELECT jsonb_agg(jsonb_build_object('number', o.n, 'text', e.value -> 'text') \
                 ORDER BY o.n) \
             FROM unnest($2::smallint[]) WITH ORDINALITY AS o(old, n) \
             JOIN jsonb_array_elements(s.scripts) AS e(value) \
                 ON (e.value ->> 'number')::smallint = o.old), '[]'::jsonb), \
         version = $3, updated_at = $4 \
         WHERE s.script_id = $1 AND s.version = $3 - 1"
    );
    let changed = sqlx::query(&sql)
        .bind(script_id)
        .bind(order)
        .bind(version)
        .bind(at)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(changed)
}
