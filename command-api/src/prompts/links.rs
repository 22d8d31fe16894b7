//! What a profile may link: the caller's own books and texts, none deleted. A book or
//! text of someone else's is refused like one that never existed, so a link attempt tells
//! nobody what others hold.

use event_store::EventStore;
use prompt_profile::{Book, Data};
use schemas::prompts::{ProfileSettings, book_stream_id, data_stream_id};
use serde_json::Map;
use service_kit::ApiError;
use uuid::Uuid;

use super::{
    aggregate::{Owned, visible_to},
    input::refuse,
};
use crate::command::{self, Aggregate};

/// Refuses, naming each one by its place (`ref_book_ids[1]`), the links of `settings`
/// that are not `owner`'s own live books and texts.
pub async fn check(
    store: &EventStore,
    owner: Uuid,
    settings: &ProfileSettings,
) -> Result<(), ApiError> {
    let mut broken = Map::new();
    for (index, id) in settings.ref_book_ids.iter().enumerate() {
        if !owns::<Book>(store, &book_stream_id(*id), owner).await? {
            let rule = format!("is no reference book of yours: {id}");
            broken.insert(format!("ref_book_ids[{index}]"), rule.into());
        }
    }
    for (index, id) in settings.ref_data_ids.iter().enumerate() {
        if !owns::<Data>(store, &data_stream_id(*id), owner).await? {
            let rule = format!("is no reference text of yours: {id}");
            broken.insert(format!("ref_data_ids[{index}]"), rule.into());
        }
    }
    refuse(broken)
}

async fn owns<A: Aggregate + Owned>(
    store: &EventStore,
    stream_id: &str,
    owner: Uuid,
) -> Result<bool, ApiError> {
    let state = command::load::<A>(store, stream_id, None).await?;
    Ok(visible_to(state, owner).is_some())
}
