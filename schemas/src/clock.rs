//! The time events record.

use time::OffsetDateTime;

/// Now, to the microsecond: PostgreSQL keeps times to the microsecond, so an event, the
/// response that reports it and the read models built from it all say the same.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_microsecond(now.microsecond())
        .expect("a microsecond of a valid time is valid")
}
