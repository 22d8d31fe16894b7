//! The profile endpoints: create (within the owner's limit), update and delete one's own
//! profiles.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{AppendError, Appended, ExpectedVersion, Numbered};
use prompt_profile::Profile;
use schemas::prompts::{self, Language, PromptsEvent};
use serde::Serialize;
use serde_json::json;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{
    aggregate::{self, LimitReached, MAX_PROFILES, Slots},
    input::ProfileInput,
    links, load_owned,
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

/// Creations decided again after others took or freed a slot meanwhile: each lost race
/// means another creation or deletion committed, so this bounds nothing a user can reach.
const MAX_TRIES: usize = 2 * MAX_PROFILES as usize;

impl NumberedAggregate for Profile {
    /// Profile ids: the sequence, the stream of profile `n` and the payload field.
    const NUMBERS: Numbered = Numbered {
        sequence: "prompt_profile_ids",
        stream_prefix: prompts::PROFILE_STREAM_PREFIX,
        field: "profile_id",
    };

    fn assign_number(event: &mut PromptsEvent, number: i64) {
        if let PromptsEvent::PromptProfileCreated(created) = event {
            created.profile_id = number;
        }
    }
}

/// A profile as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileWritten {
    pub id: i64,
    pub description: String,
    #[schema(value_type = String, example = "en")]
    pub language: Language,
    pub major: String,
    pub understanding_level: i16,
    pub only_references: bool,
    pub data_in_sequence: bool,
    pub ref_book_ids: Vec<i64>,
    pub ref_data_ids: Vec<i64>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Version of the profile; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Create a profile of the caller's; its id is the next sequential number. A user holds
/// at most 50 profiles, however many creations race.
#[utoipa::path(
    post, path = "/api/v1/profiles", tag = "prompts",
    request_body = ProfileInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<ProfileWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 409, description = "The caller holds 50 profiles already (details.limit)", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a link to a book or text that is not the caller's (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_profile(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<ProfileInput>,
) -> Result<Response, ApiError> {
    let settings = input.parse()?;
    let owner = caller.user_id;
    let context = CommandContext::new(
        &headers,
        Some(owner.to_string()),
        "CreateProfile",
        &settings,
    )?;
    let respond = |profile, appended: &Appended| respond(profile, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    links::check(&state.store, owner, &settings).await?;
    let owner_stream = prompts::owner_stream_id(owner);
    for _ in 0..MAX_TRIES {
        let slots = command::load::<Slots>(&state.store, &owner_stream, None)
            .await?
            .unwrap_or_default();
        let (created, taken) =
            aggregate::create_profile(UNNUMBERED, owner, settings.clone(), slots, command::now())
                .map_err(|err| limit_reached(err, slots))?;
        let expected = match slots.version {
            0 => ExpectedVersion::NoStream,
            version => ExpectedVersion::Exact(version),
        };
        let target = Target::Numbered(Profile::NUMBERS);
        let also = vec![(owner_stream.clone(), expected, vec![taken])];
        let events = vec![created];
        match command::append_together(&state.store, &context, target, &events, also).await {
            Ok(outcome) => {
                return command::answer_numbered(&state.store, outcome, events, respond).await;
            }
            // Another creation or deletion counted first: count again.
            Err(AppendError::Conflict { stream_id, .. }) if stream_id == owner_stream => {}
            Err(err) => return Err(command::append_error(err)),
        }
    }
    Err(ApiError::conflict(
        "too many profiles are being created at once; try again",
    ))
}

/// Replace a profile of the caller's whole: its settings and links.
#[utoipa::path(
    put, path = "/api/v1/profiles/{id}", tag = "prompts",
    request_body = ProfileInput,
    params(
        ("id" = i64, Path, description = "Profile id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Updated", body = inline(service_kit::Envelope<ProfileWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such profile, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a link to a book or text that is not the caller's (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<ProfileInput>,
) -> Result<Response, ApiError> {
    let settings = input.parse()?;
    let if_match = command::if_match(&headers)?;
    let operation = format!("UpdateProfile {id}");
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, &operation, &settings)?;
    let respond = |profile, appended: &Appended| respond(profile, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let profile = load(&state, &caller, id).await?;
    links::check(&state.store, caller.user_id, &settings).await?;
    let expected = command::expected_version(profile.version, if_match)?;
    let events = [aggregate::update_profile(
        &profile,
        settings,
        command::now(),
    )];
    let target = Target::Stream(prompts::profile_stream_id(id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(profile), &events, respond)
        .await
}

/// Delete a profile of the caller's, freeing its place under the limit.
#[utoipa::path(
    delete, path = "/api/v1/profiles/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Profile id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such profile, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(&headers)?;
    let operation = format!("DeleteProfile {id}");
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, &operation, &())?;
    let respond = |profile, appended: &Appended| respond(profile, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let profile = load(&state, &caller, id).await?;
    let expected = command::expected_version(profile.version, if_match)?;
    let (deleted, freed) = aggregate::delete_profile(&profile, command::now());
    let target = Target::Stream(prompts::profile_stream_id(id), expected);
    // Frees whatever the count is at: a deletion never races a creation out of its slot.
    let owner_stream = prompts::owner_stream_id(profile.owner_id);
    let also = vec![(owner_stream, ExpectedVersion::Any, vec![freed])];
    let events = [deleted];
    command::append_together(&state.store, &context, target, &events, also)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(profile), &events, respond)
        .await
}

/// The caller's own live profile `id`.
async fn load(state: &AppState, caller: &Caller, id: i64) -> Result<Profile, ApiError> {
    let stream_id = prompts::profile_stream_id(id);
    load_owned(&state.store, &stream_id, caller.user_id, || {
        format!("no profile with id {id}")
    })
    .await
}

fn limit_reached(err: LimitReached, slots: Slots) -> ApiError {
    ApiError::conflict(err.to_string())
        .with_details(json!({ "limit": MAX_PROFILES, "profiles": slots.held }))
}

fn respond(profile: Option<Profile>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(profile) = profile.filter(|profile| !profile.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/profiles/{}", profile.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let settings = profile.settings;
    let body = ProfileWritten {
        id: profile.id,
        description: settings.description,
        language: settings.language,
        major: settings.major,
        understanding_level: settings.understanding_level,
        only_references: settings.only_references,
        data_in_sequence: settings.data_in_sequence,
        ref_book_ids: settings.ref_book_ids,
        ref_data_ids: settings.ref_data_ids,
        created_at: profile.created_at,
        updated_at: profile.updated_at,
        version: profile.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
