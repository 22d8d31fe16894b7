//! The live streams (Server-Sent Events): one per user carrying all of their rooms and
//! the status changes of their emails, and one per room.
//!
//! A stream registers with the hub first, at some position S: every event after S will
//! arrive live. A client that sends `Last-Event-ID: P` then gets what it missed in (P, S]
//! from the read models (once the projections have applied S): the messages of its rooms
//! and, on a user's stream, the latest change of each email that changed in (P, S]; then
//! the live frames. Every frame's id is the position of its event and the frames leave in
//! position order (the hub merges chat and email back into log order), so whatever the
//! last id a client saw, no message is missed or repeated, and every email it missed
//! arrives once with its latest status. An id that cannot be resumed from (not a
//! position, or one this log never reached) gets an explicit `reset`.

use std::{
    convert::Infallible,
    sync::Arc,
    time::{Duration, SystemTime},
};

use axum::{
    body::Body,
    extract::{FromRef, FromRequestParts, State},
    http::{HeaderMap, HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use futures::StreamExt;
use service_kit::{
    ApiError, Path,
    auth::{Caller, Tokens, bearer_token, session_ended, unauthenticated},
    docs::events::ServerSentEvent,
    error::{ErrorBody, Unauthorized},
};
use tokio::{sync::mpsc, time::Instant};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    ChatReadModel, frames,
    history::{self, Scope},
    hub::{RegisterError, Registration},
};
use crate::{
    AppState,
    consistency::{MinPosition, X_MIN_POSITION},
    email::EmailsReadModel,
};

/// What the client is told to wait before reconnecting.
const RETRY_MS: u64 = 1000;

/// The caller of a stream: from `Authorization: Bearer`, or from `access_token` in the
/// query, since browsers' EventSource cannot send headers; and when their token expires,
/// which ends the stream (the client reconnects with a fresh token and `Last-Event-ID`).
pub struct StreamCaller {
    pub caller: Caller,
    pub expires: Instant,
}

impl<S> FromRequestParts<S> for StreamCaller
where
    S: Send + Sync,
    Arc<Tokens>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = match bearer_token(parts)? {
            Some(token) => token,
            None => query_param(parts.uri.query(), "access_token").ok_or_else(|| {
                unauthenticated(
                    "this needs an access token: Authorization: Bearer <token>, or ?access_token=<token>",
                )
            })?,
        };
        let (caller, expires) = Arc::<Tokens>::from_ref(state).caller_until(token)?;
        let left = expires
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        Ok(Self {
            caller,
            expires: Instant::now() + left,
        })
    }
}

