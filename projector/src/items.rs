//! The items read model: one row per live item.

use async_trait::async_trait;
use schemas::{DomainEvent, RecordedEvent, items::ItemEvent};
use sqlx::PgConnection;

use crate::{Projection, Tables};

pub struct ItemsProjection;

#[async_trait]
impl Projection for ItemsProjection {
    fn name(&self) -> &'static str {
        "items"
    }

    fn context(&self) -> &'static str {
        ItemEvent::CONTEXT
    }

    fn tables(&self) -> &'static [&'static str] {
        &["items"]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        event: &RecordedEvent,
    ) -> anyhow::Result<()> {
        let items = tables.name("items");
        let version = event.stream_version;
        let at = event.occurred_at;
        // Strict on purpose: an event applied twice or out of order fails the batch
        // instead of being absorbed, so a delivery bug cannot hide.
        let changed =
            match event.decode::<ItemEvent>()? {
                ItemEvent::Created(e) => sqlx::query(&format!(
                    "INSERT INTO {items} (id, name, description, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)"
                ))
                .bind(e.id)
                .bind(e.name)
                .bind(e.description)
                .bind(version)
                .bind(at)
                .execute(conn)
                .await?,
                ItemEvent::Updated(e) => sqlx::query(&format!(
                    "UPDATE {items} SET name = $2, description = $3, version = $4, updated_at = $5 \
                     WHERE id = $1 AND version = $4 - 1"
                ))
                .bind(e.id)
                .bind(e.name)
                .bind(e.description)
                .bind(version)
                .bind(at)
                .execute(conn)
                .await?,
                ItemEvent::Deleted(e) => {
                    sqlx::query(&format!(
                        "DELETE FROM {items} WHERE id = $1 AND version = $2 - 1"
                    ))
                    .bind(e.id)
                    .bind(version)
                    .execute(conn)
                    .await?
                }
            };
        anyhow::ensure!(
            changed.rows_affected() == 1,
            "{} {} at version {version} does not follow the read model's row",
            event.event_type,
            event.stream_id
        );
        Ok(())
    }
}
