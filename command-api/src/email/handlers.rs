//! The email endpoints: requesting an email (queued and answered at once; a worker sends
//! it), withdrawing it, and an admin's retry of one that failed.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use email_job::{Email, EmailError};
use event_store::{AppendError, Appended, ExpectedVersion};
use schemas::email::{self, EmailRequested, EmailStatus};
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
use uuid::Uuid;

use super::{
    aggregate::{self, Actor, EmailOperation},
    input::EmailInput,
};
use crate::{
    AppState,
    command::{self, CommandContext, Target},
};

/// Times an operation is decided again when the worker appended to the email meanwhile.
const MAX_TRIES: usize = 3;

/// An email just requested, as its request recorded it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailQueued {
    pub id: Uuid,
    /// Always `queued`: nothing is sent during the request.
    #[schema(value_type = String, example = "queued")]
    pub status: EmailStatus,
    /// The recipients in their normal form (`address` or `Name <address>`).
    pub to: Vec<String>,
    pub subject: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub requested_at: OffsetDateTime,
    /// Version of the email; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the request's event; send it as `X-Min-Position` to read your
    /// own write.
    pub position: i64,
}

/// An email after an operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailChanged {
    pub id: Uuid,
    /// `cancelled` after a cancel, `queued` after a retry.
    #[schema(value_type = String, example = "cancelled")]
    pub status: EmailStatus,
    pub version: i64,
    pub position: i64,
}

/// Ask for an email to be sent as the caller. It is queued and answered at once; a worker
/// sends it, and its status is read at `Location`. Each user may request
/// `EMAIL_RATE_LIMIT_PER_MINUTE` emails a minute.
#[utoipa::path(
    post, path = "/api/v1/emails", tag = "emails",
    request_body = EmailInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome and count nothing against the rate limit")),
    responses(
        (status = 202, description = "Queued", body = inline(service_kit::Envelope<EmailQueued>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String),
                 ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields (every broken rule in details.fields, a recipient as to[i])", body = ErrorBody),
        (status = 429, description = "The caller requested too many emails this minute (details.retry_after_seconds)", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    ),
    security(("bearer" = []))
)]
pub async fn request_email(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<EmailInput>,
) -> Result<Response, ApiError> {
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "RequestEmail", &fields)?;
    if let Some(response) = command::replay(&state.store, &context, queued).await? {
        return Ok(response);
    }
    // Counted only now: a retry of a request already answered queues nothing more.
    let quota = match state.email_limit.check(&caller.user_id) {
        Ok(quota) => quota,
        Err(over) => return Ok(over.into_response()),
    };
    let id = Uuid::now_v7();
    let events = [aggregate::request(
        id,
        caller.user_id,
        fields,
        command::now(),
    )];
    let target = Target::Stream(email::stream_id(id), ExpectedVersion::NoStream);
    let outcome = command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?;
    let mut response = outcome.answer(&state.store, None, &events, queued).await?;
    response.headers_mut().extend(quota);
    Ok(response)
}

/// Withdraw an email that is queued or waiting for its next attempt: its sender or an
/// admin. One being sent, or settled, cannot be withdrawn.
#[utoipa::path(
    post, path = "/api/v1/emails/{id}/cancel", tag = "emails",
    params(
        ("id" = Uuid, Path, description = "Email id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the cancel is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Cancelled", body = inline(service_kit::Envelope<EmailChanged>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request (an id that is no UUID)", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such email, or not the caller's", body = ErrorBody),
        (status = 409, description = "Not queued or retrying (details.current_status), or a stale If-Match", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn cancel_email(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    operate(&state, &caller, id, &headers, EmailOperation::Cancel).await
}

/// Put a failed or dead email back in the queue with a fresh allowance of attempts
/// (admins only).
#[utoipa::path(
    post, path = "/api/v1/emails/{id}/retry", tag = "emails",
    params(
        ("id" = Uuid, Path, description = "Email id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the retry is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Queued again", body = inline(service_kit::Envelope<EmailChanged>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request (an id that is no UUID)", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller's own email, and the caller is no admin", body = ErrorBody),
        (status = 404, description = "No such email, or not the caller's", body = ErrorBody),
        (status = 409, description = "Not failed or dead (details.current_status), or a stale If-Match", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retry_email(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    operate(&state, &caller, id, &headers, EmailOperation::Retry).await
}

/// Decides `operation` on email `id` and appends its outcome. The worker appends to the
/// same stream on its own schedule, so a conflict with it is no stale view of the
/// client's: without `If-Match`, the operation is decided again on the newer state.
async fn operate(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    headers: &HeaderMap,
    operation: EmailOperation,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let name = format!("{} email {id}", operation.as_str());
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, &name, &())?;
    if let Some(response) = command::replay(&state.store, &context, changed).await? {
        return Ok(response);
    }
    let stream_id = email::stream_id(id);
    let mut tries = 1;
    loop {
        let email = command::load::<Email>(&state.store, &stream_id, None)
            .await?
            .ok_or_else(|| not_found(id))?;
        // Before If-Match: a version conflict would tell a stranger the email exists.
        let events = aggregate::decide(&email, operation, Actor::of(caller), command::now())
            .map_err(|err| refused(err, &email))?;
        let expected = command::expected_version(email.version, if_match)?;
        let target = Target::Stream(stream_id.clone(), expected);
        match command::append(&state.store, &context, target, &events).await {
            Ok(outcome) => {
                return outcome
                    .answer(&state.store, Some(email), &events, changed)
                    .await;
            }
            Err(AppendError::Conflict { .. }) if if_match.is_none() && tries < MAX_TRIES => {
                tries += 1;
            }
            Err(err) => return Err(command::append_error(err)),
        }
    }
}

/// The same answer for an email that does not exist and one that is not the caller's.
fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("no email with id {id}"))
}

fn refused(err: EmailError, email: &Email) -> ApiError {
    match err {
        EmailError::NotFound => not_found(email.id),
        EmailError::NotAdmin => ApiError::forbidden(err.to_string()),
        EmailError::NotCancellable(status) | EmailError::NotRetryable(status) => {
            ApiError::conflict(err.to_string()).with_details(json!({
                "current_status": status,
                "current_version": email.version,
            }))
        }
    }
}

/// The answer to a request: `202`, where to follow the email, and the request as
/// recorded.
fn queued(requested: Option<EmailRequested>, appended: &Appended) -> Response {
    let Some(requested) = requested else {
        return ApiError::internal("an appended email has no request").into_response();
    };
    let mut headers = command::position_headers(appended);
    let location = format!("/api/v1/emails/{}", requested.email_id);
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("a UUID is valid in a header"),
    );
    let body = EmailQueued {
        id: requested.email_id,
        status: EmailStatus::Queued,
        to: requested.to,
        subject: requested.subject,
        requested_at: requested.requested_at,
        version: appended.last_version,
        position: appended.last_position,
    };
    (StatusCode::ACCEPTED, headers, ok(body)).into_response()
}

fn changed(email: Option<Email>, appended: &Appended) -> Response {
    let Some(email) = email else {
        return ApiError::internal("a changed email has no state").into_response();
    };
    let body = EmailChanged {
        id: email.id,
        status: email.status,
        version: email.version,
        position: appended.last_position,
    };
    (command::position_headers(appended), ok(body)).into_response()
}
