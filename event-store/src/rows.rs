//! The row of a stored idempotency key and the append it records.

use crate::Appended;

#[derive(sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    pub key: String,
    pub fingerprint: String,
    #[sqlx(default)]
    pub stream_id: String,
    pub first_version: i64,
    pub last_version: i64,
    pub first_position: i64,
    pub last_position: i64,
}

impl IdempotencyRow {
    pub(crate) fn appended(&self) -> Appended {
        Appended {
            first_version: self.first_version,
            last_version: self.last_version,
            first_position: self.first_position,
            last_position: self.last_position,
            replayed: true,
            number: None,
        }
    }
}
