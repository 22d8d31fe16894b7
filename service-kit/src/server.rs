//! Assembling services into one HTTP server with ops routes, and serving it until
//! shutdown. `/metrics` has a listener of its own, for operators only (by default on
//! the loopback interface): what it tells (routes, rates, caches, lags) is not for
//! every client.

use std::{future::Future, net::SocketAddr};

use axum::{Router, routing::get};
use sqlx::PgPool;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use utoipa::openapi::OpenApi;

use crate::{
    connections::{self, ConnectionLimits},
    docs, health, layers,
    sampled::Sampled,
};

/// Where a server listens, and what its connections may take.
#[derive(Debug, Clone, Copy)]
pub struct Listen {
    /// The APIs, `/healthz`, `/readyz` and `/docs`.
    pub http: SocketAddr,
    /// `/metrics`.
    pub metrics: SocketAddr,
    pub limits: ConnectionLimits,
}

/// What a service contributes to a server: API routes, readiness checks, background
/// tasks and its OpenAPI document.
#[derive(Default)]
pub struct Service {
    pub router: Router,
    pub checks: Vec<(&'static str, health::Check)>,
    pub tasks: Vec<JoinHandle<()>>,
    pub docs: Vec<(&'static str, OpenApi)>,
    /// Cancelled as soon as shutdown starts, before connections drain: what holds a
    /// response open (a live stream) ends on it, or draining would never finish.
    pub drain: Vec<CancellationToken>,
    /// Routes that take bodies larger than the default limit.
    pub larger_bodies: Vec<layers::LargerBodies>,
    /// Database pools whose connections `/metrics` reports, by name (services of one
    /// process sharing a pool name it once).
    pub pools: Vec<(&'static str, PgPool)>,
}

/// A bound server for one or more services (several in the all-in-one mode).
pub struct Server {
    listener: TcpListener,
    metrics: TcpListener,
    limits: ConnectionLimits,
    router: Router,
    shutdown: CancellationToken,
    drain: Vec<CancellationToken>,
    tasks: Vec<JoinHandle<()>>,
    sampled: Sampled,
}

impl Server {
    /// Merges the services, adds `/healthz`, `/readyz` and `/docs`, wraps everything in
    /// the middleware stack and binds `listen.http`, and `/metrics` on `listen.metrics`.
    /// `shutdown` is cancelled to stop the services' background tasks once connections
    /// have drained.
    pub async fn bind(
        listen: Listen,
        services: Vec<Service>,
        shutdown: CancellationToken,
    ) -> std::io::Result<Self> {
        // Install the recorder before anything records, or early samples are lost.
        crate::metrics::handle();
        let mut router = Router::new();
        let mut checks: Vec<(&'static str, health::Check)> = Vec::new();
        let mut documents = Vec::new();
        let mut tasks = Vec::new();
        let mut drain = Vec::new();
        let mut pools: Vec<(&'static str, PgPool)> = Vec::new();
        let mut limits = layers::Limits::default();
        for service in services {
            router = router.merge(service.router);
            for (name, check) in service.checks {
                if !checks.iter().any(|(known, _)| *known == name) {
                    checks.push((name, check));
                }
            }
            documents.extend(service.docs);
            tasks.extend(service.tasks);
            drain.extend(service.drain);
            limits.larger_bodies.extend(service.larger_bodies);
            for (name, pool) in service.pools {
                if !pools.iter().any(|(known, _)| *known == name) {
                    pools.push((name, pool));
                }
            }
        }
        let router = router.merge(health::routes(checks));
        let router = if documents.is_empty() {
            router
        } else {
            router.merge(docs::routes(documents))
        };
        let router = layers::wrap(router, limits);
        let listener = TcpListener::bind(listen.http).await?;
        let metrics = TcpListener::bind(listen.metrics).await?;
        Ok(Self {
            listener,
            metrics,
            limits: listen.limits,
            router,
            shutdown,
            drain,
            tasks,
            sampled: Sampled::new(pools),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Where `/metrics` is served.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn serve(self) -> std::io::Result<()> {
        self.serve_until(crate::shutdown::signal()).await
    }

    /// Serves until `signal` completes, drains open connections, then stops the
    /// background tasks and waits for them.
    pub async fn serve_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), metrics = %self.metrics_addr(), "listening");
        let stop = CancellationToken::new();
        let signalled = async {
            signal.await;
            // Live streams end first, or draining would never finish.
            for token in self.drain {
                token.cancel();
            }
            stop.cancel();
        };
        let metrics = Router::new()
            .route("/metrics", get(crate::sampled::render))
            .with_state(self.sampled);
        tokio::join!(
            signalled,
            connections::serve(self.listener, self.router, self.limits, stop.cancelled()),
            connections::serve(self.metrics, metrics, self.limits, stop.cancelled()),
        );
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        Ok(())
    }
}
