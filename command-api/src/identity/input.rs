//! Identity input, parsed at the edge into types that can only hold valid values.

use serde::Deserialize;
use serde_json::json;
use service_kit::ApiError;
use utoipa::ToSchema;

const MAX_EMAIL: usize = 254;
const MAX_NAME: usize = 100;
const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 128;

/// A normalised email address: trimmed and lower-case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email
            .split_once('@')
            .ok_or("email must look like name@example.com")?;
        let valid = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && email.chars().all(|c| c.is_ascii_graphic() || !c.is_ascii());
        if !valid {
            return Err("email must look like name@example.com".into());
        }
        if email.chars().count() > MAX_EMAIL {
            return Err(format!("email must be at most {MAX_EMAIL} characters"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 100 characters after trimming, on one line, under the rules of
/// every single-line text (no control or bidirectional override characters: a name is
/// shown to everyone in search results and room lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 || length > MAX_NAME {
            return Err(format!("name must be 1 to {MAX_NAME} characters"));
        }
        crate::text::check(name, MAX_NAME, false, true).map_err(|rule| format!("name {rule}"))?;
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password that satisfies the rule: at least 8 characters, an upper-case letter and a
/// digit (and at most 128 characters, so hashing stays bounded).
pub struct Password(String);

impl Password {
    /// Every rule the password breaks, in words.
    pub fn parse(raw: &str) -> Result<Self, Vec<&'static str>> {
        let mut broken = Vec::new();
        let length = raw.chars().count();
        if length < MIN_PASSWORD {
            broken.push("at least 8 characters");
        }
        if length > MAX_PASSWORD {
            broken.push("at most 128 characters");
        }
        if !raw.chars().any(char::is_uppercase) {
            broken.push("an upper-case letter");
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            broken.push("a digit");
        }
        if broken.is_empty() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(broken)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// `POST /api/v1/auth/register`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// At least 8 characters with an upper-case letter and a digit.
    #[schema(example = "Analytical1")]
    pub password: String,
    /// 1 to 100 characters.
    #[schema(example = "Ada Lovelace")]
    pub name: String,
}

/// A registration whose every field is valid.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: Name,
}

impl RegisterInput {
    /// Checks every field and reports every broken rule at once (422).
    pub fn parse(self) -> Result<Registration, ApiError> {
        let email = Email::parse(&self.email);
        let name = Name::parse(&self.name);
        let password = Password::parse(&self.password);
        match (email, password, name) {
            (Ok(email), Ok(password), Ok(name)) => Ok(Registration {
                email,
                password,
                name,
            }),
            (email, password, name) => {
                let mut fields = serde_json::Map::new();
                if let Err(message) = email {
                    fields.insert("email".into(), json!(message));
                }
                if let Err(message) = name {
                    fields.insert("name".into(), json!(message));
                }
                if let Err(rules) = &password {
                    fields.insert("password".into(), json!(password_message(rules)));
                }
                let message = fields
                    .values()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                Err(ApiError::invalid(message).with_details(json!({ "fields": fields })))
            }
        }
    }
}

fn password_message(broken: &[&str]) -> String {
    format!("password needs {}", broken.join(", "))
}

/// `POST /api/v1/auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "Analytical1")]
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
    }

    #[test]
    fn addresses_without_a_local_part_or_a_dotted_domain_are_refused() {
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "ada@.com",
            "a b@c.de",
            "a@b@c.de",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_password_names_every_rule_it_breaks() {
        assert_eq!(
            Password::parse("short").unwrap_err(),
            ["at least 8 characters", "an upper-case letter", "a digit"]
        );
        assert_eq!(
            Password::parse("longenough1").unwrap_err(),
            ["an upper-case letter"]
        );
        assert_eq!(Password::parse("Longenough").unwrap_err(), ["a digit"]);
        assert!(Password::parse("Longenough1").is_ok());
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(Password::parse("Ää1ääää").is_err());
        assert!(Password::parse("Ää1äääää").is_ok());
    }

    #[test]
    fn names_are_one_to_a_hundred_characters() {
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"가".repeat(100)).is_ok());
        assert!(Name::parse(&"가".repeat(101)).is_err());
    }

    #[test]
    fn names_hold_no_control_or_direction_override_characters() {
        for name in [
            "Ada\0",
            "Ada\nLovelace",
            "Ada\u{202e}ecalevoL",
            "\u{2066}Ada",
        ] {
            let refused = Name::parse(name).unwrap_err();
            assert!(
                refused.starts_with("name must not contain"),
                "{name:?}: {refused}"
            );
        }
        assert!(Name::parse("أدا لوفليس").is_ok());
    }
}
