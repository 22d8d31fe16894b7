//! Chat: direct and group rooms with sequential numbers, their members, and messages.

pub mod aggregate;
pub mod input;
pub mod messages;
pub mod rooms;

use axum::{
    Router,
    routing::{delete, post},
};
use service_kit::ApiError;

use self::aggregate::ChatError;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/chats", post(rooms::create_room))
        .route("/api/v1/chats/{id}/members", post(rooms::add_member))
        .route(
            "/api/v1/chats/{id}/members/{user_id}",
            delete(rooms::remove_member),
        )
        .route("/api/v1/chats/{id}/messages", post(messages::send_message))
        .route("/api/v1/chats/{id}/read", post(messages::mark_read))
}

fn chat_error(err: ChatError) -> ApiError {
    match err {
        ChatError::RoomNotFound | ChatError::NoSuchMember => ApiError::not_found(err.to_string()),
        ChatError::NotMember | ChatError::NotOwner => ApiError::forbidden(err.to_string()),
        ChatError::RoomFull
        | ChatError::AlreadyMember
        | ChatError::DirectRoomFixed
        | ChatError::AlreadyExists => ApiError::conflict(err.to_string()),
    }
}
