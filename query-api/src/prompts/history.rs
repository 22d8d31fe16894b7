//! Every change of a profile, from its stream: what changed, when, by whom and in answer
//! to which request. Read from the log, so it is never behind; the profile's owner reads
//! it, also once the profile is deleted.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use event_log::EventLog;
use prompt_profile::{Profile, profile::evolve};
use schemas::{
    RecordedEvent,
    prompts::{self, PromptsEvent},
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
    paging::{PageParams, Paged},
    response::Envelope,
};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::AppState;

/// One change of a profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Change {
    /// The profile's version after it.
    pub version: i64,
    /// Its global position: `as_of` it shows the profile as it was right after.
    pub position: i64,
    /// `PromptProfileCreated`, `PromptProfileUpdated` or `PromptProfileDeleted`.
    pub event_type: String,
    /// Each setting it changed, with its value before (null for a creation) and after:
    /// `{"major": {"from": "Physics", "to": "Chemistry"}}`; empty for a deletion.
    #[schema(value_type = Object)]
    pub changes: Map<String, Value>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The user who made it.
    pub by: Option<String>,
    /// The request it answered (its `X-Request-ID`).
    pub request_id: String,
}

/// Every change of one of the caller's profiles, oldest first.
#[utoipa::path(
    get, path = "/api/v1/profiles/{id}/history", tag = "prompts",
    params(("id" = i64, Path, description = "Profile id"), PageParams),
    responses(
        (status = 200, description = "One page of the profile's changes", body = inline(Envelope<Paged<Change>>)),
        (status = 400, description = "Bad id or paging parameter", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such profile, or another user's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let page = params.validate()?;
    let events = EventLog::new(state.pool.clone())
        .read_stream(&prompts::profile_stream_id(id), None)
        .await
        .map_err(ApiError::failure)?;
    let changes = changes(&events)?;
    let theirs = changes
        .first()
        .is_some_and(|(owner, _)| *owner == caller.user_id);
    if !theirs {
        return Err(ApiError::not_found(format!("no profile with id {id}")));
    }
    let total = changes.len() as i64;
    let items = changes
        .into_iter()
        .map(|(_, change)| change)
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect();
    Ok(ok(page.of(items, total)).into_response())
}

/// Each event of a profile's stream as a change, with the profile's owner.
fn changes(events: &[RecordedEvent]) -> Result<Vec<(uuid::Uuid, Change)>, ApiError> {
    let mut state: Option<Profile> = None;
    let mut changes = Vec::with_capacity(events.len());
    for recorded in events {
        let event = recorded
            .decode::<PromptsEvent>()
            .map_err(ApiError::failure)?;
        let before = state.clone();
        state = evolve(state, &event, recorded.stream_version);
        let Some(after) = &state else { continue };
        let changed = match (&event, before) {
            (PromptsEvent::PromptProfileDeleted(_), _) => Map::new(),
            (_, before) => differences(before.as_ref(), after)?,
        };
        changes.push((
            after.owner_id,
            Change {
                version: recorded.stream_version,
                position: recorded.position,
                event_type: recorded.event_type.clone(),
                changes: changed,
                at: recorded.occurred_at,
                by: recorded.actor.clone(),
                request_id: recorded.correlation_id.clone(),
            },
        ));
    }
    Ok(changes)
}

/// The settings that differ between `before` (none: every one) and `after`.
fn differences(before: Option<&Profile>, after: &Profile) -> Result<Map<String, Value>, ApiError> {
    let settings = |profile: &Profile| match serde_json::to_value(&profile.settings) {
        Ok(Value::Object(fields)) => Ok(fields),
        other => Err(ApiError::internal(format!(
            "settings are no object: {other:?}"
        ))),
    };
    let old = before.map(settings).transpose()?.unwrap_or_default();
    let new = settings(after)?;
    Ok(new
        .into_iter()
        .filter(|(field, value)| old.get(field) != Some(value))
        .map(|(field, value)| {
            let from = old.get(&field).cloned().unwrap_or(Value::Null);
            (field, json!({ "from": from, "to": value }))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use schemas::DomainEvent;
    use schemas::prompts::{
        Language, ProfileSettings, PromptProfileCreated, PromptProfileDeleted, PromptProfileUpdated,
    };
    use uuid::Uuid;

    use super::*;

    const ADA: Uuid = Uuid::from_u128(1);

    fn settings(major: &str, level: i16) -> ProfileSettings {
        ProfileSettings {
            description: "No Description".into(),
            language: Language::English,
            major: major.into(),
            understanding_level: level,
            only_references: false,
            data_in_sequence: false,
            ref_book_ids: vec![],
            ref_data_ids: vec![],
        }
    }

    fn recorded(event: PromptsEvent, version: i64) -> RecordedEvent {
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: prompts::profile_stream_id(1),
            stream_version: version,
            position: version * 10,
            context: PromptsEvent::CONTEXT.into(),
            event_type: event.event_type().into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: format!("request-{version}"),
            actor: Some(ADA.to_string()),
            data: event.payload().into(),
        }
    }

    #[test]
    fn each_change_names_the_settings_it_changed_with_their_values_before_and_after() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let events = [
            recorded(
                PromptsEvent::PromptProfileCreated(PromptProfileCreated {
                    profile_id: 1,
                    owner_id: ADA,
                    settings: settings("Physics", 1),
                    created_at: at,
                }),
                1,
            ),
            recorded(
                PromptsEvent::PromptProfileUpdated(PromptProfileUpdated {
                    profile_id: 1,
                    owner_id: ADA,
                    settings: settings("Chemistry", 1),
                    updated_at: at,
                }),
                2,
            ),
            recorded(
                PromptsEvent::PromptProfileDeleted(PromptProfileDeleted {
                    profile_id: 1,
                    owner_id: ADA,
                    deleted_at: at,
                }),
                3,
            ),
        ];
        let changes = changes(&events).unwrap();
        assert!(changes.iter().all(|(owner, _)| *owner == ADA));
        let created = &changes[0].1;
        assert_eq!(created.changes.len(), 8, "every setting is new");
        assert_eq!(
            created.changes["major"],
            json!({"from": null, "to": "Physics"})
        );
        let updated = &changes[1].1;
        assert_eq!(updated.changes.len(), 1, "{:?}", updated.changes);
        assert_eq!(
            updated.changes["major"],
            json!({"from": "Physics", "to": "Chemistry"})
        );
        assert_eq!(
            (updated.position, updated.request_id.as_str()),
            (20, "request-2")
        );
        let deleted = &changes[2].1;
        assert!(deleted.changes.is_empty());
        assert_eq!(deleted.event_type, "PromptProfileDeleted");
    }
}
