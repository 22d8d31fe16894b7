//! A second query-api on the same database and event stream, as docker-compose runs two
//! behind nginx.

use clap::Parser;
use tokio::{sync::oneshot, task::JoinHandle};

use super::{TestApp, stopped};

/// The JWT secret both instances share (give it to the platform with [`SHARED_SECRET`]).
pub(crate) const SHARED_SECRET: &str = "--jwt-secret=5b1e9a7c3d2f4e6081a9c7b5d3e1f2a4";

/// A query-api of its own, serving until stopped.
pub(crate) struct QueryInstance {
    pub base: String,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl TestApp {
    /// Starts another query-api on this platform's database and transport.
    pub(crate) async fn second_query_api(&self) -> QueryInstance {
        self.second_query_api_with(&[]).await
    }

    /// Starts another query-api with extra settings.
    pub(crate) async fn second_query_api_with(&self, extra: &[&str]) -> QueryInstance {
        let mut args = vec![
            "query-api".to_owned(),
            format!("--database-url={}", self.db.url),
            "--http-addr=127.0.0.1:0".to_owned(),
            "--metrics-addr=127.0.0.1:0".to_owned(),
            "--log-format=text".to_owned(),
            "--db-pool-size=4".to_owned(),
            SHARED_SECRET.to_owned(),
        ];
        args.extend(self.transport_args.iter().cloned());
        args.extend(extra.iter().map(|arg| arg.to_string()));
        let config = query_api::Config::try_parse_from(args).expect("valid query-api settings");
        let server = query_api::build(config).await.expect("query-api starts");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(async move {
            server
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await
                .expect("query-api runs");
        });
        QueryInstance { base, stop, server }
    }
}

impl QueryInstance {
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        stopped(self.server, "the second query-api").await;
    }
}
