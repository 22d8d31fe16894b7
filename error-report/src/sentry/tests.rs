use serde_json::json;
use time::macros::datetime;

use super::*;

const PYTHON_EXCEPTION: &str = include_str!("fixtures/python-exception.json");

fn received() -> Received {
    Received {
        project: 7,
        event_id: None,
        at: datetime!(2026-12-07 06:00:00 UTC),
    }
}

fn read(event: &Value) -> ErrorLogged {
    error_logged(event.to_string().as_bytes(), received()).unwrap()
}

#[test]
fn an_exception_from_the_python_sdk_is_read_whole() {
    let error = error_logged(PYTHON_EXCEPTION.as_bytes(), received()).unwrap();
    assert_eq!(
        error.event_id.simple().to_string(),
        "85727085acb8484690f4d47cf632eeb4"
    );
    assert_eq!(error.project, 7);
    assert_eq!(error.level, Level::Error);
    assert_eq!(error.title, "ZeroDivisionError: division by zero");
    assert_eq!(
        error.fingerprint,
        ["ZeroDivisionError", "division by zero", "__main__.<module>"]
    );
    assert_eq!(error.issue_id, issue_id(7, &error.fingerprint));
    assert_eq!(error.culprit.as_deref(), Some("__main__ in <module>"));
    let raised = &error.exceptions[0];
    assert_eq!(raised.handled, Some(true));
    assert_eq!(raised.frames[0].lineno, Some(12));
    assert_eq!(raised.frames[0].context_line.as_deref(), Some("    1 / 0"));
    assert_eq!(
        error.origin,
        Origin::Sdk {
            sdk: Some("sentry.python 2.76.0".into()),
            platform: Some("python".into()),
            server_name: Some("vm".into()),
            logger: None,
        }
    );
    assert_eq!(error.release.as_deref(), Some("shop@1.2.3"));
    assert_eq!(error.environment.as_deref(), Some("test"));
    assert_eq!(
        error.request_id.as_deref(),
        Some("ee96874ca04e4dea8fe7b95253d956d3")
    );
    assert_eq!(error.occurred_at, datetime!(2026-12-07 05:02:27.134496 UTC));
    assert_eq!(error.received_at, received().at);
    assert_eq!(error.extra["extra"]["sys.argv"][0], "/tmp/capture.py");
    assert_eq!(error.extra["contexts"]["runtime"]["name"], "CPython");
    assert_eq!(error.count, 1);
}

#[test]
fn a_message_is_read_in_each_of_its_forms() {
    let forms = [
        json!({"message": "order 5 stuck"}),
        json!({"message": {"formatted": "order 5 stuck", "message": "order %s stuck", "params": [5]}}),
        json!({"logentry": {"message": "order %s stuck", "formatted": "order 5 stuck"}}),
    ];
    for event in forms {
        let error = read(&event);
        assert_eq!(error.message.as_deref(), Some("order 5 stuck"), "{event}");
        assert_eq!(error.title, "order 5 stuck");
        assert_eq!(error.fingerprint, ["message", "order <int> stuck"]);
        assert!(error.exceptions.is_empty());
    }
    let template = read(&json!({"logentry": {"message": "order %s stuck", "params": [5]}}));
    assert_eq!(template.message.as_deref(), Some("order %s stuck"));
}

#[test]
fn the_level_defaults_to_error_and_reads_the_sdks_names() {
    assert_eq!(read(&json!({"message": "x"})).level, Level::Error);
    assert_eq!(
        read(&json!({"message": "x", "level": "warning"})).level,
        Level::Warning
    );
    assert_eq!(
        read(&json!({"message": "x", "level": "info"})).level,
        Level::Info
    );
    assert_eq!(
        read(&json!({"message": "x", "level": "loud"})).level,
        Level::Error
    );
}

#[test]
fn a_timestamp_is_text_or_epoch_seconds_and_else_the_time_received() {
    let text = read(&json!({"timestamp": "2026-12-07T05:02:27.5Z"}));
    assert_eq!(text.occurred_at, datetime!(2026-12-07 05:02:27.5 UTC));
    let no_offset = read(&json!({"timestamp": "2026-12-07T05:02:27"}));
    assert_eq!(no_offset.occurred_at, datetime!(2026-12-07 05:02:27 UTC));
    let seconds = read(&json!({"timestamp": 1_796_619_747.25}));
    assert_eq!(seconds.occurred_at.unix_timestamp(), 1_796_619_747);
    assert_eq!(seconds.occurred_at.millisecond(), 250);
    assert_eq!(read(&json!({})).occurred_at, received().at);
    assert_eq!(
        read(&json!({"timestamp": "yesterday"})).occurred_at,
        received().at
    );
}

