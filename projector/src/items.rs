//! The items read model: one row per live item.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    items::{ItemCreated, ItemEvent},
};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::{Projection, Tables};

pub struct ItemsProjection;

#[async_trait]
impl Projection for ItemsProjection {
    const NAME: &str = "items";
    const CONTEXT: &str = ItemEvent::CONTEXT;
    const TABLES: &[&str] = &["items"];

    /// Runs of creations become one multi-row insert; other events one statement each.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let items = tables.name("items");
        let mut created = Creations::default();
        for event in events {
            match event.decode::<ItemEvent>()? {
                ItemEvent::Created(e) => created.push(e, event),
                other => {
                    created.insert(conn, &items).await?;
                    change(conn, &items, other, event).await?;
                }
            }
        }
        created.insert(conn, &items).await
    }
}

/// Consecutive creations, as column arrays.
#[derive(Default)]
struct Creations {
    id: Vec<i64>,
    name: Vec<String>,
    description: Vec<String>,
    version: Vec<i64>,
    at: Vec<OffsetDateTime>,
}

impl Creations {
    fn push(&mut self, created: ItemCreated, event: &RecordedEvent) {
        self.id.push(created.id);
        self.name.push(created.name);
        self.description.push(created.description);
        self.version.push(event.stream_version);
        self.at.push(event.occurred_at);
    }

    /// Inserts and clears. Strict on purpose: a creation applied twice fails the batch
    /// (primary key) instead of being absorbed, so a delivery bug cannot hide.
    async fn insert(&mut self, conn: &mut PgConnection, items: &str) -> anyhow::Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "INSERT INTO {items} (id, name, description, version, created_at, updated_at) \
             SELECT i, n, d, v, a, a FROM UNNEST($1::bigint[], $2::text[], $3::text[], \
             $4::bigint[], $5::timestamptz[]) AS r(i, n, d, v, a)"
        ))
        .bind(&self.id)
        .bind(&self.name)
        .bind(&self.description)
        .bind(&self.version)
        .bind(&self.at)
        .execute(conn)
        .await?;
        *self = Self::default();
        Ok(())
    }
}

/// Applies an update or a deletion, which must follow the row's version exactly.
async fn change(
    conn: &mut PgConnection,
    items: &str,
    event: ItemEvent,
    recorded: &RecordedEvent,
) -> anyhow::Result<()> {
    let version = recorded.stream_version;
    let changed = match event {
        ItemEvent::Updated(e) => {
            sqlx::query(&format!(
                "UPDATE {items} SET name = $2, description = $3, version = $4, updated_at = $5 \
             WHERE id = $1 AND version = $4 - 1"
            ))
            .bind(e.id)
            .bind(e.name)
            .bind(e.description)
            .bind(version)
            .bind(recorded.occurred_at)
            .execute(conn)
            .await?
        }
        ItemEvent::Deleted(e) => {
            sqlx::query(&format!(
                "DELETE FROM {items} WHERE id = $1 AND version = $2 - 1"
            ))
            .bind(e.id)
            .bind(version)
            .execute(conn)
            .await?
        }
        ItemEvent::Created(_) => unreachable!("creations are inserted in runs"),
    };
    anyhow::ensure!(
        changed.rows_affected() == 1,
        "{} {} at version {version} does not follow the read model's row",
        recorded.event_type,
        recorded.stream_id
    );
    Ok(())
}
