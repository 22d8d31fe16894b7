//! What an issue listing asks for: which project, status and level, what text, in which
//! order, which page. Parsed from the query string at the edge.

use schemas::errors::{IssueStatus, Level};
use serde::Deserialize;
use serde_json::json;
use service_kit::{
    ApiError,
    paging::{Page, PageParams},
};
use utoipa::IntoParams;

use super::issues::{IssueStatusSchema, LevelSchema};

pub const MAX_QUERY_CHARS: usize = 200;

/// Query parameters of `GET /errors/issues`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IssueSearch {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Issues per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Only this project's issues (0: the platform's own).
    pub project: Option<i64>,
    /// Only issues in this status.
    // Text rather than the enum, so that a wrong name gets the error `parse` gives.
    #[param(value_type = Option<IssueStatusSchema>, inline)]
    pub status: Option<String>,
    /// Only issues whose highest level is at least this one (`warning`: warnings, errors
    /// and fatal errors).
    #[param(value_type = Option<LevelSchema>, inline)]
    pub level: Option<String>,
    /// `last_seen` (default: most recently seen first), `first_seen` (newest first),
    /// `frequent` (most errors first) or `users` (most users affected first).
    pub sort: Option<String>,
    /// Only issues whose title or culprit contains this text (case-insensitive, literal).
    pub q: Option<String>,
}

schemas::named_enum! {
    /// The order of an issue listing.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Sort {
        LastSeen = "last_seen",
        FirstSeen = "first_seen",
        Frequent = "frequent",
        Users = "users",
    }
}

impl Sort {
    /// The column the listing is ordered by, descending.
    pub fn column(self) -> &'static str {
        match self {
            Self::LastSeen => "last_seen",
            Self::FirstSeen => "first_seen",
            Self::Frequent => "times_seen",
            Self::Users => "users_seen",
        }
    }
}

/// A validated listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub project: Option<i64>,
    pub status: Option<IssueStatus>,
    pub level: Option<Level>,
    pub sort: Sort,
    pub q: Option<String>,
    pub page: Page,
}

impl IssueSearch {
    pub fn parse(self) -> Result<Listing, ApiError> {
        let page = PageParams {
            page: self.page,
            size: self.size,
        }
        .validate()?;
        let status = self
            .status
            .as_deref()
            .map(|text| {
                IssueStatus::parse(text)
                    .ok_or_else(|| one_of("status", text, &IssueStatus::ALL.map(|s| s.as_str())))
            })
            .transpose()?;
        let level = self
            .level
            .as_deref()
            .map(|text| {
                Level::ALL
                    .into_iter()
                    .find(|level| level.as_str() == text)
                    .ok_or_else(|| one_of("level", text, &Level::ALL.map(Level::as_str)))
            })
            .transpose()?;
        let sort = match self.sort.as_deref() {
            None => Sort::LastSeen,
            Some(text) => Sort::parse(text)
                .ok_or_else(|| one_of("sort", text, &Sort::ALL.map(Sort::as_str)))?,
        };
        let q = self
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        if q.as_ref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(ApiError::bad_request(format!(
                "q must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        Ok(Listing {
            project: self.project,
            status,
            level,
            sort,
            q,
            page,
        })
    }
}

/// A value that is none of the allowed names, refused with them.
fn one_of(field: &str, text: &str, allowed: &[&str]) -> ApiError {
    ApiError::bad_request(format!(
        "{field} must be one of {}, got {text:?}",
        allowed.join(", ")
    ))
    .with_details(json!({ "field": field, "allowed": allowed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_every_issue_most_recently_seen_first() {
        let listing = IssueSearch::default().parse().unwrap();
        assert_eq!(listing.sort, Sort::LastSeen);
        assert_eq!(
            (listing.project, listing.status, listing.level),
            (None, None, None)
        );
        assert_eq!(listing.page, Page { page: 1, size: 20 });
    }

    #[test]
    fn filters_and_orders_are_read_by_name() {
        let listing = IssueSearch {
            project: Some(3),
            status: Some("muted".into()),
            level: Some("warning".into()),
            sort: Some("frequent".into()),
            q: Some("  Value  ".into()),
            ..IssueSearch::default()
        }
        .parse()
        .unwrap();
        assert_eq!(listing.status, Some(IssueStatus::Muted));
        assert_eq!(listing.level, Some(Level::Warning));
        assert_eq!(listing.sort.column(), "times_seen");
        assert_eq!(listing.q.as_deref(), Some("Value"));
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_allowed_ones() {
        for (search, field) in [
            (
                IssueSearch {
                    status: Some("closed".into()),
                    ..IssueSearch::default()
                },
                "status",
            ),
            (
                IssueSearch {
                    level: Some("warn".into()),
                    ..IssueSearch::default()
                },
                "level",
            ),
            (
                IssueSearch {
                    sort: Some("newest".into()),
                    ..IssueSearch::default()
                },
                "sort",
            ),
        ] {
            let err = search.parse().unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(err.details.unwrap()["field"], field);
        }
    }
}
