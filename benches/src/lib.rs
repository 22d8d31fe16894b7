//! Load and latency benchmarks of the running platform. They talk to it over HTTP and SQL
//! only, never through its crates.
//!
//! - [`cli`]: argument parsers, the loopback guard, the end of a run.
//! - [`http`]: the HTTP client, URLs, users and their tokens, status checks.
//! - [`items`]: creating and reading items, the plainest append path, and a loop of it.
//! - [`latency`]: a latency recorder (HdrHistogram, microsecond resolution) and its summary.
//! - [`load`]: closed and open load loops, warmed up and bounded in time and count.
//! - [`procfs`]: a process's memory and CPU time from Linux's /proc.

pub mod cli;
pub mod http;
pub mod items;
pub mod latency;
pub mod load;
pub mod procfs;
