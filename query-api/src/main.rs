use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = query_api::Config::parse();
    http_kit::telemetry::init(config.common.log_format);
    query_api::build(config).await?.serve().await?;
    Ok(())
}
