//! An email request, parsed into valid fields at the edge: recipients become RFC 5322
//! mailboxes, and the subject, which becomes a mail header, cannot carry a line break.

use email_job::address::{self, MAX_RECIPIENTS};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::text;

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 100_000;

/// Body of `POST /emails`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    /// 1 to 50 recipients, each `address` or `Name <address>`.
    #[schema(example = json!(["ada@example.com", "Bob <bob@example.com>"]), min_items = 1, max_items = 50)]
    pub to: Vec<String>,
    /// 1 to 200 characters, no line breaks; surrounding whitespace is trimmed.
    #[schema(example = "Your invoice", min_length = 1, max_length = 200)]
    pub subject: String,
    /// The plain-text body, 1 to 100,000 characters.
    #[schema(
        example = "Hello Ada,\n\nyour invoice is attached.",
        min_length = 1,
        max_length = 100000
    )]
    pub text: String,
    /// An HTML alternative to the text, 1 to 100,000 characters, when given.
    #[schema(
        example = "<p>Hello Ada,</p><p>your invoice is attached.</p>",
        min_length = 1,
        max_length = 100000
    )]
    #[serde(default)]
    pub html: Option<String>,
}

/// Fields that passed validation, recipients in their normal form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailFields {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl EmailInput {
    /// Checks every field and reports every broken rule at once.
    pub fn parse(self) -> Result<EmailFields, ApiError> {
        let mut broken = Map::new();
        let count = self.to.len();
        if !(1..=MAX_RECIPIENTS).contains(&count) {
            broken.insert(
                "to".into(),
                format!("must list 1 to {MAX_RECIPIENTS} recipients, got {count}").into(),
            );
        }
        let mut to = Vec::with_capacity(count);
        for (index, recipient) in self.to.iter().enumerate() {
            match address::parse(recipient) {
                Ok(mailbox) => to.push(mailbox.to_string()),
                Err(rule) => {
                    broken.insert(format!("to[{index}]"), rule.into());
                }
            }
        }
        if let Err(rule) = check_subject(&self.subject) {
            broken.insert("subject".into(), rule.into());
        }
        if let Err(rule) = text::check(&self.text, MAX_BODY_CHARS, true, true) {
            broken.insert("text".into(), rule.into());
        }
        if let Some(html) = &self.html
            && let Err(rule) = text::check(html, MAX_BODY_CHARS, true, true)
        {
            broken.insert("html".into(), rule.into());
        }
        if !broken.is_empty() {
            return Err(ApiError::invalid_fields(broken));
        }
        Ok(EmailFields {
            to,
            subject: self.subject.trim().to_owned(),
            text: self.text,
            html: self.html,
        })
    }
}

/// The subject becomes a header: a line break in it would end the header and let the
/// rest of the text add headers of its own (a `Bcc:`, say). Checked before trimming, so
/// a trailing one is refused rather than quietly dropped.
fn check_subject(subject: &str) -> Result<(), String> {
    if subject.contains(['\r', '\n']) {
        return Err("must not contain line breaks".into());
    }
    text::check(subject.trim(), MAX_SUBJECT_CHARS, false, true)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn input(to: &[&str]) -> EmailInput {
        EmailInput {
            to: to.iter().map(|&t| t.to_owned()).collect(),
            subject: "Hello".into(),
            text: "Hi Ada.".into(),
            html: None,
        }
    }

    fn broken(input: EmailInput) -> Value {
        input.parse().unwrap_err().details.unwrap()["fields"].clone()
    }

    #[test]
    fn a_bare_and_a_named_recipient_are_kept_in_their_normal_form() {
        let fields = input(&[" ada@example.com ", "Bob  <bob@example.com>"])
            .parse()
            .unwrap();
        assert_eq!(fields.to, ["ada@example.com", "Bob <bob@example.com>"]);
    }

    #[test]
    fn there_is_at_least_one_recipient_and_at_most_fifty() {
        assert!(broken(input(&[]))["to"].is_string());
        let fifty = vec!["ada@example.com"; 50];
        assert!(input(&fifty).parse().is_ok());
        let fifty_one = vec!["ada@example.com"; 51];
        assert_eq!(
            broken(input(&fifty_one))["to"],
            "must list 1 to 50 recipients, got 51"
        );
    }

    #[test]
    fn a_recipient_that_is_no_address_is_named_by_its_place_in_the_list() {
        let fields = broken(input(&["ada@example.com", "ada", "bob@example.com", "@x"]));
        assert!(fields["to[1]"].is_string());
        assert!(fields["to[3]"].is_string());
        assert!(fields.get("to[0]").is_none());
        assert!(fields.get("to").is_none());
    }

    #[test]
    fn a_line_break_in_the_subject_is_refused_as_header_injection() {
        for subject in ["Hi\r\nBcc: eve@example.com", "Hi\nthere", "Hello\n"] {
            let mut email = input(&["ada@example.com"]);
            email.subject = subject.into();
            assert_eq!(broken(email)["subject"], "must not contain line breaks");
        }
    }

    #[test]
    fn a_subject_is_not_blank_has_no_control_characters_and_fits_in_200_characters() {
        for subject in [" ".to_owned(), "a\tb".to_owned(), "주".repeat(201)] {
            let mut email = input(&["ada@example.com"]);
            email.subject = subject;
            assert!(broken(email)["subject"].is_string());
        }
        let mut email = input(&["ada@example.com"]);
        email.subject = format!("  {}  ", "주".repeat(200));
        assert_eq!(email.parse().unwrap().subject, "주".repeat(200));
    }

    #[test]
    fn the_text_may_span_lines_but_is_not_blank_and_fits_in_100000_characters() {
        let mut email = input(&["ada@example.com"]);
        email.text = "Hi,\r\n\r\n\tAda".into();
        assert!(email.parse().is_ok());
        for text in ["\n \n".to_owned(), "x".repeat(100_001)] {
            let mut email = input(&["ada@example.com"]);
            email.text = text;
            assert!(broken(email)["text"].is_string());
        }
    }

    #[test]
    fn html_is_optional_but_not_empty_when_given() {
        let mut email = input(&["ada@example.com"]);
        email.html = Some("<p>Hi</p>".into());
        assert_eq!(email.parse().unwrap().html.as_deref(), Some("<p>Hi</p>"));
        for html in [String::new(), "x".repeat(100_001)] {
            let mut email = input(&["ada@example.com"]);
            email.html = Some(html);
            assert!(broken(email)["html"].is_string());
        }
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let fields = broken(EmailInput {
            to: vec!["nobody".into()],
            subject: "a\nb".into(),
            text: " ".into(),
            html: Some(String::new()),
        });
        for field in ["to[0]", "subject", "text", "html"] {
            assert!(fields[field].is_string(), "{field} in {fields}");
        }
    }
}
