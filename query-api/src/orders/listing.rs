//! What an order listing asks for: whose orders, which statuses and dates, in which order,
//! and which page (by number or by cursor). Parsed from the query string at the edge.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use schemas::orders::OrderStatus;
use serde::Deserialize;
use service_kit::{
    ApiError,
    auth::Caller,
    paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
};
use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::queries::OrderStatusSchema;

/// Query parameters of `GET /orders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderSearch {
    /// 1-based page number (default 1); not with `cursor`.
    pub page: Option<u32>,
    /// Orders per page, 1 to 100 (default 20).
    pub size: Option<u32>,
    /// Continue after the last order of a previous page (its `next_cursor`); cheap at any
    /// depth, and the answer carries no totals.
    pub cursor: Option<String>,
    /// Only orders in this status: PLACED, PAID, SHIPPED, DELIVERED or CANCELLED.
    // Text rather than `OrderStatus`, so that a wrong name gets the error `parse` gives.
    #[param(value_type = Option<OrderStatusSchema>, inline)]
    pub status: Option<String>,
    /// Only this member's orders (admins; members may name only themselves).
    pub member_id: Option<Uuid>,
    /// Only orders placed at or after this time (RFC 3339, or a date: midnight UTC).
    pub from: Option<String>,
    /// Only orders placed before this time (RFC 3339, or a date: midnight UTC).
    pub to: Option<String>,
    /// `newest` (default) or `oldest` first, by order date.
    pub sort: Option<String>,
}

/// Whose orders a listing shows: one member's, or everyone's (admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Member(Uuid),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    Newest,
    Oldest,
}

/// Where a page starts: after a number of orders, or after a given order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    Page(u32),
    After(Cursor),
}

/// A position in a listing: the last order shown, by date and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub sort: Sort,
    pub placed_at: OffsetDateTime,
    pub number: i64,
}

/// A validated listing request; also the key of its cached page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Listing {
    pub scope: Scope,
    pub status: Option<OrderStatus>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub sort: Sort,
    pub start: Start,
    pub size: u32,
}

impl Listing {
    /// Counts come from the totals table unless a date range narrows the listing.
    pub fn has_date_range(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

impl OrderSearch {
    /// The listing `caller` may see: a member sees their own orders, an admin anyone's.
    pub fn parse(self, caller: &Caller) -> Result<Listing, ApiError> {
        let scope = match self.member_id {
            Some(member) if member == caller.user_id || caller.is_admin() => Scope::Member(member),
            Some(_) => {
                return Err(ApiError::forbidden(
                    "members see their own orders only; member_id may name only yourself",
                ));
            }
            None if caller.is_admin() => Scope::All,
            None => Scope::Member(caller.user_id),
        };
        let status = self
            .status
            .map(|text| {
                OrderStatus::parse(&text).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "status must be one of PLACED, PAID, SHIPPED, DELIVERED, CANCELLED, got {text:?}"
                    ))
                })
            })
            .transpose()?;
        let from = self
            .from
            .as_deref()
            .map(|t| instant("from", t))
            .transpose()?;
        let to = self.to.as_deref().map(|t| instant("to", t)).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(ApiError::bad_request("from must be before to"));
        }
        let sort = match self.sort.as_deref() {
            None | Some("newest") => Sort::Newest,
            Some("oldest") => Sort::Oldest,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "sort must be newest or oldest, got {other:?}"
                )));
            }
        };
        let size = self.size.unwrap_or(DEFAULT_PAGE_SIZE);
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(ApiError::bad_request(format!(
                "size must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let start = match (self.page, self.cursor) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_request(
                    "give either page or cursor, not both",
                ));
            }
            (Some(0), None) => return Err(ApiError::bad_request("page must be 1 or more")),
            (page, None) => Start::Page(page.unwrap_or(1)),
            (None, Some(text)) => {
                let cursor = Cursor::decode(&text)?;
                if self.sort.is_some() && cursor.sort != sort {
                    return Err(ApiError::bad_request(
                        "this cursor belongs to a listing in the other sort order",
                    ));
                }
                Start::After(cursor)
            }
        };
        Ok(Listing {
            scope,
            status,
            from,
            to,
            sort: match start {
                Start::After(cursor) => cursor.sort,
                Start::Page(_) => sort,
            },
            start,
            size,
        })
    }
}

