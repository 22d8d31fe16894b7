//! `GET /api/v1/errors/stream`: the collected records as Server-Sent Events, for admins.
//!
//! A fresh stream starts with the latest records (the `backlog`), then live ones. A
//! client that reconnects with `Last-Event-ID: P` gets the records after P from the log,
//! then live ones: every frame's id is its event's position, so nothing is missed or
//! repeated. A dashboard that falls too far behind the live records has its stream ended
//! and resumes the same way, as does one whose session ends (logout, blocking) or whose
//! access token expires (after an `expired` frame, with a fresh token).

use std::{collections::HashMap, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures::StreamExt;
use service_kit::{
    ApiError,
    auth::{revocations::Revocations, session_ended},
    docs::events::ServerSentEvent,
    error::{ErrorBody, Unauthorized},
};
use sqlx::PgPool;
use tokio::{
    sync::{
        broadcast::{self, error::RecvError},
        mpsc,
    },
    time::Instant,
};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{filter::Filter, history, tail::Record};
use crate::{
    AppState,
    chat::{frames, stream::StreamCaller},
};

/// What the client is told to wait before reconnecting.
const RETRY_MS: u64 = 1000;
/// Records a fresh stream starts with, unless `backlog` says otherwise.
const DEFAULT_BACKLOG: usize = 100;
const MAX_BACKLOG: usize = 500;
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Follow the collected records (admins only): the latest first, then live.
#[utoipa::path(
    get, path = "/api/v1/errors/stream", tag = "errors",
    params(
        ("level" = Option<String>, Query, description = "Leave out records below this level (debug, info, warning, error, fatal)"),
        ("service" = Option<String>, Query, description = "Only this service's records (a platform service, or an SDK's server name)"),
        ("project" = Option<i64>, Query, description = "Only this project's records (0: the platform's own)"),
        ("q" = Option<String>, Query, description = "Only records whose title, message, target or culprit hold this text"),
        ("backlog" = Option<usize>, Query, description = "How many of the latest records a fresh stream starts with (default 100, at most 500)"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last id seen: the stream resumes after it"),
        ("access_token" = Option<String>, Query, description = "The access token, for clients that cannot send Authorization"),
    ),
    responses(
        (status = 200, description = "text/event-stream of `record` frames (a Record, with its position as id), `reset` when Last-Event-ID cannot be resumed from, and `expired` as the stream ends when the access token expires", content_type = "text/event-stream", body = ServerSentEvent),
        Unauthorized,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A bad filter", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn tail_stream(
    State(state): State<AppState>,
    StreamCaller { caller, expires }: StreamCaller,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    // Revocations are followed before the session is looked up again, so none is missed
    // between the token's check and the end of the stream.
    let revocations = state.tokens.revocations.clone();
    let revoked = revocations.subscribe();
    if revocations.is_revoked(caller.session_id) {
        return Err(session_ended());
    }
    let filter = Filter::parse(&query)?;
    let backlog = match query.get("backlog") {
        None => DEFAULT_BACKLOG,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_BACKLOG)
            .ok_or_else(|| {
                ApiError::invalid_fields(serde_json::Map::from_iter([(
                    "backlog".to_owned(),
                    serde_json::json!(format!("must be a number from 0 to {MAX_BACKLOG}")),
                )]))
            })?,
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("last_event_id").map(String::as_str))
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| id.parse::<i64>().ok().filter(|p| *p >= 0));
    let dashboard = state.dashboard.clone();
    let (live, through) = dashboard.tail.subscribe();
    let (body, frames) = mpsc::channel::<Bytes>(64);
    let open = OpenTail {
        pool: state.pool.clone(),
        filter,
        through,
        shutdown: dashboard.shutdown.clone(),
        session: Session {
            id: caller.session_id,
            revocations,
            revoked,
            expires,
        },
    };
    tokio::spawn(async move {
        metrics::gauge!("errors_tail_streams_open").increment(1.0);
        let _ = open.serve(live, resume, backlog, &body).await;
        metrics::gauge!("errors_tail_streams_open").decrement(1.0);
    });
    let mut response =
        Body::from_stream(ReceiverStream::new(frames).map(Ok::<_, Infallible>)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

struct OpenTail {
    pool: PgPool,
    filter: Filter,
    /// Records after this arrive live; the rest is history.
    through: i64,
    shutdown: CancellationToken,
    session: Session,
}

/// The session a stream was opened in: the stream ends with it, or when its token expires.
struct Session {
    id: Uuid,
    revocations: Revocations,
    revoked: broadcast::Receiver<Uuid>,
    expires: Instant,
}

impl Session {
    /// Resolves when the session has ended (logout, blocking, deletion).
    async fn ended(&mut self) {
        loop {
            match self.revoked.recv().await {
                Ok(session) if session == self.id => return,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) if self.revocations.is_revoked(self.id) => return,
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

/// The client has gone.
struct Gone;

impl OpenTail {
    async fn serve(
        mut self,
        mut live: tokio::sync::broadcast::Receiver<Arc<Record>>,
        resume: Option<Option<i64>>,
        backlog: usize,
        body: &mpsc::Sender<Bytes>,
    ) -> Result<(), Gone> {
        send(body, frames::preamble(RETRY_MS)).await?;
        let history = match resume {
            None => history::latest(&self.pool, self.through, backlog, &self.filter).await,
            Some(Some(after)) if after <= self.through => {
                history::after(&self.pool, after, self.through, &self.filter).await
            }
            Some(Some(_)) => {
                send(body, frames::reset("event id not reached", self.through)).await?;
                Ok(Vec::new())
            }
            Some(None) => {
                send(body, frames::reset("unknown event id", self.through)).await?;
                Ok(Vec::new())
            }
        };
        match history {
            Ok(records) => {
                for record in &records {
                    send(body, frame(record)).await?;
                }
            }
            Err(err) => {
                // The client resumes from its last id and gets the history then.
                tracing::warn!(error = %err, "could not read the tail's history");
                return Ok(());
            }
        }
        let expires = self.session.expires;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                record = live.recv() => match record {
                    Ok(record) => {
                        if record.position > self.through && self.filter.admits(&record) {
                            send(body, frame(&record)).await?;
                        }
                    }
                    // Too far behind: end, and let the client resume from the log.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return Ok(()),
                },
                _ = heartbeat.tick() => send(body, frames::heartbeat()).await?,
                _ = self.session.ended() => return Ok(()),
                _ = tokio::time::sleep_until(expires) => {
                    send(body, frames::expired()).await?;
                    return Ok(());
                }
                _ = body.closed() => return Err(Gone),
                _ = self.shutdown.cancelled() => return Ok(()),
            }
        }
    }
}

fn frame(record: &Record) -> Bytes {
    frames::logged(record.position, "record", record)
}

async fn send(body: &mpsc::Sender<Bytes>, frame: Bytes) -> Result<(), Gone> {
    body.send(frame).await.map_err(|_| Gone)
}
