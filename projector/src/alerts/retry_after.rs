//! `Retry-After` (RFC 9110): a number of seconds, or an HTTP date. The time the sender
//! asked us to wait until, read once at the answer.

use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// The longest wait honoured: a value beyond it (or a broken clock's date) would park the
/// alert for good; a week still waits longer than any Slack limit.
const LONGEST: time::Duration = time::Duration::days(7);

/// The time a `Retry-After` of `value`, received at `now`, asks to wait until; None when
/// it is neither form.
pub fn parse(value: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        time::Duration::seconds(
            i64::try_from(seconds)
                .unwrap_or(i64::MAX)
                .min(LONGEST.whole_seconds()),
        )
    } else {
        // IMF-fixdate, the HTTP date every sender must use: `Sun, 06 Nov 1994 08:49:37 GMT`.
        let http_date = format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let date = PrimitiveDateTime::parse(value, http_date)
            .ok()?
            .assume_utc();
        (date - now).clamp(time::Duration::ZERO, LONGEST)
    };
    Some(now + wait)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-08 10:00:00 UTC);

    #[test]
    fn seconds_count_from_the_answer() {
        assert_eq!(parse("30", NOW), Some(datetime!(2026-12-08 10:00:30 UTC)));
        assert_eq!(parse(" 0 ", NOW), Some(NOW));
    }

    #[test]
    fn an_http_date_is_the_time_itself() {
        assert_eq!(
            parse("Tue, 08 Dec 2026 10:02:00 GMT", NOW),
            Some(datetime!(2026-12-08 10:02 UTC))
        );
        assert_eq!(
            parse("Tue, 08 Dec 2026 09:00:00 GMT", NOW),
            Some(NOW),
            "a date gone by asks for no wait"
        );
    }

    #[test]
    fn a_wait_is_honoured_up_to_a_week() {
        assert_eq!(parse("99999999999999999999", NOW), None);
        assert_eq!(parse("9999999999", NOW), Some(NOW + LONGEST));
        assert_eq!(
            parse("Fri, 01 Jan 2100 00:00:00 GMT", NOW),
            Some(NOW + LONGEST)
        );
    }

    #[test]
    fn anything_else_is_no_retry_after() {
        for value in ["", "soon", "-5", "1.5", "2026-12-08T10:00:00Z"] {
            assert_eq!(parse(value, NOW), None, "{value:?}");
        }
    }
}
