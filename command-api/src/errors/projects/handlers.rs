//! The project endpoints (admins only): creating a project with its DSN, renaming it or
//! changing its quota, rotating its key, and setting its alert rules.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use event_store::{Appended, Numbered};
use schemas::errors::{self, AlertRules, ErrorsEvent, PLATFORM_PROJECT};
use serde::Serialize;
use service_kit::{
    ApiError, Json, Path,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    ok,
    public_url::PublicUrl,
};
use utoipa::ToSchema;

use super::{
    aggregate::{self, ProjectError, ProjectState},
    input::{AlertRulesInput, ProjectInput},
    key,
};
use crate::{
    AppState,
    command::{self, CommandContext, NumberedAggregate, Target, UNNUMBERED},
};

impl NumberedAggregate for ProjectState {
    /// Project numbers: the sequence, the stream of project `n` and the payload field.
    const NUMBERS: Numbered = Numbered {
        sequence: "project_ids",
        stream_prefix: errors::PROJECT_STREAM_PREFIX,
        field: "project",
    };

    fn assign_number(event: &mut ErrorsEvent, number: i64) {
        if let ErrorsEvent::ProjectCreated(created) = event {
            created.project = number;
        }
    }
}

/// A project as the command left it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectWritten {
    pub id: i64,
    pub name: String,
    /// The DSN's client key; null for the platform's own project.
    pub public_key: Option<String>,
    /// What an SDK is configured with: `http://<key>@<host>/<id>`; null for the
    /// platform's own project.
    #[schema(example = "http://0123456789abcdef0123456789abcdef@127.0.0.1:8080/1")]
    pub dsn: Option<String>,
    pub rate_limit_per_minute: i64,
    #[schema(value_type = Object)]
    pub alert_rules: AlertRules,
    /// Version of the project; send it back in `If-Match`.
    pub version: i64,
    /// Global position of the command's last event; send it as `X-Min-Position`.
    pub position: i64,
}

