//! Registration and login.

use std::slice;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{AppendError, Appended, ExpectedVersion};
use schemas::identity::{self, IdentityEvent, Role, SessionStarted};
use serde::Serialize;
use service_kit::{ApiError, Json, error::ErrorBody, ok};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    account::{self, Account, AccountError, EmailClaim},
    input::{Email, LoginInput, RegisterInput, Registration},
    secrets,
};
use crate::{
    AppState,
    command::{self, CommandContext},
};

/// An account as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountWritten {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `user` or `admin`.
    #[schema(value_type = String, example = "user")]
    pub role: Role,
    pub blocked: bool,
    /// Global position of the command's last event; send it as `X-Min-Position`.
    pub position: i64,
}

/// Tokens of a new session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Short-lived JWT; send it as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange it at `/api/v1/auth/refresh` for new tokens; each is good for one use.
    pub refresh_token: String,
    pub user: AccountSummary,
}

impl From<Account> for AccountSummary {
    fn from(account: Account) -> Self {
        Self {
            id: account.user_id,
            email: account.email,
            name: account.name,
            role: account.role,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummary {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// `user` or `admin`.
    #[schema(value_type = String, example = "user")]
    pub role: Role,
}

/// Create an account. The email address is normalised (trimmed, lower-case) and unique.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterInput,
    responses(
        (status = 201, description = "Registered", body = inline(service_kit::Envelope<AccountWritten>),
         headers(("Location" = String), ("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 409, description = "The email address is taken", body = ErrorBody),
        (status = 422, description = "Invalid fields; `details.fields` names each broken rule", body = ErrorBody),
        (status = 429, description = "Too many registrations and logins from this address this minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Json(input): Json<RegisterInput>,
) -> Result<Response, ApiError> {
    let registration = input.parse()?;
    let context = CommandContext::new(&headers, None, "Register", &())?;
    let (account, last) = create_account(&state, registration, Role::User, &context).await?;
    let location = format!("/api/v1/members/{}", account.user_id);
    let mut response = written(StatusCode::CREATED, account, &last);
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("uuids are valid in headers"),
    );
    Ok(response)
}

/// The answer to a command that wrote an account: the account, with the position.
pub fn written(status: StatusCode, account: Account, appended: &Appended) -> Response {
    let mut headers = command::position_headers(appended);
    headers.remove(header::ETAG);
    let body = AccountWritten {
        id: account.user_id,
        email: account.email,
        name: account.name,
        role: account.role,
        blocked: account.blocked,
        position: appended.last_position,
    };
    (status, headers, ok(body)).into_response()
}

/// Claims the address and creates the account, with its password hash stored aside.
/// Returns the account and where its registration landed.
pub async fn create_account(
    state: &AppState,
    registration: Registration,
    role: Role,
    context: &CommandContext,
) -> Result<(Account, Appended), ApiError> {
    let claim = load_claim(state, &registration.email).await?;
    let user_id = Uuid::now_v7();
    let (claimed, registered) =
        account::register(claim, user_id, &registration.email, registration.name, role)
            .map_err(account_error)?;
    let hash = state
        .passwords
        .hash(registration.password.expose().to_owned())
        .await?;
    // The hash is stored first: if the events then fail, no account refers to it.
    secrets::store_password_hash(state.pool(), user_id, &hash)
        .await
        .map_err(ApiError::failure)?;
    let claim_expected = match claim.version {
        0 => ExpectedVersion::NoStream,
        version => ExpectedVersion::Exact(version),
    };
    let metadata = context.metadata.with_actor(user_id);
    let streams = vec![
        (
            identity::email_stream(registration.email.as_str()),
            claim_expected,
            slice::from_ref(&claimed),
        ),
        (
            identity::user_stream(user_id),
            ExpectedVersion::NoStream,
            slice::from_ref(&registered),
        ),
    ];
    let appended = command::append_all(&state.store, &metadata, streams).await;
    let appended = match appended {
        Ok(appended) => appended,
        Err(err) => {
            secrets::forget_password_hash(state.pool(), user_id)
                .await
                .map_err(ApiError::failure)?;
            return Err(match err {
                // Someone registered the address concurrently.
                AppendError::Conflict { .. } => account_error(AccountError::EmailTaken),
                other => command::append_error(other),
            });
        }
    };
    let account = account::evolve(None, &registered, appended[1].last_version)
        .expect("a registration creates the account");
    Ok((account, appended[1]))
}
/// Log in with email and password: a new session with an access and a refresh token.
/// A wrong email and a wrong password get the same answer, in the same time.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginInput,
    responses(
        (status = 200, description = "Logged in", body = inline(service_kit::Envelope<Session>)),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The account is blocked", body = ErrorBody),
        (status = 429, description = "Too many registrations and logins from this address this minute", body = ErrorBody,
         headers(("Retry-After" = u64), ("RateLimit-Limit" = u32), ("RateLimit-Remaining" = u32), ("RateLimit-Reset" = u64))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Json(input): Json<LoginInput>,
) -> Result<Response, ApiError> {
    let account = match Email::parse(&input.email) {
        Ok(email) => find_account(&state, &email).await?,
        Err(_) => None,
    };
    let hash = match &account {
        Some(account) => secrets::password_hash(state.pool(), account.user_id)
            .await
            .map_err(ApiError::failure)?,
        None => None,
    };
    let verified = state.passwords.verify(input.password, hash).await?;
    let Some(account) = account.filter(|a| verified && !a.deleted) else {
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    if account.blocked {
        return Err(blocked());
    }
    let session = secrets::start_session(state.pool(), account.user_id, state.refresh_ttl)
        .await
        .map_err(ApiError::failure)?;
    // A block appended before the session existed did not end it: look again. (A block
    // appended after ends it, as it ends every session.)
    let current = load_account(&state, account.user_id).await?;
    if current.is_none_or(|a| a.blocked || a.deleted) {
        secrets::revoke_session(state.pool(), session.session_id)
            .await
            .map_err(ApiError::failure)?;
        return Err(blocked());
    }
    let context = CommandContext::new(&headers, None, "Login", &())?;
    let started = IdentityEvent::SessionStarted(SessionStarted {
        user_id: account.user_id,
        session_id: session.session_id,
    });
    let stream = identity::session_stream(session.session_id);
    let metadata = context.metadata.with_actor(account.user_id);
    let streams = vec![(stream, ExpectedVersion::NoStream, slice::from_ref(&started))];
    command::append_all(&state.store, &metadata, streams)
        .await
        .map_err(command::append_error)?;
    let body = Session {
        access_token: state
            .tokens
            .issue(account.user_id, session.session_id, account.role),
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        refresh_token: session.refresh_token,
        user: AccountSummary::from(account),
    };
    Ok(ok(body).into_response())
}

fn blocked() -> ApiError {
    ApiError::forbidden("this account is blocked; ask an admin to unblock it")
}

/// Who holds the address, from its stream.
pub async fn load_claim(state: &AppState, email: &Email) -> Result<EmailClaim, ApiError> {
    let events = load_events(state, &identity::email_stream(email.as_str())).await?;
    Ok(events
        .iter()
        .fold(EmailClaim::default(), |claim, (event, version)| {
            account::evolve_claim(claim, event, *version)
        }))
}

/// The account holding the address, if any.
async fn find_account(state: &AppState, email: &Email) -> Result<Option<Account>, ApiError> {
    let Some(user_id) = load_claim(state, email).await?.holder else {
        return Ok(None);
    };
    load_account(state, user_id).await
}

/// A user's account, from their stream.
pub async fn load_account(state: &AppState, user_id: Uuid) -> Result<Option<Account>, ApiError> {
    let events = load_events(state, &identity::user_stream(user_id)).await?;
    Ok(events.iter().fold(None, |account, (event, version)| {
        account::evolve(account, event, *version)
    }))
}

async fn load_events(
    state: &AppState,
    stream_id: &str,
) -> Result<Vec<(IdentityEvent, i64)>, ApiError> {
    crate::command::load_events(&state.store, stream_id, None).await
}

pub fn account_error(err: AccountError) -> ApiError {
    match err {
        AccountError::EmailTaken | AccountError::AlreadyBlocked | AccountError::NotBlocked => {
            ApiError::conflict(err.to_string())
        }
        AccountError::NotFound => ApiError::not_found(err.to_string()),
        AccountError::SelfBlock => ApiError::invalid(err.to_string()),
    }
}
