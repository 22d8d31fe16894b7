//! A profile, its books and texts, and so its dialogue, as they were at a past position:
//! folded from their streams in the log, the store of record, rather than read from the
//! read model, which only knows the present.

use event_log::EventLog;
use prompt_profile::{
    Book, Data, Profile,
    dialogue::{Asker, Citation, Dialogue, Passage},
    profile::evolve,
    reference::{evolve_book, evolve_data},
};
use schemas::prompts::{self, PromptsEvent};
use serde::Serialize;
use serde_json::json;
use service_kit::ApiError;
use utoipa::ToSchema;
use uuid::Uuid;

use super::queries::{BookRef, DataRef, ProfileFields, ProfileView};
use crate::AppState;

/// A profile and the references it linked, as they were at `as_of`.
pub struct PastProfile {
    pub profile: Profile,
    /// The linked books there were then, in the profile's order.
    pub books: Vec<Book>,
    /// The linked texts there were then, in the profile's order.
    pub data: Vec<Data>,
    pub as_of: i64,
}

/// A profile as it was at a past position.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PastProfileView {
    #[serde(flatten)]
    pub view: ProfileView,
    /// The position it is shown at.
    pub as_of: i64,
}

/// `owner`'s profile `id` as it was at `position`; none when it was not there then
/// (not created yet, or deleted by then) or is not `owner`'s. A position the log has not
/// reached is a `400`: nothing can be said of it yet.
pub async fn profile(
    state: &AppState,
    owner: Uuid,
    id: i64,
    position: i64,
) -> Result<Option<PastProfile>, ApiError> {
    reached(state, position).await?;
    let log = EventLog::new(state.pool.clone());
    let stream = prompts::profile_stream_id(id);
    let profile = fold(&log, &stream, position, evolve).await?;
    let Some(profile) = profile.filter(|p| p.owner_id == owner && !p.deleted) else {
        return Ok(None);
    };
    let mut books = Vec::new();
    for id in &profile.settings.ref_book_ids {
        let stream = prompts::book_stream_id(*id);
        let book = fold(&log, &stream, position, evolve_book).await?;
        books.extend(book.filter(|b| b.owner_id == owner && !b.deleted));
    }
    let mut data = Vec::new();
    for id in &profile.settings.ref_data_ids {
        let stream = prompts::data_stream_id(*id);
        let text = fold(&log, &stream, position, evolve_data).await?;
        data.extend(text.filter(|d| d.owner_id == owner && !d.deleted));
    }
    Ok(Some(PastProfile {
        profile,
        books,
        data,
        as_of: position,
    }))
}

impl PastProfile {
    pub fn view(&self) -> PastProfileView {
        let (profile, settings) = (&self.profile, &self.profile.settings);
        let fields = ProfileFields {
            id: profile.id,
            description: settings.description.clone(),
            language: settings.language,
            major: settings.major.clone(),
            understanding_level: settings.understanding_level,
            only_references: settings.only_references,
            data_in_sequence: settings.data_in_sequence,
            version: profile.version,
            created_at: profile.created_at,
            updated_at: profile.updated_at,
        };
        let ref_books = self
            .books
            .iter()
            .map(|b| BookRef {
                id: b.id,
                author: b.author.clone(),
                title: b.title.clone(),
            })
            .collect();
        let ref_data = self
            .data
            .iter()
            .map(|d| DataRef {
                id: d.id,
                title: d.title.clone(),
            })
            .collect();
        PastProfileView {
            view: ProfileView {
                profile: fields,
                ref_books,
                ref_data,
            },
            as_of: self.as_of,
        }
    }

    /// The dialogue the profile gave then.
    pub fn dialogue(&self) -> Dialogue {
        let books: Vec<Citation<'_>> = self
            .books
            .iter()
            .map(|b| Citation {
                author: &b.author,
                title: &b.title,
            })
            .collect();
        let passages: Vec<Passage<'_>> = self
            .data
            .iter()
            .map(|d| Passage {
                title: &d.title,
                text: &d.text,
            })
            .collect();
        Dialogue::write(&Asker::from(&self.profile.settings), &books, &passages)
    }
}

/// Refuses a position below 0 or beyond the end of the log.
async fn reached(state: &AppState, position: i64) -> Result<(), ApiError> {
    if position < 0 {
        return Err(ApiError::bad_request(format!(
            "as_of must be a position (0 or more), got {position}"
        )));
    }
    let head = event_log::read::head(&state.pool)
        .await
        .map_err(ApiError::failure)?;
    if position > head {
        return Err(ApiError::bad_request(format!(
            "position {position} has not been written: the log ends at {head}"
        ))
        .with_details(json!({ "as_of": position, "log_position": head })));
    }
    Ok(())
}

/// The state of `stream` after its events up to `position`.
async fn fold<S>(
    log: &EventLog,
    stream: &str,
    position: i64,
    evolve: fn(Option<S>, &PromptsEvent, i64) -> Option<S>,
) -> Result<Option<S>, ApiError> {
    let events = log
        .read_stream(stream, None)
        .await
        .map_err(ApiError::failure)?;
    let mut state = None;
    for recorded in events.iter().take_while(|e| e.position <= position) {
        let event = recorded
            .decode::<PromptsEvent>()
            .map_err(ApiError::failure)?;
        state = evolve(state, &event, recorded.stream_version);
    }
    Ok(state)
}