/// Create a project for an application to report its errors to (admins only). It gets a
/// sequential id, a random client key and the DSN an SDK is set up with.
#[utoipa::path(
    post, path = "/api/v1/errors/projects", tag = "errors",
    request_body = ProjectInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome")),
    responses(
        (status = 201, description = "Created", body = inline(service_kit::Envelope<ProjectWritten>),
         headers(("Location" = String), ("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<ProjectInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let fields = input.parse()?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(&headers, actor, "CreateProject", &fields)?;
    let public = state.public_address.for_request(&headers);
    let respond = |project, appended: &Appended| respond(project, appended, &public, true);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let event = aggregate::create(
        UNNUMBERED,
        fields,
        key::generate(),
        caller.user_id,
        command::now(),
    );
    command::create_numbered(&state.store, &context, vec![event], respond).await
}

/// Rename a project or change its quota (admins only; not the platform's own project).
#[utoipa::path(
    put, path = "/api/v1/errors/projects/{id}", tag = "errors",
    request_body = ProjectInput,
    params(
        ("id" = i64, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Changed", body = inline(service_kit::Envelope<ProjectWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "The platform's own project, a stale If-Match or a concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named in details.fields)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<ProjectInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let fields = input.parse()?;
    let name = format!("ChangeProject {id}");
    change(&state, &caller, id, &headers, &name, &fields, |project| {
        aggregate::change(project, fields.clone(), caller.user_id, command::now())
    })
    .await
}

/// Replace a project's client key (admins only): the old DSN stops working. Ingestion
/// may accept the old key for the few seconds it caches a project.
#[utoipa::path(
    post, path = "/api/v1/errors/projects/{id}/rotate-key", tag = "errors",
    params(
        ("id" = i64, Path, description = "Project id"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "A new key and DSN", body = inline(service_kit::Envelope<ProjectWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "The platform's own project, a stale If-Match or a concurrent change", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let name = format!("RotateProjectKey {id}");
    change(&state, &caller, id, &headers, &name, &(), |project| {
        aggregate::rotate_key(project, key::generate(), caller.user_id, command::now())
    })
    .await
}

/// Set a project's alert rules, replacing them whole (admins only). The platform's own
/// project, 0, takes them too.
#[utoipa::path(
    put, path = "/api/v1/errors/projects/{id}/alert-rules", tag = "errors",
    request_body = AlertRulesInput,
    params(
        ("id" = i64, Path, description = "Project id (0: the platform's own)"),
        ("If-Match" = Option<String>, Header, description = "The version (ETag) the change is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first outcome"),
    ),
    responses(
        (status = 200, description = "Set", body = inline(service_kit::Envelope<ProjectWritten>),
         headers(("X-Position" = i64), ("ETag" = String))),
        (status = 400, description = "Malformed request", body = ErrorBody),
        Unauthorized,
        (status = 403, description = "The caller is no admin", body = ErrorBody),
        (status = 404, description = "No such project", body = ErrorBody),
        (status = 409, description = "A stale If-Match or a concurrent change", body = ErrorBody),
        (status = 422, description = "Invalid rules (each named in details.fields, e.g. frequency.minutes or email_to[2])", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn set_alert_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<AlertRulesInput>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let rules = input.parse()?;
    let name = format!("SetAlertRules {id}");
    change(&state, &caller, id, &headers, &name, &rules, |project| {
        Ok(aggregate::set_rules(
            project,
            rules.clone(),
            caller.user_id,
            command::now(),
        ))
    })
    .await
}

/// Changes an existing project: answers a retry as the first request was answered, or
/// loads the project, checks `If-Match`, decides, appends and answers.
async fn change(
    state: &AppState,
    caller: &Caller,
    id: i64,
    headers: &HeaderMap,
    operation: &str,
    input: &impl Serialize,
    decide: impl FnOnce(&ProjectState) -> Result<ErrorsEvent, ProjectError>,
) -> Result<Response, ApiError> {
    let if_match = command::if_match(headers)?;
    let actor = Some(caller.user_id.to_string());
    let context = CommandContext::new(headers, actor, operation, input)?;
    let public = state.public_address.for_request(headers);
    let respond = |project, appended: &Appended| respond(project, appended, &public, false);
    if let Some(response) = command::replay(&state.store, &context, respond).await? {
        return Ok(response);
    }
    let project = load(state, id).await?;
    let expected = command::expected_version(project.version, if_match)?;
    let events = [decide(&project).map_err(|err| ApiError::conflict(err.to_string()))?];
    let target = Target::Stream(errors::project_stream_id(id), expected);
    command::append(&state.store, &context, target, &events)
        .await
        .map_err(command::append_error)?
        .answer(&state.store, Some(project), &events, respond)
        .await
}

/// The project, or 404; the platform's exists from the start.
async fn load(state: &AppState, id: i64) -> Result<ProjectState, ApiError> {
    let loaded =
        command::load::<ProjectState>(&state.store, &errors::project_stream_id(id), None).await?;
    match loaded {
        Some(project) => Ok(project),
        None if id == PLATFORM_PROJECT => Ok(ProjectState::platform()),
        None => Err(ApiError::not_found(format!("no project with id {id}"))),
    }
}

fn respond(
    state: Option<ProjectState>,
    appended: &Appended,
    public: &PublicUrl,
    created: bool,
) -> Response {
    let Some(ProjectState { project, version }) = state else {
        return ApiError::internal("a written project has no state").into_response();
    };
    let mut headers = command::position_headers(appended);
    if created {
        let location = format!("/api/v1/errors/projects/{}", project.id);
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&location).expect("ids are valid in headers"),
        );
    }
    let body = ProjectWritten {
        id: project.id,
        dsn: project
            .public_key
            .as_deref()
            .map(|key| public.dsn(key, project.id)),
        name: project.name,
        public_key: project.public_key,
        rate_limit_per_minute: project.rate_limit_per_minute,
        alert_rules: project.rules,
        version,
        position: appended.last_position,
    };
    (command::created_or_ok(created), headers, ok(body)).into_response()
}
