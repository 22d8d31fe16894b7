//! Profiles and their links in the `profiles` read model.

use schemas::prompts::{ProfileSettings, PromptProfileCreated, PromptProfileUpdated};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Tables;

/// Strict on purpose: a profile created twice fails the batch (primary key).
pub(super) async fn created(
    conn: &mut PgConnection,
    tables: Tables,
    e: &PromptProfileCreated,
    version: i64,
) -> anyhow::Result<()> {
    let sql = format!(
        "INSERT INTO {} (profile_id, owner_id, description, language, major, \
         understanding_level, only_references, data_in_sequence, version, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        tables.name("prompt_profiles")
    );
    let s = &e.settings;
    sqlx::query(&sql)
        .bind(e.profile_id)
        .bind(e.owner_id)
        .bind(&s.description)
        .bind(s.language.as_str())
        .bind(&s.major)
        .bind(s.understanding_level)
        .bind(s.only_references)
        .bind(s.data_in_sequence)
        .bind(version)
        .bind(e.created_at)
        .execute(&mut *conn)
        .await?;
    link(conn, tables, e.profile_id, e.owner_id, s).await
}

/// Replaces the row's settings and its links; the rows changed (1, or 0 when the event
/// does not follow the row).
pub(super) async fn updated(
    conn: &mut PgConnection,
    tables: Tables,
    e: &PromptProfileUpdated,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "UPDATE {} SET description = $2, language = $3, major = $4, understanding_level = $5, \
         only_references = $6, data_in_sequence = $7, version = $8, updated_at = $9 \
         WHERE profile_id = $1 AND version = $8 - 1",
        tables.name("prompt_profiles")
    );
    let s = &e.settings;
    let changed = sqlx::query(&sql)
        .bind(e.profile_id)
        .bind(&s.description)
        .bind(s.language.as_str())
        .bind(&s.major)
        .bind(s.understanding_level)
        .bind(s.only_references)
        .bind(s.data_in_sequence)
        .bind(version)
        .bind(e.updated_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed == 1 {
        unlink(conn, tables, e.profile_id).await?;
        link(conn, tables, e.profile_id, e.owner_id, s).await?;
    }
    Ok(changed)
}

/// Deletes the row and its links; the rows deleted (1, or 0 when the event does not
/// follow the row).
pub(super) async fn deleted(
    conn: &mut PgConnection,
    tables: Tables,
    profile_id: i64,
    version: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "DELETE FROM {} WHERE profile_id = $1 AND version = $2 - 1",
        tables.name("prompt_profiles")
    );
    let deleted = sqlx::query(&sql)
        .bind(profile_id)
        .bind(version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    unlink(conn, tables, profile_id).await?;
    Ok(deleted)
}

/// Links the owner's books and texts the settings list, in their order, as far as they
/// are there: one deleted before the profile applied stays unlinked.
async fn link(
    conn: &mut PgConnection,
    tables: Tables,
    profile_id: i64,
    owner: Uuid,
    settings: &ProfileSettings,
) -> anyhow::Result<()> {
    for (links, refs, column, ids) in [
        (
            "prompt_profile_books",
            "prompt_books",
            "book_id",
            &settings.ref_book_ids,
        ),
        (
            "prompt_profile_data",
            "prompt_data",
            "data_id",
            &settings.ref_data_ids,
        ),
    ] {
        let sql = format!(
            "INSERT INTO {links} (profile_id, {column}, ord) \
             SELECT $1, l.id, l.ord FROM unnest($2::bigint[]) WITH ORDINALITY AS l(id, ord) \
             JOIN {refs} r ON r.{column} = l.id AND r.owner_id = $3",
            links = tables.name(links),
            refs = tables.name(refs),
        );
        sqlx::query(&sql)
            .bind(profile_id)
            .bind(ids)
            .bind(owner)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn unlink(conn: &mut PgConnection, tables: Tables, profile_id: i64) -> anyhow::Result<()> {
    for links in ["prompt_profile_books", "prompt_profile_data"] {
        let sql = format!("DELETE FROM {} WHERE profile_id = $1", tables.name(links));
        sqlx::query(&sql)
            .bind(profile_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
