//! The alerts endpoint: admins list every alert raised on the errors' issues, with its
//! delivery attempts, by project, issue and status.

use axum::{extract::State, response::Response};
use service_kit::{
    ApiError, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    paging::Paged,
    response::Envelope,
};

use super::{
    listing::AlertSearch,
    queries::{self, AlertView},
};
use crate::{
    AppState,
    consistency::MinPosition,
    respond::{json, render},
};

/// List alerts, newest first, each with its attempts (admins).
#[utoipa::path(
    get, path = "/api/v1/errors/alerts", tag = "errors",
    params(
        AlertSearch,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of alerts", body = inline(Envelope<Paged<AlertView>>)),
        (status = 400, description = "Bad status (the details name the allowed ones), project, issue, paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(search): Query<AlertSearch>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let listing = search.parse(&caller)?;
    let model = &state.alerts;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&listing) {
        return Ok(json(body, None));
    }
    let (applied, total, alerts) = queries::page(&state.pool, &model.source, &listing)
        .await
        .map_err(ApiError::failure)?;
    let body = render(listing.page.of(alerts, total));
    model.pages.insert(listing, body.clone(), applied);
    Ok(json(body, None))
}
