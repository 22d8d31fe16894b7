//! The reference text endpoints: add, update and delete one's own texts. Deleting one
//! unlinks it from every profile that carries it (the read model does, as it applies the
//! deletion).

use axum::{extract::State, http::HeaderMap, response::Response};
use event_store::{Appended, Numbered};
use prompt_profile::Data;
use schemas::prompts::{self, PromptsEvent};
use serde::Serialize;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{
    aggregate,
    input::DataInput,
    reference::{Reference, change, respond},
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, UNNUMBERED},
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
    let respond = |data, appended: &Appended| respond::<Data>(data, appended, true);
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
    change::<Data>(&state, &caller, id, &headers, &operation, &fields, |data| {
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
    change::<Data>(&state, &caller, id, &headers, &operation, &(), |data| {
        aggregate::delete_data(data, command::now())
    })
    .await
}

impl Reference for Data {
    const NAME: &'static str = "reference text";
    const PATH: &'static str = "/api/v1/ref-data";
    type Written = DataWritten;

    fn stream_id(id: i64) -> String {
        prompts::data_stream_id(id)
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn written(self, position: i64) -> DataWritten {
        DataWritten {
            id: self.id,
            title: self.title,
            text: self.text,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            position,
        }
    }
}
