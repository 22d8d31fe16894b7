//! Every context and event type the platform knows, with its JSON Schema.

use schemars::{JsonSchema, Schema, schema_for};

use crate::{
    board, chat, email, envelope::RecordedEvent, errors, identity, items, orders, prompts,
};

/// The bounded contexts; each has its own Kafka topic.
pub const CONTEXTS: &[&str] = &[
    "items", "identity", "orders", "board", "chat", "email", "errors", "prompts",
];

/// One event type at one schema version.
pub struct EventSchema {
    pub context: &'static str,
    pub event_type: &'static str,
    pub schema_version: i32,
    pub schema: Schema,
}

fn entry<T: JsonSchema>(context: &'static str, event_type: &'static str) -> EventSchema {
    EventSchema {
        context,
        event_type,
        schema_version: 1,
        schema: schema_for!(T),
    }
}

/// The payload schema of every current event type.
pub fn event_schemas() -> Vec<EventSchema> {
    vec![
        entry::<items::ItemCreated>("items", "ItemCreated"),
        entry::<items::ItemUpdated>("items", "ItemUpdated"),
        entry::<items::ItemDeleted>("items", "ItemDeleted"),
        entry::<identity::EmailClaimed>("identity", "EmailClaimed"),
        entry::<identity::EmailReleased>("identity", "EmailReleased"),
        entry::<identity::UserRegistered>("identity", "UserRegistered"),
        entry::<identity::UserProfileChanged>("identity", "UserProfileChanged"),
        entry::<identity::PasswordChanged>("identity", "PasswordChanged"),
        entry::<identity::UserBlocked>("identity", "UserBlocked"),
        entry::<identity::UserUnblocked>("identity", "UserUnblocked"),
        entry::<identity::UserDeleted>("identity", "UserDeleted"),
        entry::<identity::SessionStarted>("identity", "SessionStarted"),
        entry::<identity::SessionRevoked>("identity", "SessionRevoked"),
        entry::<orders::OrderPlaced>("orders", "OrderPlaced"),
        entry::<orders::OrderStatusChanged>("orders", "OrderStatusChanged"),
        entry::<orders::OrderCancelled>("orders", "OrderCancelled"),
        entry::<board::PostCreated>("board", "PostCreated"),
        entry::<board::PostUpdated>("board", "PostUpdated"),
        entry::<board::PostDeleted>("board", "PostDeleted"),
        entry::<board::CommentAdded>("board", "CommentAdded"),
        entry::<board::CommentDeleted>("board", "CommentDeleted"),
        entry::<chat::RoomCreated>("chat", "RoomCreated"),
        entry::<chat::MemberJoined>("chat", "MemberJoined"),
        entry::<chat::MemberLeft>("chat", "MemberLeft"),
        entry::<chat::MessageSent>("chat", "MessageSent"),
        entry::<chat::MessagesRead>("chat", "MessagesRead"),
        entry::<email::EmailRequested>("email", "EmailRequested"),
        entry::<email::EmailAttemptStarted>("email", "EmailAttemptStarted"),
        entry::<email::EmailSent>("email", "EmailSent"),
        entry::<email::EmailDeferred>("email", "EmailDeferred"),
        entry::<email::EmailFailed>("email", "EmailFailed"),
        entry::<email::EmailDead>("email", "EmailDead"),
        entry::<email::EmailRetried>("email", "EmailRetried"),
        entry::<email::EmailCancelled>("email", "EmailCancelled"),
        entry::<errors::ProjectCreated>("errors", "ProjectCreated"),
        entry::<errors::ProjectChanged>("errors", "ProjectChanged"),
        entry::<errors::ProjectKeyRotated>("errors", "ProjectKeyRotated"),
        entry::<errors::AlertRulesChanged>("errors", "AlertRulesChanged"),
        entry::<errors::ErrorLogged>("errors", "ErrorLogged"),
        entry::<errors::IssueOpened>("errors", "IssueOpened"),
        entry::<errors::IssueResolved>("errors", "IssueResolved"),
        entry::<errors::IssueMuted>("errors", "IssueMuted"),
        entry::<errors::IssueReopened>("errors", "IssueReopened"),
        entry::<errors::AlertRaised>("errors", "AlertRaised"),
        entry::<errors::AlertAttemptStarted>("errors", "AlertAttemptStarted"),
        entry::<errors::AlertSent>("errors", "AlertSent"),
        entry::<errors::AlertDeferred>("errors", "AlertDeferred"),
        entry::<errors::AlertGivenUp>("errors", "AlertGivenUp"),
        entry::<errors::AlertRetryRequested>("errors", "AlertRetryRequested"),
        entry::<errors::LogLevelsChanged>("errors", "LogLevelsChanged"),
        entry::<prompts::PromptProfileCreated>("prompts", "PromptProfileCreated"),
        entry::<prompts::PromptProfileUpdated>("prompts", "PromptProfileUpdated"),
        entry::<prompts::PromptProfileDeleted>("prompts", "PromptProfileDeleted"),
        entry::<prompts::ProfileSlotTaken>("prompts", "ProfileSlotTaken"),
        entry::<prompts::ProfileSlotFreed>("prompts", "ProfileSlotFreed"),
        entry::<prompts::RefBookCreated>("prompts", "RefBookCreated"),
        entry::<prompts::RefBookUpdated>("prompts", "RefBookUpdated"),
        entry::<prompts::RefBookDeleted>("prompts", "RefBookDeleted"),
        entry::<prompts::RefDataCreated>("prompts", "RefDataCreated"),
        entry::<prompts::RefDataUpdated>("prompts", "RefDataUpdated"),
        entry::<prompts::RefDataDeleted>("prompts", "RefDataDeleted"),
        entry::<prompts::PublicScriptCreated>("prompts", "PublicScriptCreated"),
        entry::<prompts::PublicScriptUpdated>("prompts", "PublicScriptUpdated"),
        entry::<prompts::PublicScriptReordered>("prompts", "PublicScriptReordered"),
        entry::<prompts::PublicScriptDeleted>("prompts", "PublicScriptDeleted"),
    ]
}

/// The schema of the envelope every event is stored and published in.
pub fn envelope_schema() -> Schema {
    schema_for!(RecordedEvent)
}

/// Every schema file, as (path relative to `schemas/json`, pretty JSON with a final newline).
pub fn schema_files() -> Vec<(String, String)> {
    let render = |schema: &Schema| {
        let mut text = serde_json::to_string_pretty(schema).expect("schemas serialize");
        text.push('\n');
        text
    };
    let mut files = vec![(
        "envelope.schema.json".to_owned(),
        render(&envelope_schema()),
    )];
    for event in event_schemas() {
        let path = format!(
            "{}/{}.v{}.schema.json",
            event.context, event.event_type, event.schema_version
        );
        files.push((path, render(&event.schema)));
    }
    files
}
