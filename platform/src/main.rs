use clap::Parser;

// Allocation-heavy request handling on few cores: mimalloc beats the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = platform::Config::parse();
    config.common.init_telemetry("platform");
    if let Some(operation) = config.operator_command() {
        return projector::app::main(operation).await;
    }
    platform::build(config).await?.serve().await?;
    event_log::subscription::consumers_closed().await;
    Ok(())
}
