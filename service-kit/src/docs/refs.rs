//! Whether every `$ref` of a document leads somewhere: one that does not leaves its
//! operation unusable to generators and clients alike.

use serde_json::Value;
use utoipa::openapi::OpenApi;

/// The references of a document (`#/components/schemas/...`) that name nothing in it.
pub fn unresolved(document: &OpenApi) -> Vec<String> {
    let document = serde_json::to_value(document).expect("a document serializes");
    let mut unresolved = Vec::new();
    collect(&document, &document, &mut unresolved);
    unresolved.sort();
    unresolved.dedup();
    unresolved
}

fn collect(document: &Value, value: &Value, unresolved: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::String(target)) = fields.get("$ref") {
                let found = target
                    .strip_prefix('#')
                    .and_then(|pointer| document.pointer(pointer));
                if found.is_none() {
                    unresolved.push(target.clone());
                }
            }
            fields
                .values()
                .for_each(|field| collect(document, field, unresolved));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect(document, item, unresolved)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::{ContentBuilder, OpenApiBuilder, Ref, ResponseBuilder};

    use super::*;

    #[test]
    fn a_reference_to_a_missing_schema_is_named() {
        let response = ResponseBuilder::new()
            .description("ok")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Missing")))
                    .build(),
            )
            .build();
        let components = utoipa::openapi::ComponentsBuilder::new()
            .response("Found", response)
            .build();
        let document = OpenApiBuilder::new().components(Some(components)).build();
        assert_eq!(unresolved(&document), ["#/components/schemas/Missing"]);
    }
}
