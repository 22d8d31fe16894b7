//! The public scripts admins write, for every logged-in user: a listing (by id, without
//! the scripts' texts) and single public scripts with their scripts by number. Cached and
//! retired by the public script events.

use crate::snapshot;
use axum::{Router, extract::State, http::HeaderMap, response::Response, routing::get};
use bytes::Bytes;
use schemas::{
    DomainEvent, RecordedEvent,
    prompts::{PromptsEvent, SCRIPT_EVENT_TYPES, Script},
};
use serde::Serialize;
use service_kit::{
    ApiError, Path, Query,
    auth::Caller,
    error::{ErrorBody, Unauthorized},
    paging::{Page, PageParams, Paged},
    response::Envelope,
};
use sqlx::{PgPool, QueryBuilder, Row, types::Json};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::CachedView;
use crate::{
    AppState,
    cache::{CacheSize, GuardedCache},
    consistency::MinPosition,
    follow::Invalidate,
    read_model::ReadModel,
    respond::{json, render, versioned},
};

pub struct PublicScriptsReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub by_id: GuardedCache<i64, CachedView>,
    /// Listing pages: any public script event may change any of them.
    pub pages: GuardedCache<Page, Bytes, ()>,
}

impl PublicScriptsReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("public_scripts", PromptsEvent::CONTEXT),
            source,
            by_id: GuardedCache::new("public_scripts", size),
            pages: GuardedCache::grouped("public_script_pages", size, |_| ()),
        }
    }
}

impl Invalidate for PublicScriptsReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&SCRIPT_EVENT_TYPES)
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<PromptsEvent>().map(|e| e.script_id()) {
            Ok(Some(id)) => {
                self.by_id.invalidate(id, event.position);
                self.pages.invalidate((), event.position);
            }
            Ok(None) => {}
            Err(_) => self.on_reset(event.position),
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.by_id.invalidate_all(position);
        self.pages.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/public-scripts", get(list_public_scripts))
        .route("/api/v1/public-scripts/{id}", get(get_public_script))
}

/// A public script in a listing.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PublicScriptSummary {
    #[sqlx(rename = "script_id")]
    pub id: i64,
    pub name: String,
    pub description: String,
    pub script_count: i32,
    pub version: i64,
    pub created_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// One script of a public script.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScriptView {
    /// 1 to 10.
    pub number: i16,
    pub text: String,
}

/// A public script with its scripts, by number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicScriptView {
    #[serde(flatten)]
    pub script: PublicScriptSummary,
    pub scripts: Vec<ScriptView>,
}

/// List the public scripts, oldest first (as admins built the collection).
#[utoipa::path(
    get, path = "/api/v1/public-scripts", tag = "prompts",
    params(
        PageParams,
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "One page of public scripts", body = inline(Envelope<Paged<PublicScriptSummary>>)),
        (status = 400, description = "Bad paging parameter or position", body = ErrorBody),
        Unauthorized,
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_public_scripts(
    State(state): State<AppState>,
    _caller: Caller,
    Query(params): Query<PageParams>,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let page = params.validate()?;
    let model = &state.public_scripts;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    if let Some(body) = model.pages.get(&page) {
        return Ok(json(body, None));
    }
    let (applied, total, scripts) = listing(&state.pool, &model.source, page)
        .await
        .map_err(ApiError::failure)?;
    let body = render(page.of(scripts, total));
    model.pages.insert(page, body.clone(), applied);
    Ok(json(body, None))
}

/// Get one public script with its scripts, and its version as ETag. One that does not
/// exist is a `404`.
#[utoipa::path(
    get, path = "/api/v1/public-scripts/{id}", tag = "prompts",
    params(
        ("id" = i64, Path, description = "Public script id"),
        ("X-Min-Position" = Option<i64>, Header, description = "Wait until the read model reflects this position"),
    ),
    responses(
        (status = 200, description = "The public script", body = inline(Envelope<PublicScriptView>), headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Bad id or position", body = ErrorBody),
        Unauthorized,
        (status = 404, description = "No such public script", body = ErrorBody),
        (status = 504, description = "The read model did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_public_script(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
    min: MinPosition,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let model = &state.public_scripts;
    min.wait(&model.progress, &state.pool, state.read_timeout)
        .await?;
    let cached = match model.by_id.get(&id) {
        Some(cached) => cached,
        None => {
            let (applied, script) = one(&state.pool, &model.source, id)
                .await
                .map_err(ApiError::failure)?
                .ok_or_else(|| ApiError::not_found(format!("no public script with id {id}")))?;
            let cached = CachedView {
                version: script.script.version,
                body: render(script),
            };
            model.by_id.insert(id, cached.clone(), applied);
            cached
        }
    };
    Ok(versioned(cached.body, cached.version, &headers))
}

const SUMMARY: &str = "s.script_id, s.name, s.description, s.script_count, s.version, \
     s.created_by, s.created_at, s.updated_at";

/// One public script, and the position the snapshot reflects.
async fn one(
    pool: &PgPool,
    source: &str,
    id: i64,
) -> Result<Option<(i64, PublicScriptView)>, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, s.scripts, ");
    query.push(SUMMARY).push(" FROM public_scripts s, ");
    snapshot::push_checkpoint(&mut query, "public_scripts", source);
    query.push(" c WHERE s.script_id = ").push_bind(id);
    let Some(row) = query.build().fetch_optional(pool).await? else {
        return Ok(None);
    };
    let scripts: Json<Vec<Script>> = row.try_get("scripts")?;
    let view = PublicScriptView {
        script: sqlx::FromRow::from_row(&row)?,
        scripts: scripts
            .0
            .into_iter()
            .map(|Script { number, text }| ScriptView { number, text })
            .collect(),
    };
    Ok(Some((row.try_get("applied")?, view)))
}

/// One page of public scripts by id: the position the snapshot reflects, the total, the
/// scripts.
async fn listing(
    pool: &PgPool,
    source: &str,
    page: Page,
) -> Result<(i64, i64, Vec<PublicScriptSummary>), sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT c.applied, t.total, s.* FROM ");
    snapshot::push_checkpoint(&mut query, "public_scripts", source);
    query
        .push(" c CROSS JOIN (SELECT count(*) AS total FROM public_scripts) t ")
        .push("LEFT JOIN LATERAL (SELECT ")
        .push(SUMMARY)
        .push(" FROM public_scripts s ORDER BY s.script_id LIMIT ")
        .push_bind(page.limit())
        .push(" OFFSET ")
        .push_bind(page.offset())
        .push(") s ON true ORDER BY s.script_id");
    let rows = query.build().fetch_all(pool).await?;
    snapshot::split_page(&rows, "script_id")
}
