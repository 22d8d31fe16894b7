//! The identity context: user accounts, the claims on their email addresses, and sessions.
//!
//! Password hashes and refresh tokens are secrets and never appear in events; the command
//! side keeps them in its own tables.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, payload};

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

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
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
    UserRegistered(UserRegistered),
    SessionStarted(SessionStarted),
    SessionRevoked(SessionRevoked),
}

impl DomainEvent for IdentityEvent {
    const CONTEXT: &'static str = "identity";

    fn event_type(&self) -> &'static str {
        match self {
            Self::EmailClaimed(_) => "EmailClaimed",
            Self::UserRegistered(_) => "UserRegistered",
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
            Self::SessionStarted(e) => serde_json::to_value(e),
            Self::SessionRevoked(e) => serde_json::to_value(e),
        };
        value.expect("identity events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: Value) -> Result<Self, DecodeError> {
        if schema_version != 1 {
            return Err(DecodeError::UnknownVersion {
                event_type: event_type.to_owned(),
                version: schema_version,
            });
        }
        match event_type {
            "EmailClaimed" => payload(event_type, data).map(Self::EmailClaimed),
            "UserRegistered" => payload(event_type, data).map(Self::UserRegistered),
            "SessionStarted" => payload(event_type, data).map(Self::SessionStarted),
            "SessionRevoked" => payload(event_type, data).map(Self::SessionRevoked),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}
