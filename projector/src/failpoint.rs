//! Pauses at the points a crash must be survived or a race must be lost, for tests to act
//! exactly there (kill the process, append meanwhile) rather than wherever timing lands.
//!
//! Armed by `PROJECTOR_FAILPOINT=<point>:<projection>:<n>` (read once): the `n`th time
//! that projection passes that point, the process prints
//! `failpoint <point> <projection> through <position>` on stdout and waits there, inside
//! its transaction when the point is in one, until a line arrives on stdin (forever at
//! the end of input). Unset, as in every deployment, each point costs one check of an
//! initialised static.

use std::{
    io::Write,
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
};

/// Where a batch can be stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// The batch's rows are written, its checkpoint not yet: inside the transaction.
    RowsWritten,
    /// The rows and checkpoint are committed; the source has not yet been told (a Kafka
    /// consumer group would deliver the batch again).
    Committed,
    /// A replay's shadow tables are built; the last events and the swap are to come.
    BeforeSwap,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Self::RowsWritten => "rows_written",
            Self::Committed => "committed",
            Self::BeforeSwap => "before_swap",
        }
    }
}

struct Armed {
    point: &'static str,
    projection: String,
    nth: u64,
    passed: AtomicU64,
}

static ARMED: LazyLock<Option<Armed>> = LazyLock::new(|| {
    let setting = std::env::var("PROJECTOR_FAILPOINT").ok()?;
    let mut parts = setting.splitn(3, ':');
    let (point, projection, nth) = (parts.next()?, parts.next()?, parts.next()?);
    let point = [Point::RowsWritten, Point::Committed, Point::BeforeSwap]
        .into_iter()
        .map(Point::name)
        .find(|name| *name == point)?;
    Some(Armed {
        point,
        projection: projection.to_owned(),
        nth: nth.parse().ok()?,
        passed: AtomicU64::new(0),
    })
});

/// Passes `point` for `projection`, which has applied events through `through`.
pub async fn pass(point: Point, projection: &str, through: i64) {
    let Some(armed) = ARMED.as_ref() else {
        return;
    };
    if armed.point != point.name()
        || armed.projection != projection
        || armed.passed.fetch_add(1, Ordering::SeqCst) + 1 != armed.nth
    {
        return;
    }
    announce(point, projection, through);
    let released = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        matches!(std::io::stdin().read_line(&mut line), Ok(read) if read > 0)
    });
    if !matches!(released.await, Ok(true)) {
        std::future::pending::<()>().await;
    }
}

fn announce(point: Point, projection: &str, through: i64) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "failpoint {} {projection} through {through}",
        point.name()
    );
    let _ = stdout.flush();
}
