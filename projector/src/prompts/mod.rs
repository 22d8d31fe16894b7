//! The prompts read models, two projections of one context:
//!
//! - `profiles` ([`ProfilesProjection`]): each user's profiles with their links, books and
//!   reference texts (their bodies apart). A profile links only books and texts that are
//!   there when it applies: one deleted before (a link racing the deletion) is not linked,
//!   and deleting one removes it from every profile that linked it (see [`profiles`],
//!   [`references`]).
//! - `public_scripts` ([`public_scripts::PublicScriptsProjection`]): admins' public
//!   scripts.
//!
//! The profile slots (`ProfileSlotTaken`, `ProfileSlotFreed`) are the command side's
//! count and have no read model.

mod profiles;
pub mod public_scripts;
mod references;

use async_trait::async_trait;
use schemas::{
    DomainEvent, RecordedEvent,
    prompts::{OWNED_EVENT_TYPES, PromptsEvent},
};
use sqlx::PgConnection;

use crate::{Projection, Tables};

pub struct ProfilesProjection;

#[async_trait]
impl Projection for ProfilesProjection {
    const NAME: &str = "profiles";
    const CONTEXT: &str = PromptsEvent::CONTEXT;
    const TABLES: &[&str] = &[
        "prompt_profiles",
        "prompt_profile_books",
        "prompt_profile_data",
        "prompt_books",
        "prompt_data",
        "prompt_data_texts",
    ];
    const EVENT_TYPES: Option<&'static [&'static str]> = Some(&OWNED_EVENT_TYPES);

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: Tables,
        events: &[RecordedEvent],
    ) -> anyhow::Result<()> {
        for recorded in events {
            let version = recorded.stream_version;
            let follows = |rows| follows(rows, recorded);
            match recorded.decode::<PromptsEvent>()? {
                PromptsEvent::PromptProfileCreated(e) => {
                    profiles::created(conn, tables, &e, version).await?
                }
                PromptsEvent::PromptProfileUpdated(e) => {
                    follows(profiles::updated(conn, tables, &e, version).await?)?
                }
                PromptsEvent::PromptProfileDeleted(e) => {
                    follows(profiles::deleted(conn, tables, e.profile_id, version).await?)?
                }
                PromptsEvent::RefBookCreated(e) => {
                    references::book_created(conn, tables, &e, version).await?
                }
                PromptsEvent::RefBookUpdated(e) => {
                    follows(references::book_updated(conn, tables, &e, version).await?)?
                }
                PromptsEvent::RefBookDeleted(e) => {
                    follows(references::book_deleted(conn, tables, e.book_id, version).await?)?
                }
                PromptsEvent::RefDataCreated(e) => {
                    references::data_created(conn, tables, &e, version).await?
                }
                PromptsEvent::RefDataUpdated(e) => {
                    follows(references::data_updated(conn, tables, &e, version).await?)?
                }
                PromptsEvent::RefDataDeleted(e) => {
                    follows(references::data_deleted(conn, tables, e.data_id, version).await?)?
                }
                // The slots are the command side's; public scripts have their projection.
                PromptsEvent::ProfileSlotTaken(_)
                | PromptsEvent::ProfileSlotFreed(_)
                | PromptsEvent::PublicScriptCreated(_)
                | PromptsEvent::PublicScriptUpdated(_)
                | PromptsEvent::PublicScriptReordered(_)
                | PromptsEvent::PublicScriptDeleted(_) => {}
            }
        }
        Ok(())
    }
}

/// A change or deletion must have found its row at the version before it.
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
