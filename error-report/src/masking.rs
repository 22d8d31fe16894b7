//! Secrets out of logs and reports: what Sentry calls data scrubbing, done before a line
//! is written or an event appended, so no store ever holds them.
//!
//! Two nets: fields whose name says they hold a secret lose their value whatever it is
//! ([`is_sensitive_key`], [`scrub_value`]), and free text loses whatever looks like one
//! ([`scrub_text`]): a JWT, a bearer or basic credential, a credential in a query string
//! or in `key=value` / `"key": "value"` form, a cookie header, a password in a URL.

use std::{borrow::Cow, sync::LazyLock};

use regex::{Captures, Regex};
use serde_json::Value;

/// What a masked value is replaced with (Sentry's marker).
pub const FILTERED: &str = "[Filtered]";

/// Name fragments that mark a field as secret, compared without case, `-` or `_`.
const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "credential",
    "cookie",
    "sessionid",
    "csrf",
    "sentryauth",
    "sentrykey",
];

/// Whole names that mark a field as secret, compared the same way.
const SECRET_NAMES: &[&str] = &["auth", "pwd", "pass", "jwt", "session", "dsn"];

/// Whether a field (a log record's field, a JSON key, a header, a query parameter) named
/// `key` holds a secret.
pub fn is_sensitive_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_' && *c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_NAMES.contains(&folded.as_str())
        || SECRET_FRAGMENTS
            .iter()
            .any(|fragment| folded.contains(fragment))
}

