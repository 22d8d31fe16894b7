//! The board: posts with sequential ids, edited or deleted by their author or an admin,
//! whole (`PUT`) or in part (`PATCH`, [`post_patch`]), and comments on them.

pub mod aggregate;
pub mod comments;
pub mod input;
pub mod post_patch;
pub mod posts;

use axum::{
    Router,
    routing::{delete, post, put},
};
use service_kit::ApiError;

use self::aggregate::BoardError;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/posts", post(posts::create_post))
        .route(
            "/api/v1/posts/{id}",
            put(posts::update_post)
                .patch(post_patch::patch_post)
                .delete(posts::delete_post),
        )
        .route("/api/v1/posts/{id}/comments", post(comments::add_comment))
        .route(
            "/api/v1/posts/{id}/comments/{comment_id}",
            delete(comments::delete_comment),
        )
}

fn board_error(err: BoardError) -> ApiError {
    match err {
        BoardError::PostNotFound | BoardError::CommentNotFound => {
            ApiError::not_found(err.to_string())
        }
        BoardError::NotPostAuthor | BoardError::NotCommentAuthor => {
            ApiError::forbidden(err.to_string())
        }
        BoardError::AlreadyExists => ApiError::conflict(err.to_string()),
    }
}
