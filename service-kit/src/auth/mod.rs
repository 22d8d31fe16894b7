//! Access tokens (JWT, HS256) and the extractor that authenticates a request with one.
//!
//! A missing, malformed, tampered or expired token is a 401 with `WWW-Authenticate`; an
//! authenticated caller who may not do something gets a 403 from the handler
//! ([`Caller::require_admin`], [`Caller::require_self_or_admin`]). A token of a session
//! that ended (logout, blocking, deletion, a password change) is refused at once on every
//! instance: [`revocations`] keeps the sessions that ended.

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use schemas::identity::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use self::revocations::Revocations;
use crate::ApiError;

pub mod revocations;

/// What an access token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    /// The session (login) the token belongs to.
    pub sid: Uuid,
    pub role: Role,
    pub iat: u64,
    pub exp: u64,
}

/// Issues and verifies access tokens with one shared secret.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// How long an access token is valid.
    pub ttl: Duration,
    /// Sessions whose tokens no longer count, though unexpired.
    pub revocations: Revocations,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
            revocations: Revocations::default(),
        }
    }

    /// A signed token for a session of `user`.
    pub fn issue(&self, user: Uuid, session: Uuid, role: Role) -> String {
        let now = unix_now();
        let claims = Claims {
            sub: user,
            sid: session,
            role,
            iat: now,
            exp: now + self.ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The claims of a genuine, unexpired token.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => invalid_token("the access token has expired"),
                _ => invalid_token("the access token is not valid"),
            })
    }
}

impl Tokens {
    /// The caller a token names, unless it is not genuine, expired or its session ended.
    pub fn caller(&self, token: &str) -> Result<Caller, ApiError> {
        self.caller_until(token).map(|(caller, _)| caller)
    }

    /// The caller a token names and the first moment the token is refused, for what
    /// outlives the request it came with (a stream must end by then).
    pub fn caller_until(&self, token: &str) -> Result<(Caller, SystemTime), ApiError> {
        let claims = self.verify(token)?;
        if self.revocations.is_revoked(claims.sid) {
            return Err(session_ended());
        }
        let caller = Caller {
            user_id: claims.sub,
            session_id: claims.sid,
            role: claims.role,
        };
        // Counted in whole seconds, a token is good through its `exp` second.
        Ok((caller, UNIX_EPOCH + Duration::from_secs(claims.exp + 1)))
    }
}

/// 401 for a token whose session was ended (logout, blocking, deletion, a new password).
pub fn session_ended() -> ApiError {
    invalid_token("the session has ended; log in again")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// 401 for a request without credentials.
pub fn unauthenticated(message: &str) -> ApiError {
    ApiError::unauthorized(message).with_challenge("Bearer")
}

/// 401 for a request whose token was refused.
pub fn invalid_token(message: &str) -> ApiError {
    let challenge = format!("Bearer error=\"invalid_token\", error_description=\"{message}\"");
    ApiError::unauthorized(message).with_challenge(&challenge)
}

/// An authenticated caller: whom the request's access token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub role: Role,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// 403 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the admin role"))
        }
    }

    /// 403 unless the caller is `user` or an admin.
    pub fn require_self_or_admin(&self, user: Uuid) -> Result<(), ApiError> {
        if self.user_id == user || self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only the user themselves or an admin may do this",
            ))
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Arc<Tokens>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let tokens = Arc::<Tokens>::from_ref(state);
        let Some(token) = bearer_token(parts)? else {
            return Err(unauthenticated(
                "this needs an access token: Authorization: Bearer <token>",
            ));
        };
        tokens.caller(token)
    }
}

/// The token of an `Authorization: Bearer` header (None without the header).
pub fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Some)
        .ok_or_else(|| invalid_token("the Authorization header must be: Bearer <token>"))
}

/// Adds the `bearer` security scheme (a JWT access token) to an OpenAPI document.
pub struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The access_token from /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(b"test secret", Duration::from_secs(60))
    }

    #[test]
    fn an_issued_token_verifies_to_its_claims() {
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let claims = tokens()
            .verify(&tokens().issue(user, session, Role::Admin))
            .unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.role),
            (user, session, Role::Admin)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Tokens::new(b"another secret", Duration::from_secs(60));
        let token = other.issue(Uuid::now_v7(), Uuid::now_v7(), Role::User);
        assert_eq!(tokens().verify(&token).unwrap_err().status, 401);
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let token = tokens().issue(Uuid::now_v7(), Uuid::now_v7(), Role::User);
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged_claims = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: Uuid::now_v7(),
                sid: Uuid::now_v7(),
                role: Role::Admin,
                iat: unix_now(),
                exp: unix_now() + 60,
            },
            &EncodingKey::from_secret(b"guess"),
        )
        .unwrap();
        let payload = forged_claims.split('.').nth(1).unwrap();
        let forged = format!("{head}.{payload}.{signature}");
        assert_eq!(tokens().verify(&forged).unwrap_err().status, 401);
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let expired = Tokens::new(b"test secret", Duration::ZERO);
        let token = expired.issue(Uuid::now_v7(), Uuid::now_v7(), Role::User);
        std::thread::sleep(Duration::from_millis(1100));
        let err = tokens().verify(&token).unwrap_err();
        assert!(err.message.contains("expired"), "{}", err.message);
    }
}
