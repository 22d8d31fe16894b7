//! Kafka settings and topics shared by the relay and the Kafka subscription.

use std::time::Duration;

use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    error::RDKafkaErrorCode,
};

use crate::StoreError;

/// Where the broker is and how topics are named.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub brokers: String,
    /// Prefix of every topic; the context name follows it (`events.` + `items`).
    pub topic_prefix: String,
    pub replication_factor: i32,
}

impl KafkaConfig {
    pub fn new(brokers: impl Into<String>, topic_prefix: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            topic_prefix: topic_prefix.into(),
            replication_factor: 1,
        }
    }

    /// The topic of a context.
    pub fn topic(&self, context: &str) -> String {
        format!("{}{}", self.topic_prefix, context)
    }

    /// Base client settings.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// Creates the topics of these contexts if they are missing. Each topic has one
    /// partition: a context's events stay in global order, which read-your-writes and
    /// position-based deduplication rely on.
    pub async fn ensure_topics(&self, contexts: &[&str]) -> Result<(), StoreError> {
        let admin: AdminClient<DefaultClientContext> = self.client_config().create()?;
        let names: Vec<String> = contexts.iter().map(|c| self.topic(c)).collect();
        let topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|name| NewTopic::new(name, 1, TopicReplication::Fixed(self.replication_factor)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        for result in admin.create_topics(&topics, &options).await? {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(StoreError::Malformed(format!(
                        "cannot create topic {topic}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// A readiness probe: each call asks the brokers for metadata.
pub fn probe(
    config: KafkaConfig,
) -> impl Fn() -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync + 'static {
    move || {
        let config = config.clone();
        Box::pin(async move { ping(&config).await })
    }
}

/// Answers whether the brokers respond to a metadata request.
pub async fn ping(config: &KafkaConfig) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> =
        config.client_config().create().map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        admin
            .inner()
            .fetch_metadata(None, Duration::from_secs(2))
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
