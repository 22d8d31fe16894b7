//! Progress of a long job: a bar with rate and ETA on a terminal, plain lines otherwise.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

const LINE_INTERVAL: Duration = Duration::from_secs(2);

pub enum Progress {
    Bar(ProgressBar),
    Lines {
        label: String,
        total: u64,
        done: u64,
        started: Instant,
        last_line: Instant,
    },
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new(label: &str, total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} events  {per_sec}  ETA {eta}",
                )
                .expect("template is valid")
                .progress_chars("=> "),
            );
            bar.set_message(label.to_owned());
            Self::Bar(bar)
        } else {
            let now = Instant::now();
            Self::Lines {
                label: label.to_owned(),
                total,
                done: 0,
                started: now,
                last_line: now,
            }
        }
    }

    /// More work was found than first counted (events keep arriving during a replay).
    pub fn grow_to(&mut self, total: u64) {
        match self {
            Self::Bar(bar) => bar.set_length(total.max(bar.length().unwrap_or(0))),
            Self::Lines { total: t, .. } => *t = total.max(*t),
        }
    }

    pub fn advance(&mut self, by: u64) {
        match self {
            Self::Bar(bar) => bar.inc(by),
            Self::Lines {
                label,
                total,
                done,
                started,
                last_line,
            } => {
                *done += by;
                if last_line.elapsed() >= LINE_INTERVAL {
                    *last_line = Instant::now();
                    eprintln!("{}", line(label, *done, *total, started.elapsed()));
                }
            }
        }
    }

    pub fn finish(self, message: &str) {
        match self {
            Self::Bar(bar) => bar.finish_with_message(message.to_owned()),
            Self::Lines {
                label,
                total,
                done,
                started,
                ..
            } => {
                eprintln!("{}", line(&label, done, total, started.elapsed()));
                eprintln!("{label}: {message}");
            }
        }
    }
}

fn line(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let eta = if rate > 0.0 {
        format!("{:.0}s", total.saturating_sub(done) as f64 / rate)
    } else {
        "?".to_owned()
    };
    format!("{label}: {done}/{total} events ({percent}%), {rate:.0} events/s, ETA {eta}")
}
