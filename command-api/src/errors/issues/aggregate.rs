//! An issue's life as admins move it: opened with its first error, then resolved, muted
//! or reopened. Pure: no I/O here. Its errors are not in its stream; the one thing they
//! change that a decision needs, whether one arrived since the issue was resolved (a
//! regression, which the read model shows open again), is given to [`decide`].

use schemas::errors::{ErrorsEvent, IssueMuted, IssueReopened, IssueResolved, IssueStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::command::Aggregate;

/// An issue as its own stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub id: Uuid,
    pub project: i64,
    pub status: IssueStatus,
    pub version: i64,
}

impl Aggregate for Issue {
    type Event = ErrorsEvent;

    fn evolve(state: Option<Self>, event: &ErrorsEvent, version: i64) -> Option<Self> {
        let status = match (&state, event) {
            (None, ErrorsEvent::IssueOpened(e)) => {
                return Some(Self {
                    id: e.issue_id,
                    project: e.project,
                    status: IssueStatus::Open,
                    version,
                });
            }
            (Some(_), ErrorsEvent::IssueResolved(_)) => IssueStatus::Resolved,
            (Some(_), ErrorsEvent::IssueMuted(_)) => IssueStatus::Muted,
            (Some(_), ErrorsEvent::IssueReopened(_)) => IssueStatus::Open,
            _ => return state,
        };
        state.map(|issue| Self {
            status,
            version,
            ..issue
        })
    }
}

/// What an admin does to an issue: the status it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueOperation {
    Resolve,
    Mute,
    Reopen,
}

impl IssueOperation {
    pub fn target(self) -> IssueStatus {
        match self {
            Self::Resolve => IssueStatus::Resolved,
            Self::Mute => IssueStatus::Muted,
            Self::Reopen => IssueStatus::Open,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Resolve => "resolve",
            Self::Mute => "mute",
            Self::Reopen => "reopen",
        }
    }
}

/// The event that moves `issue` where `operation` asks, or none when it is there already:
/// asking twice changes nothing. A resolved issue that `regressed` (an error arrived
/// since) is open in everyone's eyes, so resolving it again is a change.
pub fn decide(
    issue: &Issue,
    operation: IssueOperation,
    regressed: bool,
    by: Uuid,
    at: OffsetDateTime,
) -> Option<ErrorsEvent> {
    let there =
        issue.status == operation.target() && !(operation == IssueOperation::Resolve && regressed);
    if there {
        return None;
    }
    let (issue_id, project) = (issue.id, issue.project);
    Some(match operation {
        IssueOperation::Resolve => ErrorsEvent::IssueResolved(IssueResolved {
            issue_id,
            project,
            by,
            resolved_at: at,
        }),
        IssueOperation::Mute => ErrorsEvent::IssueMuted(IssueMuted {
            issue_id,
            project,
            by,
            muted_at: at,
        }),
        IssueOperation::Reopen => ErrorsEvent::IssueReopened(IssueReopened {
            issue_id,
            project,
            by,
            reopened_at: at,
        }),
    })
}

#[cfg(test)]
mod tests {
    use schemas::errors::{IssueOpened, Level};

    use super::*;
    use crate::command::fold;

    const ISSUE: Uuid = Uuid::from_u128(7);
    const ADMIN: Uuid = Uuid::from_u128(9);
    const AT: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn opened() -> ErrorsEvent {
        ErrorsEvent::IssueOpened(IssueOpened {
            issue_id: ISSUE,
            project: 3,
            fingerprint: vec!["ValueError".into()],
            title: "ValueError: bad".into(),
            level: Level::Error,
            first_event_id: Uuid::from_u128(1),
            opened_at: AT,
        })
    }

    fn after(operations: &[IssueOperation]) -> Issue {
        let mut issue = fold::<Issue>(None, &[opened()], 1).unwrap();
        for operation in operations {
            let event = decide(&issue, *operation, false, ADMIN, AT).unwrap();
            issue = fold(Some(issue.clone()), &[event], issue.version + 1).unwrap();
        }
        issue
    }

    #[test]
    fn a_new_issue_is_open_and_moves_where_admins_ask() {
        use IssueOperation::*;
        assert_eq!(after(&[]).status, IssueStatus::Open);
        assert_eq!(after(&[Resolve]).status, IssueStatus::Resolved);
        assert_eq!(after(&[Resolve, Mute]).status, IssueStatus::Muted);
        let reopened = after(&[Mute, Reopen]);
        assert_eq!(reopened.status, IssueStatus::Open);
        assert_eq!(reopened.version, 3);
    }

    #[test]
    fn asking_for_the_status_an_issue_has_changes_nothing() {
        use IssueOperation::*;
        assert_eq!(decide(&after(&[]), Reopen, false, ADMIN, AT), None);
        assert_eq!(decide(&after(&[Mute]), Mute, false, ADMIN, AT), None);
        assert_eq!(decide(&after(&[Resolve]), Resolve, false, ADMIN, AT), None);
    }

    #[test]
    fn a_resolved_issue_that_regressed_is_resolved_again() {
        let resolved = after(&[IssueOperation::Resolve]);
        let event = decide(&resolved, IssueOperation::Resolve, true, ADMIN, AT);
        assert!(matches!(event, Some(ErrorsEvent::IssueResolved(_))));
    }
}
