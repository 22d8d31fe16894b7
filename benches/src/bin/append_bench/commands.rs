//! Phase 2, `commands`: concurrent clients creating items through command-api.

use anyhow::Context;
use benches::load::{self, Measured};
use reqwest::Client;

use crate::{
    args::Args,
    items::{Created, Endpoints, create_item},
};

/// Phase 2: concurrent clients creating items. Returns the measurement and the item with
/// the highest position.
pub(crate) async fn commands_phase(
    args: &Args,
    client: &Client,
    endpoints: &Endpoints,
) -> anyhow::Result<(Measured, Option<Created>)> {
    create_item(client, &endpoints.create, "bench item probe")
        .await
        .with_context(|| format!("probe POST {}", endpoints.create))?;
    eprintln!(
        "commands: {} clients on POST {}, {} s warm-up, {} s measured",
        args.concurrency, endpoints.create, args.warmup_seconds, args.seconds
    );
    let (op_client, url) = (client.clone(), endpoints.create.clone());
    let report = load::closed_loop(args.concurrency as usize, args.limits(), move |n| {
        let (client, url) = (op_client.clone(), url.clone());
        async move { create_item(&client, &url, &format!("bench item {n}")).await }
    })
    .await;

    let mut throughput = Measured::from(&report);
    // Every created item has its own id and its own position.
    for (what, mut values) in [
        ("id", report.values.iter().map(|c| c.id).collect::<Vec<_>>()),
        (
            "position",
            report.values.iter().map(|c| c.position).collect::<Vec<_>>(),
        ),
    ] {
        values.sort_unstable();
        values.dedup();
        let duplicates = report.values.len() - values.len();
        if duplicates > 0 {
            throughput.errors += duplicates as u64;
            throughput
                .error_samples
                .push(format!("{duplicates} responses repeated an {what}"));
        }
    }
    let last = report.values.iter().max_by_key(|c| c.position).copied();
    Ok((throughput, last))
}
