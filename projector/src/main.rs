use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = projector::Config::parse();
    http_kit::telemetry::init(config.common.log_format);
    projector::app::main(config).await
}
