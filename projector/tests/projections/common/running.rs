//! The projections running in the test, over the transport the run asks for
//! (`TEST_TRANSPORT=embedded|kafka`): in Kafka mode a relay publishes the log to topics
//! of the test's own and the projections follow those, as the deployed projector does.

use event_log::{
    subscription::EventSource,
    testing::{self, Transport},
};
use event_store::relay::Relay;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) struct Running {
    stop: CancellationToken,
    runners: Vec<JoinHandle<()>>,
}

impl Running {
    /// Every projection, following the log through the test run's transport.
    pub(crate) fn projections(pool: &PgPool) -> Self {
        let stop = CancellationToken::new();
        let source = match testing::transport() {
            Transport::Embedded => EventSource::log(pool),
            Transport::Kafka => {
                let kafka = testing::kafka_config();
                let relay = Relay::new(pool.clone(), kafka.clone()).unwrap();
                tokio::spawn(relay.run(stop.clone()));
                EventSource::Kafka(kafka)
            }
        };
        // A group of its own: the broker is shared with other tests.
        let group = format!("g-{}", uuid::Uuid::new_v4().simple());
        let runners = projector::app::spawn_projections(pool, &source, &group, &stop);
        Self { stop, runners }
    }

    pub(crate) async fn stop(self) {
        self.stop.cancel();
        for runner in self.runners {
            runner.await.unwrap();
        }
    }
}
