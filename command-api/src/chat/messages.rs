//! The message endpoints: send a message to a room, mark a room read.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{AppendError, Appended, ExpectedVersion};
use schemas::{
    DomainEvent,
    chat::{self, ChatEvent, MessageSent},
};
use serde::Serialize;
use serde_json::json;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    aggregate::{self, RoomCommand},
    chat_error,
    input::{MessageInput, ReadInput},
    rooms,
};
use crate::{
    AppState,
    command::{self, CommandContext, Earlier, Outcome, Target},
};

/// A message as sent, with its sequence in the room and the global position that
/// records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageWritten {
    pub room_id: i64,
    /// The message's sequence in its room: 1, 2, 3, ... in the order they were committed.
    pub seq: i64,
    pub message_id: Uuid,
    pub sender_id: Uuid,
    pub text: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: OffsetDateTime,
    /// Global position of the message; send it as `X-Min-Position` to read your own write.
    pub position: i64,
}

/// Send a text message to a room (members only). A retry with the same `message_id` (or
/// `Idempotency-Key`) returns the first outcome instead of sending twice.
#[utoipa::path(
    post, path = "/api/v1/chats/{id}/messages", tag = "chat",
    request_body = MessageInput,
    params(
        ("id" = i64, Path, description = "Room number"),
        ("Idempotency-Key" = Option<String>, Header, description = "Used when the body has no message_id"),
    ),
    responses(
        (status = 201, description = "Sent", body = inline(service_kit::Envelope<MessageWritten>),
         headers(("Location" = String), ("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 409, description = "The room's membership kept changing while the message was sent: send it again", body = ErrorBody),
        (status = 422, description = "Empty or longer than 1,000 characters, or the message id was used for another text", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<MessageInput>,
) -> Result<Response, ApiError> {
    let (client_id, text) = input.parse()?;
    let by = caller.user_id;
    let operation = format!("SendMessage {room_id}");
    let mut context = CommandContext::new(&headers, Some(by.to_string()), &operation, &text)?;
    if let Some(id) = client_id {
        context = context.with_key(format!("{by}:message:{room_id}:{id}"), &operation, &text);
    }
    let earlier = command::earlier_outcome(&state.store, &context)
        .await
        .map_err(command::append_error)?;
    if let Some(earlier) = earlier {
        return answer_earlier(&state, earlier).await;
    }
    let message_id = client_id.unwrap_or_else(Uuid::now_v7);
    let at = command::now();
    let (outcome, events) = send(&state, &context, room_id, by, message_id, text, at).await?;
    match (outcome, events.into_iter().next()) {
        (Outcome::Replayed(earlier), _) => answer_earlier(&state, earlier).await,
        (Outcome::Appended(appended), Some(ChatEvent::MessageSent(sent))) => {
            Ok(respond(sent, &appended))
        }
        (Outcome::Appended(_), _) => Err(ApiError::internal("a send decides one MessageSent")),
    }
}

/// How often a send is decided again because the room changed under it.
const SEND_ATTEMPTS: usize = 3;

/// Decides the send on the room as it is and appends it on condition that the room is
/// still at the version decided on: a member removed after the check cannot post, since
/// their removal moves the room and the send is then decided again (a `403`).
async fn send(
    state: &AppState,
    context: &CommandContext,
    room_id: i64,
    by: Uuid,
    message_id: Uuid,
    text: String,
    at: OffsetDateTime,
) -> Result<(Outcome, Vec<ChatEvent>), ApiError> {
    let room_stream = chat::room_stream(room_id);
    let mut attempt = 1;
    loop {
        let room = rooms::load(state, room_id).await?;
        let command = RoomCommand::Send {
            message_id,
            text: text.clone(),
            by,
            at,
        };
        let events = aggregate::decide(Some(&room), command).map_err(chat_error)?;
        // Any version of the messages: the store gives the message the next sequence of
        // the room as it commits.
        let target = Target::Stream(chat::messages_stream(room_id), ExpectedVersion::Any);
        let unchanged = (
            room_stream.clone(),
            ExpectedVersion::Exact(room.version),
            Vec::new(),
        );
        match command::append_together(&state.store, context, target, &events, vec![unchanged])
            .await
        {
            Ok(outcome) => return Ok((outcome, events)),
            Err(AppendError::Conflict { stream_id, .. })
                if stream_id == room_stream && attempt < SEND_ATTEMPTS =>
            {
                attempt += 1;
            }
            Err(err) => return Err(command::append_error(err)),
        }
    }
}

/// The answer the first request with the same key got: the message it sent, read back
/// from the room's message stream at the version it landed on.
async fn answer_earlier(state: &AppState, earlier: Earlier) -> Result<Response, ApiError> {
    let Earlier {
        stream_id,
        appended,
    } = earlier;
    let stored = state
        .store
        .log()
        .read_versions(&stream_id, appended.first_version..=appended.first_version)
        .await
        .map_err(ApiError::failure)?;
    let sent = stored
        .first()
        .map(|e| ChatEvent::decode(&e.event_type, e.schema_version, &e.data))
        .transpose()
        .map_err(ApiError::failure)?;
    match sent {
        Some(ChatEvent::MessageSent(sent)) => Ok(respond(sent, &appended)),
        _ => Err(ApiError::internal("the earlier message is missing")),
    }
}

fn respond(sent: MessageSent, appended: &Appended) -> Response {
    let mut headers = command::position_headers(appended);
    headers.remove(header::ETAG);
    let location = format!(
        "/api/v1/chats/{}/messages/{}",
        sent.room_id, appended.first_version
    );
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("ids are valid in headers"),
    );
    let body = MessageWritten {
        room_id: sent.room_id,
        seq: appended.first_version,
        message_id: sent.message_id,
        sender_id: sent.sender_id,
        text: sent.text,
        sent_at: sent.sent_at,
        position: appended.last_position,
    };
    (StatusCode::CREATED, headers, ok(body)).into_response()
}

/// Mark a room read up to a message (members only): it moves the caller's unread count.
#[utoipa::path(
    post, path = "/api/v1/chats/{id}/read", tag = "chat",
    request_body = ReadInput,
    params(("id" = i64, Path, description = "Room number")),
    responses(
        (status = 204, description = "Marked", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 422, description = "A sequence beyond the room's last message", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<ReadInput>,
) -> Result<Response, ApiError> {
    let seq = input.parse()?;
    let by = caller.user_id;
    let room = rooms::load(&state, room_id).await?;
    let command = RoomCommand::MarkRead {
        through_seq: seq,
        by,
        at: command::now(),
    };
    let events = aggregate::decide(Some(&room), command).map_err(chat_error)?;
    let last = state
        .store
        .log()
        .last_events(&[chat::messages_stream(room_id)])
        .await
        .map_err(ApiError::failure)?
        .first()
        .map_or(0, |e| e.stream_version);
    if seq > last {
        return Err(ApiError::invalid(format!(
            "seq {seq} is beyond the room's last message ({last})"
        ))
        .with_details(json!({ "last_seq": last })));
    }
    let context = CommandContext::new(&headers, Some(by.to_string()), "MarkRead", &seq)?;
    // No idempotency key: a read marker only moves forward, so marking again changes nothing.
    let stream = (
        chat::reads_stream(room_id, by),
        ExpectedVersion::Any,
        &events[..],
    );
    let appended = command::append_all(&state.store, &context.metadata, vec![stream])
        .await
        .map_err(command::append_error)?;
    let mut headers = command::position_headers(&appended[0]);
    headers.remove(header::ETAG);
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}
