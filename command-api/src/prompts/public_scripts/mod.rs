//! Public scripts: admins write them, every logged-in user reads them.

pub mod aggregate;
pub mod handlers;
pub mod input;
