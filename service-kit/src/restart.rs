//! A background task that is started over after it fails, with a growing pause between
//! attempts, until it ends of itself or the process stops.

use std::{future::Future, time::Duration};

use tokio_util::sync::CancellationToken;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(10);

/// Runs `task` until it returns `Ok` or `shutdown` is cancelled during a pause. Each
/// failure goes to `failed`, then the task starts again after a pause that doubles from
/// 100 ms up to 10 s. `task` watches `shutdown` itself, so it can finish what it holds.
/// (`task` makes a future that owns what it uses: the futures of async closures cannot yet
/// be shown to be `Send` for the spawned tasks that run this.)
pub async fn restarting<E, F: Future<Output = Result<(), E>>>(
    shutdown: &CancellationToken,
    mut task: impl FnMut() -> F,
    mut failed: impl FnMut(E),
) {
    let mut pause = FIRST_PAUSE;
    loop {
        match task().await {
            Ok(()) => return,
            Err(err) => failed(err),
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => return,
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_task_is_started_over_until_it_succeeds() {
        let shutdown = CancellationToken::new();
        let runs = std::sync::atomic::AtomicU32::new(0);
        let mut failures = Vec::new();
        restarting(
            &shutdown,
            || {
                let run = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                async move { if run < 3 { Err(run) } else { Ok(()) } }
            },
            |err| failures.push(err),
        )
        .await;
        assert_eq!(failures, [1, 2]);
    }

    #[tokio::test]
    async fn a_shutdown_during_a_pause_ends_it() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let mut runs = 0;
        restarting(
            &shutdown,
            || {
                runs += 1;
                async { Err(()) }
            },
            |()| {},
        )
        .await;
        assert_eq!(runs, 1);
    }
}