/// Masks, in place, every value under a secret key and every secret in a string, at any
/// depth.
pub fn scrub_value(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Cow::Owned(clean) = scrub_text(text) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if is_sensitive_key(key) && !field.is_null() {
                    *field = Value::String(FILTERED.to_owned());
                } else {
                    scrub_value(field);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A key-and-value pair in text whose key names a secret: `"password": "..."`,
/// `password=...`, `access_token=...` in a query string, `Cookie: ...`.
static SECRET_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    let key = r"[A-Za-z0-9_\-]*(?i:password|passwd|secret|token|api_?key|access_?key|private_?key|authorization|credential|cookie|session_?id|csrf|sentry_key|sentry_auth)[A-Za-z0-9_\-]*";
    Regex::new(&format!(
        r#"(?x)
        (?P<ckey>\b(?i:set-cookie|cookie)\s*:\s*)(?P<cval>[^\r\n"]+)          # a cookie header, whole
        | (?P<qkey>\\?"{key}\\?"\s*:\s*)(?P<qval>\\?"(?:[^"\\]|\\[^"])*\\?")   # "key": "value"
        | (?P<key>\b{key}\s*[=:]\s*)(?P<val>\\?"(?:[^"\\]|\\[^"])*\\?"|[^\s&;,"'<>]+)  # key=value, key="value"
        "#
    ))
    .expect("the secret-pair pattern compiles")
});

/// Credentials that give themselves away whatever surrounds them.
static SECRET_SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<jwt>\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)  # a JWT
        | (?P<scheme>\b(?i:bearer|basic|sentry)\s+)(?P<credential>[A-Za-z0-9._~+/=\-]{8,})
        | (?P<userinfo>[a-z][a-z0-9+.\-]*://[^\s:/@]+:)(?P<password>[^\s/@]+)(?P<at>@)  # user:password@host
        ",
    )
    .expect("the secret-shape pattern compiles")
});

/// `text` with every secret it shows replaced by [`FILTERED`]; borrowed when it has none.
pub fn scrub_text(text: &str) -> Cow<'_, str> {
    let pairs = SECRET_PAIR.replace_all(text, |caps: &Captures<'_>| {
        if let Some(key) = caps.name("ckey") {
            format!("{}{FILTERED}", key.as_str())
        } else if let Some(key) = caps.name("qkey") {
            let quoted = caps["qval"].starts_with('\\');
            let quote = if quoted { "\\\"" } else { "\"" };
            format!("{}{quote}{FILTERED}{quote}", key.as_str())
        } else if caps["val"].ends_with('"') {
            let quote = if caps["val"].starts_with('\\') {
                "\\\""
            } else {
                "\""
            };
            format!("{}{quote}{FILTERED}{quote}", &caps["key"])
        } else {
            format!("{}{FILTERED}", &caps["key"])
        }
    });
    let shapes = SECRET_SHAPE.replace_all(&pairs, |caps: &Captures<'_>| {
        if caps.name("jwt").is_some() {
            FILTERED.to_owned()
        } else if let Some(scheme) = caps.name("scheme") {
            format!("{}{FILTERED}", scheme.as_str())
        } else {
            format!("{}{FILTERED}{}", &caps["userinfo"], &caps["at"])
        }
    });
    match shapes {
        Cow::Owned(clean) => Cow::Owned(clean),
        Cow::Borrowed(_) => match pairs {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            Cow::Owned(clean) => Cow::Owned(clean),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

    #[test]
    fn secret_field_names_are_recognised_whatever_their_spelling() {
        for key in [
            "password",
            "new_password",
            "currentPassword",
            "refresh_token",
            "accessToken",
            "Authorization",
            "X-Sentry-Auth",
            "Cookie",
            "set-cookie",
            "api_key",
            "client_secret",
            "auth",
            "session",
        ] {
            assert!(is_sensitive_key(key), "{key}");
        }
        for key in ["author", "name", "email", "user_id", "status", "path"] {
            assert!(!is_sensitive_key(key), "{key}");
        }
    }

    #[test]
    fn values_under_secret_keys_are_masked_at_any_depth() {
        let mut value = json!({
            "user": {"email": "ada@example.com", "password": "Secret123"},
            "headers": {"Authorization": "Bearer abc", "Accept": "*/*"},
            "list": [{"refresh_token": "r1"}, "Bearer abcdefghijkl"],
            "count": 3,
        });
        scrub_value(&mut value);
        assert_eq!(value["user"]["password"], FILTERED);
        assert_eq!(value["user"]["email"], "ada@example.com");
        assert_eq!(value["headers"]["Authorization"], FILTERED);
        assert_eq!(value["headers"]["Accept"], "*/*");
        assert_eq!(value["list"][0]["refresh_token"], FILTERED);
        assert_eq!(value["list"][1], format!("Bearer {FILTERED}"));
        assert_eq!(value["count"], 3);
    }

    #[test]
    fn credentials_in_query_strings_are_masked_and_the_rest_kept() {
        let uri = format!("/api/v1/chats/stream?access_token={JWT}&last=5");
        assert_eq!(
            scrub_text(&uri),
            format!("/api/v1/chats/stream?access_token={FILTERED}&last=5")
        );
        assert_eq!(
            scrub_text("/api/1/envelope/?sentry_key=abc123&sentry_version=7"),
            format!("/api/1/envelope/?sentry_key={FILTERED}&sentry_version=7")
        );
    }

    #[test]
    fn secrets_in_json_text_are_masked_with_their_quotes_kept() {
        let body = r#"{"email":"a@b.c","password":"Secret123","refresh_token": "x.y"}"#;
        assert_eq!(
            scrub_text(body),
            format!(r#"{{"email":"a@b.c","password":"{FILTERED}","refresh_token": "{FILTERED}"}}"#)
        );
        let nested = r#"{"body":"{\"password\":\"Secret123\"}"}"#;
        assert_eq!(
            scrub_text(nested),
            format!(r#"{{"body":"{{\"password\":\"{FILTERED}\"}}"}}"#)
        );
    }

    #[test]
    fn quoted_values_of_secret_keys_are_masked_whole() {
        // How a log line in text form shows a string field.
        assert_eq!(
            scrub_text(r#"changed new_password="Hunter 22x" cookie="sid=abc123" user="ada""#),
            format!(r#"changed new_password="{FILTERED}" cookie="{FILTERED}" user="ada""#)
        );
        // The same, inside a JSON string.
        assert_eq!(
            scrub_text(r#"{"message":"retry with password="Hunter 22x" now"}"#),
            format!(r#"{{"message":"retry with password="{FILTERED}" now"}}"#)
        );
    }

    #[test]
    fn tokens_and_credentials_are_masked_by_their_shape() {
        assert_eq!(
            scrub_text(&format!("token was {JWT}.")),
            format!("token was {FILTERED}.")
        );
        assert_eq!(
            scrub_text("authorization failed for Bearer abcdefghijklmnop"),
            format!("authorization failed for Bearer {FILTERED}")
        );
        assert_eq!(
            scrub_text("postgres://app:hunter2hunter2@db:5432/main"),
            format!("postgres://app:{FILTERED}@db:5432/main")
        );
        assert_eq!(
            scrub_text("Cookie: theme=dark; sid=1234"),
            format!("Cookie: {FILTERED}")
        );
    }

    #[test]
    fn text_without_secrets_is_borrowed_unchanged() {
        let line = "order 42 moved to shipped by 0190e0b4-7d7a-7f39-9b8e-4b8f1f3a2c11";
        assert!(matches!(scrub_text(line), Cow::Borrowed(_)));
    }
}
