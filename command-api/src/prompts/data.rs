//! The reference text endpoints: add, update and delete one's own texts. Deleting one
//! unlinks it from every profile that carries it (the read model does, as it applies the
//! deletion).

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use prompt_profile::Data;
use schemas::prompts::{self, PromptsEvent};
use serde::Serialize;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{aggregate, input::DataInput, load_owned};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Data {
    /// Text ids: the sequence, the stream of text `n` and the payload field.
    const NUMBERS: Numbered = Numbered {
        sequence: "prompt_data_ids",
        stream_prefix: prompts::DATA_STREAM_PREFIX,
        field: "data_id",
    };

    fn assign_number(event: &mut PromptsEvent, number: i64) {
        if let PromptsEvent::RefDataCreated(created) = event {
            created.data_id = number;
        }
    }
}

/// A reference text as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataWritten {
    pub id: i64,
    pub title: String,
    /// The whole text.
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Version of the text; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position`.
    pub position: i64,
}

/// Add a reference text of the caller's; its id is the next sequential number.
#[utoipa::path(
    post, path = "/api/v1/ref-data", tag = "prompts",
    request_body = DataInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<DataWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_data(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<DataInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "CreateRefData", &fields)?;
    let respond = |data, appended: &Appended| respond(data, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let event = aggregate::create_data(UNNUMBERED, caller.user_id, fields, command::now());
    command::create_numbered(&state.store, &context, vec![event], respond).await
}

/// Replace a reference text's title and text (the caller's own).
#[utoipa::path(
    put, path = "/api/v1/ref-data/{id}", tag = "prompts",
    request_body = DataInput,
    params(
        ("id" = i64, Path, description = "Text id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Updated", body = inline(service_kit::Envelope<DataWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such text, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<DataInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let operation = format!("UpdateRefData {id}");
    change(&state, &caller, id, &headers, &operation, &fields, |data| {
        aggregate::update_data(data, fields.clone(), command::now())
    })
    .await
}

/// Delete a reference text of the caller's; the profiles that carry it no longer do.
#[utoipa::path(
    delete, path = "/api/v1/ref-data/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Text id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such text, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let operation = format!("DeleteRefData {id}");
    change(&state, &caller, id, &headers, &operation, &(), |data| {
        aggregate::delete_data(data, command::now())
    })
    .await
}

/// Changes one of the caller's texts: answers a retry as the first request was answered,
/// or loads the text (another user's is a 404, before `If-Match` can tell it exists),
/// checks `If-Match`, decides, appends and answers.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    operation: &str,
    input: &impl Serialize,
    decide: impl FnOnce(&Data) -> PromptsEvent,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, operation, input)?;
    let respond = |data, appended: &Appended| respond(data, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let stream_id = prompts::data_stream_id(id);
    let data: Data = load_owned(&state.store, &stream_id, caller.user_id, || {
        format!("no reference text with id {id}")
    })
    .await?;
    let expected = command::expected_version(data.version, if_match)?;
    let events = [decide(&data)];
    command::append(
        &state.store,
        &context,
        Target::Stream(stream_id, expected),
        &events,
    )
    .await
    .map_err(command::append_error)?
    .answer(&state.store, Some(data), &events, respond)
    .await
}

fn respond(data: Option<Data>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(data) = data.filter(|data| !data.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/ref-data/{}", data.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = DataWritten {
        id: data.id,
        title: data.title,
        text: data.text,
        created_at: data.created_at,
        updated_at: data.updated_at,
        version: data.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
