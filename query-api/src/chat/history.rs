//! What a resuming stream missed, read from the read models and sent in log order.
//!
//! Messages are history event by event: every message of the stream's rooms after the
//! client's `Last-Event-ID`. Email changes are state: a user stream gets, for each of the
//! user's emails whose last change lies after the id, that change as the email's row has
//! it now. An email that changed again after the stream registered is left to the live
//! frames, which bring the newer change: each missed email arrives once, with its latest
//! status, and the frames' ids still rise, so a resume from any of them is exact.

use bytes::Bytes;
use sqlx::PgPool;

use super::{
    frames::{self, MessageView},
    queries,
};
use crate::email::{change::EmailChange, queries as email_queries};

/// Rows read per query.
pub const CHUNK: i64 = 500;

/// One missed frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missed {
    Message(MessageView),
    Email(EmailChange),
}

impl Missed {
    pub fn position(&self) -> i64 {
        match self {
            Self::Message(message) => message.position,
            Self::Email(change) => change.position,
        }
    }

    pub fn frame(&self) -> Bytes {
        match self {
            Self::Message(message) => frames::message(message),
            Self::Email(change) => change.frame(),
        }
    }
}

/// Whose history: the rooms' messages, and the emails of `emails_of` (user streams).
pub struct Scope<'a> {
    pub rooms: &'a [i64],
    pub emails_of: Option<uuid::Uuid>,
}

/// The next frames after `after`, up to `through`, in position order, and the position
/// they cover: the next chunk starts after it, and `through` means the history is done.
pub async fn next_chunk(
    pool: &PgPool,
    scope: &Scope<'_>,
    after: i64,
    through: i64,
) -> Result<(Vec<Missed>, i64), sqlx::Error> {
    let messages = if scope.rooms.is_empty() {
        Vec::new()
    } else {
        queries::messages_between(pool, scope.rooms, after, through, CHUNK).await?
    };
    let emails = match scope.emails_of {
        Some(user) => email_queries::changes_between(pool, user, after, through, CHUNK).await?,
        None => Vec::new(),
    };
    Ok(merge(messages, emails, CHUNK as usize, through))
}

/// Merges two chunks read after the same position, each in position order and at most
/// `limit` long. A full chunk may stop short of `through`, so only what lies at or below
/// the last position of every full chunk is known to be complete; the rest is read again
/// with the next chunk.
pub fn merge(
    messages: Vec<MessageView>,
    emails: Vec<EmailChange>,
    limit: usize,
    through: i64,
) -> (Vec<Missed>, i64) {
    let bound = |positions: Option<i64>, len: usize| match positions {
        Some(last) if len >= limit => last,
        _ => through,
    };
    let covered = bound(messages.last().map(|m| m.position), messages.len())
        .min(bound(emails.last().map(|e| e.position), emails.len()));
    let mut missed: Vec<Missed> = messages
        .into_iter()
        .map(Missed::Message)
        .chain(emails.into_iter().map(Missed::Email))
        .filter(|m| m.position() <= covered)
        .collect();
    missed.sort_by_key(Missed::position);
    (missed, covered)
}

#[cfg(test)]
mod tests {
    use schemas::email::EmailStatus;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn message(position: i64) -> MessageView {
        MessageView {
            room_id: 1,
            seq: position,
            message_id: Uuid::from_u128(position as u128),
            sender_id: Uuid::from_u128(1),
            text: format!("at {position}"),
            sent_at: OffsetDateTime::UNIX_EPOCH,
            position,
        }
    }

    fn change(position: i64) -> EmailChange {
        EmailChange {
            id: Uuid::from_u128(position as u128),
            status: EmailStatus::Sent,
            attempt: Some(1),
            reply: Some("250 ok".into()),
            next_attempt_at: None,
            position,
        }
    }

    fn positions(missed: &[Missed]) -> Vec<i64> {
        missed.iter().map(Missed::position).collect()
    }

    #[test]
    fn short_chunks_are_complete_and_interleave_in_log_order() {
        let (missed, covered) = merge(
            vec![message(3), message(7)],
            vec![change(5), change(9)],
            4,
            20,
        );
        assert_eq!(positions(&missed), [3, 5, 7, 9]);
        assert_eq!(covered, 20);
    }

    #[test]
    fn a_full_chunk_bounds_what_the_other_may_send() {
        let (missed, covered) = merge(
            vec![message(2), message(4), message(6)],
            vec![change(5), change(8)],
            3,
            20,
        );
        assert_eq!(positions(&missed), [2, 4, 5, 6]);
        assert_eq!(covered, 6, "8 comes again with the next chunk");
        let (missed, covered) = merge(vec![], vec![change(8)], 3, 20);
        assert_eq!(positions(&missed), [8]);
        assert_eq!(covered, 20);
    }

    #[test]
    fn two_full_chunks_stop_at_the_earlier_end() {
        let (missed, covered) = merge(
            vec![message(1), message(9)],
            vec![change(2), change(3)],
            2,
            20,
        );
        assert_eq!(positions(&missed), [1, 2, 3]);
        assert_eq!(covered, 3);
    }
}
