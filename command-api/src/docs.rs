//! The OpenAPI document of command-api, generated from the handlers.

use service_kit::{auth::BearerSecurity, docs::rejections::SharedRejections};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "command-api", description = "Commands of the event-sourced platform: each appends events and answers with the global position it produced."),
    paths(
        crate::items::handlers::create_item,
        crate::items::handlers::update_item,
        crate::items::handlers::delete_item,
        crate::identity::handlers::register,
        crate::identity::handlers::login,
        crate::identity::sessions::refresh,
        crate::identity::sessions::logout,
        crate::identity::members::change_profile,
        crate::seed_paths::change_user,
        crate::identity::members::change_password,
        crate::identity::members::delete_member,
        crate::identity::members::block_member,
        crate::identity::members::unblock_member,
        crate::orders::handlers::place_order,
        crate::orders::handlers::move_order,
        crate::board::posts::create_post,
        crate::board::posts::update_post,
        crate::board::post_patch::patch_post,
        crate::board::posts::delete_post,
        crate::board::comments::add_comment,
        crate::board::comments::delete_comment,
        crate::chat::rooms::create_room,
        crate::chat::rooms::add_member,
        crate::chat::rooms::remove_member,
        crate::chat::messages::send_message,
        crate::chat::messages::mark_read,
        crate::email::handlers::request_email,
        crate::email::handlers::cancel_email,
        crate::email::handlers::retry_email,
        crate::errors::projects::handlers::create_project,
        crate::errors::projects::handlers::update_project,
        crate::errors::projects::handlers::rotate_key,
        crate::errors::projects::handlers::set_alert_rules,
        crate::errors::issues::handlers::resolve_issue,
        crate::errors::issues::handlers::mute_issue,
        crate::errors::issues::handlers::reopen_issue,
        crate::errors::alerts::handlers::retry_alert,
        crate::errors::sentry::ingest::envelope,
        crate::errors::sentry::ingest::store,
        crate::errors::levels::change_log_levels,
        crate::prompts::profiles::create_profile,
        crate::prompts::profiles::update_profile,
        crate::prompts::profiles::delete_profile,
        crate::prompts::books::create_book,
        crate::prompts::books::update_book,
        crate::prompts::books::delete_book,
        crate::prompts::data::create_data,
        crate::prompts::data::update_data,
        crate::prompts::data::delete_data,
        crate::prompts::public_scripts::handlers::create_public_script,
        crate::prompts::public_scripts::handlers::update_public_script,
        crate::prompts::public_scripts::handlers::reorder_public_script,
        crate::prompts::public_scripts::handlers::delete_public_script,
    ),
    components(schemas(
        service_kit::error::ErrorBody,
        service_kit::ApiError,
        service_kit::ErrorCode,
        crate::orders::aggregate::OrderAction,
    )),
    modifiers(&BearerSecurity, &SharedRejections),
    tags(
        (name = "items", description = "Items with sequential ids"),
        (name = "auth", description = "Accounts, login and tokens"),
        (name = "users", description = "The caller's own account"),
        (name = "members", description = "User accounts, for themselves and admins"),
        (name = "orders", description = "Orders and their status machine"),
        (name = "board", description = "Posts and comments"),
        (name = "chat", description = "Rooms, members and messages"),
        (name = "emails", description = "Emails sent on request by a worker"),
        (name = "errors", description = "Error tracking (admins only): projects with their DSNs and alert rules, the issues errors are grouped into, and the log levels of the services"),
        (name = "sentry", description = "Errors other applications report with a Sentry SDK (the paths a DSN leads SDKs to)"),
        (name = "prompts", description = "Prompt profiles with their reference books and texts (each the caller's own), and public scripts (admins write them)"),
    )
)]
struct CommandApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = CommandApiDoc::openapi();
    service_kit::docs::aliases::document(&mut document, crate::seed_paths::ALIASES);
    crate::seed_paths::deprecate(&mut document);
    document
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_that_needs_a_token_documents_its_401() {
        let document = super::openapi();
        assert!(document.paths.paths.len() > 20);
        assert_eq!(
            service_kit::docs::missing_unauthorized(&document),
            Vec::<String>::new()
        );
    }

    /// Registration and login are rate limited per client address.
    #[test]
    fn the_rate_limited_operations_document_their_429() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        for path in ["/api/v1/auth/register", "/api/v1/auth/login"] {
            let limited = &document["paths"][path]["post"]["responses"]["429"];
            assert!(limited["headers"].get("Retry-After").is_some(), "{path}");
        }
    }

    #[test]
    fn every_reference_resolves() {
        let document = super::openapi();
        assert_eq!(
            service_kit::docs::refs::unresolved(&document),
            Vec::<String>::new()
        );
    }

    /// A JSON body may be malformed (400), too large (413), of another type (415) or
    /// invalid (422); a parameter malformed (400); an `Idempotency-Key` reused (422).
    #[test]
    fn every_operation_documents_the_statuses_its_input_can_be_refused_with() {
        let document = super::openapi();
        assert_eq!(
            service_kit::docs::rejections::undocumented(&document),
            Vec::<String>::new()
        );
    }
}
