//! A project as admins change it: its state is `error_report`'s, folded with the version
//! it is at; the decisions are pure. The platform's own project exists without being
//! created, and only its alert rules change: its name is the platform's, and it has no
//! client key (its errors do not come over HTTP).

use error_report::project::{self, Project};
use schemas::errors::{
    AlertRules, AlertRulesChanged, ErrorsEvent, PLATFORM_PROJECT, ProjectChanged, ProjectCreated,
    ProjectKeyRotated,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::input::ProjectFields;
use crate::command::Aggregate;

/// A project and the version of its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectState {
    pub project: Project,
    pub version: i64,
}

impl ProjectState {
    /// The platform's project before any admin changed it.
    pub fn platform() -> Self {
        Self {
            project: Project::platform(),
            version: 0,
        }
    }
}

impl Aggregate for ProjectState {
    type Event = ErrorsEvent;

    fn evolve(state: Option<Self>, event: &ErrorsEvent, version: i64) -> Option<Self> {
        let before = match state {
            Some(state) => Some(state.project),
            None if project_of(event) == Some(PLATFORM_PROJECT) => Some(Project::platform()),
            None => None,
        };
        project::apply(before, event.clone()).map(|project| Self { project, version })
    }
}

fn project_of(event: &ErrorsEvent) -> Option<i64> {
    match event {
        ErrorsEvent::ProjectCreated(e) => Some(e.project),
        ErrorsEvent::ProjectChanged(e) => Some(e.project),
        ErrorsEvent::ProjectKeyRotated(e) => Some(e.project),
        ErrorsEvent::AlertRulesChanged(e) => Some(e.project),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "the platform's own project keeps its name, quota and (absent) key; only its alert rules change"
    )]
    Platform,
}

/// A new project with its first client key; the store numbers it.
pub fn create(
    number: i64,
    fields: ProjectFields,
    public_key: String,
    by: Uuid,
    at: OffsetDateTime,
) -> ErrorsEvent {
    ErrorsEvent::ProjectCreated(ProjectCreated {
        project: number,
        name: fields.name,
        public_key,
        rate_limit_per_minute: fields.rate_limit_per_minute,
        created_by: by,
        created_at: at,
    })
}

pub fn change(
    state: &ProjectState,
    fields: ProjectFields,
    by: Uuid,
    at: OffsetDateTime,
) -> Result<ErrorsEvent, ProjectError> {
    let project = changeable(state)?;
    Ok(ErrorsEvent::ProjectChanged(ProjectChanged {
        project,
        name: fields.name,
        rate_limit_per_minute: fields.rate_limit_per_minute,
        by,
        changed_at: at,
    }))
}

/// A new key replaces the old one, which stops working.
pub fn rotate_key(
    state: &ProjectState,
    public_key: String,
    by: Uuid,
    at: OffsetDateTime,
) -> Result<ErrorsEvent, ProjectError> {
    let project = changeable(state)?;
    Ok(ErrorsEvent::ProjectKeyRotated(ProjectKeyRotated {
        project,
        public_key,
        by,
        rotated_at: at,
    }))
}

/// Every project's alert rules change, the platform's too.
pub fn set_rules(
    state: &ProjectState,
    rules: AlertRules,
    by: Uuid,
    at: OffsetDateTime,
) -> ErrorsEvent {
    ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
        project: state.project.id,
        rules,
        by,
        changed_at: at,
    })
}

fn changeable(state: &ProjectState) -> Result<i64, ProjectError> {
    if state.project.id == PLATFORM_PROJECT {
        return Err(ProjectError::Platform);
    }
    Ok(state.project.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, fold, numbered::assert_numbered_as_stored};

    const ADMIN: Uuid = Uuid::from_u128(9);

    fn fields(name: &str) -> ProjectFields {
        ProjectFields {
            name: name.into(),
            rate_limit_per_minute: 600,
        }
    }

    fn created(number: i64) -> ErrorsEvent {
        create(
            number,
            fields("shop"),
            "a".repeat(32),
            ADMIN,
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_new_project_is_numbered_where_the_store_numbers_it() {
        assert_numbered_as_stored::<ProjectState>(vec![created(UNNUMBERED)]);
    }

    #[test]
    fn a_created_project_is_at_version_one_with_its_key_and_default_rules() {
        let state = fold::<ProjectState>(None, &[created(4)], 1).unwrap();
        assert_eq!(state.version, 1);
        assert_eq!(state.project.public_key, Some("a".repeat(32)));
        assert_eq!(state.project.rules, AlertRules::default());
    }

    #[test]
    fn a_project_is_renamed_and_its_key_rotated() {
        let state = fold::<ProjectState>(None, &[created(4)], 1).unwrap();
        let renamed = change(&state, fields("store"), ADMIN, OffsetDateTime::UNIX_EPOCH).unwrap();
        let rotated =
            rotate_key(&state, "b".repeat(32), ADMIN, OffsetDateTime::UNIX_EPOCH).unwrap();
        let after = fold(Some(state), &[renamed, rotated], 2).unwrap();
        assert_eq!(after.project.name, "store");
        assert!(after.project.accepts_key(&"b".repeat(32)));
        assert_eq!(after.version, 3);
    }

    #[test]
    fn the_platform_s_project_takes_alert_rules_but_no_rename_or_key() {
        let platform = ProjectState::platform();
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            change(&platform, fields("mine"), ADMIN, at),
            Err(ProjectError::Platform)
        );
        assert_eq!(
            rotate_key(&platform, "c".repeat(32), ADMIN, at),
            Err(ProjectError::Platform)
        );
        let rules = AlertRules {
            on_new_issue: false,
            ..AlertRules::default()
        };
        let changed = set_rules(&platform, rules.clone(), ADMIN, at);
        let after = fold::<ProjectState>(None, &[changed], 1).unwrap();
        assert_eq!(after.project.rules, rules);
        assert_eq!(after.project.name, "platform");
        assert_eq!(after.version, 1);
    }
}
