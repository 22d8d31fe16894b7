//! One row per project: its name, client key, quota and alert rules.

use error_report::project::Project;
use schemas::errors::{
    AlertRules, AlertRulesChanged, PLATFORM_PROJECT, ProjectChanged, ProjectCreated,
    ProjectKeyRotated,
};
use sqlx::{PgConnection, types::Json};

use super::At;
use crate::Tables;

pub(super) async fn created(
    conn: &mut PgConnection,
    tables: Tables,
    e: &ProjectCreated,
    at: At,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO {} (id, name, public_key, rate_limit_per_minute, alert_rules, \
         created_at, updated_at, version, position) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
        tables.name("error_projects")
    ))
    .bind(e.project)
    .bind(&e.name)
    .bind(&e.public_key)
    .bind(e.rate_limit_per_minute)
    .bind(Json(AlertRules::default()))
    .bind(e.created_at)
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn changed(
    conn: &mut PgConnection,
    tables: Tables,
    e: &ProjectChanged,
    at: At,
) -> anyhow::Result<()> {
    let changed = sqlx::query(&format!(
        "UPDATE {} SET name = $2, rate_limit_per_minute = $3, updated_at = $4, version = $5, \
         position = $6 WHERE id = $1",
        tables.name("error_projects")
    ))
    .bind(e.project)
    .bind(&e.name)
    .bind(e.rate_limit_per_minute)
    .bind(e.changed_at)
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?
    .rows_affected();
    anyhow::ensure!(
        changed == 1,
        "project {} changed before it was created",
        e.project
    );
    Ok(())
}

pub(super) async fn key_rotated(
    conn: &mut PgConnection,
    tables: Tables,
    e: &ProjectKeyRotated,
    at: At,
) -> anyhow::Result<()> {
    let changed = sqlx::query(&format!(
        "UPDATE {} SET public_key = $2, updated_at = $3, version = $4, position = $5 \
         WHERE id = $1",
        tables.name("error_projects")
    ))
    .bind(e.project)
    .bind(&e.public_key)
    .bind(e.rotated_at)
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?
    .rows_affected();
    anyhow::ensure!(
        changed == 1,
        "project {} got a key before it was created",
        e.project
    );
    Ok(())
}

/// The platform's own project gets its row here, from its defaults: it is never created.
pub(super) async fn rules_changed(
    conn: &mut PgConnection,
    tables: Tables,
    e: &AlertRulesChanged,
    at: At,
) -> anyhow::Result<()> {
    let projects = tables.name("error_projects");
    if e.project == PLATFORM_PROJECT {
        let platform = Project::platform();
        sqlx::query(&format!(
            "INSERT INTO {projects} (id, name, public_key, rate_limit_per_minute, alert_rules, \
             created_at, updated_at, version, position) \
             VALUES ($1, $2, NULL, $3, $4, NULL, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET alert_rules = EXCLUDED.alert_rules, \
             updated_at = EXCLUDED.updated_at, version = EXCLUDED.version, \
             position = EXCLUDED.position"
        ))
        .bind(platform.id)
        .bind(&platform.name)
        .bind(platform.rate_limit_per_minute)
        .bind(Json(&e.rules))
        .bind(e.changed_at)
        .bind(at.version)
        .bind(at.position)
        .execute(conn)
        .await?;
        return Ok(());
    }
    let updated = sqlx::query(&format!(
        "UPDATE {projects} SET alert_rules = $2, updated_at = $3, version = $4, position = $5 \
         WHERE id = $1"
    ))
    .bind(e.project)
    .bind(Json(&e.rules))
    .bind(e.changed_at)
    .bind(at.version)
    .bind(at.position)
    .execute(conn)
    .await?
    .rows_affected();
    anyhow::ensure!(
        updated == 1,
        "project {} got rules before it was created",
        e.project
    );
    Ok(())
}
