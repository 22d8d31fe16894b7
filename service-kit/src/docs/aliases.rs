//! The seeds' own paths, served beside the canonical ones for clients written against the
//! original assignments: each alias is documented as a copy of its canonical operation,
//! marked deprecated and naming the path to use instead, so the two cannot drift apart.

use utoipa::openapi::{
    HttpMethod, OpenApi,
    path::{Operation, PathItem},
};

/// One seed path answered by a canonical operation's handler.
pub struct Alias {
    pub method: HttpMethod,
    /// The seed's path, with the canonical operation's parameter names.
    pub path: &'static str,
    /// The canonical operation's path.
    pub canonical: &'static str,
    /// The canonical operation's method, when it is not the seed's (a seed's `PUT` that
    /// replaces what the canonical `PATCH` changes).
    pub canonical_method: Option<HttpMethod>,
    /// Query parameters the alias fixes (e.g. `type=direct`), left out of its document.
    pub fixed: &'static [&'static str],
}

/// Adds each alias to the document as a deprecated copy of its canonical operation.
///
/// Panics when a canonical operation is missing: an alias of nothing is a build mistake.
pub fn document(openapi: &mut OpenApi, aliases: &[Alias]) {
    for alias in aliases {
        let mut operation = canonical(openapi, alias)
            .unwrap_or_else(|| {
                panic!(
                    "alias {} of an undocumented operation {}",
                    alias.path, alias.canonical
                )
            })
            .clone();
        mark(&mut operation, alias);
        let item = openapi
            .paths
            .paths
            .entry(alias.path.to_owned())
            .or_insert_with(|| PathItem::new(alias.method.clone(), operation.clone()));
        *slot(item, &alias.method) = Some(operation);
    }
}

fn canonical<'a>(openapi: &'a mut OpenApi, alias: &Alias) -> Option<&'a Operation> {
    let item = openapi.paths.paths.get_mut(alias.canonical)?;
    let method = alias.canonical_method.as_ref().unwrap_or(&alias.method);
    slot(item, method).as_ref()
}

fn mark(operation: &mut Operation, alias: &Alias) {
    let method = method_name(alias.canonical_method.as_ref().unwrap_or(&alias.method));
    let fixed = if alias.fixed.is_empty() {
        String::new()
    } else {
        format!(" (with {} fixed)", alias.fixed.join(", "))
    };
    operation.deprecated = Some(utoipa::openapi::Deprecated::True);
    operation.summary = Some(format!("Deprecated: use {method} {}", alias.canonical));
    operation.description = Some(format!(
        "The path an original assignment named, kept for its clients: the same handler, \
         authentication, validation and envelope as {method} {}{fixed}.",
        alias.canonical
    ));
    operation.operation_id = operation
        .operation_id
        .take()
        .map(|id| format!("{id}_seed_path"));
    if let Some(parameters) = operation.parameters.as_mut() {
        parameters.retain(|p| !alias.fixed.contains(&p.name.as_str()));
    }
}

fn slot<'a>(item: &'a mut PathItem, method: &HttpMethod) -> &'a mut Option<Operation> {
    match method {
        HttpMethod::Get => &mut item.get,
        HttpMethod::Post => &mut item.post,
        HttpMethod::Put => &mut item.put,
        HttpMethod::Patch => &mut item.patch,
        HttpMethod::Delete => &mut item.delete,
        HttpMethod::Head => &mut item.head,
        HttpMethod::Options => &mut item.options,
        HttpMethod::Trace => &mut item.trace,
    }
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder, path::OperationBuilder};

    use super::*;

    #[test]
    fn an_alias_is_a_deprecated_copy_naming_its_canonical_path() {
        let operation = OperationBuilder::new()
            .operation_id(Some("list_things"))
            .response(
                "200",
                utoipa::openapi::ResponseBuilder::new().description("Things"),
            );
        let paths =
            PathsBuilder::new().path("/api/v1/things", PathItem::new(HttpMethod::Get, operation));
        let mut openapi = OpenApiBuilder::new().paths(paths).build();
        let aliases = [Alias {
            method: HttpMethod::Get,
            path: "/things",
            canonical: "/api/v1/things",
            canonical_method: None,
            fixed: &[],
        }];
        document(&mut openapi, &aliases);
        let alias = openapi.paths.paths["/things"].get.as_ref().unwrap();
        assert!(alias.deprecated == Some(utoipa::openapi::Deprecated::True));
        assert_eq!(alias.operation_id.as_deref(), Some("list_things_seed_path"));
        assert!(
            alias
                .summary
                .as_ref()
                .unwrap()
                .contains("GET /api/v1/things")
        );
        assert!(alias.responses.responses.contains_key("200"));
        let canonical = openapi.paths.paths["/api/v1/things"].get.as_ref().unwrap();
        assert!(canonical.deprecated.is_none());
    }
}
