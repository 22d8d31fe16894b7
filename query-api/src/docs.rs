//! The OpenAPI document of query-api, generated from the handlers.

use service_kit::{auth::BearerSecurity, docs::rejections::SharedRejections};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "query-api", description = "Queries of the event-sourced platform. Send `X-Min-Position` with a position from a command response to read your own write."),
    paths(
        crate::items::handlers::list_items,
        crate::items::handlers::get_item,
        crate::members::handlers::me,
        crate::members::handlers::get_member,
        crate::members::handlers::list_members,
        crate::orders::handlers::list_orders,
        crate::orders::handlers::get_order,
        crate::board::handlers::list_posts,
        crate::board::handlers::get_post,
        crate::board::handlers::list_comments,
        crate::chat::handlers::my_rooms,
        crate::chat::handlers::user_rooms,
        crate::chat::handlers::get_room,
        crate::chat::handlers::history,
        crate::chat::handlers::get_message,
        crate::chat::handlers::online_users,
        crate::chat::handlers::search_users,
        crate::chat::stream::user_stream,
        crate::chat::stream::room_stream,
        crate::dashboard::stream::tail_stream,
        crate::email::handlers::list_emails,
        crate::email::handlers::get_email,
        crate::errors::handlers::list_projects,
        crate::errors::handlers::get_project,
        crate::errors::handlers::list_issues,
        crate::errors::handlers::get_issue,
        crate::errors::handlers::issue_events,
        crate::errors::handlers::counts,
        crate::errors::alerts::handlers::list_alerts,
        crate::errors::levels::log_levels,
        crate::prompts::handlers::list_profiles,
        crate::prompts::handlers::get_profile,
        crate::prompts::dialogues::dialogues,
        crate::prompts::history::history,
        crate::prompts::handlers::list_books,
        crate::prompts::handlers::get_book,
        crate::prompts::handlers::list_data,
        crate::prompts::handlers::get_data,
        crate::prompts::public_scripts::list_public_scripts,
        crate::prompts::public_scripts::get_public_script,
    ),
    components(schemas(
        service_kit::error::ErrorBody,
        service_kit::ApiError,
        service_kit::ErrorCode,
        crate::email::change::EmailChange,
        crate::dashboard::tail::Record,
        service_kit::docs::events::ServerSentEvent,
    )),
    modifiers(&BearerSecurity, &SharedRejections),
    tags(
        (name = "items", description = "Items with sequential ids"),
        (name = "users", description = "The caller's own account"),
        (name = "members", description = "User accounts, for themselves and admins"),
        (name = "orders", description = "Orders: a member's own, or everyone's for admins"),
        (name = "board", description = "Posts and comments; reading needs no account"),
        (name = "chat", description = "Rooms, history, live streams (Server-Sent Events) and presence"),
        (name = "emails", description = "Emails and their attempts: a user's own, or everyone's for admins. Status changes are pushed on the user's stream, `GET /api/v1/chats/stream`, as `email` events"),
        (name = "errors", description = "Error tracking (admins only): projects with their DSNs, issues with their latest error, counts per level per minute, the alerts raised on them, the live stream of collected records, and the log levels in force"),
        (name = "prompts", description = "One's own prompt profiles (with their dialogues, history and past states), reference books and texts; the public scripts every logged-in user reads"),
    )
)]
struct QueryApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = QueryApiDoc::openapi();
    service_kit::docs::aliases::document(&mut document, crate::seed_paths::ALIASES);
    document
}

/// Declares the OpenAPI schema of a status type from `schemas`, whose crate knows nothing
/// of OpenAPI: an enum of the status names, taken from the type itself (its `ALL` and
/// `as_str`) so that the two cannot drift apart.
macro_rules! status_schema {
    ($(#[$meta:meta])* $schema:ident for $status:ty, $name:literal, $description:literal) => {
        $(#[$meta])*
        pub struct $schema;

        impl utoipa::PartialSchema for $schema {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some(<$status>::ALL.map(<$status>::as_str)))
                    .description(Some($description))
                    .build()
                    .into()
            }
        }

        impl utoipa::ToSchema for $schema {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}
pub(crate) use status_schema;

#[cfg(test)]
mod tests {
    use schemas::{email::EmailStatus, orders::OrderStatus};
    use serde_json::{Value, json};

    #[test]
    fn every_operation_that_needs_a_token_documents_its_401() {
        assert_eq!(
            service_kit::docs::missing_unauthorized(&super::openapi()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_reference_resolves() {
        assert_eq!(
            service_kit::docs::refs::unresolved(&super::openapi()),
            Vec::<String>::new()
        );
    }

    /// A malformed parameter, `X-Min-Position` among them, is a 400 on every read.
    #[test]
    fn every_operation_documents_the_statuses_its_input_can_be_refused_with() {
        assert_eq!(
            service_kit::docs::rejections::undocumented(&super::openapi()),
            Vec::<String>::new()
        );
    }

    /// Before OpenAPI 3.2 the schema of a `text/event-stream` response is that of one
    /// event, which a client reads as its name, data and id, never as one string.
    #[test]
    fn every_stream_documents_the_schema_of_one_event() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        let mut streams = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            let content = &item["get"]["responses"]["200"]["content"];
            if let Some(stream) = content.get("text/event-stream") {
                streams += 1;
                assert_eq!(
                    stream["schema"]["$ref"], "#/components/schemas/ServerSentEvent",
                    "{path}"
                );
            }
        }
        assert_eq!(streams, 3);
    }

    /// The query parameter `name` of `GET path` in `document`.
    fn query_parameter<'a>(document: &'a Value, path: &str, name: &str) -> &'a Value {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("GET {path} documents no parameter {name}"))
    }

    #[test]
    fn an_order_status_is_documented_as_the_enum_of_its_names() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        let names: Vec<&str> = OrderStatus::ALL.map(OrderStatus::as_str).to_vec();
        let schema = &document["components"]["schemas"]["OrderStatus"];
        assert_eq!(schema["enum"], json!(names), "{schema}");
        let view = &document["components"]["schemas"]["OrderView"]["properties"]["status"];
        assert_eq!(view["$ref"], "#/components/schemas/OrderStatus", "{view}");
        let filter = query_parameter(&document, "/api/v1/orders", "status");
        assert_eq!(filter["schema"]["enum"], json!(names), "{filter}");
    }

    #[test]
    fn an_email_status_is_documented_as_the_enum_of_its_names_wherever_it_appears() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        let names: Vec<&str> = EmailStatus::ALL.map(EmailStatus::as_str).to_vec();
        let schemas = &document["components"]["schemas"];
        assert_eq!(schemas["EmailStatus"]["enum"], json!(names));
        for holder in ["EmailFields", "EmailChange"] {
            let status = &schemas[holder]["properties"]["status"];
            assert_eq!(
                status["$ref"], "#/components/schemas/EmailStatus",
                "{holder}"
            );
        }
        let filter = query_parameter(&document, "/api/v1/emails", "status");
        assert_eq!(filter["schema"]["enum"], json!(names), "{filter}");
    }
}
