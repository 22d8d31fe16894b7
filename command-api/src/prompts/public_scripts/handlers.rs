//! The public script endpoints (admins only): write one, replace it, reorder its scripts,
//! delete it.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use schemas::prompts::{self, PromptsEvent, Script};
use serde::Serialize;
use serde_json::{Map, Value};
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{
    aggregate::{self, NotItsNumbers, PublicScript},
    input::{OrderInput, PublicScriptInput},
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for PublicScript {
    /// Public script ids: the sequence, the stream of script `n` and the payload field.
    const NUMBERS: Numbered = Numbered {
        sequence: "public_script_ids",
        stream_prefix: prompts::SCRIPT_STREAM_PREFIX,
        field: "script_id",
    };

    fn assign_number(event: &mut PromptsEvent, number: i64) {
        if let PromptsEvent::PublicScriptCreated(created) = event {
            created.script_id = number;
        }
    }
}

/// One script, by number.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptWritten {
    pub number: i16,
    pub text: String,
}

/// A public script as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicScriptWritten {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// By number.
    pub scripts: Vec<ScriptWritten>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Version of the public script; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position`.
    pub position: i64,
}

/// Write a public script, read by every logged-in user (admins only).
#[utoipa::path(
    post, path = "/api/v1/public-scripts", tag = "prompts",
    request_body = PublicScriptInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<PublicScriptWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields, e.g. scripts[2].number)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_public_script(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<PublicScriptInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "CreatePublicScript", &fields)?;
    let respond = |script, appended: &Appended| respond(script, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let event = aggregate::create(UNNUMBERED, fields, caller.user_id, command::now());
    command::create_numbered(&state.store, &context, vec![event], respond).await
}

/// Replace a public script whole (admins only).
#[utoipa::path(
    put, path = "/api/v1/public-scripts/{id}", tag = "prompts",
    request_body = PublicScriptInput,
    params(
        ("id" = i64, Path, description = "Public script id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Replaced", body = inline(service_kit::Envelope<PublicScriptWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such public script", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_public_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<PublicScriptInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let fields = input.parse()?;
    let operation = format!("UpdatePublicScript {id}");
    change(
        &state,
        &caller,
        id,
        &headers,
        &operation,
        &fields,
        |script| {
            Ok(aggregate::update(
                script,
                fields.clone(),
                caller.user_id,
                command::now(),
            ))
        },
    )
    .await
}

/// Put a public script's scripts in a new order (admins only): the first number listed
/// becomes 1, the second 2, and so on.
#[utoipa::path(
    put, path = "/api/v1/public-scripts/{id}/order", tag = "prompts",
    request_body = OrderInput,
    params(
        ("id" = i64, Path, description = "Public script id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Reordered", body = inline(service_kit::Envelope<PublicScriptWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such public script", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "An order that does not list each of the script's numbers once (details.fields.order)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reorder_public_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<OrderInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let order = input.parse()?;
    let operation = format!("ReorderPublicScript {id}");
    change(
        &state,
        &caller,
        id,
        &headers,
        &operation,
        &order,
        |script| {
            aggregate::reorder(script, order.clone(), caller.user_id, command::now())
                .map_err(not_its_numbers)
        },
    )
    .await
}

/// Delete a public script (admins only).
#[utoipa::path(
    delete, path = "/api/v1/public-scripts/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Public script id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such public script", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_public_script(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let operation = format!("DeletePublicScript {id}");
    change(&state, &caller, id, &headers, &operation, &(), |script| {
        Ok(aggregate::delete(script, caller.user_id, command::now()))
    })
    .await
}

/// Changes an existing public script: answers a retry as the first request was answered,
/// or loads it, checks `If-Match`, decides, appends and answers.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    operation: &str,
    input: &impl Serialize,
    decide: impl FnOnce(&PublicScript) -> Result<PromptsEvent, ApiError>,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, operation, input)?;
    let respond = |script, appended: &Appended| respond(script, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let stream_id = prompts::script_stream_id(id);
    let script = command::load::<PublicScript>(&state.store, &stream_id, None)
        .await?
        .filter(|script| !script.deleted)
        .ok_or_else(|| ApiError::not_found(format!("no public script with id {id}")))?;
    let expected = command::expected_version(script.version, if_match)?;
    let events = [decide(&script)?];
    command::append(
        &state.store,
        &context,
        Target::Stream(stream_id, expected),
        &events,
    )
    .await
    .map_err(command::append_error)?
    .answer(&state.store, Some(script), &events, respond)
    .await
}

fn not_its_numbers(err: NotItsNumbers) -> ApiError {
    let mut fields = Map::new();
    fields.insert("order".into(), Value::from(err.to_string()));
    ApiError::invalid_fields(fields)
}

fn respond(script: Option<PublicScript>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(script) = script.filter(|script| !script.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/public-scripts/{}", script.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = PublicScriptWritten {
        id: script.id,
        name: script.name,
        description: script.description,
        scripts: script
            .scripts
            .into_iter()
            .map(|Script { number, text }| ScriptWritten { number, text })
            .collect(),
        created_at: script.created_at,
        updated_at: script.updated_at,
        version: script.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
