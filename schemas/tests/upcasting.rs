use schemas::{
    DecodeError, DomainEvent, NewEvent,
    items::{ItemCreated, ItemEvent},
};
use serde_json::json;

#[test]
fn an_item_event_round_trips_through_its_stored_payload() {
    let event = ItemEvent::Created(ItemCreated {
        id: 7,
        name: "lamp".into(),
        description: "ünïcode".into(),
    });
    let stored = NewEvent::from_domain(&event);
    assert_eq!(stored.context, "items");
    assert_eq!(stored.event_type, "ItemCreated");
    let decoded =
        ItemEvent::decode(stored.event_type, stored.schema_version, &stored.data).unwrap();
    assert_eq!(decoded, event);
}

#[test]
fn an_unknown_schema_version_is_refused_rather_than_misread() {
    let err = ItemEvent::decode("ItemCreated", 9, &json!({"id": 1})).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::UnknownVersion { version: 9, .. }
    ));
}

#[test]
fn a_payload_that_breaks_its_schema_names_the_event() {
    let err = ItemEvent::decode("ItemDeleted", 1, &json!({"id": "x"})).unwrap_err();
    assert!(err.to_string().starts_with("ItemDeleted payload"));
}
