//! The statuses that the shared extractors answer for every operation of a kind, added
//! to each such operation's document so that none can be left out: a client (or a
//! generator) reading the document learns every status it may meet.

use utoipa::openapi::{
    ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    path::{Operation, ParameterIn, PathItem},
};

/// A status an operation answers because of what it takes, with the reason documented.
struct Rejection {
    status: &'static str,
    description: &'static str,
}

/// Any parameter (path, query or header) that does not parse: [`crate::Path`],
/// [`crate::Query`], `X-Min-Position`, `If-Match`, `Idempotency-Key`.
const MALFORMED_PARAMETER: Rejection = Rejection {
    status: "400",
    description: "A malformed parameter (path, query or header)",
};

/// What [`crate::Json`] and the body limit answer for a JSON body.
const JSON_BODY: [Rejection; 4] = [
    Rejection {
        status: "400",
        description: "Malformed JSON, or a malformed parameter",
    },
    Rejection {
        status: "413",
        description: "The body is larger than this operation takes",
    },
    Rejection {
        status: "415",
        description: "The body is not Content-Type: application/json",
    },
    Rejection {
        status: "422",
        description: "A field is missing, unknown, of the wrong type or invalid (details.fields)",
    },
];

/// A retry under an `Idempotency-Key` already answered for a different request.
const REUSED_KEY: Rejection = Rejection {
    status: "422",
    description: "This Idempotency-Key was already used with a different request",
};

/// What any operation answers while the database is out of reach or a statement runs past
/// its timeout ([`crate::ApiError::failure`]).
const UNAVAILABLE: Rejection = Rejection {
    status: "503",
    description: "The database is out of reach or too slow: retry after Retry-After seconds",
};

/// Adds the [`rejections`] of each operation it does not document yet.
pub struct SharedRejections;

impl utoipa::Modify for SharedRejections {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (_, operation) in operations(item) {
                for rejection in rejections(operation) {
                    operation
                        .responses
                        .responses
                        .entry(rejection.status.to_owned())
                        .or_insert_with(|| error_response(rejection.description));
                }
            }
        }
    }
}

/// The statuses an operation answers by what it takes (a parameter, a JSON body, an
/// `Idempotency-Key`) and the `503` every operation may answer.
fn rejections(operation: &Operation) -> Vec<&'static Rejection> {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let mut rejections = Vec::new();
    if takes_json(operation) {
        rejections.extend(&JSON_BODY);
    }
    if !parameters.is_empty() {
        rejections.push(&MALFORMED_PARAMETER);
    }
    let takes_key = parameters.iter().any(|p| {
        p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case("Idempotency-Key")
    });
    if takes_key {
        rejections.push(&REUSED_KEY);
    }
    rejections.push(&UNAVAILABLE);
    // One reason a status: the first given.
    let mut seen = Vec::new();
    rejections.retain(|rejection| {
        let first = !seen.contains(&rejection.status);
        seen.push(rejection.status);
        first
    });
    rejections
}

fn takes_json(operation: &Operation) -> bool {
    operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"))
}

/// The operations of a path, each with its method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("PATCH", &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// The statuses operations of a document answer by what they take but do not document,
/// as `METHOD path: status`.
pub fn undocumented(document: &OpenApi) -> Vec<String> {
    let mut document = document.clone();
    let mut missing = Vec::new();
    for (path, item) in document.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            for rejection in rejections(operation) {
                if !operation.responses.responses.contains_key(rejection.status) {
                    missing.push(format!("{method} {path}: {}", rejection.status));
                }
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use utoipa::{
        Modify,
        openapi::{
            HttpMethod, OpenApiBuilder, PathsBuilder,
            path::{OperationBuilder, ParameterBuilder, PathItem},
            request_body::RequestBodyBuilder,
        },
    };

    use super::*;

    fn document() -> OpenApi {
        let operation = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header),
            )
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            ))
            .response("422", ResponseBuilder::new().description("A bad name"));
        let paths = PathsBuilder::new().path("/things", PathItem::new(HttpMethod::Post, operation));
        OpenApiBuilder::new().paths(paths).build()
    }

    #[test]
    fn a_command_with_a_json_body_and_a_key_documents_what_refuses_them() {
        let mut document = document();
        assert_eq!(
            undocumented(&document),
            [
                "POST /things: 400",
                "POST /things: 413",
                "POST /things: 415",
                "POST /things: 503"
            ]
        );
        SharedRejections.modify(&mut document);
        assert_eq!(undocumented(&document), Vec::<String>::new());
        let responses = &document.paths.paths["/things"]
            .post
            .as_ref()
            .unwrap()
            .responses;
        let statuses: Vec<&str> = responses.responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["400", "413", "415", "422", "503"]);
        // What the operation documented itself is kept.
        let RefOr::T(kept) = &responses.responses["422"] else {
            panic!("an inline response")
        };
        assert_eq!(kept.description, "A bad name");
    }
}
