//! The email endpoints: one's own emails (an admin's: anyone's), paged and filtered by
//! status, and single emails with their attempts.

use axum::{extract::State, http::HeaderMap, response::Response};
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    paging::Paged,
    response::Envelope,
};
use uuid::Uuid;

use super::{
    CachedEmail,
    listing::EmailSearch,
    queries::{self, EmailSummary, EmailView},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render, versioned},
};

/// List emails, newest first: one's own, or (admins) everyone's or one user's.
#[utoipa::path(
    get, path = "/api/v1/emails", tag = "emails",
    params(
        EmailSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of emails", body = inline(Envelope<Paged<EmailSummary>>)),
        (status = 400, description = "Bad status (the details name the allowed ones), paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "A user named another user in requested_by", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_emails(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<EmailSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let listing = search.parse(&caller)?;
    let model = &state.emails;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&listing) {
        return Ok(json(body, None));
    }
    let (applied, total, emails) = queries::page(&state.pool, &model.source, &listing)
        .await
        .map_err(ApiError::failure)?;
    let body = render(listing.page.of(emails, total));
    model.pages.insert(listing, body.clone(), applied);
    Ok(json(body, None))
}

/// Get one email with its attempts (its owner or an admin), with its version as ETag.
/// Anyone else is told it does not exist.
#[utoipa::path(
    get, path = "/api/v1/emails/{id}", tag = "emails",
    params(
        ("id" = Uuid, Path, description = "Email id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The email", body = inline(Envelope<EmailView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such email, or another user's", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_email(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.emails;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    // One answer for "none" and "not yours": an email's existence is its owner's business.
    let not_found = || ApiError::not_found(format!("no email with id {id}"));
    let cached = match model.by_id.get(&id) {
        Some(cached) => cached,
        None => {
            let (applied, email) = queries::email(&state.pool, &model.source, id)
                .await
                .map_err(ApiError::failure)?
                .ok_or_else(not_found)?;
            let cached = CachedEmail {
                version: email.email.version,
                requested_by: email.email.requested_by,
                body: render(email),
            };
            model.by_id.insert(id, cached.clone(), applied);
            cached
        }
    };
    if cached.requested_by != caller.user_id && !caller.is_admin() {
        return Err(not_found());
    }
    Ok(versioned(cached.body, cached.version, &headers))
}
