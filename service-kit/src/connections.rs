//! Serving a listener's connections with hyper, with the timeouts a server exposed without
//! a proxy in front needs.
//!
//! An HTTP/1.1 connection has `header_read_timeout` to deliver each request's head,
//! counted from the moment it is ready for one: a client that connects and sends nothing,
//! one that sends its headers a byte at a time (slowloris) and a keep-alive connection
//! left idle between requests are all closed when it runs out. A response being written
//! is not a head being read, so a live stream (SSE) lasts as long as it is wanted. An
//! HTTP/2 connection (prior knowledge) is pinged at that interval instead, and closed when
//! a ping goes unanswered.

use std::{future::Future, io, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a connection may take over what it sends.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The longest wait for a request's head, from when the connection is ready for it.
    pub header_read_timeout: Duration,
}

/// Serves `router` on `listener` until `signal` completes, then stops accepting and
/// returns once every open connection has finished its requests (the caller ends live
/// streams). Handlers see the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    signal: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_read_timeout)
        .keep_alive_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    // Tells connections still waiting for their first byte to go: they hold a watcher, so
    // the drain below would otherwise wait out their whole header timeout.
    let (stopping, stop_waiting) = tokio::sync::watch::channel(false);
    let mut signal = std::pin::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let router = router.clone();
        let service = tower::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let mut stop_waiting = stop_waiting.clone();
        tokio::spawn(async move {
            // The protocol is told by the first bytes, and hyper's header timer starts only
            // after them: a connection that sends nothing is closed here.
            let mut first = [0; 1];
            let peeked = tokio::time::timeout(limits.header_read_timeout, stream.peek(&mut first));
            tokio::select! {
                peeked = peeked => if !matches!(peeked, Ok(Ok(1))) {
                    return;
                },
                _ = stop_waiting.wait_for(|stopping| *stopping) => return,
            }
            let connection = builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            );
            if let Err(err) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %err, "connection closed");
            }
        });
    }
    drop(listener);
    stopping.send_replace(true);
    graceful.shutdown().await;
}

/// Accepting fails on a connection reset before it was taken (nothing to do), or when the
/// process is out of descriptors: then wait for some to close rather than spin.
async fn accept_failed(err: io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
