//! Changing accounts: one's own name and password; deleting (self or admin); blocking
//! and unblocking (admins).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use event_store::{AppendError, Appended, ExpectedVersion};
use schemas::identity;
use serde::Deserialize;
use serde_json::json;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    account::{self, Account, AccountCommand},
    handlers::{AccountWritten, account_error, load_account, load_claim, written},
    input::{Email, Name, Password},
    secrets,
};
use crate::{
    AppState,
    command::{self, CommandContext},
};

/// `PATCH /api/v1/users/me`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// 1 to 100 characters; absent keeps the current name.
    pub name: Option<String>,
}

/// `PUT /api/v1/users/me/password`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    pub current_password: String,
    /// At least 8 characters with an upper-case letter and a digit.
    pub new_password: String,
}

/// Change the caller's display name.
#[utoipa::path(
    patch, path = "/api/v1/users/me", tag = "users",
    request_body = ProfileInput,
    responses(
        (status = 200, description = "Changed", body = inline(service_kit::Envelope<AccountWritten>), headers(("X-Position" = i64))),
        Unauthorized,
        (status = 422, description = "Invalid name", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn change_profile(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<ProfileInput>,
) -> Result<Response, ApiError> {
    let name = input
        .name
        .as_deref()
        .map(Name::parse)
        .transpose()
        .map_err(|message| {
            ApiError::invalid(message.clone())
                .with_details(json!({ "fields": { "name": message } }))
        })?;
    let context = CommandContext::new(&headers, None, "ChangeProfile", &())?;
    let command = AccountCommand::ChangeName { name };
    let (account, appended) = change(&state, &context, &caller, caller.user_id, command).await?;
    Ok(written(StatusCode::OK, account, &appended))
}

/// Replace the caller's password; the current one is needed. Every other session of the
/// caller ends. Each account may try `PASSWORD_CHANGE_RATE_LIMIT_PER_MINUTE` times a
/// minute (default 5), right or wrong.
#[utoipa::path(
    put, path = "/api/v1/users/me/password", tag = "users",
    request_body = PasswordInput,
    responses(
        (status = 204, description = "Changed", headers(("X-Position" = i64))),
        Unauthorized,
        (status = 403, description = "The current password is wrong", body = ErrorBody),
        (status = 422, description = "The new password breaks a rule", body = ErrorBody),
        (status = 429, description = "Too many password changes by this account this minute", body = ErrorBody,
         headers(("Retry-After" = u64))),
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<PasswordInput>,
) -> Result<Response, ApiError> {
    let new = Password::parse(&input.new_password).map_err(|rules| {
        let message = format!("new_password needs {}", rules.join(", "));
        ApiError::invalid(message.clone())
            .with_details(json!({ "fields": { "new_password": message } }))
    })?;
    // Counted before the hash: each attempt, right or wrong, costs one.
    if let Err(over) = state.password_change_limit.check(&caller.user_id) {
        return Ok(over.into_response());
    }
    let hash = secrets::password_hash(state.pool(), caller.user_id)
        .await
        .map_err(ApiError::failure)?;
    if !state.passwords.verify(input.current_password, hash).await? {
        return Err(ApiError::forbidden("the current password is wrong"));
    }
    let new_hash = state.passwords.hash(new.expose().to_owned()).await?;
    let context = CommandContext::new(&headers, None, "ChangePassword", &())?;
    let (_, appended) = change(
        &state,
        &context,
        &caller,
        caller.user_id,
        AccountCommand::ChangePassword,
    )
    .await?;
    secrets::store_password_hash(state.pool(), caller.user_id, &new_hash)
        .await
        .map_err(ApiError::failure)?;
    end_sessions(&state, caller.user_id, Some(caller.session_id)).await?;
    Ok((StatusCode::NO_CONTENT, command::position_headers(&appended)).into_response())
}

/// Delete a member: the member themselves or an admin. Their sessions end and their
/// email address is free again.
#[utoipa::path(
    delete, path = "/api/v1/members/{id}", tag = "members",
    params(("id" = Uuid, Path, description = "Member (user) id")),
    responses(
        (status = 204, description = "Deleted", headers(("X-Position" = i64))),
        Unauthorized,
        (status = 403, description = "Neither the member nor an admin", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_self_or_admin(id)?;
    let context = CommandContext::new(&headers, None, "DeleteMember", &())?;
    let command = AccountCommand::Delete { by: caller.user_id };
    let (_, appended) = change(&state, &context, &caller, id, command).await?;
    end_sessions(&state, id, None).await?;
    secrets::forget_password_hash(state.pool(), id)
        .await
        .map_err(ApiError::failure)?;
    Ok((StatusCode::NO_CONTENT, command::position_headers(&appended)).into_response())
}

/// Block a member (admins only): their sessions end at once and they cannot log in.
#[utoipa::path(
    post, path = "/api/v1/members/{id}/block", tag = "members",
    params(("id" = Uuid, Path, description = "Member (user) id")),
    responses(
        (status = 200, description = "Blocked", body = inline(service_kit::Envelope<AccountWritten>), headers(("X-Position" = i64))),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "Blocked already", body = ErrorBody),
        (status = 422, description = "An admin cannot block themselves", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn block_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let command = AccountCommand::Block { by: caller.user_id };
    let response = by_admin(&state, &caller, id, &headers, "BlockMember", command).await?;
    end_sessions(&state, id, None).await?;
    Ok(response)
}

/// Lift a member's block (admins only).
#[utoipa::path(
    post, path = "/api/v1/members/{id}/unblock", tag = "members",
    params(("id" = Uuid, Path, description = "Member (user) id")),
    responses(
        (status = 200, description = "Unblocked", body = inline(service_kit::Envelope<AccountWritten>), headers(("X-Position" = i64))),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "Not blocked", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unblock_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let command = AccountCommand::Unblock { by: caller.user_id };
    by_admin(&state, &caller, id, &headers, "UnblockMember", command).await
}

/// A change only admins may make; answers with the account.
async fn by_admin(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    headers: &HeaderMap,
    operation: &str,
    command: AccountCommand,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let context = CommandContext::new(headers, None, operation, &())?;
    let (account, appended) = change(state, &context, caller, id, command).await?;
    Ok(written(StatusCode::OK, account, &appended))
}

/// Times a change is decided at most: one that lost a race with another change of the
/// same account (a concurrent rename, block or deletion) is decided again on what the
/// winner left, so no client sees a conflict it could not have avoided. Each lost race
/// means another change committed: up to this many changes at once all apply.
const CHANGE_ATTEMPTS: u32 = 10;

/// Loads the account, decides and appends at its version (a deletion together with the
/// release of its address). Returns the account after the change.
async fn change(
    state: &AppState,
    context: &CommandContext,
    caller: &Caller,
    user_id: Uuid,
    command: AccountCommand,
) -> Result<(Account, Appended), ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = load_account(state, user_id).await?;
        let events = account::decide(current.as_ref(), command.clone()).map_err(account_error)?;
        let current = current.expect("decide refuses a missing account");
        let metadata = context.metadata.with_actor(caller.user_id);
        let (user_events, released) = events.split_at(1);
        let mut streams = vec![(
            identity::user_stream(user_id),
            ExpectedVersion::Exact(current.version),
            user_events,
        )];
        if !released.is_empty() {
            let email = Email::parse(&current.email).map_err(ApiError::internal)?;
            let claim = load_claim(state, &email).await?;
            let expected = ExpectedVersion::Exact(claim.version);
            streams.push((identity::email_stream(email.as_str()), expected, released));
        }
        let appended = match command::append_all(&state.store, &metadata, streams).await {
            Ok(appended) => appended,
            Err(AppendError::Conflict { .. }) if attempt < CHANGE_ATTEMPTS => continue,
            Err(err) => return Err(command::append_error(err)),
        };
        let account = account::evolve(Some(current), &user_events[0], appended[0].last_version)
            .expect("a change keeps the account");
        return Ok((account, *appended.last().expect("one append at least")));
    }
}

/// Ends the user's sessions (but `except`) here at once and, by notification, everywhere.
async fn end_sessions(state: &AppState, user: Uuid, except: Option<Uuid>) -> Result<(), ApiError> {
    let ended = secrets::revoke_user_sessions(state.pool(), user, except)
        .await
        .map_err(ApiError::failure)?;
    for session in ended {
        state.tokens.revocations.revoke(session);
    }
    Ok(())
}
