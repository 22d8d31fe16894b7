//! Refreshing and ending sessions.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use std::slice;

use event_store::ExpectedVersion;
use schemas::identity::{self, IdentityEvent, RevocationReason, SessionRevoked};
use serde::Deserialize;
use service_kit::{
    ApiError, Json,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    handlers::{AccountSummary, Session, load_account},
    secrets::{self, Rotation},
};
use crate::{
    AppState,
    command::{self, CommandContext},
};

/// `POST /api/v1/auth/refresh`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshInput {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and a new refresh token. Each refresh
/// token works once: presenting a spent one revokes the whole session.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshInput,
    responses(
        (status = 200, description = "New tokens of the same session", body = inline(service_kit::Envelope<Session>)),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Unknown, spent or ended refresh token", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(input): Json<RefreshInput>,
) -> Result<Response, ApiError> {
    let rotation = secrets::rotate(state.pool(), &input.refresh_token)
        .await
        .map_err(ApiError::failure)?;
    let (session, user, refresh_token) = match rotation {
        Rotation::Rotated {
            session,
            user,
            refresh_token,
        } => (session, user, refresh_token),
        Rotation::Reused { session, user } => {
            let context = CommandContext::new(&headers, None, "Refresh", &())?;
            let reason = RevocationReason::RefreshTokenReused;
            end_session(&state, &context, user, session, reason).await?;
            return Err(ApiError::unauthorized(
                "this refresh token was used already: the session is revoked; log in again",
            ));
        }
        Rotation::Refused => {
            return Err(ApiError::unauthorized("the refresh token is not valid"));
        }
    };
    let account = load_account(&state, user)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
    let body = Session {
        access_token: state.tokens.issue(user, session, account.role),
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        refresh_token,
        user: AccountSummary::from(account),
    };
    Ok(ok(body).into_response())
}

/// End the caller's session: its access token stops working at once on every instance,
/// and its refresh tokens too.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        Unauthorized,
    ),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let context = CommandContext::new(&headers, None, "Logout", &())?;
    end_session(
        &state,
        &context,
        caller.user_id,
        caller.session_id,
        RevocationReason::Logout,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revokes a session (announced to every instance) and records why.
async fn end_session(
    state: &AppState,
    context: &CommandContext,
    user: Uuid,
    session: Uuid,
    reason: RevocationReason,
) -> Result<(), ApiError> {
    state.tokens.revocations.revoke(session);
    let revoked = secrets::revoke_session(state.pool(), session)
        .await
        .map_err(ApiError::failure)?;
    if !revoked {
        return Ok(());
    }
    let event = IdentityEvent::SessionRevoked(SessionRevoked {
        user_id: user,
        session_id: session,
        reason,
    });
    let metadata = context.metadata.with_actor(user);
    let streams = vec![(
        identity::session_stream(session),
        ExpectedVersion::Any,
        slice::from_ref(&event),
    )];
    command::append_all(&state.store, &metadata, streams)
        .await
        .map_err(command::append_error)?;
    Ok(())
}
