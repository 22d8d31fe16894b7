//! How errors are grouped into issues: by fingerprint. An SDK's explicit fingerprint wins;
//! otherwise the raised exception's type, the first line of its value with the variable
//! parts (numbers, ids, addresses, dates, quoted strings) replaced by placeholders, and the
//! frame it was raised in; a message without an exception groups by its normalised text.
//! The same error with another order number must not open another issue, and two
//! different errors must not share one.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use schemas::errors::{Exception, Frame};

/// Titles are one line of at most this many characters.
pub const TITLE_MAX_CHARS: usize = 200;

/// The parts an SDK's fingerprint names to stand for the default one.
const DEFAULT_MARKERS: [&str; 2] = ["{{ default }}", "{{default}}"];

/// A replacement of one kind of variable part, applied in [`RULES`] order.
struct Rule {
    pattern: Regex,
    replace: fn(&Captures<'_>) -> String,
}

fn rule(pattern: &str, replace: fn(&Captures<'_>) -> String) -> Rule {
    Rule {
        pattern: Regex::new(pattern).expect("grouping patterns are valid"),
        replace,
    }
}

/// The placeholder rules, wider patterns first so that a narrower one never bites a piece
/// out of a wider one (the digits of a URL, the hex of a UUID, the numbers of a date).
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // Quoted strings, where the quote opens a word (not the apostrophe of "can't").
        rule(r#"(^|[\s(\[{=:,])(?:'[^'\n]*'|"[^"\n]*")"#, |c| {
            format!("{}<quoted>", &c[1])
        }),
        rule(r#"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'"<>()]+"#, |_| {
            "<url>".into()
        }),
        rule(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", |_| "<email>".into()),
        rule(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b", |_| {
            "<ip>".into()
        }),
        // IPv6, full or compressed (a time has neither eight groups nor `::`); a match
        // without a digit is a path such as `std::io`.
        rule(
            r"\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b|(?:\b[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*\b)?",
            |c| keep_unless(c, |text| text.bytes().any(|b| b.is_ascii_digit()), "<ip>"),
        ),
        rule(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            |_| "<uuid>".into(),
        ),
        // Hex needs a digit (or `0x`): eight letters a-f are a word; all digits, a number.
        rule(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{8,})\b", |c| hex(&c[0])),
        rule(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b",
            |_| "<date>".into(),
        ),
        rule(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", |_| "<date>".into()),
        // Numbers may carry a unit (`1.5s`, `30ms`) but not start a word (`v2`, `user42`).
        rule(r"-?\b\d+\.\d+(?:[eE][+-]?\d+)?", |_| "<float>".into()),
        rule(r"-?\b\d+", |_| "<int>".into()),
        rule(r"\b(?:true|false|True|False)\b", |_| "<bool>".into()),
    ]
});

fn keep_unless(c: &Captures<'_>, replace_if: fn(&str) -> bool, placeholder: &str) -> String {
    if replace_if(&c[0]) {
        placeholder.to_owned()
    } else {
        c[0].to_owned()
    }
}

fn hex(text: &str) -> String {
    if text.starts_with("0x") || text.starts_with("0X") {
        "<hex>".into()
    } else if text.bytes().all(|b| b.is_ascii_digit()) {
        "<int>".into()
    } else if text.bytes().any(|b| b.is_ascii_digit()) {
        "<hex>".into()
    } else {
        text.to_owned()
    }
}

/// The first line of `text` with its variable parts replaced by placeholders (`<int>`,
/// `<float>`, `<uuid>`, `<hex>`, `<email>`, `<url>`, `<ip>`, `<date>`, `<quoted>`,
/// `<bool>`), trimmed.
pub fn normalise(text: &str) -> String {
    RULES
        .iter()
        .fold(first_line(text).to_owned(), |text, rule| {
            rule.pattern
                .replace_all(&text, |c: &Captures<'_>| (rule.replace)(c))
                .into_owned()
        })
}

/// The first non-blank line of `text`, trimmed.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("")
}

/// The fingerprint an error is grouped by. An explicit (non-empty) fingerprint wins, with
/// `{{ default }}` standing for the default parts; the default is the raised (last)
/// exception's type, normalised value and frame, else `message` and the normalised text.
pub fn fingerprint(
    explicit: Option<&[String]>,
    exceptions: &[Exception],
    message: Option<&str>,
) -> Vec<String> {
    let default = || default_fingerprint(exceptions, message);
    match explicit {
        Some(parts) if !parts.is_empty() => parts
            .iter()
            .flat_map(|part| {
                if DEFAULT_MARKERS.contains(&part.trim()) {
                    default()
                } else {
                    vec![part.clone()]
                }
            })
            .collect(),
        _ => default(),
    }
}

