//! Prompts: users' profiles (how they want to be answered, with the books and texts to
//! answer from) and their reference books and texts, each the owner's alone; and the
//! public scripts admins write for everyone.
//!
//! - [`input`]: profile, book and text bodies, parsed at the edge.
//! - [`aggregate`]: the decisions, pure; the limit of profiles per user.
//! - [`links`]: a profile links the caller's own books and texts only.
//! - [`profiles`], [`books`], [`data`]: the endpoints of each.
//! - [`reference`]: what the book and text endpoints share.
//! - [`public_scripts`]: the admins' public scripts.

pub mod aggregate;
pub mod books;
pub mod data;
pub mod input;
pub mod links;
pub mod profiles;
pub mod public_scripts;
pub mod reference;

use axum::{
    Router,
    routing::{post, put},
};
use event_store::EventStore;
use service_kit::ApiError;
use uuid::Uuid;

use self::aggregate::{Owned, visible_to};
use crate::{
    AppState,
    command::{self, Aggregate},
};

pub fn router() -> Router<AppState> {
    use public_scripts::handlers as scripts;
    Router::new()
        .route("/api/v1/profiles", post(profiles::create_profile))
        .route(
            "/api/v1/profiles/{id}",
            put(profiles::update_profile).delete(profiles::delete_profile),
        )
        .route("/api/v1/ref-books", post(books::create_book))
        .route(
            "/api/v1/ref-books/{id}",
            put(books::update_book).delete(books::delete_book),
        )
        .route("/api/v1/ref-data", post(data::create_data))
        .route(
            "/api/v1/ref-data/{id}",
            put(data::update_data).delete(data::delete_data),
        )
        .route(
            "/api/v1/public-scripts",
            post(scripts::create_public_script),
        )
        .route(
            "/api/v1/public-scripts/{id}",
            put(scripts::update_public_script).delete(scripts::delete_public_script),
        )
        .route(
            "/api/v1/public-scripts/{id}/order",
            put(scripts::reorder_public_script),
        )
}

/// `owner`'s own live state of `stream_id`; a 404 with `missing`'s message otherwise,
/// the same for another user's as for none.
pub async fn load_owned<A: Aggregate + Owned>(
    store: &EventStore,
    stream_id: &str,
    owner: Uuid,
    missing: impl FnOnce() -> String,
) -> Result<A, ApiError> {
    let state = command::load::<A>(store, stream_id, None).await?;
    visible_to(state, owner).ok_or_else(|| ApiError::not_found(missing()))
}
