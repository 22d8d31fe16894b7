//! The Kafka-protocol broker stops answering under write load, then answers again, on a
//! broker of the test's own (the shared test broker serves every other test). Commands
//! do not depend on the broker and are acknowledged throughout; the relay holds its
//! checkpoint until the broker acknowledges, and the consumers pick up where they were:
//! every acknowledged write is readable afterwards, once.
//!
//! The broker is frozen (`SIGSTOP`) and thawed (`SIGCONT`): its clients' connections stay
//! open and silent, unlike a restart (`faults_broker_restart.rs`), where they are refused.

use std::time::Duration;

use crate::support::{
    broker::Broker,
    load::{self, Load},
    processes::Processes,
};

/// How long a step of the load may take, the outage included.
const STEP_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_broker_outage_under_writes_loses_and_doubles_nothing() {
    let broker = Broker::start();
    let processes = Processes::new().await.with_kafka(&broker.addr);
    let platform = processes.start(load::LOG, &[]).await;

    let target = load::target(&platform.base);
    let writes = Load::start(&target, 4, 40);
    writes.wait_for_acks(20, STEP_LIMIT).await;
    broker.signal("STOP");
    // Commands go on while the broker is gone: appends need PostgreSQL alone.
    writes.wait_for_acks(80, STEP_LIMIT).await;
    broker.signal("CONT");
    let tally = writes.finish().await;

    let created = load::created_in_log(&processes.db.pool).await;
    load::assert_all_readable_once(&tally, &platform.base, created).await;
    processes.stop(vec![platform]).await;
}