/// A query parameter's raw value (the values streams take need no decoding).
fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?.split('&').find_map(|pair| {
        pair.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

/// Where the client resumes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// A fresh stream: live frames only.
    Fresh,
    /// After this position.
    After(i64),
    /// An id that is not a position.
    Unknown,
}

impl Resume {
    /// From `Last-Event-ID` (what EventSource sends on reconnect), or `last_event_id` in
    /// the query for clients that cannot set headers on the first connection.
    fn of(parts: &HeaderMap, query: Option<&str>) -> Self {
        let header = parts
            .get("last-event-id")
            .map(|v| v.to_str().unwrap_or_default().trim().to_owned());
        let query = query_param(query, "last_event_id").map(str::to_owned);
        match header.or(query) {
            None => Self::Fresh,
            Some(id) if id.is_empty() => Self::Fresh,
            Some(id) => id
                .parse::<i64>()
                .ok()
                .filter(|p| *p >= 0)
                .map_or(Self::Unknown, Self::After),
        }
    }
}

/// Stream every message and membership change of all of the caller's rooms, and the
/// status changes of the caller's emails.
#[utoipa::path(
    get, path = "/api/v1/chats/stream", tag = "chat",
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id seen: the stream resumes after it (missed emails come once each, with their latest status)"),
        ("access_token" = Option<String>, Query, description = "The access token, for clients that cannot send Authorization"),
        ("X-Min-Position" = Option<i64>, Header, description = "Start once this instance reflects this position (or `min_position` in the query)"),
    ),
    responses(
        (status = 200, description = "text/event-stream: `message`, `room_created`, `member_joined`, `member_left`, `read`, `email` (an EmailChange; all with ids), `presence`, `reset`, and `expired` as the stream ends when the access token expires (reconnect with a fresh token and Last-Event-ID)", content_type = "text/event-stream", body = ServerSentEvent),
        (status = 400, description = "A bad position", body = ErrorBody),
        Unauthorized,
        (status = 429, description = "Too many open streams", body = ErrorBody),
        (status = 504, description = "This instance did not reach X-Min-Position in time", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn user_stream(
    State(state): State<AppState>,
    caller: StreamCaller,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let min = min_position(&headers, uri.query())?;
    open(&state, caller, None, Resume::of(&headers, uri.query()), min).await
}

/// Stream one room's messages and membership changes (members only).
#[utoipa::path(
    get, path = "/api/v1/chats/{id}/stream", tag = "chat",
    params(
        ("id" = i64, Path, description = "Room number"),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event id seen: the stream resumes after it"),
        ("access_token" = Option<String>, Query, description = "The access token, for clients that cannot send Authorization"),
        ("X-Min-Position" = Option<i64>, Header, description = "Start once this instance reflects this position (or `min_position` in the query)"),
    ),
    responses(
        (status = 200, description = "text/event-stream of the room", content_type = "text/event-stream", body = ServerSentEvent),
        Unauthorized,
        (status = 403, description = "Not a member of the room", body = ErrorBody),
        (status = 404, description = "No such room", body = ErrorBody),
        (status = 429, description = "Too many open streams", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn room_stream(
    State(state): State<AppState>,
    caller: StreamCaller,
    Path(room): Path<i64>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let min = min_position(&headers, uri.query())?;
    open(
        &state,
        caller,
        Some(room),
        Resume::of(&headers, uri.query()),
        min,
    )
    .await
}

/// `X-Min-Position`, or `min_position` in the query for clients that cannot send headers.
fn min_position(headers: &HeaderMap, query: Option<&str>) -> Result<MinPosition, ApiError> {
    let header = headers.get(X_MIN_POSITION).and_then(|v| v.to_str().ok());
    match header.or(query_param(query, "min_position")) {
        None => Ok(MinPosition(None)),
        Some(text) => MinPosition::parse(text)
            .map(|p| MinPosition(Some(p)))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "X-Min-Position (or min_position) must be a non-negative integer position",
                )
            }),
    }
}

async fn open(
    state: &AppState,
    StreamCaller { caller, expires }: StreamCaller,
    room: Option<i64>,
    resume: Resume,
    min: MinPosition,
) -> Result<Response, ApiError> {
    let chat = state.chat.clone();
    // A client that just wrote (created the room, joined it, asked for an email) follows
    // from its write: the hub has then applied it, whichever context it is of.
    min.wait(chat.hub.as_ref(), &state.pool, state.read_timeout)
        .await?;
    if let Resume::After(position) = resume
        && position > chat.hub.position()
    {
        // The client may have seen this from an instance that is ahead of this one; a
        // position beyond the log's end is never reached and gets its reset at once.
        let head = event_log::read::head(&state.pool)
            .await
            .map_err(ApiError::failure)?;
        if position <= head {
            chat.hub.wait_for(position, state.read_timeout).await;
        }
    }
    #[cfg(feature = "testing")]
    super::pauses::pass(super::pauses::Moment::BeforeRegistering, caller.user_id).await;
    let registration = chat
        .hub
        .register(caller.user_id, caller.session_id, room)
        .map_err(|err| match err {
            RegisterError::NoRoom => ApiError::not_found(err.to_string()),
            RegisterError::NotMember => ApiError::forbidden(err.to_string()),
            RegisterError::TooMany(_) => ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                service_kit::ErrorCode::RateLimited,
                err.to_string(),
            ),
        })?;
    // The session may have ended since its token was checked (the waits above can be
    // long): that revocation found no stream of it to end, so it is looked up again now
    // that this one is registered. One announced from here on ends it through the hub.
    if state.tokens.revocations.is_revoked(caller.session_id) {
        chat.hub.unregister(caller.user_id, registration.id);
        return Err(session_ended());
    }
    if registration.first {
        chat.presence.connected(caller.user_id);
    }
    let (body, frames) = mpsc::channel::<Bytes>(16);
    let open = OpenStream {
        chat,
        emails: state.emails.clone(),
        user: caller.user_id,
        room,
        id: registration.id,
        expires,
        pool: state.pool.clone(),
        read_timeout: state.read_timeout,
    };
    tokio::spawn(open.run(registration, resume, body));
    let mut response =
        Body::from_stream(ReceiverStream::new(frames).map(Ok::<_, Infallible>)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx: pass the stream through as it is written.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One open stream's task: history, then live frames and heartbeats, until the client
/// goes, the hub drops the stream, the caller's token expires, or the server shuts down.
struct OpenStream {
    chat: Arc<ChatReadModel>,
    emails: Arc<EmailsReadModel>,
    user: Uuid,
    /// The room of a room's stream; None for a user's.
    room: Option<i64>,
    id: u64,
    /// When the caller's token expires: the stream ends then.
    expires: Instant,
    pool: sqlx::PgPool,
    read_timeout: Duration,
}

impl OpenStream {
    async fn run(self, mut registration: Registration, resume: Resume, body: mpsc::Sender<Bytes>) {
        metrics::gauge!("chat_streams_open").increment(1.0);
        let shutdown = self.chat.shutdown.clone();
        let _ = self
            .serve(&mut registration, resume, &body, &shutdown)
            .await;
        metrics::gauge!("chat_streams_open").decrement(1.0);
        if self.chat.hub.unregister(self.user, self.id) {
            self.chat.presence.disconnected(self.user);
        }
    }

    /// Ends with Err when the client has gone.
    async fn serve(
        &self,
        registration: &mut Registration,
        resume: Resume,
        body: &mpsc::Sender<Bytes>,
        shutdown: &CancellationToken,
    ) -> Result<(), Gone> {
        send(body, frames::preamble(RETRY_MS)).await?;
        let live_from = registration.position;
        match resume {
            Resume::Fresh => {}
            Resume::Unknown => send(body, frames::reset("unknown event id", live_from)).await?,
            Resume::After(position) if position > live_from => {
                send(body, frames::reset("event id not reached", live_from)).await?
            }
            Resume::After(position) => {
                #[cfg(feature = "testing")]
                super::pauses::pass(super::pauses::Moment::BeforeHistory, self.user).await;
                if !self.history(registration, position, body).await? {
                    return Ok(());
                }
            }
        }
        let mut heartbeat = tokio::time::interval(self.chat.heartbeat);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                frame = registration.frames.recv() => match frame {
                    Some(frame) => send(body, frame).await?,
                    // Dropped by the hub: too slow, removed from the room, or logged out.
                    None => return Ok(()),
                },
                _ = heartbeat.tick() => send(body, frames::heartbeat()).await?,
                _ = tokio::time::sleep_until(self.expires) => {
                    send(body, frames::expired()).await?;
                    return Ok(());
                }
                _ = body.closed() => return Err(Gone),
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
    }

    /// Sends what the stream missed in (after, registration position]; false when the read
    /// models did not catch up in time (the stream then ends and the client resumes later).
    async fn history(
        &self,
        registration: &Registration,
        after: i64,
        body: &mpsc::Sender<Bytes>,
    ) -> Result<bool, Gone> {
        let through = registration.position;
        let scope = Scope {
            rooms: &registration.rooms,
            emails_of: self.room.is_none().then_some(self.user),
        };
        if after >= through || (scope.rooms.is_empty() && scope.emails_of.is_none()) {
            return Ok(true);
        }
        if !self.caught_up(registration, &scope).await {
            return Ok(false);
        }
        let mut after = after;
        loop {
            let (chunk, covered) =
                match history::next_chunk(&self.pool, &scope, after, through).await {
                    Ok(chunk) => chunk,
                    Err(err) => {
                        tracing::error!(error = %err, "could not read what a stream missed");
                        return Ok(false);
                    }
                };
            for missed in &chunk {
                send(body, missed.frame()).await?;
            }
            if covered >= through {
                return Ok(true);
            }
            after = covered;
        }
    }

    /// Waits until the read models the history comes from hold everything up to the
    /// registration's position: each has then applied the last event of its context there.
    async fn caught_up(&self, registration: &Registration, scope: &Scope<'_>) -> bool {
        let chat = async {
            scope.rooms.is_empty()
                || self
                    .chat
                    .progress
                    .wait_for(registration.chat_at, self.read_timeout)
                    .await
                    .is_ok()
        };
        let emails = async {
            scope.emails_of.is_none()
                || self
                    .emails
                    .progress
                    .wait_for(registration.email_at, self.read_timeout)
                    .await
                    .is_ok()
        };
        let (chat, emails) = tokio::join!(chat, emails);
        chat && emails
    }
}

/// The client has gone.
struct Gone;

async fn send(body: &mpsc::Sender<Bytes>, frame: Bytes) -> Result<(), Gone> {
    body.send(frame).await.map_err(|_| Gone)
}
