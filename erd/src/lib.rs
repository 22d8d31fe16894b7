//! The entity-relationship diagram of the platform's database, generated from a migrated
//! database rather than drawn by hand, so it cannot drift from the migrations.
//!
//! Layout:
//! * `catalog`: tables, columns, keys, constraints, indexes and sequences as PostgreSQL
//!   reports them;
//! * `document`: the Markdown with a Mermaid diagram per group of tables;
//! * this file: the groups, the store of record and one per projection.

pub mod catalog;
mod document;

use anyhow::Context;
use document::Group;
use sqlx::PgPool;

/// Where the generated document lives, relative to the repository.
pub const DOCUMENT: &str = "docs/erd.md";

/// The document for the database behind `pool`, which must be migrated.
pub async fn generate(pool: &PgPool) -> anyhow::Result<String> {
    let (tables, sequences) = catalog::read(pool).await?;
    let projections = projector::projections();
    let mut groups = Vec::new();
    for projection in &projections {
        let owned = projection
            .tables()
            .iter()
            .map(|name| {
                tables
                    .iter()
                    .find(|table| table.name == *name)
                    .with_context(|| {
                        format!("projection {} names no table {name}", projection.name())
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        groups.push(Group {
            heading: format!("Read model `{}`", projection.name()),
            about: format!(
                "Built by the `{}` projection from the `{}` events.",
                projection.name(),
                projection.context()
            ),
            tables: owned,
        });
    }
    let read_models: Vec<&str> = projections
        .iter()
        .flat_map(|p| p.tables())
        .copied()
        .collect();
    groups.insert(
        0,
        Group {
            heading: "Store of record: the event log and the command side".to_owned(),
            about: "What a backup must hold: the events, the log's head, the relay's, \
                    projections' and reactors' checkpoints, the alert rules' state (kept \
                    with their reactor's checkpoint), idempotency keys, and the command \
                    side's tables (credentials, sessions, refresh tokens) and chat presence."
                .to_owned(),
            tables: tables
                .iter()
                .filter(|table| !read_models.contains(&table.name.as_str()))
                .collect(),
        },
    );
    Ok(document::render(&groups, &sequences))
}
