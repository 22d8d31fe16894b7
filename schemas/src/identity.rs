//! The identity context: user accounts, the claims on their email addresses, and sessions.
//!
//! Password hashes and refresh tokens are secrets and never appear in events; the command
//! side keeps them in its own tables.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// The stream that holds one user's events.
pub fn user_stream(user_id: Uuid) -> String {
    format!("user-{user_id}")
}

/// The stream that records who holds a (normalised) email address: appending to it with
/// "no stream expected" together with the registration makes addresses unique.
pub fn email_stream(email: &str) -> String {
    format!("email-{email}")
}

/// The stream that holds one session's events.
pub fn session_stream(session_id: Uuid) -> String {
    format!("session-{session_id}")
}

crate::named_enum! {
    /// A user's role.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
    pub enum Role {
        User = "user",
        Admin = "admin",
    }
}

/// An email address was taken by a user (on the address's own stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailClaimed {
    /// Normalised: trimmed and lower-case.
    pub email: String,
    pub user_id: Uuid,
}

/// A user account was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRegistered {
    pub user_id: Uuid,
    /// Normalised: trimmed and lower-case.
    pub email: String,
    /// 1 to 100 characters.
    pub name: String,
    pub role: Role,
}

/// A user changed their display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserProfileChanged {
    pub user_id: Uuid,
    /// 1 to 100 characters.
    pub name: String,
}

/// A user's password was replaced (the hash is kept by command-api, never here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChanged {
    pub user_id: Uuid,
}

/// An admin blocked a user: their sessions end and they cannot log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserBlocked {
    pub user_id: Uuid,
    /// The admin who blocked them.
    pub by: Uuid,
}

/// An admin lifted a user's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUnblocked {
    pub user_id: Uuid,
    pub by: Uuid,
}

/// A user account was deleted, by the user or an admin; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDeleted {
    pub user_id: Uuid,
    pub by: Uuid,
}

/// An email address was freed by the deletion of its account (on the address's stream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailReleased {
    pub email: String,
    pub user_id: Uuid,
}

/// A user logged in: a session began, with its own refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionStarted {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// Why a session ended before it expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The user logged out.
    Logout,
    /// A refresh token of the session was presented a second time: it was stolen or
    /// replayed, so the whole token family is revoked.
    RefreshTokenReused,
}

/// A session was revoked: its access and refresh tokens stop working at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRevoked {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub reason: RevocationReason,
}

/// Every event of the identity context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityEvent {
    EmailClaimed(EmailClaimed),
    EmailReleased(EmailReleased),
    UserRegistered(UserRegistered),
    UserProfileChanged(UserProfileChanged),
    PasswordChanged(PasswordChanged),
    UserBlocked(UserBlocked),
    UserUnblocked(UserUnblocked),
    UserDeleted(UserDeleted),
    SessionStarted(SessionStarted),
    SessionRevoked(SessionRevoked),
}

impl IdentityEvent {
    /// The user an event of a user's own stream is about (None for address and session
    /// streams).
    pub fn account(&self) -> Option<Uuid> {
        match self {
            Self::UserRegistered(e) => Some(e.user_id),
            Self::UserProfileChanged(e) => Some(e.user_id),
            Self::PasswordChanged(e) => Some(e.user_id),
            Self::UserBlocked(e) => Some(e.user_id),
            Self::UserUnblocked(e) => Some(e.user_id),
            Self::UserDeleted(e) => Some(e.user_id),
            Self::EmailClaimed(_)
            | Self::EmailReleased(_)
            | Self::SessionStarted(_)
            | Self::SessionRevoked(_) => None,
        }
    }
}

impl DomainEvent for IdentityEvent {
    const CONTEXT: &'static str = "identity";

    fn event_type(&self) -> &'static str {
        match self {
            Self::EmailClaimed(_) => "EmailClaimed",
            Self::UserRegistered(_) => "UserRegistered",
            Self::EmailReleased(_) => "EmailReleased",
            Self::UserProfileChanged(_) => "UserProfileChanged",
            Self::PasswordChanged(_) => "PasswordChanged",
            Self::UserBlocked(_) => "UserBlocked",
            Self::UserUnblocked(_) => "UserUnblocked",
            Self::UserDeleted(_) => "UserDeleted",
            Self::SessionStarted(_) => "SessionStarted",
            Self::SessionRevoked(_) => "SessionRevoked",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::EmailClaimed(e) => serde_json::to_value(e),
            Self::UserRegistered(e) => serde_json::to_value(e),
            Self::EmailReleased(e) => serde_json::to_value(e),
            Self::UserProfileChanged(e) => serde_json::to_value(e),
            Self::PasswordChanged(e) => serde_json::to_value(e),
            Self::UserBlocked(e) => serde_json::to_value(e),
            Self::UserUnblocked(e) => serde_json::to_value(e),
            Self::UserDeleted(e) => serde_json::to_value(e),
            Self::SessionStarted(e) => serde_json::to_value(e),
            Self::SessionRevoked(e) => serde_json::to_value(e),
        };
        value.expect("identity events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "EmailClaimed" => payload(event_type, data).map(Self::EmailClaimed),
            "UserRegistered" => payload(event_type, data).map(Self::UserRegistered),
            "EmailReleased" => payload(event_type, data).map(Self::EmailReleased),
            "UserProfileChanged" => payload(event_type, data).map(Self::UserProfileChanged),
            "PasswordChanged" => payload(event_type, data).map(Self::PasswordChanged),
            "UserBlocked" => payload(event_type, data).map(Self::UserBlocked),
            "UserUnblocked" => payload(event_type, data).map(Self::UserUnblocked),
            "UserDeleted" => payload(event_type, data).map(Self::UserDeleted),
            "SessionStarted" => payload(event_type, data).map(Self::SessionStarted),
            "SessionRevoked" => payload(event_type, data).map(Self::SessionRevoked),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}
