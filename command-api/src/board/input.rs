//! Post and comment input, parsed into valid fields at the edge.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::text;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_CONTENT_CHARS: usize = 20_000;
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// Body of `POST /posts` and `PUT /posts/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInput {
    /// 1 to 200 characters; surrounding whitespace is trimmed.
    #[schema(example = "Weekly meetup", min_length = 1, max_length = 200)]
    pub title: String,
    /// 1 to 20,000 characters.
    #[schema(
        example = "We meet on Thursday at seven.",
        min_length = 1,
        max_length = 20000
    )]
    pub content: String,
}

/// Body of `POST /posts/{id}/comments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// 1 to 2,000 characters.
    #[schema(example = "See you there!", min_length = 1, max_length = 2000)]
    pub content: String,
}

/// A post's fields that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostFields {
    pub title: String,
    pub content: String,
}

impl PostInput {
    /// Checks both fields and reports every broken rule at once.
    pub fn parse(self) -> Result<PostFields, ApiError> {
        let mut broken = Map::new();
        let title = self.title.trim();
        if let Err(rule) = text::check(title, MAX_TITLE_CHARS, false, true) {
            broken.insert("title".into(), rule.into());
        }
        if let Err(rule) = text::check(&self.content, MAX_CONTENT_CHARS, true, true) {
            broken.insert("content".into(), rule.into());
        }
        refuse(broken)?;
        Ok(PostFields {
            title: title.to_owned(),
            content: self.content,
        })
    }
}

impl CommentInput {
    pub fn parse(self) -> Result<String, ApiError> {
        let mut broken = Map::new();
        if let Err(rule) = text::check(&self.content, MAX_COMMENT_CHARS, true, true) {
            broken.insert("content".into(), rule.into());
        }
        refuse(broken)?;
        Ok(self.content)
    }
}

/// A 422 naming every broken rule, unless there is none.
fn refuse(broken: Map<String, Value>) -> Result<(), ApiError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(broken))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(title: &str, content: &str) -> Result<PostFields, ApiError> {
        PostInput {
            title: title.into(),
            content: content.into(),
        }
        .parse()
    }

    #[test]
    fn titles_and_contents_are_counted_in_characters() {
        assert!(post(&"글".repeat(200), &"본".repeat(20_000)).is_ok());
        assert!(post(&"글".repeat(201), "x").is_err());
        assert!(post("t", &"본".repeat(20_001)).is_err());
    }

    #[test]
    fn blank_fields_are_refused_together() {
        let err = post("  ", "\n").unwrap_err();
        let fields = &err.details.unwrap()["fields"];
        assert_eq!(fields["title"], "must not be empty");
        assert_eq!(fields["content"], "must not be empty");
    }

    #[test]
    fn a_title_is_one_line_but_content_may_have_many() {
        assert!(post("a\nb", "x").is_err());
        assert!(post("a", "line one\nline two\ttabbed").is_ok());
        assert!(post("a", "nul \0").is_err());
    }

    #[test]
    fn comments_are_limited_to_two_thousand_characters() {
        let comment = |text: &str| {
            CommentInput {
                content: text.into(),
            }
            .parse()
        };
        assert!(comment(&"é".repeat(2000)).is_ok());
        assert!(comment(&"é".repeat(2001)).is_err());
        assert!(comment(" ").is_err());
    }
}