fn default_fingerprint(exceptions: &[Exception], message: Option<&str>) -> Vec<String> {
    match exceptions.last() {
        Some(raised) => {
            let mut parts = vec![
                exception_type(raised).to_owned(),
                normalise(raised.value.as_deref().unwrap_or("")),
            ];
            parts.extend(raised_in(raised).map(frame_key));
            parts
        }
        None => vec!["message".to_owned(), normalise(message.unwrap_or(""))],
    }
}

fn exception_type(exception: &Exception) -> &str {
    exception
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|kind| !kind.is_empty())
        .unwrap_or("Error")
}

/// The frame an exception was raised in: the newest of the application's own frames, else
/// the newest frame (frames are listed oldest first).
pub fn raised_in(exception: &Exception) -> Option<&Frame> {
    let frames = &exception.frames;
    frames
        .iter()
        .rev()
        .find(|frame| frame.in_app == Some(true))
        .or_else(|| frames.last())
}

/// `module.function` or `filename:function`, without line numbers, which move with every
/// edit of the file.
fn frame_key(frame: &Frame) -> String {
    let function = frame.function.as_deref().unwrap_or("?");
    match (&frame.module, &frame.filename) {
        (Some(module), _) => format!("{module}.{function}"),
        (None, Some(filename)) => format!("{filename}:{function}"),
        (None, None) => function.to_owned(),
    }
}

/// One line naming the error: `Type: first line of the value` for an exception, else the
/// first line of the message; at most [`TITLE_MAX_CHARS`] characters.
pub fn title(exceptions: &[Exception], message: Option<&str>) -> String {
    let whole = match exceptions.last() {
        Some(raised) => {
            let kind = exception_type(raised);
            match raised.value.as_deref().map(first_line) {
                Some(value) if !value.is_empty() => format!("{kind}: {value}"),
                _ => kind.to_owned(),
            }
        }
        None => match message.map(first_line) {
            Some(line) if !line.is_empty() => line.to_owned(),
            _ => "<unlabeled event>".to_owned(),
        },
    };
    truncate_chars(&whole, TITLE_MAX_CHARS)
}

/// Where the error happened: `module in function` of the frame it was raised in, else
/// `fallback` (an SDK's transaction or culprit, a log record's target).
pub fn culprit(exceptions: &[Exception], fallback: Option<&str>) -> Option<String> {
    let frame = exceptions.last().and_then(raised_in);
    let from_frame = frame.and_then(|frame| {
        let place = frame.module.as_ref().or(frame.filename.as_ref());
        match (place, &frame.function) {
            (Some(place), Some(function)) => Some(format!("{place} in {function}")),
            (Some(place), None) => Some(place.clone()),
            (None, function) => function.clone(),
        }
    });
    from_frame
        .or_else(|| {
            fallback
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
        })
        .map(|culprit| truncate_chars(&culprit, TITLE_MAX_CHARS))
}

