//! Profile, reference book and reference text input, parsed into valid values at the
//! edge; every broken rule is named by its field in one `422`.

use schemas::prompts::{Language, ProfileSettings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::text;

pub const MAX_DESCRIPTION_CHARS: usize = 50;
pub const DEFAULT_DESCRIPTION: &str = "No Description";
pub const MAX_MAJOR_CHARS: usize = 50;
pub const MAX_LEVEL: i64 = 5;
/// Books, and texts, one profile links.
pub const MAX_LINKS: usize = 20;
pub const MAX_AUTHOR_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_TEXT_CHARS: usize = 3_000;

/// Body of `POST /profiles` and `PUT /profiles/{id}`: the profile whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// Up to 50 characters on one line; "No Description" when absent or blank.
    #[schema(example = "Exam revision", max_length = 50)]
    #[serde(default)]
    pub description: Option<String>,
    /// The language of the scripts: `en` or `ko`.
    #[schema(example = "en")]
    pub language: String,
    /// The field of study, 1 to 50 characters.
    #[schema(example = "Physics", min_length = 1, max_length = 50)]
    pub major: String,
    /// The year of study, 0 to 5: 0 before university, 1 to 4 the undergraduate year, 5 a
    /// graduate.
    #[schema(example = 2, minimum = 0, maximum = 5)]
    pub understanding_level: i64,
    /// Answers are to come from the linked references only.
    #[serde(default)]
    pub only_references: bool,
    /// The reference texts are sent one message each, in order.
    #[serde(default)]
    pub data_in_sequence: bool,
    /// Up to 20 of the caller's reference books, in the order the scripts cite them.
    #[schema(example = json!([1]), max_items = 20)]
    #[serde(default)]
    pub ref_book_ids: Vec<i64>,
    /// Up to 20 of the caller's reference texts, in the order the scripts carry them.
    #[schema(example = json!([]), max_items = 20)]
    #[serde(default)]
    pub ref_data_ids: Vec<i64>,
}

/// Body of `POST /ref-books` and `PUT /ref-books/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookInput {
    /// 1 to 100 characters on one line.
    #[schema(example = "Richard Feynman", min_length = 1, max_length = 100)]
    pub author: String,
    /// 1 to 100 characters on one line.
    #[schema(
        example = "The Feynman Lectures on Physics",
        min_length = 1,
        max_length = 100
    )]
    pub title: String,
}

/// A book's fields that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookFields {
    pub author: String,
    pub title: String,
}

/// Body of `POST /ref-data` and `PUT /ref-data/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataInput {
    /// 1 to 100 characters on one line.
    #[schema(example = "Maxwell's equations", min_length = 1, max_length = 100)]
    pub title: String,
    /// 1 to 3,000 characters; line breaks and tabs allowed.
    #[schema(
        example = "Gauss's law relates the flux...",
        min_length = 1,
        max_length = 3000
    )]
    pub text: String,
}

/// A reference text's fields that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataFields {
    pub title: String,
    pub text: String,
}

impl ProfileInput {
    pub fn parse(self) -> Result<ProfileSettings, ApiError> {
        let mut broken = Map::new();
        let description = match self.description.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_DESCRIPTION,
            Some(description) => description,
        };
        line(
            &mut broken,
            "description",
            description,
            MAX_DESCRIPTION_CHARS,
            false,
        );
        let language = Language::parse(self.language.trim());
        if language.is_none() {
            let got = &self.language;
            broken.insert(
                "language".into(),
                format!("must be \"en\" or \"ko\", got {got:?}").into(),
            );
        }
        let major = self.major.trim();
        line(&mut broken, "major", major, MAX_MAJOR_CHARS, true);
        let level = self.understanding_level;
        if !(0..=MAX_LEVEL).contains(&level) {
            broken.insert(
                "understanding_level".into(),
                format!("must be 0 to {MAX_LEVEL}, got {level}").into(),
            );
        }
        links(&mut broken, "ref_book_ids", &self.ref_book_ids);
        links(&mut broken, "ref_data_ids", &self.ref_data_ids);
        match language {
            Some(language) if broken.is_empty() => Ok(ProfileSettings {
                description: description.to_owned(),
                language,
                major: major.to_owned(),
                understanding_level: level as i16,
                only_references: self.only_references,
                data_in_sequence: self.data_in_sequence,
                ref_book_ids: self.ref_book_ids,
                ref_data_ids: self.ref_data_ids,
            }),
            _ => Err(ApiError::invalid_fields(broken)),
        }
    }
}

impl BookInput {
    pub fn parse(self) -> Result<BookFields, ApiError> {
        let mut broken = Map::new();
        let (author, title) = (self.author.trim(), self.title.trim());
        line(&mut broken, "author", author, MAX_AUTHOR_CHARS, true);
        line(&mut broken, "title", title, MAX_TITLE_CHARS, true);
        refuse(broken)?;
        Ok(BookFields {
            author: author.to_owned(),
            title: title.to_owned(),
        })
    }
}

