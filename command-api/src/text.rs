//! The rules every free-text field follows: a length counted in characters, not bytes,
//! no control characters but the line breaks and tabs of multi-line text, and on a single
//! line no bidirectional embedding, override or isolate characters (which would turn the
//! rest of a listing around them; right-to-left text needs none of them).

/// Checks `text` against its field's rules; the error is the broken rule, to be named
/// after the field (e.g. "must be at most 200 characters, got 201").
pub fn check(text: &str, max: usize, multiline: bool, required: bool) -> Result<(), String> {
    if required && text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(format!("must be at most {max} characters, got {chars}"));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(if multiline {
            "must not contain control characters other than newlines and tabs".into()
        } else {
            "must not contain control characters".into()
        });
    }
    if !multiline && text.chars().any(is_direction_control) {
        return Err("must not contain direction override characters".into());
    }
    Ok(())
}

/// U+202A to U+202E (embeddings and overrides) and U+2066 to U+2069 (isolates).
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check(&"가".repeat(3), 3, false, true).is_ok());
        assert!(check(&"가".repeat(4), 3, false, true).is_err());
    }

    #[test]
    fn only_required_text_must_not_be_blank() {
        assert_eq!(check(" ", 3, false, true).unwrap_err(), "must not be empty");
        assert!(check("", 3, true, false).is_ok());
    }

    #[test]
    fn only_multiline_text_may_hold_line_breaks() {
        assert!(check("a\nb", 9, true, true).is_ok());
        assert!(check("a\nb", 9, false, true).is_err());
        assert!(check("a\0b", 9, true, true).is_err());
    }
}
