//! `page` / `size` parameters and paged results.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiError;

pub const MAX_PAGE_SIZE: u32 = 100;
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The deepest row a page may reach (`page` × `size`): an offset makes the database walk
/// every row before it, and anyone may ask for page 4 billion. Ten thousand, as search
/// engines allow; deeper lists are walked by their filters or cursors.
pub const MAX_DEPTH: i64 = 10_000;

/// Query parameters of a paged list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1); `page` × `size` at most 10,000.
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    pub size: Option<u32>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    pub page: u32,
    pub size: u32,
}

impl PageParams {
    pub fn validate(self) -> Result<Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page == 0 {
            return Err(ApiError::bad_request("page must be 1 or more"));
        }
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(ApiError::bad_request(format!(
                "size must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let depth = i64::from(page) * i64::from(size);
        if depth > MAX_DEPTH {
            return Err(ApiError::bad_request(format!(
                "page × size must be at most {MAX_DEPTH}: pages reach no deeper than row {MAX_DEPTH}"
            )));
        }
        Ok(Page { page, size })
    }
}

impl Page {
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.size)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.size)
    }

    /// Wraps one page of rows with the totals.
    pub fn of<T>(self, items: Vec<T>, total: i64) -> Paged<T> {
        let size = i64::from(self.size);
        Paged {
            items,
            page: self.page,
            size: self.size,
            total,
            total_pages: (total + size - 1) / size,
            total_at_least: false,
        }
    }

    /// Wraps one page of rows with a total counted no further than `MAX_DEPTH + 1` rows:
    /// past that the list is only known to be longer than pages reach.
    pub fn of_counted<T>(self, items: Vec<T>, counted: i64) -> Paged<T> {
        Paged {
            total_at_least: counted > MAX_DEPTH,
            ..self.of(items, counted)
        }
    }
}

/// One page of a list, with the totals.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub size: u32,
    /// Number of items in the whole list (at least this many when `total_at_least`).
    pub total: i64,
    pub total_pages: i64,
    /// Present and true when counting stopped past the deepest row a page reaches
    /// (10,000): the list holds at least `total` items.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_at_least: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(page: u32, size: u32) -> PageParams {
        PageParams {
            page: Some(page),
            size: Some(size),
        }
    }

    #[test]
    fn pages_reach_ten_thousand_rows_deep_and_no_deeper() {
        assert_eq!(params(500, 20).validate().unwrap().offset(), 9_980);
        assert_eq!(params(100, 100).validate().unwrap().offset(), 9_900);
        assert!(params(501, 20).validate().is_err());
        assert!(params(u32::MAX, 100).validate().is_err());
    }

    #[test]
    fn a_count_past_the_deepest_page_is_a_lower_bound() {
        let page = params(1, 20).validate().unwrap();
        let exact = page.of_counted(vec![1], MAX_DEPTH);
        assert!(!exact.total_at_least);
        let capped = page.of_counted(vec![1], MAX_DEPTH + 1);
        assert!(capped.total_at_least);
        assert_eq!(capped.total, MAX_DEPTH + 1);
        let json = serde_json::to_value(&exact).unwrap();
        assert!(json.get("total_at_least").is_none(), "{json}");
        assert_eq!(
            serde_json::to_value(&capped).unwrap()["total_at_least"],
            true
        );
    }
}
