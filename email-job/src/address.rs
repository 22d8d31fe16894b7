//! Recipients: each an RFC 5322 address (`ada@example.com` or `Ada <ada@example.com>`),
//! parsed by the same code that later writes the headers, so an address accepted here is
//! one the worker can send to.

use lettre::message::Mailbox;

pub const MAX_RECIPIENTS: usize = 50;

/// `text` as a mailbox, or why it is not one.
pub fn parse(text: &str) -> Result<Mailbox, String> {
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    text.trim()
        .parse::<Mailbox>()
        .map_err(|err| format!("is not an email address ({err}): {text:?}"))
}

/// The address part of `mailbox` (`ada@example.com`), without the display name.
pub fn domain_of(mailbox: &Mailbox) -> &str {
    mailbox.email.domain()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_and_a_named_one_are_accepted() {
        assert_eq!(
            parse("ada@example.com").unwrap().to_string(),
            "ada@example.com"
        );
        let named = parse("Ada Lovelace <ada@example.com>").unwrap();
        assert_eq!(named.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(domain_of(&named), "example.com");
    }

    #[test]
    fn text_that_is_no_address_is_refused() {
        for text in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "a b@c.d",
        ] {
            assert!(parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn a_line_break_cannot_smuggle_a_header_in() {
        assert!(parse("ada@example.com\r\nBcc: eve@example.com").is_err());
    }
}
