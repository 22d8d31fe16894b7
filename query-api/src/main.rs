use clap::Parser;

// Allocation-heavy request handling on few cores: mimalloc beats the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = query_api::Config::parse();
    config.common.init_telemetry("query-api");
    query_api::build(config).await?.serve().await?;
    event_log::subscription::consumers_closed().await;
    Ok(())
}