#[test]
fn event_ids_come_hyphenated_or_not_else_from_the_envelope() {
    let plain = read(&json!({"event_id": "85727085acb8484690f4d47cf632eeb4"}));
    let hyphens = read(&json!({"event_id": "85727085-acb8-4846-90f4-d47cf632eeb4"}));
    assert_eq!(plain.event_id, hyphens.event_id);
    let header = Uuid::new_v4();
    let from_header = error_logged(
        b"{}",
        Received {
            event_id: Some(header),
            ..received()
        },
    )
    .unwrap();
    assert_eq!(from_header.event_id, header);
    assert_eq!(
        error_logged(br#"{"event_id": "nope"}"#, received()),
        Err(InvalidEvent::EventId("nope".into()))
    );
}

#[test]
fn what_is_no_json_object_is_refused() {
    for body in [&b"[1]"[..], b"not json", b""] {
        assert!(matches!(
            error_logged(body, received()),
            Err(InvalidEvent::NotAnObject(_))
        ));
    }
}

#[test]
fn tags_come_as_an_object_or_as_pairs_and_secrets_lose_their_value() {
    let object = read(&json!({"tags": {"os": "linux", "build": 42, "api_token": "abc"}}));
    assert_eq!(object.tags["os"], "linux");
    assert_eq!(object.tags["build"], "42");
    assert_eq!(object.tags["api_token"], masking::FILTERED);
    let pairs = read(&json!({"tags": [["os", "linux"], ["odd"], ["n", 1]]}));
    assert_eq!(pairs.tags.len(), 2);
    assert_eq!(pairs.tags["n"], "1");
}

#[test]
fn the_user_is_named_by_id_else_email_else_name_else_address() {
    let user = |u: Value| read(&json!({"user": u})).user;
    assert_eq!(
        user(json!({"id": 42, "email": "a@b.c"})).as_deref(),
        Some("42")
    );
    assert_eq!(
        user(json!({"email": "a@b.c", "username": "ada"})).as_deref(),
        Some("a@b.c")
    );
    assert_eq!(user(json!({"username": "ada"})).as_deref(), Some("ada"));
    assert_eq!(
        user(json!({"ip_address": "10.0.0.1"})).as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(user(json!({})), None);
}

#[test]
fn secrets_in_messages_values_requests_and_extra_are_masked() {
    let error = read(&json!({
        "message": "login failed password=hunter2",
        "exception": {"values": [{"type": "AuthError", "value": "Bearer abcdefghijklmnop rejected"}]},
        "request": {"url": "https://shop/x?access_token=s3cret", "headers": {"Authorization": "Basic xyz", "Cookie": "sid=1"}},
        "extra": {"password": "hunter2", "note": "fine"},
    }));
    let kept = serde_json::to_string(&error).unwrap();
    for secret in [
        "hunter2",
        "abcdefghijklmnop",
        "s3cret",
        "Basic xyz",
        "sid=1",
    ] {
        assert!(!kept.contains(secret), "{secret} in {kept}");
    }
    assert_eq!(error.extra["extra"]["note"], "fine");
    assert_eq!(
        error.extra["request"]["headers"]["Authorization"],
        masking::FILTERED
    );
}

#[test]
fn an_explicit_fingerprint_groups_and_the_transaction_places_a_message() {
    let error = read(&json!({
        "message": "slow 5",
        "fingerprint": ["{{ default }}", "checkout", 3],
        "transaction": "/checkout",
    }));
    assert_eq!(
        error.fingerprint,
        ["message", "slow <int>", "checkout", "3"]
    );
    assert_eq!(error.culprit.as_deref(), Some("/checkout"));
}

#[test]
fn sizes_are_bounded() {
    let frames: Vec<Value> = (0..150)
        .map(|n| json!({"function": format!("f{n}"), "lineno": n}))
        .collect();
    let values: Vec<Value> = (0..15)
        .map(|n| json!({"type": format!("E{n}"), "value": "v".repeat(20_000), "stacktrace": {"frames": frames}}))
        .collect();
    let error = read(&json!({
        "message": "m".repeat(20_000),
        "exception": {"values": values},
        "release": "r".repeat(1000),
        "extra": {"blob": "x".repeat(100_000)},
        "contexts": {"os": {"name": "linux"}},
    }));
    assert_eq!(error.message.as_ref().unwrap().len(), limits::MESSAGE_BYTES);
    assert_eq!(error.exceptions.len(), limits::EXCEPTIONS);
    let raised = error.exceptions.last().unwrap();
    assert_eq!(raised.kind.as_deref(), Some("E14"), "the newest are kept");
    assert_eq!(raised.frames.len(), limits::FRAMES);
    assert_eq!(raised.frames.last().unwrap().lineno, Some(149));
    assert_eq!(raised.value.as_ref().unwrap().len(), limits::MESSAGE_BYTES);
    assert_eq!(
        error.release.as_ref().unwrap().chars().count(),
        limits::SHORT_CHARS
    );
    assert!(error.title.chars().count() <= grouping::TITLE_MAX_CHARS);
    assert!(error.extra["extra"].as_str().unwrap().contains("too large"));
    assert_eq!(error.extra["contexts"]["os"]["name"], "linux");
}

#[test]
fn fields_of_unexpected_shapes_are_left_out() {
    let error = read(&json!({
        "message": 5,
        "exception": {"values": "nope"},
        "tags": "x",
        "user": "ada",
        "sdk": ["x"],
        "fingerprint": "nope",
    }));
    assert_eq!(error.message, None);
    assert!(error.exceptions.is_empty());
    assert!(error.tags.is_empty());
    assert_eq!(error.user, None);
    assert_eq!(error.title, "<unlabeled event>");
}