/// `text` cut to at most `max` characters (never inside a character).
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(kind: &str, value: &str, frames: Vec<Frame>) -> Exception {
        Exception {
            kind: Some(kind.into()),
            value: Some(value.into()),
            frames,
            ..Exception::default()
        }
    }

    fn frame(module: &str, function: &str, in_app: bool) -> Frame {
        Frame {
            module: Some(module.into()),
            function: Some(function.into()),
            in_app: Some(in_app),
            ..Frame::default()
        }
    }

    fn parts(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn each_kind_of_variable_part_becomes_its_placeholder() {
        let cases = [
            ("order 42 not found", "order <int> not found"),
            ("took 1.5s, limit -3", "took <float>s, limit <int>"),
            (
                "user 0b9d6a0e-8c1f-4e3b-9a57-2d1c3e4f5a6b gone",
                "user <uuid> gone",
            ),
            ("object at 0x7f3a2c1b", "object at <hex>"),
            ("sha deadbeef01234567", "sha <hex>"),
            ("mail to ada@example.com failed", "mail to <email> failed"),
            (
                "GET https://api.example.com/v1/users/7?x=1 failed",
                "GET <url> failed",
            ),
            ("connect 10.0.0.12:5432 refused", "connect <ip> refused"),
            ("peer fe80::1ff:fe23:4567 reset", "peer <ip> reset"),
            ("at 2026-12-07T10:11:12.123Z late", "at <date> late"),
            ("on 2026-12-07 and 10:11:12", "on <date> and <date>"),
            ("key 'user_42' missing", "key <quoted> missing"),
            (r#"field "name" is empty"#, "field <quoted> is empty"),
            ("expected true, got False", "expected <bool>, got <bool>"),
        ];
        for (text, normalised) in cases {
            assert_eq!(normalise(text), normalised, "{text}");
        }
    }

    #[test]
    fn words_paths_and_apostrophes_are_kept() {
        let cases = [
            "can't find the user's file",
            "std::io::Error in decade",
            "user42 and v2 stay",
            "facade defaced",
        ];
        for text in cases {
            assert_eq!(normalise(text), text);
        }
    }

    #[test]
    fn only_the_first_line_counts() {
        assert_eq!(normalise("\n  bad 7  \nstack line 99"), "bad <int>");
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn numbers_in_messages_do_not_split_an_issue() {
        let a = fingerprint(None, &[exception("ValueError", "bad id 7", vec![])], None);
        let b = fingerprint(
            None,
            &[exception("ValueError", "bad id 9000", vec![])],
            None,
        );
        assert_eq!(a, b);
        let m1 = fingerprint(None, &[], Some("order 1 paid twice"));
        let m2 = fingerprint(None, &[], Some("order 2 paid twice"));
        assert_eq!(m1, m2);
        assert_eq!(m1, parts(&["message", "order <int> paid twice"]));
    }

    #[test]
    fn different_types_or_texts_are_different_issues() {
        let value = fingerprint(None, &[exception("ValueError", "bad 7", vec![])], None);
        let key = fingerprint(None, &[exception("KeyError", "bad 7", vec![])], None);
        let other = fingerprint(None, &[exception("ValueError", "worse 7", vec![])], None);
        assert_ne!(value, key);
        assert_ne!(value, other);
    }

    #[test]
    fn the_raised_exception_is_the_last_of_the_chain() {
        let chain = [
            exception("IOError", "disk", vec![]),
            exception("RuntimeError", "job 5 failed", vec![]),
        ];
        assert_eq!(
            fingerprint(None, &chain, None),
            parts(&["RuntimeError", "job <int> failed"])
        );
        assert_eq!(title(&chain, None), "RuntimeError: job 5 failed");
    }

    #[test]
    fn the_newest_in_app_frame_places_the_error_without_its_line() {
        let mut library = frame("requests.api", "get", false);
        library.lineno = Some(10);
        let mut app = frame("shop.orders", "pay", true);
        app.lineno = Some(42);
        let frames = vec![frame("shop.main", "run", true), app.clone(), library];
        let raised = [exception("ValueError", "bad", frames)];
        assert_eq!(
            fingerprint(None, &raised, None),
            parts(&["ValueError", "bad", "shop.orders.pay"])
        );
        assert_eq!(
            culprit(&raised, Some("/pay")).as_deref(),
            Some("shop.orders in pay")
        );
        let mut moved = app;
        moved.lineno = Some(43);
        let again = [exception("ValueError", "bad", vec![moved])];
        assert_eq!(
            fingerprint(None, &raised, None),
            fingerprint(None, &again, None)
        );
    }

    #[test]
    fn without_an_in_app_frame_the_newest_frame_counts_and_a_file_names_it() {
        let frames = vec![
            frame("lib.a", "outer", false),
            Frame {
                filename: Some("src/main.rs".into()),
                function: Some("handle".into()),
                ..Frame::default()
            },
        ];
        let raised = [exception("Panic", "boom", frames)];
        assert_eq!(fingerprint(None, &raised, None)[2], "src/main.rs:handle");
        assert_eq!(
            culprit(&raised, None).as_deref(),
            Some("src/main.rs in handle")
        );
    }

    #[test]
    fn an_explicit_fingerprint_wins_and_may_extend_the_default() {
        let raised = [exception("ValueError", "bad 7", vec![])];
        let explicit = parts(&["payments", "stripe"]);
        assert_eq!(fingerprint(Some(&explicit), &raised, None), explicit);
        for marker in ["{{ default }}", "{{default}}"] {
            let extended = parts(&[marker, "eu"]);
            assert_eq!(
                fingerprint(Some(&extended), &raised, None),
                parts(&["ValueError", "bad <int>", "eu"])
            );
        }
        assert_eq!(
            fingerprint(Some(&[]), &raised, None),
            fingerprint(None, &raised, None)
        );
    }

    #[test]
    fn titles_are_one_line_of_at_most_200_characters() {
        let long = "é".repeat(300);
        assert_eq!(title(&[], Some(&long)).chars().count(), TITLE_MAX_CHARS);
        assert_eq!(title(&[], Some("first\nsecond")), "first");
        assert_eq!(
            title(&[exception("KeyError", "", vec![])], None),
            "KeyError"
        );
        assert_eq!(title(&[], None), "<unlabeled event>");
        let untyped = Exception::default();
        assert_eq!(title(&[untyped], None), "Error");
    }

    #[test]
    fn the_culprit_falls_back_to_the_transaction() {
        assert_eq!(
            culprit(&[], Some(" /checkout ")).as_deref(),
            Some("/checkout")
        );
        assert_eq!(culprit(&[], Some("")), None);
        assert_eq!(culprit(&[], None), None);
    }
}
