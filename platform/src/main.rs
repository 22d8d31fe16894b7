use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = platform::Config::parse();
    http_kit::telemetry::init(config.common.log_format);
    platform::build(config).await?.serve().await?;
    Ok(())
}
