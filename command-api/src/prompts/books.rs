//! The reference book endpoints: add, update and delete one's own books. Deleting one
//! unlinks it from every profile that cites it (the read model does, as it applies the
//! deletion).

use axum::{extract::State, http::HeaderMap, response::Response};
use event_store::{Appended, Numbered};
use prompt_profile::Book;
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
    input::BookInput,
    reference::{Reference, change, respond},
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, UNNUMBERED},
};

impl NumberedAggregate for Book {
    /// Book ids: the sequence, the stream of book `n` and the payload field.
    const NUMBERS: Numbered = Numbered {
        sequence: "prompt_book_ids",
        stream_prefix: prompts::BOOK_STREAM_PREFIX,
        field: "book_id",
    };

    fn assign_number(event: &mut PromptsEvent, number: i64) {
        if let PromptsEvent::RefBookCreated(created) = event {
            created.book_id = number;
        }
    }
}

/// A reference book as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookWritten {
    pub id: i64,
    pub author: String,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Version of the book; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position`.
    pub position: i64,
}

/// Add a reference book of the caller's; its id is the next sequential number.
#[utoipa::path(
    post, path = "/api/v1/ref-books", tag = "prompts",
    request_body = BookInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<BookWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_book(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<BookInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "CreateRefBook", &fields)?;
    let respond = |book, appended: &Appended| respond::<Book>(book, appended, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let event = aggregate::create_book(UNNUMBERED, caller.user_id, fields, command::now());
    command::create_numbered(&state.store, &context, vec![event], respond).await
}

/// Replace a reference book's author and title (the caller's own).
#[utoipa::path(
    put, path = "/api/v1/ref-books/{id}", tag = "prompts",
    request_body = BookInput,
    params(
        ("id" = i64, Path, description = "Book id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Updated", body = inline(service_kit::Envelope<BookWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such book, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<BookInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let operation = format!("UpdateRefBook {id}");
    change::<Book>(&state, &caller, id, &headers, &operation, &fields, |book| {
        aggregate::update_book(book, fields.clone(), command::now())
    })
    .await
}

/// Delete a reference book of the caller's; the profiles that cite it no longer do.
#[utoipa::path(
    delete, path = "/api/v1/ref-books/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Book id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the deletion is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such book, or another user's", body = ErrorBody),
        (status = 409, description = "Stale If-Match or concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_book(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let operation = format!("DeleteRefBook {id}");
    change::<Book>(&state, &caller, id, &headers, &operation, &(), |book| {
        aggregate::delete_book(book, command::now())
    })
    .await
}

impl Reference for Book {
    const NAME: &'static str = "reference book";
    const PATH: &'static str = "/api/v1/ref-books";
    type Written = BookWritten;

    fn stream_id(id: i64) -> String {
        prompts::book_stream_id(id)
    }

    fn id(&self) -> i64 {
        self.id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn written(self, position: i64) -> BookWritten {
        BookWritten {
            id: self.id,
            author: self.author,
            title: self.title,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            position,
        }
    }
}