/// An RFC 3339 time, or a date meaning its midnight UTC.
fn instant(name: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .or_else(|| {
            Date::parse(text, format_description!("[year]-[month]-[day]"))
                .ok()
                .map(|date| date.midnight().assume_utc())
        })
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name} must be an RFC 3339 time (2026-12-01T09:30:00Z) or a date (2026-12-01), got {text:?}"
            ))
        })
}

impl Cursor {
    /// Opaque text: the sort order, the order date in microseconds and the number.
    pub fn encode(&self) -> String {
        let sort = match self.sort {
            Sort::Newest => 'n',
            Sort::Oldest => 'o',
        };
        let micros = self.placed_at.unix_timestamp_nanos() / 1000;
        URL_SAFE_NO_PAD.encode(format!("{sort}:{micros}:{}", self.number))
    }

    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_request("cursor is not one this API returned");
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, ':');
        let sort = match parts.next() {
            Some("n") => Sort::Newest,
            Some("o") => Sort::Oldest,
            _ => return Err(invalid()),
        };
        let micros: i128 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let number: i64 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        // A crafted number of microseconds must not overflow into a panic.
        let nanos = micros.checked_mul(1000).ok_or_else(invalid)?;
        let placed_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?;
        Ok(Self {
            sort,
            placed_at,
            number,
        })
    }
}

#[cfg(test)]
mod tests {
    use schemas::identity::Role;

    use super::*;

    fn member() -> Caller {
        Caller {
            user_id: Uuid::from_u128(1),
            session_id: Uuid::from_u128(9),
            role: Role::User,
        }
    }

    fn admin() -> Caller {
        Caller {
            role: Role::Admin,
            ..member()
        }
    }

    #[test]
    fn a_member_sees_their_own_orders_and_an_admin_everyones() {
        let listing = OrderSearch::default().parse(&member()).unwrap();
        assert_eq!(listing.scope, Scope::Member(Uuid::from_u128(1)));
        let listing = OrderSearch::default().parse(&admin()).unwrap();
        assert_eq!(listing.scope, Scope::All);
    }

    #[test]
    fn a_member_may_not_name_another_member() {
        let search = OrderSearch {
            member_id: Some(Uuid::from_u128(2)),
            ..OrderSearch::default()
        };
        assert_eq!(search.parse(&member()).unwrap_err().status, 403);
    }

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = Cursor {
            sort: Sort::Oldest,
            placed_at: OffsetDateTime::from_unix_timestamp_nanos(1_764_000_000_123_456_000)
                .unwrap(),
            number: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        assert!(Cursor::decode("bm90IGEgY3Vyc29y").is_err());
        assert!(Cursor::decode("%%%").is_err());
        let huge = URL_SAFE_NO_PAD.encode(format!("n:{}:1", i128::MAX / 10));
        assert!(
            Cursor::decode(&huge).is_err(),
            "an overflowing time is refused"
        );
    }

    #[test]
    fn dates_and_times_are_both_accepted_and_must_be_in_order() {
        let search = OrderSearch {
            from: Some("2026-12-01".into()),
            to: Some("2026-12-01T12:00:00+09:00".into()),
            ..OrderSearch::default()
        };
        let listing = search.parse(&member()).unwrap();
        assert!(listing.from.unwrap() < listing.to.unwrap());
        let backwards = OrderSearch {
            from: Some("2026-12-02".into()),
            to: Some("2026-12-01".into()),
            ..OrderSearch::default()
        };
        assert!(backwards.parse(&member()).is_err());
    }

    #[test]
    fn page_and_cursor_together_are_refused() {
        let search = OrderSearch {
            page: Some(2),
            cursor: Some("x".into()),
            ..OrderSearch::default()
        };
        assert_eq!(search.parse(&member()).unwrap_err().status, 400);
    }
}
