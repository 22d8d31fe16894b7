//! The commands at the paths the original assignments named (README, "Endpoint map"), for
//! clients written against them: each is a canonical endpoint's handler, so its
//! authentication, validation, rate limit and envelope are that endpoint's. Documented as
//! deprecated copies of the canonical operations.

use axum::{
    Router, middleware,
    routing::{post, put},
};
use service_kit::{
    docs::aliases::Alias,
    rate_limit::{self, RateLimit},
};
use utoipa::openapi::HttpMethod;

use crate::{
    AppState, board, chat, email, identity,
    items::handlers as items,
    prompts::{books, data, profiles, public_scripts::handlers as scripts},
};

/// Every command alias: its method, the seed's path and the canonical path.
pub const ALIASES: &[Alias] = &[
    alias(HttpMethod::Post, "/items", "/api/v1/items"),
    alias(HttpMethod::Put, "/items/{id}", "/api/v1/items/{id}"),
    alias(HttpMethod::Delete, "/items/{id}", "/api/v1/items/{id}"),
    alias(HttpMethod::Post, "/register", "/api/v1/auth/register"),
    alias(HttpMethod::Post, "/login", "/api/v1/auth/login"),
    alias(HttpMethod::Post, "/posts", "/api/v1/posts"),
    alias(HttpMethod::Put, "/posts/{id}", "/api/v1/posts/{id}"),
    alias(HttpMethod::Delete, "/posts/{id}", "/api/v1/posts/{id}"),
    alias(HttpMethod::Post, "/send-email", "/api/v1/emails"),
    alias(HttpMethod::Post, "/api/users/login", "/api/v1/auth/login"),
    alias(HttpMethod::Post, "/api/users/logout", "/api/v1/auth/logout"),
    alias(HttpMethod::Post, "/api/chats", "/api/v1/chats"),
    alias(
        HttpMethod::Post,
        "/api/v1/auth/signup",
        "/api/v1/auth/register",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/users/signup",
        "/api/v1/auth/register",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/users/signin",
        "/api/v1/auth/login",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/gpt-sys-infos/create",
        "/api/v1/profiles",
    ),
    alias(
        HttpMethod::Put,
        "/api/v1/gpt-sys-infos/{id}",
        "/api/v1/profiles/{id}",
    ),
    alias(
        HttpMethod::Delete,
        "/api/v1/gpt-sys-infos/{id}",
        "/api/v1/profiles/{id}",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/gpt-sys-infos/refbook/create",
        "/api/v1/ref-books",
    ),
    alias(
        HttpMethod::Put,
        "/api/v1/gpt-sys-infos/gpt-sys-infos/{id}",
        "/api/v1/ref-books/{id}",
    ),
    alias(
        HttpMethod::Delete,
        "/api/v1/gpt-sys-infos/gpt-sys-infos/{id}",
        "/api/v1/ref-books/{id}",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/gpt-sys-infos/refdata",
        "/api/v1/ref-data",
    ),
    alias(
        HttpMethod::Put,
        "/api/v1/gpt-sys-infos/refdata/{id}",
        "/api/v1/ref-data/{id}",
    ),
    alias(
        HttpMethod::Delete,
        "/api/v1/gpt-sys-infos/refdata/{id}",
        "/api/v1/ref-data/{id}",
    ),
    alias(
        HttpMethod::Post,
        "/api/v1/public-script/create",
        "/api/v1/public-scripts",
    ),
];

const fn alias(method: HttpMethod, path: &'static str, canonical: &'static str) -> Alias {
    Alias {
        method,
        path,
        canonical,
        fixed: &[],
    }
}

/// The aliases' routes. `auth_limit` and `item_limit` are the very limiters of the
/// canonical routes, so a client gains no allowance by switching paths.
pub fn router(auth_limit: RateLimit, item_limit: Option<RateLimit>) -> Router<AppState> {
    let auth = Router::new()
        .route("/register", post(identity::handlers::register))
        .route("/login", post(identity::handlers::login))
        .route("/api/users/login", post(identity::handlers::login))
        .route("/api/v1/auth/signup", post(identity::handlers::register))
        .route("/api/v1/users/signup", post(identity::handlers::register))
        .route("/api/v1/users/signin", post(identity::handlers::login))
        .route_layer(middleware::from_fn_with_state(
            auth_limit,
            rate_limit::enforce,
        ));
    let items = Router::new()
        .route("/items", post(items::create_item))
        .route(
            "/items/{id}",
            put(items::update_item).delete(items::delete_item),
        );
    let items = match item_limit {
        Some(limit) => {
            items.route_layer(middleware::from_fn_with_state(limit, rate_limit::enforce))
        }
        None => items,
    };
    Router::new()
        .merge(auth)
        .merge(items)
        .merge(prompts())
        .route("/posts", post(board::posts::create_post))
        .route(
            "/posts/{id}",
            put(board::posts::update_post).delete(board::posts::delete_post),
        )
        .route("/send-email", post(email::handlers::request_email))
        .route("/api/users/logout", post(identity::sessions::logout))
        .route("/api/chats", post(chat::rooms::create_room))
}

/// The GPT Supporter's paths of profiles, reference books and texts, and public scripts.
fn prompts() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/gpt-sys-infos/create",
            post(profiles::create_profile),
        )
        .route(
            "/api/v1/gpt-sys-infos/{id}",
            put(profiles::update_profile).delete(profiles::delete_profile),
        )
        .route(
            "/api/v1/gpt-sys-infos/refbook/create",
            post(books::create_book),
        )
        .route(
            "/api/v1/gpt-sys-infos/gpt-sys-infos/{id}",
            put(books::update_book).delete(books::delete_book),
        )
        .route("/api/v1/gpt-sys-infos/refdata", post(data::create_data))
        .route(
            "/api/v1/gpt-sys-infos/refdata/{id}",
            put(data::update_data).delete(data::delete_data),
        )
        .route(
            "/api/v1/public-script/create",
            post(scripts::create_public_script),
        )
}
