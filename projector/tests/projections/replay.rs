//! Rebuilding a projection: the old tables serve until the new ones have caught up,
//! then the swap is atomic and the live runner carries on from the rebuilt position.

use crate::common;

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Child, ChildStdout, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use common::{Running, caught_up, head, read_model, rename_again, write_histories};
use event_log::testing::TestDatabase;
use event_store::EventStore;

/// The replay command (`projector replay items`), held before its swap by a failpoint
/// until the test releases it.
struct HeldReplay {
    process: Child,
    stdout: BufReader<ChildStdout>,
    /// The position the shadow tables reached before the hold.
    built_through: i64,
}

impl HeldReplay {
    async fn start(db: &TestDatabase) -> Self {
        let mut process = Command::new(env!("CARGO_BIN_EXE_projector"))
            .args(["replay", "items"])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .env("PROJECTOR_FAILPOINT", "before_swap:items:1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(process.stdout.take().unwrap());
        let (stdout, built_through) = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            while stdout.read_line(&mut line).unwrap() > 0 {
                if let Some(through) = line
                    .trim()
                    .strip_prefix("failpoint before_swap items through ")
                {
                    return (stdout, through.parse::<i64>().ok());
                }
                line.clear();
            }
            (stdout, None)
        })
        .await
        .unwrap();
        Self {
            process,
            stdout,
            built_through: built_through
                .expect("the replay built its shadow tables and waits before its swap"),
        }
    }

    /// Lets the replay swap, and waits for it to end; what it printed then.
    fn finish(mut self) -> String {
        writeln!(self.process.stdin.take().unwrap()).unwrap();
        let mut printed = String::new();
        self.stdout.read_to_string(&mut printed).unwrap();
        let status = self.process.wait().unwrap();
        assert!(status.success(), "the replay failed: {status}");
        printed
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_swaps_in_complete_tables_while_the_old_ones_keep_serving() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let mut expected = write_histories(&store, 1..2001, 2).await;
    let running = Running::projections(&db.pool);
    caught_up(&db.pool, "items").await;
    let serving = read_model(&db.pool).await;
    assert_eq!(serving, expected);

    // Readers watch the live table throughout the replay. No read may go back on an
    // earlier one: every item read before is there, at the version read or a later one.
    // (Half-built tables lack items or hold them at earlier versions, whether or not the
    // row count shows it.)
    let done = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let (pool, done, mut floor) = (db.pool.clone(), done.clone(), serving.clone());
        async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let seen = read_model(&pool).await;
                for (id, (name, version)) in &floor {
                    match seen.get(id) {
                        Some((_, now)) if now > version => {}
                        Some(row) => assert_eq!(row, &(name.clone(), *version), "item {id}"),
                        None => panic!("item {id}, read before, is missing during the replay"),
                    }
                }
                floor = seen;
                reads += 1;
            }
            reads
        }
    });
    // Once the shadow tables are built, items are renamed and the live table serves the
    // new names: the swap must bring them along.
    let replay = HeldReplay::start(&db).await;
    assert_eq!(replay.built_through, head(&db.pool).await);
    expected.extend(rename_again(&store, 1..401, 2).await);
    caught_up(&db.pool, "items").await;
    assert_eq!(read_model(&db.pool).await, expected);
    let printed = tokio::task::spawn_blocking(move || replay.finish())
        .await
        .unwrap();
    let head = head(&db.pool).await;
    assert!(
        printed.contains(&format!("serving position {head}")),
        "{printed}"
    );
    done.store(true, Ordering::Relaxed);
    assert!(
        watcher.await.unwrap() > 0,
        "the live table was read during the replay"
    );

    // The live runner carries on from the swapped tables.
    expected.extend(write_histories(&store, 2001..2101, 1).await);
    caught_up(&db.pool, "items").await;
    assert_eq!(read_model(&db.pool).await, expected);
    running.stop().await;
    db.drop().await;
}

#[tokio::test]
async fn the_replay_command_reports_progress_and_the_rebuilt_position() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let expected = write_histories(&store, 1..301, 1).await;
    let output = Command::new(env!("CARGO_BIN_EXE_projector"))
        .args(["replay", "items"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let events = head(&db.pool).await;
    let mut lines = stdout.lines();
    let summary = lines.next().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("items: replayed {events} events in "))
            && summary.ends_with(&format!(" events/s); serving position {events}")),
        "{stdout}"
    );
    let split = lines.next().unwrap_or_default();
    assert!(
        split.starts_with("items: reading ") && split.contains(", applying "),
        "{stdout}"
    );
    // Not a terminal: plain progress lines rather than a bar.
    assert!(
        stderr.contains(&format!("replay items: {events}/{events} events (100%)")),
        "{stderr}"
    );
    assert_eq!(read_model(&db.pool).await, expected);
    db.drop().await;
}

#[tokio::test]
async fn replaying_an_unknown_projection_fails_with_a_clear_message() {
    let db = TestDatabase::new().await;
    let output = Command::new(env!("CARGO_BIN_EXE_projector"))
        .args(["replay", "nonsense"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no projection named \"nonsense\""),
        "{stderr}"
    );
    db.drop().await;
}