impl DataInput {
    pub fn parse(self) -> Result<DataFields, ApiError> {
        let mut broken = Map::new();
        let title = self.title.trim();
        line(&mut broken, "title", title, MAX_TITLE_CHARS, true);
        if let Err(rule) = text::check(&self.text, MAX_TEXT_CHARS, true, true) {
            broken.insert("text".into(), rule.into());
        }
        refuse(broken)?;
        Ok(DataFields {
            title: title.to_owned(),
            text: self.text,
        })
    }
}

/// Names `field` in `broken` unless `value` is one line of at most `max` characters.
fn line(broken: &mut Map<String, Value>, field: &str, value: &str, max: usize, required: bool) {
    if let Err(rule) = text::check(value, max, false, required) {
        broken.insert(field.into(), rule.into());
    }
}

/// Names the list, or each bad id of it by its place: at most [`MAX_LINKS`] ids, each
/// positive and listed once.
fn links(broken: &mut Map<String, Value>, field: &str, ids: &[i64]) {
    if ids.len() > MAX_LINKS {
        broken.insert(
            field.into(),
            format!("must list at most {MAX_LINKS} ids, got {}", ids.len()).into(),
        );
    }
    for (index, id) in ids.iter().enumerate() {
        let rule = if *id < 1 {
            format!("must be a positive id, got {id}")
        } else if ids[..index].contains(id) {
            format!("lists {id} a second time")
        } else {
            continue;
        };
        broken.insert(format!("{field}[{index}]"), rule.into());
    }
}

/// A 422 naming every broken rule, unless there is none.
pub fn refuse(broken: Map<String, Value>) -> Result<(), ApiError> {
    if broken.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(broken))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn profile(body: Value) -> Result<ProfileSettings, ApiError> {
        serde_json::from_value::<ProfileInput>(body)
            .unwrap()
            .parse()
    }

    fn fields(err: ApiError) -> Value {
        assert_eq!(err.status, 422);
        err.details.unwrap()["fields"].clone()
    }

    #[test]
    fn a_profile_without_a_description_gets_the_default_and_is_trimmed() {
        let settings = profile(json!({
            "language": " ko ", "major": "  물리학 ", "understanding_level": 5,
        }))
        .unwrap();
        assert_eq!(settings.description, "No Description");
        assert_eq!(settings.language, Language::Korean);
        assert_eq!(settings.major, "물리학");
        assert!(!settings.only_references && !settings.data_in_sequence);
    }

    #[test]
    fn every_broken_profile_rule_is_named_by_its_field() {
        let err = profile(json!({
            "description": "d".repeat(51), "language": "fr", "major": "",
            "understanding_level": 6, "ref_book_ids": [3, 0, 3], "ref_data_ids": [-1],
        }))
        .unwrap_err();
        let fields = fields(err);
        for field in [
            "description",
            "language",
            "major",
            "understanding_level",
            "ref_book_ids[1]",
            "ref_book_ids[2]",
            "ref_data_ids[0]",
        ] {
            assert!(fields[field].is_string(), "{field} in {fields}");
        }
        assert!(fields.get("ref_book_ids[0]").is_none(), "{fields}");
        assert_eq!(fields["understanding_level"], "must be 0 to 5, got 6");
    }

    #[test]
    fn levels_run_from_zero_to_five() {
        for level in [0, 5] {
            let body = json!({ "language": "en", "major": "M", "understanding_level": level });
            assert!(profile(body).is_ok(), "{level}");
        }
        let body = json!({ "language": "en", "major": "M", "understanding_level": -1 });
        assert!(fields(profile(body).unwrap_err())["understanding_level"].is_string());
    }

    #[test]
    fn a_profile_links_at_most_twenty_books() {
        let ids: Vec<i64> = (1..=21).collect();
        let body = json!({
            "language": "en", "major": "M", "understanding_level": 1, "ref_book_ids": ids,
        });
        assert!(fields(profile(body).unwrap_err())["ref_book_ids"].is_string());
    }

    #[test]
    fn reference_texts_hold_up_to_three_thousand_characters_on_many_lines() {
        let data = |text: String| {
            DataInput {
                title: "Notes".into(),
                text,
            }
            .parse()
        };
        assert!(data(format!("{}\n{}", "가".repeat(1000), "나".repeat(1999))).is_ok());
        let err = data("x".repeat(3001)).unwrap_err();
        assert_eq!(
            fields(err)["text"],
            "must be at most 3000 characters, got 3001"
        );
    }

    #[test]
    fn a_book_needs_an_author_and_a_title_of_at_most_a_hundred_characters() {
        let err = BookInput {
            author: " ".into(),
            title: "t".repeat(101),
        }
        .parse()
        .unwrap_err();
        let fields = fields(err);
        assert_eq!(fields["author"], "must not be empty");
        assert!(fields["title"].is_string());
    }
}
