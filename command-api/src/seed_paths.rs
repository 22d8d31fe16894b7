//! The commands at the paths the original assignments named (README, "Endpoint map"), for
//! clients written against them: each is a canonical endpoint's handler, so its
//! authentication, validation, rate limit and envelope are that endpoint's. Documented as
//! deprecated copies of the canonical operations.

use axum::{
    Router,
    extract::State,
    http::HeaderMap,
    middleware,
    response::Response,
    routing::{patch, post, put},
};
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    docs::aliases::Alias,
    error::{ErrorBody, Unauthorized},
    rate_limit::{self, RateLimit},
};
use utoipa::openapi::HttpMethod;
use uuid::Uuid;

use crate::{
    AppState, board, chat, email,
    identity::{
        self,
        members::{ProfileInput, change_profile},
    },
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
    // The account's one changeable field is its name: the seed's PUT of the profile
    // replaces just what the canonical PATCH changes.
    Alias {
        method: HttpMethod::Put,
        path: "/api/v1/users/me",
        canonical: "/api/v1/users/me",
        canonical_method: Some(HttpMethod::Patch),
        fixed: &[],
    },
];

const fn alias(method: HttpMethod, path: &'static str, canonical: &'static str) -> Alias {
    Alias {
        method,
        path,
        canonical,
        canonical_method: None,
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
        .route("/api/v1/users/{id}", patch(change_user))
        .route("/api/v1/users/me", put(change_profile))
}

/// The production API's `PATCH /users/{id}`: `PATCH /api/v1/users/me` when `id` is the
/// caller's own; no one changes another's account (403).
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    summary = "Deprecated: use PATCH /api/v1/users/me",
    params(("id" = Uuid, Path, description = "The caller's own user id")),
    request_body = ProfileInput,
    responses(
        (status = 200, description = "Changed", body = inline(service_kit::Envelope<identity::handlers::AccountWritten>), headers(("X-Position" = i64))),
        Unauthorized,
        (status = 403, description = "Another user's account", body = ErrorBody),
        (status = 422, description = "Invalid name", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn change_user(
    state: State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    input: Json<ProfileInput>,
) -> Result<Response, ApiError> {
    if id != caller.user_id {
        return Err(ApiError::forbidden("only one's own account is changed"));
    }
    change_profile(state, caller, headers, input).await
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

/// Marks the seed paths documented by their own handlers (not copies) as deprecated.
pub fn deprecate(document: &mut utoipa::openapi::OpenApi) {
    let user = document.paths.paths.get_mut("/api/v1/users/{id}");
    let operation = user.and_then(|item| item.patch.as_mut());
    operation
        .expect("PATCH /api/v1/users/{id} is documented")
        .deprecated = Some(utoipa::openapi::Deprecated::True);
}
