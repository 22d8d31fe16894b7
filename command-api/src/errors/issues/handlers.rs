//! The issue endpoints (admins only): resolve, mute and reopen. Each is idempotent: an
//! issue already where it is asked to go answers `200` and appends nothing.

use axum::{
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use event_store::Appended;
use schemas::errors::{self, ErrorsEvent, IssueStatus};
use serde::Serialize;
use service_kit::{
    ApiError, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    aggregate::{self, Issue, IssueOperation},
    regression,
};
use crate::{
    AppState,
    command::{self, Aggregate, CommandContext, Target},
};

/// An issue after an admin's operation.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueChanged {
    pub id: Uuid,
    pub project: i64,
    /// `resolved`, `muted` or `open`.
    #[schema(value_type = String, example = "resolved")]
    pub status: IssueStatus,
    /// False when the issue was there already and nothing was appended.
    pub changed: bool,
    /// Version of the issue's stream; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the issue's last event; send it as `X-Min-Position`.
    pub position: i64,
}

macro_rules! issue_operation {
    ($name:ident, $path:literal, $operation:expr, $doc:literal, $done:literal) => {
        #[doc = $doc]
        #[utoipa::path(
            post, path = $path, tag = "errors",
            params(
                ("id" = Uuid, Path, description = "Issue id"),
                ("If-Match" = Option<String>, Header, description = "The version (ETag) the operation is based on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
            ),
            responses(
                (status = 200, description = $done, body = inline(service_kit::Envelope<IssueChanged>),
                 headers(("X-Position" = i64), ("ETag" = String))),
                (status = 400, description = "Malformed request (an id that is no UUID)", body = ErrorBody),
                Unauthorized,
                (status = 403, description = "The caller is no admin", body = ErrorBody),
                (status = 404, description = "No such issue", body = ErrorBody),
                (status = 409, description = "A stale If-Match or a concurrent change", body = ErrorBody),
            ),
            security(("bearer" = []))
        )]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<Uuid>,
            headers: HeaderMap,
        ) -> Result<Response, ApiError> {
            operate(&state, &caller, id, &headers, $operation).await
        }
    };
}

issue_operation!(
    resolve_issue,
    "/api/v1/errors/issues/{id}/resolve",
    IssueOperation::Resolve,
    "Mark an issue fixed (admins only). A later error reopens it as a regression.",
    "Resolved (changed false when it was already)"
);
issue_operation!(
    mute_issue,
    "/api/v1/errors/issues/{id}/mute",
    IssueOperation::Mute,
    "Silence an issue (admins only): its errors are still counted, nobody is alerted.",
    "Muted (changed false when it was already)"
);
issue_operation!(
    reopen_issue,
    "/api/v1/errors/issues/{id}/reopen",
    IssueOperation::Reopen,
    "Open a resolved or muted issue again (admins only).",
    "Open (changed false when it was already)"
);

async fn operate(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    headers: &HeaderMap,
    operation: IssueOperation,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let if_match = command::if_match(headers)?;
    let name = format!("{} issue {id}", operation.as_str());
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, &name, &())?;
    if let Some(response) = command::replay(&state.store, &context, changed).await? {
        return Ok(response);
    }
    let (issue, last_position) = load(state, id).await?;
    let expected = command::expected_version(issue.version, if_match)?;
    let regressed = issue.status == IssueStatus::Resolved
        && regression::since(state.pool(), id, last_position)
            .await
            .map_err(ApiError::failure)?;
    let Some(event) =
        aggregate::decide(&issue, operation, regressed, caller.user_id, command::now())
    else {
        return Ok(unchanged(issue, last_position));
    };
    let events = [event];
    let target = Target::Stream(errors::issue_stream_id(id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(issue), &events, changed)
        .await
}

/// The issue and the position of its stream's last event, or 404.
async fn load(state: &AppState, id: Uuid) -> Result<(Issue, i64), ApiError> {
    let recorded = state
        .store
        .log()
        .read_stream(&errors::issue_stream_id(id), None)
        .await
        .map_err(ApiError::failure)?;
    let mut issue = None;
    for event in &recorded {
        let decoded = event.decode::<ErrorsEvent>().map_err(ApiError::failure)?;
        issue = Issue::evolve(issue, &decoded, event.stream_version);
    }
    match (issue, recorded.last()) {
        (Some(issue), Some(last)) => Ok((issue, last.position)),
        _ => Err(ApiError::not_found(format!("no issue with id {id}"))),
    }
}

fn changed(issue: Option<Issue>, appended: &Appended) -> Response {
    let Some(issue) = issue else {
        return ApiError::internal("a changed issue has no state").into_response();
    };
    let body = IssueChanged {
        id: issue.id,
        project: issue.project,
        status: issue.status,
        changed: true,
        version: issue.version,
        position: appended.last_position,
    };
    (command::position_headers(appended), ok(body)).into_response()
}

/// The answer when nothing was appended: the issue as it is, and where its stream ends.
fn unchanged(issue: Issue, position: i64) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(command::X_POSITION, position.into());
    headers.insert(axum::http::header::ETAG, command::etag(issue.version));
    let body = IssueChanged {
        id: issue.id,
        project: issue.project,
        status: issue.status,
        changed: false,
        version: issue.version,
        position,
    };
    (headers, ok(body)).into_response()
}
