//! What an email listing asks for: whose emails, which status, which page. Parsed from the
//! query string at the edge.

use schemas::email::EmailStatus;
use serde::Deserialize;
use serde_json::json;
use service_kit::{
    ApiError,
    auth::Caller,
    paging::{Page, PageParams},
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::queries::EmailStatusSchema;

/// Query parameters of `GET /emails`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailSearch {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Emails per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Only emails in this status (e.g. `dead` or `failed`, for operators).
    // Text rather than `EmailStatus`, so that a wrong name gets the error `parse` gives.
    #[param(value_type = Option<EmailStatusSchema>, inline)]
    pub status: Option<String>,
    /// Only this user's emails (admins; others may name only themselves).
    pub requested_by: Option<Uuid>,
}

/// Whose emails a listing shows: one user's, or everyone's (admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Sender(Uuid),
}

/// A validated listing request; also the key of its cached page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listing {
    pub scope: Scope,
    pub status: Option<EmailStatus>,
    pub page: Page,
}

impl EmailSearch {
    /// The listing `caller` may see: a user sees their own emails, an admin anyone's.
    pub fn parse(self, caller: &Caller) -> Result<Listing, ApiError> {
        let page = PageParams {
            page: self.page,
            size: self.size,
        }
        .validate()?;
        let scope = match self.requested_by {
            Some(user) if user == caller.user_id || caller.is_admin() => Scope::Sender(user),
            Some(_) => {
                return Err(ApiError::forbidden(
                    "users see their own emails only; requested_by may name only yourself",
                ));
            }
            None if caller.is_admin() => Scope::All,
            None => Scope::Sender(caller.user_id),
        };
        let status = self.status.as_deref().map(status).transpose()?;
        Ok(Listing {
            scope,
            status,
            page,
        })
    }
}

/// A status by its name; an unknown one is refused with the names allowed.
fn status(text: &str) -> Result<EmailStatus, ApiError> {
    EmailStatus::parse(text).ok_or_else(|| {
        let allowed = EmailStatus::ALL.map(EmailStatus::as_str);
        ApiError::bad_request(format!(
            "status must be one of {}, got {text:?}",
            allowed.join(", ")
        ))
        .with_details(json!({ "field": "status", "allowed": allowed }))
    })
}

#[cfg(test)]
mod tests {
    use schemas::identity::Role;

    use super::*;

    fn user() -> Caller {
        Caller {
            user_id: Uuid::from_u128(1),
            session_id: Uuid::from_u128(9),
            role: Role::User,
        }
    }

    fn admin() -> Caller {
        Caller {
            role: Role::Admin,
            ..user()
        }
    }

    #[test]
    fn a_user_sees_their_own_emails_and_an_admin_everyones_or_one_users() {
        let listing = EmailSearch::default().parse(&user()).unwrap();
        assert_eq!(listing.scope, Scope::Sender(Uuid::from_u128(1)));
        assert_eq!(listing.page, Page { page: 1, size: 20 });
        assert_eq!(
            EmailSearch::default().parse(&admin()).unwrap().scope,
            Scope::All
        );
        let one = EmailSearch {
            requested_by: Some(Uuid::from_u128(2)),
            ..EmailSearch::default()
        };
        assert_eq!(
            one.parse(&admin()).unwrap().scope,
            Scope::Sender(Uuid::from_u128(2))
        );
    }

    #[test]
    fn a_user_may_not_name_another_user() {
        let search = EmailSearch {
            requested_by: Some(Uuid::from_u128(2)),
            ..EmailSearch::default()
        };
        assert_eq!(search.parse(&user()).unwrap_err().status, 403);
        let themselves = EmailSearch {
            requested_by: Some(Uuid::from_u128(1)),
            ..EmailSearch::default()
        };
        assert!(themselves.parse(&user()).is_ok());
    }

    #[test]
    fn an_unknown_status_is_refused_naming_the_allowed_ones() {
        let search = EmailSearch {
            status: Some("DEAD".into()),
            ..EmailSearch::default()
        };
        let err = search.parse(&admin()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message
                .contains("queued, sending, retrying, sent, failed, dead, cancelled")
        );
        let details = err.details.unwrap();
        assert_eq!(details["allowed"][5], "dead");
        let dead = EmailSearch {
            status: Some("dead".into()),
            ..EmailSearch::default()
        };
        assert_eq!(
            dead.parse(&admin()).unwrap().status,
            Some(EmailStatus::Dead)
        );
    }

    #[test]
    fn paging_is_bounded() {
        for (page, size) in [(Some(0), None), (None, Some(0)), (None, Some(101))] {
            let search = EmailSearch {
                page,
                size,
                ..EmailSearch::default()
            };
            assert_eq!(search.parse(&user()).unwrap_err().status, 400);
        }
    }
}
