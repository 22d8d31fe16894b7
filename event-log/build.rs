//! `sqlx::migrate!` embeds the migrations when this crate compiles, and on a stable
//! compiler nothing tells cargo that a new migration changes the crate: without this, a
//! build after one lands keeps the old list and every database it creates lacks the new
//! tables.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
