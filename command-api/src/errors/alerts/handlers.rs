//! `POST /api/v1/errors/alerts/{id}/retry` (admins only): a given-up alert is due again,
//! with a fresh allowance of attempts, and the delivery worker takes it from the queue.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use error_report::alert::{self, Alert, AlertStatus, NotGivenUp};
use event_store::{AppendError, Appended};
use schemas::errors::{self, ErrorsEvent};
use serde::Serialize;
use serde_json::json;
use service_kit::{
    ApiError, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    AppState,
    command::{self, CommandContext, Target},
};

/// Times the retry is decided again when the worker appended to the alert meanwhile.
const MAX_TRIES: usize = 3;

/// An alert after an admin's retry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertRetried {
    pub id: Uuid,
    /// `pending`: due again; the worker takes it from the queue.
    #[schema(value_type = String, example = "pending")]
    pub status: AlertStatus,
    /// Attempts made so far (the retry's allowance comes on top).
    pub attempts: i32,
    /// Version of the alert's stream; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the retry; send it as `X-Min-Position`.
    pub position: i64,
}

/// Try a given-up alert again (admins only), with a fresh allowance of attempts.
#[utoipa::path(
    post, path = "/api/v1/errors/alerts/{id}/retry", tag = "errors",
    params(
        ("id" = Uuid, Path, description = "Alert id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the retry is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Due again", body = inline(service_kit::Envelope<AlertRetried>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request (an id that is no UUID)", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 409, description = "Not given up (details.current_status), or a stale If-Match", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retry_alert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let if_match = command::if_match(&headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, &format!("retry alert {id}"), &())?;
    if let Some(response) = command::replay(&state.store, &context, retried).await? {
        return Ok(response);
    }
    let stream_id = errors::alert_stream_id(id);
    let mut tries = 1;
    loop {
        let alert = command::load::<Alert>(&state.store, &stream_id, None)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no alert with id {id}")))?;
        let expected = command::expected_version(alert.version, if_match)?;
        let event = alert::retry(&alert, caller.user_id, command::now())
            .map_err(|err| refused(err, &alert))?;
        let events = [ErrorsEvent::AlertRetryRequested(event)];
        let target = Target::Stream(stream_id.clone(), expected);
        match command::append(&state.store, &context, target, &events).await {
            Ok(outcome) => {
                return outcome
                    .answer(&state.store, Some(alert), &events, retried)
                    .await;
            }
            // The worker's claim raced an earlier look: decide on what it left.
            Err(AppendError::Conflict { .. }) if if_match.is_none() && tries < MAX_TRIES => {
                tries += 1;
            }
            Err(err) => return Err(command::append_error(err)),
        }
    }
}

fn refused(err: NotGivenUp, alert: &Alert) -> ApiError {
    ApiError::conflict(err.to_string()).with_details(json!({
        "current_status": err.0,
        "current_version": alert.version,
    }))
}

fn retried(alert: Option<Alert>, appended: &Appended) -> Response {
    let Some(alert) = alert else {
        return ApiError::internal("a retried alert has no state").into_response();
    };
    let body = AlertRetried {
        id: alert.raised.alert_id,
        status: alert.status,
        attempts: alert.attempts,
        version: alert.version,
        position: appended.last_position,
    };
    (command::position_headers(appended), ok(body)).into_response()
}
