//! Item input, parsed into valid fields at the edge.

use serde::{Deserialize, Serialize};
use serde_json::json;
use service_kit::ApiError;
use utoipa::ToSchema;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// Body of `POST /items` and `PUT /items/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInput {
    /// 1 to 100 characters; surrounding whitespace is trimmed.
    #[schema(example = "Desk lamp", min_length = 1, max_length = 100)]
    pub name: String,
    /// Up to 1000 characters (default empty).
    #[schema(example = "Warm light, 40 W", max_length = 1000)]
    #[serde(default)]
    pub description: Option<String>,
}

/// Fields that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemFields {
    pub name: String,
    pub description: String,
}

impl ItemInput {
    pub fn parse(self) -> Result<ItemFields, ApiError> {
        let name = self.name.trim();
        let description = self.description.unwrap_or_default();
        let name_chars = name.chars().count();
        if name_chars == 0 {
            return Err(field_error("name", "name must not be empty"));
        }
        if name_chars > MAX_NAME_CHARS {
            return Err(field_error(
                "name",
                &format!("name must be at most {MAX_NAME_CHARS} characters, got {name_chars}"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(field_error(
                "name",
                "name must not contain control characters",
            ));
        }
        let description_chars = description.chars().count();
        if description_chars > MAX_DESCRIPTION_CHARS {
            return Err(field_error(
                "description",
                &format!(
                    "description must be at most {MAX_DESCRIPTION_CHARS} characters, got {description_chars}"
                ),
            ));
        }
        if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(field_error(
                "description",
                "description must not contain control characters other than newlines and tabs",
            ));
        }
        Ok(ItemFields {
            name: name.to_owned(),
            description,
        })
    }
}

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::invalid(message).with_details(json!({ field: message }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, description: Option<&str>) -> ItemInput {
        ItemInput {
            name: name.into(),
            description: description.map(Into::into),
        }
    }

    #[test]
    fn names_are_counted_in_characters_not_bytes() {
        assert!(input(&"가".repeat(100), None).parse().is_ok());
        assert!(input(&"가".repeat(101), None).parse().is_err());
    }

    #[test]
    fn a_blank_name_is_refused() {
        let err = input("   ", None).parse().unwrap_err();
        assert_eq!(err.message, "name must not be empty");
    }

    #[test]
    fn descriptions_are_limited_to_a_thousand_characters() {
        assert!(input("a", Some(&"é".repeat(1000))).parse().is_ok());
        assert!(input("a", Some(&"é".repeat(1001))).parse().is_err());
    }

    #[test]
    fn a_nul_character_is_refused_before_it_reaches_the_store() {
        assert!(input("a\0b", None).parse().is_err());
        assert!(input("a", Some("x\0")).parse().is_err());
    }
}
