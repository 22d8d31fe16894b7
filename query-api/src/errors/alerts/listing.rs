//! What an alerts listing asks for: which project, issue and status, which page. Parsed
//! from the query string at the edge; admins only.

use error_report::alert::AlertStatus;
use serde::Deserialize;
use serde_json::json;
use service_kit::{
    ApiError,
    auth::Caller,
    paging::{Page, PageParams},
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::queries::AlertStatusSchema;

/// Query parameters of `GET /errors/alerts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertSearch {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Alerts per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Only this project's alerts (0: the platform's own errors).
    pub project: Option<i64>,
    /// Only this issue's alerts.
    pub issue: Option<Uuid>,
    /// Only alerts in this status (`given_up`, for operators).
    // Text rather than the status, so that a wrong name gets the error `parse` gives.
    #[param(value_type = Option<AlertStatusSchema>, inline)]
    pub status: Option<String>,
}

/// A validated listing request; also the key of its cached page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listing {
    pub project: Option<i64>,
    pub issue: Option<Uuid>,
    pub status: Option<AlertStatus>,
    pub page: Page,
}

impl AlertSearch {
    /// The listing, for an admin: error data is operators' data.
    pub fn parse(self, caller: &Caller) -> Result<Listing, ApiError> {
        if !caller.is_admin() {
            return Err(ApiError::forbidden("only admins see alerts"));
        }
        let page = PageParams {
            page: self.page,
            size: self.size,
        }
        .validate()?;
        if self.project.is_some_and(|project| project < 0) {
            return Err(ApiError::bad_request("project must be 0 or more")
                .with_details(json!({ "field": "project" })));
        }
        let status = self.status.as_deref().map(status).transpose()?;
        Ok(Listing {
            project: self.project,
            issue: self.issue,
            status,
            page,
        })
    }
}

/// A status by its name; an unknown one is refused with the names allowed.
fn status(text: &str) -> Result<AlertStatus, ApiError> {
    AlertStatus::parse(text).ok_or_else(|| {
        let allowed = AlertStatus::ALL.map(AlertStatus::as_str);
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

    fn admin() -> Caller {
        Caller {
            user_id: Uuid::from_u128(1),
            session_id: Uuid::from_u128(9),
            role: Role::Admin,
        }
    }

    #[test]
    fn only_admins_list_alerts() {
        let user = Caller {
            role: Role::User,
            ..admin()
        };
        assert_eq!(AlertSearch::default().parse(&user).unwrap_err().status, 403);
        let listing = AlertSearch::default().parse(&admin()).unwrap();
        assert_eq!(listing.page, Page { page: 1, size: 20 });
        assert_eq!(
            (listing.project, listing.issue, listing.status),
            (None, None, None)
        );
    }

    #[test]
    fn an_unknown_status_is_refused_naming_the_allowed_ones() {
        let search = AlertSearch {
            status: Some("failed".into()),
            ..AlertSearch::default()
        };
        let err = search.parse(&admin()).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(
            err.message
                .contains("pending, sending, retrying, sent, given_up")
        );
        let given_up = AlertSearch {
            status: Some("given_up".into()),
            project: Some(0),
            ..AlertSearch::default()
        };
        let listing = given_up.parse(&admin()).unwrap();
        assert_eq!(listing.status, Some(AlertStatus::GivenUp));
        assert_eq!(listing.project, Some(0));
    }

    #[test]
    fn a_negative_project_and_unbounded_pages_are_refused() {
        let negative = AlertSearch {
            project: Some(-1),
            ..AlertSearch::default()
        };
        assert_eq!(negative.parse(&admin()).unwrap_err().status, 400);
        let huge = AlertSearch {
            size: Some(101),
            ..AlertSearch::default()
        };
        assert_eq!(huge.parse(&admin()).unwrap_err().status, 400);
    }
}
