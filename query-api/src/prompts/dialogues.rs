//! A profile's dialogue: the scripts to paste into a chat one after another, and the same
//! as chat messages a chat-completion API takes as they are; now, or as it was at a past
//! position.

use axum::{extract::State, response::Response};
use prompt_profile::{
    Dialogue, Role,
    dialogue::{Asker, Citation, Passage},
};
use schemas::prompts::Language;
use serde::Serialize;
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    response::Envelope,
};
use utoipa::ToSchema;

use super::{handlers::AsOf, past, queries};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render},
};

/// One message of a chat-completion request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatMessage {
    /// `system` for what the assistant is told to do, `user` for the texts.
    #[schema(example = "system")]
    pub role: &'static str,
    pub content: String,
}

/// A profile's dialogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DialogueView {
    pub profile_id: i64,
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    /// The profile's version the dialogue is written from.
    pub version: i64,
    /// The position it is shown at, when asked for a past one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_of: Option<i64>,
    /// The scripts, in the order to send them.
    pub scripts: Vec<String>,
    /// The same, as `[{"role", "content"}]`.
    pub messages: Vec<ChatMessage>,
}

impl DialogueView {
    fn new(profile_id: i64, language: Language, version: i64, dialogue: &Dialogue) -> Self {
        let messages = dialogue
            .messages
            .iter()
            .map(|m| ChatMessage {
                role: match m.role {
                    Role::System => "system",
                    Role::User => "user",
                },
                content: m.content.clone(),
            })
            .collect();
        Self {
            profile_id,
            language,
            version,
            as_of: None,
            scripts: dialogue.scripts(),
            messages,
        }
    }
}

/// The dialogue one of the caller's profiles gives: who the user is and at what level to
/// answer, the books to draw on, the reference texts (one message each, numbered, when
/// they come in sequence) and, when asked, the instruction to answer from those only; in
/// the profile's language. The same profile and references always give the same scripts.
#[utoipa::path(
    get, path = "/api/v1/profiles/{id}/dialogues", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Profile id"),
        AsOf,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position (not needed with as_of, which reads the log)"),
    ),
    responses(
        (status = 200, description = "The scripts, and the same as chat messages", body = inline(Envelope<DialogueView>)),
        (status = 400, description = "Bad id, position or as_of (one the log has not reached)", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such profile (then), or another user's", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn dialogues(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(as_of): Query<AsOf>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let owner = caller.user_id;
    let not_found = || ApiError::not_found(format!("no profile with id {id}"));
    if let Some(position) = as_of.as_of {
        let past = past::profile(&state, owner, id, position)
            .await?
            .ok_or_else(not_found)?;
        let settings = &past.profile.settings;
        let mut view = DialogueView::new(
            id,
            settings.language,
            past.profile.version,
            &past.dialogue(),
        );
        view.as_of = Some(position);
        return Ok(json(render(view), None));
    }
    let model = &state.profiles;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.dialogues.get(&(owner, id)) {
        return Ok(json(body, None));
    }
    let (applied, source) = queries::dialogue_source(&state.pool, &model.source, id)
        .await
        .map_err(ApiError::failure)?
        .filter(|(_, source)| source.owner_id == owner)
        .ok_or_else(not_found)?;
    let body = render(DialogueView::new(
        id,
        source.language,
        source.version,
        &written(&source),
    ));
    model.dialogues.insert((owner, id), body.clone(), applied);
    Ok(json(body, None))
}

/// The dialogue of a profile as the read model holds it.
fn written(source: &queries::DialogueSource) -> Dialogue {
    let asker = Asker {
        language: source.language,
        major: &source.major,
        understanding_level: source.understanding_level,
        only_references: source.only_references,
        data_in_sequence: source.data_in_sequence,
    };
    let books: Vec<Citation<'_>> = source
        .books
        .iter()
        .map(|b| Citation {
            author: &b.author,
            title: &b.title,
        })
        .collect();
    let passages: Vec<Passage<'_>> = source
        .passages
        .iter()
        .map(|p| Passage {
            title: &p.title,
            text: &p.text,
        })
        .collect();
    Dialogue::write(&asker, &books, &passages)
}
