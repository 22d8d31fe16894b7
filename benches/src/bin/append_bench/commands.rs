//! Phase 2, `commands`: concurrent clients creating items through command-api.

use benches::{
    items::{self, Created, Endpoints},
    load::Measured,
};
use reqwest::Client;

use crate::args::Args;

/// Phase 2: concurrent clients creating items. Returns the measurement and the item with
/// the highest position.
pub(crate) async fn commands_phase(
    args: &Args,
    client: &Client,
    endpoints: &Endpoints,
) -> anyhow::Result<(Measured, Option<Created>)> {
    eprintln!(
        "commands: {} clients on POST {}, {} s warm-up, {} s measured",
        args.concurrency, endpoints.create, args.warmup_seconds, args.seconds
    );
    items::create_items(
        client,
        &endpoints.create,
        args.concurrency as usize,
        args.limits(),
    )
    .await
}
