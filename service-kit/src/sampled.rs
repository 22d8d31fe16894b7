//! What `/metrics` measures at the moment it is scraped, rather than as things happen:
//! the process's CPU time, memory, threads and file descriptors, and how many connections
//! of each database pool are in use. Read at scrape time, a value is never older than
//! the scrape, and nothing runs between scrapes.

use std::sync::{Arc, OnceLock};

use axum::extract::State;
use sqlx::PgPool;

/// The `pool` label of the pool a process's services query through (`DB_POOL_SIZE`).
pub const MAIN_POOL: &str = "main";

/// The database pools a server reports, by the name they carry as the `pool` label.
#[derive(Clone, Default)]
pub struct Sampled {
    pools: Arc<Vec<(&'static str, PgPool)>>,
}

impl Sampled {
    pub fn new(pools: Vec<(&'static str, PgPool)>) -> Self {
        Self {
            pools: Arc::new(pools),
        }
    }

    /// Records the current values as gauges.
    pub fn record(&self) {
        process().collect();
        for (name, pool) in self.pools.iter() {
            let idle = pool.num_idle() as f64;
            // A connection being opened counts in `size` and not in `num_idle`: it is
            // taken by whoever asked for it.
            let open = f64::from(pool.size());
            let max = f64::from(pool.options().get_max_connections());
            metrics::gauge!("db_pool_connections_in_use", "pool" => *name).set(open - idle);
            metrics::gauge!("db_pool_connections_idle", "pool" => *name).set(idle);
            metrics::gauge!("db_pool_connections_max", "pool" => *name).set(max);
        }
    }
}

/// The process collector, described once (its `# HELP` lines) when first used.
fn process() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let collector = metrics_process::Collector::default();
        collector.describe();
        collector
    })
}

/// `GET /metrics`, with the sampled values current.
pub async fn render(State(sampled): State<Sampled>) -> String {
    crate::metrics::handle();
    sampled.record();
    crate::metrics::render().await
}
