//! The members read model: one row per user account.

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    identity::{IdentityEvent, UserRegistered},
};
use sqlx::PgConnection;

use crate::{Projection, Tables};

pub struct MembersProjection;

#[async_trait]
impl Projection for MembersProjection {
    fn name(&self) -> &'static str {
        "members"
    }

    fn context(&self) -> &'static str {
        IdentityEvent::CONTEXT
    }

    fn tables(&self) -> &'static [&'static str] {
        &["members"]
    }

    /// Registrations insert a row; email claims and sessions do not show in it.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let members = tables.name("members");
        for event in events {
            if let IdentityEvent::UserRegistered(registered) = event.decode::<IdentityEvent>()? {
                insert(conn, &members, &registered, event).await?;
            }
        }
        Ok(())
    }
}

/// Strict on purpose: a registration applied twice fails the batch (primary key).
async fn insert(
    conn: &mut PgConnection,
    members: &str,
    registered: &UserRegistered,
    event: &RecordedEvent,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO {members} (user_id, email, name, role, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)"
    ))
    .bind(registered.user_id)
    .bind(&registered.email)
    .bind(&registered.name)
    .bind(registered.role.as_str())
    .bind(event.stream_version)
    .bind(event.occurred_at)
    .execute(conn)
    .await?;
    Ok(())
}
