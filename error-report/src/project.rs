//! A project as its events leave it: what authenticates its reports, how many it takes
//! per minute, where its alerts go. Command-api folds it to check a client key and to
//! decide admins' changes; the alert rules reactor folds the same events.

use schemas::errors::{AlertRules, ErrorsEvent, PLATFORM_PROJECT};

/// The name the platform's own project goes by.
pub const PLATFORM_PROJECT_NAME: &str = "platform";

/// A project's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: i64,
    pub name: String,
    /// The DSN's client key; none for the platform's own project, which takes no reports
    /// over HTTP.
    pub public_key: Option<String>,
    pub rate_limit_per_minute: i64,
    pub rules: AlertRules,
}

impl Project {
    /// The platform's own project before any admin changed it: it exists from the start.
    pub fn platform() -> Self {
        Self {
            id: PLATFORM_PROJECT,
            name: PLATFORM_PROJECT_NAME.to_owned(),
            public_key: None,
            rate_limit_per_minute: i64::MAX,
            rules: AlertRules::default(),
        }
    }

    /// Whether `key` is this project's client key (compared in constant time: the key
    /// authenticates).
    pub fn accepts_key(&self, key: &str) -> bool {
        let Some(own) = &self.public_key else {
            return false;
        };
        own.len() == key.len()
            && own
                .bytes()
                .zip(key.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

/// The project `events` (one project's stream, in order) leave behind; `None` while it
/// has not been created. Project 0, the platform's, starts as [`Project::platform`].
pub fn evolve(id: i64, events: impl IntoIterator<Item = ErrorsEvent>) -> Option<Project> {
    let start = (id == PLATFORM_PROJECT).then(Project::platform);
    events.into_iter().fold(start, apply)
}

/// The project after one more event of its stream (`None` while not created).
pub fn apply(project: Option<Project>, event: ErrorsEvent) -> Option<Project> {
    match (project, event) {
        (_, ErrorsEvent::ProjectCreated(e)) => Some(Project {
            id: e.project,
            name: e.name,
            public_key: Some(e.public_key),
            rate_limit_per_minute: e.rate_limit_per_minute,
            rules: AlertRules::default(),
        }),
        (Some(project), ErrorsEvent::ProjectChanged(e)) => Some(Project {
            name: e.name,
            rate_limit_per_minute: e.rate_limit_per_minute,
            ..project
        }),
        (Some(project), ErrorsEvent::ProjectKeyRotated(e)) => Some(Project {
            public_key: Some(e.public_key),
            ..project
        }),
        (Some(project), ErrorsEvent::AlertRulesChanged(e)) => Some(Project {
            rules: e.rules,
            ..project
        }),
        (project, _) => project,
    }
}

#[cfg(test)]
mod tests {
    use schemas::errors::{AlertRulesChanged, ProjectCreated, ProjectKeyRotated};
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn created(project: i64) -> ErrorsEvent {
        ErrorsEvent::ProjectCreated(ProjectCreated {
            project,
            name: "shop".into(),
            public_key: "a".repeat(32),
            rate_limit_per_minute: 600,
            created_by: Uuid::nil(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        })
    }

    #[test]
    fn a_project_exists_once_created_and_the_platform_always() {
        assert_eq!(evolve(7, []), None);
        assert_eq!(evolve(0, []), Some(Project::platform()));
        let project = evolve(7, [created(7)]).unwrap();
        assert_eq!((project.id, project.name.as_str()), (7, "shop"));
        assert_eq!(project.rules, AlertRules::default());
    }

    #[test]
    fn only_the_current_key_is_accepted() {
        let rotated = ErrorsEvent::ProjectKeyRotated(ProjectKeyRotated {
            project: 7,
            public_key: "b".repeat(32),
            by: Uuid::nil(),
            rotated_at: OffsetDateTime::UNIX_EPOCH,
        });
        let project = evolve(7, [created(7), rotated]).unwrap();
        assert!(project.accepts_key(&"b".repeat(32)));
        assert!(!project.accepts_key(&"a".repeat(32)));
        assert!(!project.accepts_key("b"));
        assert!(!Project::platform().accepts_key(""));
    }

    #[test]
    fn alert_rules_are_replaced_whole() {
        let rules = AlertRules {
            on_new_issue: false,
            slack_webhook_url: Some("http://127.0.0.1:9/hook".into()),
            ..AlertRules::default()
        };
        let changed = ErrorsEvent::AlertRulesChanged(AlertRulesChanged {
            project: 7,
            rules: rules.clone(),
            by: Uuid::nil(),
            changed_at: OffsetDateTime::UNIX_EPOCH,
        });
        assert_eq!(evolve(7, [created(7), changed]).unwrap().rules, rules);
    }
}
