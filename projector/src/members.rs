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
    const NAME: &str = "members";
    const CONTEXT: &str = IdentityEvent::CONTEXT;
    const TABLES: &[&str] = &["members"];

    /// One statement per event of a user's stream; email claims and sessions do not
    /// show in it. A change must follow the row's version exactly.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        let members = tables.name("members");
        for event in events {
            match event.decode::<IdentityEvent>()? {
                IdentityEvent::UserRegistered(registered) => {
                    insert(conn, &members, &registered, event).await?
                }
                IdentityEvent::UserDeleted(e) => {
                    let sql =
                        format!("DELETE FROM {members} WHERE user_id = $1 AND version = $2 - 1");
                    follows(
                        sqlx::query(&sql)
                            .bind(e.user_id)
                            .bind(event.stream_version)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected(),
                        event,
                    )?;
                }
                other => {
                    let Some(user) = other.account() else {
                        continue;
                    };
                    let (name, blocked) = match &other {
                        IdentityEvent::UserProfileChanged(e) => (Some(e.name.as_str()), None),
                        IdentityEvent::UserBlocked(_) => (None, Some(true)),
                        IdentityEvent::UserUnblocked(_) => (None, Some(false)),
                        _ => (None, None),
                    };
                    let sql = format!(
                        "UPDATE {members} SET name = coalesce($3, name), blocked = coalesce($4, blocked), \
                         version = $2, updated_at = $5 WHERE user_id = $1 AND version = $2 - 1"
                    );
                    let changed = sqlx::query(&sql)
                        .bind(user)
                        .bind(event.stream_version)
                        .bind(name)
                        .bind(blocked)
                        .bind(event.occurred_at)
                        .execute(&mut *conn)
                        .await?
                        .rows_affected();
                    follows(changed, event)?;
                }
            }
        }
        Ok(())
    }
}

/// A change or deletion must have found the row at the version before it.
fn follows(rows: u64, event: &RecordedEvent) -> anyhow::Result<()> {
    anyhow::ensure!(
        rows == 1,
        "{} {} at version {} does not follow the read model's row",
        event.event_type,
        event.stream_id,
        event.stream_version
    );
    Ok(())
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
