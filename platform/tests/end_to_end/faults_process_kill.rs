//! Each process of a split deployment killed with `SIGKILL` under write load and started
//! again: the command side (clients retry under their `Idempotency-Key` until it is
//! back), the projector and the query side (each resumes from its checkpoint), and the
//! relay's leader, whose place a second command process takes. Whatever was acknowledged
//! is readable afterwards, once; nothing else is.

use std::time::{Duration, Instant};

use crate::support::{
    load::{self, Load},
    private_postgres::free_port,
    processes::{PlatformProcess, Processes},
};

/// How long a step of the load may take, a process restart included.
const STEP_LIMIT: Duration = Duration::from_secs(60);

/// A process of one service (`command`, `query` or `projector`) on `addr`.
async fn part(processes: &Processes, addr: &str, service: &str) -> PlatformProcess {
    let services = format!("--services={service}");
    processes.start_at(addr, load::LOG, &[&services]).await
}

fn local() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[tokio::test]
async fn killing_the_command_projector_and_query_processes_under_writes_loses_and_doubles_nothing()
{
    let processes = Processes::new().await;
    let (command_addr, query_addr) = (local(), local());
    let mut command = part(&processes, &command_addr, "command").await;
    let mut projector = part(&processes, "127.0.0.1:0", "projector").await;
    let mut query = part(&processes, &query_addr, "query").await;

    let target = load::target(&command.base);
    let writes = Load::start(&target, 4, 40);
    writes.wait_for_acks(20, STEP_LIMIT).await;
    drop(command); // SIGKILL
    command = part(&processes, &command_addr, "command").await;
    writes.wait_for_acks(60, STEP_LIMIT).await;
    drop(projector);
    projector = part(&processes, "127.0.0.1:0", "projector").await;
    writes.wait_for_acks(100, STEP_LIMIT).await;
    drop(query);
    query = part(&processes, &query_addr, "query").await;
    let tally = writes.finish().await;

    assert!(
        tally.disconnected > 0,
        "no write met the killed command process; the test proved nothing"
    );
    let created = load::created_in_log(&processes.db.pool).await;
    load::assert_all_readable_once(&tally, &query.base, created).await;
    processes.stop(vec![command, projector, query]).await;
}

#[tokio::test]
async fn killing_the_relays_leader_under_writes_hands_the_relay_to_the_other_command_process() {
    let processes = Processes::new().await;
    let first = part(&processes, "127.0.0.1:0", "command").await;
    let second = part(&processes, "127.0.0.1:0", "command").await;
    let projector = part(&processes, "127.0.0.1:0", "projector").await;
    let query = part(&processes, "127.0.0.1:0", "query").await;
    // Only in Kafka mode is there a relay, and so a leader: then the one that leads dies.
    let (leader, survivor) = match leading(&[&first, &second]).await {
        Some(1) => (second, first),
        _ => (first, second),
    };

    let target = load::target(&leader.base);
    let writes = Load::start(&target, 4, 30);
    writes.wait_for_acks(20, STEP_LIMIT).await;
    *target.lock().unwrap() = survivor.base.clone();
    drop(leader); // SIGKILL
    let tally = writes.finish().await;

    let created = load::created_in_log(&processes.db.pool).await;
    load::assert_all_readable_once(&tally, &query.base, created).await;
    if event_log::testing::transport() == event_log::testing::Transport::Kafka {
        assert_eq!(leading(&[&survivor]).await, Some(0), "the survivor leads");
    }
    processes.stop(vec![survivor, projector, query]).await;
}

/// Which of `processes` leads the relay, once one says so (None in embedded mode,
/// where there is no relay).
async fn leading(processes: &[&PlatformProcess]) -> Option<usize> {
    if event_log::testing::transport() == event_log::testing::Transport::Embedded {
        return None;
    }
    let started = Instant::now();
    loop {
        let leader = processes.iter().position(|process| {
            process
                .lines()
                .iter()
                .any(|line| line["message"] == "relay leading")
        });
        if leader.is_some() {
            return leader;
        }
        assert!(
            started.elapsed() < STEP_LIMIT,
            "no command process leads the relay"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
