//! The room endpoints: open a direct or group room, add and remove members, leave.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use schemas::{
    chat::{self, ChatEvent},
    identity,
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
    aggregate::{self, Room, RoomCommand},
    chat_error,
    input::{MemberInput, NewRoom, RoomInput},
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for Room {
    /// Room numbers: the sequence, the stream of room `n` (`room-n`) and the payload
    /// field that carries the number.
    const NUMBERS: Numbered = Numbered {
        sequence: "room_ids",
        stream_prefix: chat::ROOM_STREAM_PREFIX,
        field: "room_id",
    };

    fn assign_number(event: &mut ChatEvent, number: i64) {
        if let ChatEvent::RoomCreated(created) = event {
            created.room_id = number;
        }
    }
}

/// A room as the command left it, and the global position that records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomWritten {
    /// The room's number.
    pub id: i64,
    /// `direct` or `group`.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub owner_id: Option<Uuid>,
    pub members: Vec<Uuid>,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The version of the room's membership, for `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position` to read
    /// your own write.
    pub position: i64,
}

/// Open a room: a direct room with one other user (asking again returns the existing
/// room, 200) or a group room the caller owns.
#[utoipa::path(
    post, path = "/api/v1/chats", tag = "chat",
    request_body = RoomInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries of a group creation with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<RoomWritten>),
         headers(("Location" = String), ("X-Position" = i64))),
        (status = 200, description = "The direct room between the two users exists: here it is", body = inline(service_kit::Envelope<RoomWritten>)),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 422, description = "Invalid fields or unknown users", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_room(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<RoomInput>,
) -> Result<Response, ApiError> {
    let by = caller.user_id;
    let new_room = input.parse(by)?;
    let (kind, name, invitees) = match &new_room {
        NewRoom::Direct { with } => (chat::RoomKind::Direct, None, vec![*with]),
        NewRoom::Group { name, members } => {
            (chat::RoomKind::Group, Some(name.clone()), members.clone())
        }
    };
    let mut context = CommandContext::new(&headers, Some(by.to_string()), "CreateRoom", &new_room)?;
    if kind == chat::RoomKind::Direct {
        // One direct room per pair: its creation is keyed by the pair, so whoever asks
        // first creates it and every later (or concurrent) request is answered with it.
        let (low, high) = if by < invitees[0] {
            (by, invitees[0])
        } else {
            (invitees[0], by)
        };
        context = context.with_key(
            format!("direct-room:{low}:{high}"),
            "CreateDirectRoom",
            &(low, high),
        );
    }
    if let Some(response) = command::replay(&state.store, &context, respond_created).await? {
        return Ok(response);
    }
    require_users(&state, &invitees).await?;
    let command = RoomCommand::Create {
        room_id: UNNUMBERED,
        kind,
        name,
        members: invitees,
        by,
        at: command::now(),
    };
    let events = aggregate::decide(None, command).map_err(chat_error)?;
    command::create_numbered(&state.store, &context, events, respond_created).await
}

