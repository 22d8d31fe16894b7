//! What people may do to an email: its sender (or an admin) cancels it while it is not
//! sent; an admin puts a failed or dead one back in the queue. Anyone else does not learn
//! that it exists.

use schemas::email::{EmailCancelled, EmailRetried, EmailStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Email;

/// Who acts on an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub user_id: Uuid,
    pub admin: bool,
}

impl Operator {
    /// Whether the email is theirs to see: the sender's own, or any for an admin.
    pub fn may_see(self, email: &Email) -> bool {
        self.admin || self.user_id == email.requested_by
    }
}

/// Why an operation on an email was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not the caller's to see: answered as if it did not exist.
    #[error("no such email")]
    NotFound,
    #[error("only an admin may retry an email")]
    NotAdmin,
    #[error("a {0} email cannot be cancelled: only a queued or retrying one can")]
    NotCancellable(EmailStatus),
    #[error("a {0} email cannot be retried: only a failed or dead one can")]
    NotRetryable(EmailStatus),
}

impl EmailError {
    /// The email's status, when the refusal is about it.
    pub fn status(&self) -> Option<EmailStatus> {
        match self {
            Self::NotCancellable(status) | Self::NotRetryable(status) => Some(*status),
            Self::NotFound | Self::NotAdmin => None,
        }
    }
}

/// Withdraws an email that no attempt is under way for and none has sent. An email being
/// sent cannot be withdrawn: the server may be accepting it that moment.
pub fn cancel(
    email: &Email,
    by: Operator,
    at: OffsetDateTime,
) -> Result<EmailCancelled, EmailError> {
    if !by.may_see(email) {
        return Err(EmailError::NotFound);
    }
    if !matches!(email.status, EmailStatus::Queued | EmailStatus::Retrying) {
        return Err(EmailError::NotCancellable(email.status));
    }
    Ok(EmailCancelled {
        email_id: email.id,
        requested_by: email.requested_by,
        by: by.user_id,
        cancelled_at: at,
    })
}

/// Puts a failed or dead email back in the queue with a fresh allowance of attempts.
pub fn retry(email: &Email, by: Operator, at: OffsetDateTime) -> Result<EmailRetried, EmailError> {
    if !by.may_see(email) {
        return Err(EmailError::NotFound);
    }
    if !by.admin {
        return Err(EmailError::NotAdmin);
    }
    if !matches!(email.status, EmailStatus::Failed | EmailStatus::Dead) {
        return Err(EmailError::NotRetryable(email.status));
    }
    Ok(EmailRetried {
        email_id: email.id,
        requested_by: email.requested_by,
        by: by.user_id,
        retried_at: at,
    })
}

#[cfg(test)]
mod tests {
    use schemas::email::{EmailDead, EmailEvent};

    use super::*;
    use crate::job::tests::{T0, fold, requested, started};

    const SENDER: Operator = Operator {
        user_id: Uuid::from_u128(2),
        admin: false,
    };
    const STRANGER: Operator = Operator {
        user_id: Uuid::from_u128(7),
        admin: false,
    };
    const ADMIN: Operator = Operator {
        user_id: Uuid::from_u128(9),
        admin: true,
    };

    fn dead() -> Email {
        fold(&[
            requested(),
            started(1, T0),
            EmailEvent::Dead(EmailDead {
                email_id: Uuid::from_u128(1),
                requested_by: Uuid::from_u128(2),
                attempt: 1,
                reply: "451".into(),
                died_at: T0,
            }),
        ])
    }

    #[test]
    fn the_sender_cancels_a_queued_email() {
        let cancelled = cancel(&fold(&[requested()]), SENDER, T0).unwrap();
        assert_eq!(cancelled.by, SENDER.user_id);
    }

    #[test]
    fn someone_else_s_email_is_not_found_rather_than_forbidden() {
        let email = fold(&[requested()]);
        assert_eq!(cancel(&email, STRANGER, T0), Err(EmailError::NotFound));
        assert_eq!(retry(&dead(), STRANGER, T0), Err(EmailError::NotFound));
    }

    #[test]
    fn an_email_being_sent_cannot_be_cancelled() {
        let email = fold(&[requested(), started(1, T0)]);
        assert_eq!(
            cancel(&email, SENDER, T0),
            Err(EmailError::NotCancellable(EmailStatus::Sending))
        );
    }

    #[test]
    fn only_an_admin_retries_and_only_a_failed_or_dead_email() {
        assert_eq!(retry(&dead(), SENDER, T0), Err(EmailError::NotAdmin));
        assert!(retry(&dead(), ADMIN, T0).is_ok());
        assert_eq!(
            retry(&fold(&[requested()]), ADMIN, T0),
            Err(EmailError::NotRetryable(EmailStatus::Queued))
        );
    }
}
