//! The reference book endpoints: add, update and delete one's own books. Deleting one
//! unlinks it from every profile that cites it (the read model does, as it applies the
//! deletion).

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use prompt_profile::Book;
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

use super::{aggregate, input::BookInput, load_owned};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
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
    let respond = |book, appended: &Appended| respond(book, appended, true);
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
    change(&state, &caller, id, &headers, &operation, &fields, |book| {
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
    change(&state, &caller, id, &headers, &operation, &(), |book| {
        aggregate::delete_book(book, command::now())
    })
    .await
}

/// Changes one of the caller's books: answers a retry as the first request was answered,
/// or loads the book (another user's is a 404, before `If-Match` can tell it exists),
/// checks `If-Match`, decides, appends and answers.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    operation: &str,
    input: &impl Serialize,
    decide: impl FnOnce(&Book) -> PromptsEvent,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, operation, input)?;
    let respond = |book, appended: &Appended| respond(book, appended, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let stream_id = prompts::book_stream_id(id);
    let book: Book = load_owned(&state.store, &stream_id, caller.user_id, || {
        format!("no reference book with id {id}")
    })
    .await?;
    let expected = command::expected_version(book.version, if_match)?;
    let events = [decide(&book)];
    command::append(
        &state.store,
        &context,
        Target::Stream(stream_id, expected),
        &events,
    )
    .await
    .map_err(command::append_error)?
    .answer(&state.store, Some(book), &events, respond)
    .await
}

fn respond(book: Option<Book>, appended: &Appended, created: bool) -> Response {
    let mut headers = command::position_headers(appended);
    let Some(book) = book.filter(|book| !book.deleted) else {
        headers.remove(header::ETAG);
        return (StatusCode::NO_CONTENT, headers).into_response();
    };
    if created {
        let location = format!("/api/v1/ref-books/{}", book.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = BookWritten {
        id: book.id,
        author: book.author,
        title: book.title,
        created_at: book.created_at,
        updated_at: book.updated_at,
        version: book.version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