/// Add a member to a group room (its owner only).
#[utoipa::path(
    post, path = "/api/v1/chats/{id}/members", tag = "chat",
    request_body = MemberInput,
    params(
        ("id" = i64, Path, description = "Room number"),
        ("If-Match" = Option<String>, Header, description = "The room's version (its `version`)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Added", body = inline(service_kit::Envelope<RoomWritten>), headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not the room's owner", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 409, description = "Already a member, the room is full (100 members), a direct room, or a concurrent change", body = ErrorBody),
        (status = 422, description = "Unknown user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<MemberInput>,
) -> Result<Response, ApiError> {
    let command = RoomCommand::AddMember {
        user_id: input.user_id,
        by: caller.user_id,
        at: command::now(),
    };
    change(&state, &caller, room_id, &headers, command).await
}

/// Remove a member from a group room (its owner), or leave it (any member, naming
/// themselves). An owner who leaves hands the room to the longest-standing member.
#[utoipa::path(
    delete, path = "/api/v1/chats/{id}/members/{user_id}", tag = "chat",
    params(
        ("id" = i64, Path, description = "Room number"),
        ("user_id" = Uuid, Path, description = "The member to remove (the caller to leave)"),
        ("If-Match" = Option<String>, Header, description = "The room's version (its `version`)"),
    ),
    responses(
        (status = 204, description = "Removed", headers(("X-Position" = i64))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "Not the room's owner", body = ErrorBody),
        (status = 404, description = "No such room or member", body = ErrorBody),
        (status = 409, description = "A direct room, or a concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((room_id, user_id)): Path<(i64, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let command = RoomCommand::RemoveMember {
        user_id,
        by: caller.user_id,
        at: command::now(),
    };
    change(&state, &caller, room_id, &headers, command).await
}

/// Decides and appends a membership change on the room's current version.
async fn change(
    state: &AppState,
    caller: &Caller,
    room_id: i64,
    headers: &HeaderMap,
    command: RoomCommand,
) -> Result<Response, ApiError> {
    let (operation, user) = match &command {
        RoomCommand::AddMember { user_id, .. } => ("AddMember", *user_id),
        RoomCommand::RemoveMember { user_id, .. } => ("RemoveMember", *user_id),
        _ => unreachable!("only membership changes come here"),
    };
    let context = CommandContext::new(
        headers,
        Some(caller.user_id.to_string()),
        &format!("{operation} {room_id}"),
        &user,
    )?;
    let adding = matches!(command, RoomCommand::AddMember { .. });
    let respond = |room, appended: &Appended| respond_changed(adding, room, appended);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let if_match = command::if_match(headers)?;
    let room = load(state, room_id).await?;
    let events = aggregate::decide(Some(&room), command).map_err(chat_error)?;
    if adding {
        require_users(state, &[user]).await?;
    }
    let expected = command::expected_version(room.version, if_match)?;
    let target = Target::Stream(chat::room_stream(room_id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(room), &events, respond)
        .await
}

/// A room by number, or 404.
pub async fn load(state: &AppState, room_id: i64) -> Result<Room, ApiError> {
    command::load::<Room>(&state.store, &chat::room_stream(room_id), None)
        .await?
        .ok_or_else(|| chat_error(aggregate::ChatError::RoomNotFound))
}

/// 422 unless every user has an account that was not deleted.
async fn require_users(state: &AppState, users: &[Uuid]) -> Result<(), ApiError> {
    let streams: Vec<String> = users.iter().map(|u| identity::user_stream(*u)).collect();
    let last = state
        .store
        .log()
        .last_events(&streams)
        .await
        .map_err(ApiError::failure)?;
    let unknown: Vec<Uuid> = users
        .iter()
        .zip(&streams)
        .filter(|(_, stream)| {
            !last
                .iter()
                .any(|e| &e.stream_id == *stream && e.event_type != "UserDeleted")
        })
        .map(|(user, _)| *user)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(format!(
        "no such user: {}",
        unknown
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_details(json!({ "unknown_users": unknown })))
}

/// 201 for a room this request created, 200 for the direct room that existed.
fn respond_created(room: Option<Room>, appended: &Appended) -> Response {
    let Some(room) = room else {
        return ApiError::internal("the room vanished").into_response();
    };
    let location = HeaderValue::from_str(&format!("/api/v1/chats/{}", room.room_id))
        .expect("ids are valid in headers");
    let status = if appended.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = respond(room, appended, status);
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// 200 with the room after an addition, 204 after a removal.
fn respond_changed(adding: bool, room: Option<Room>, appended: &Appended) -> Response {
    match room {
        Some(room) if adding => respond(room, appended, StatusCode::OK),
        _ => {
            let mut headers = command::position_headers(appended);
            headers.remove(header::ETAG);
            (StatusCode::NO_CONTENT, headers).into_response()
        }
    }
}

fn respond(room: Room, appended: &Appended, status: StatusCode) -> Response {
    let body = RoomWritten {
        id: room.room_id,
        kind: room.kind.as_str().to_owned(),
        name: room.name,
        owner_id: room.owner_id,
        members: room.members,
        created_by: room.created_by,
        created_at: room.created_at,
        version: room.version,
        position: appended.last_position,
    };
    (status, command::position_headers(appended), ok(body)).into_response()
}
