//! A profile as its stream describes it.

use schemas::prompts::{ProfileSettings, PromptsEvent};
use time::OffsetDateTime;
use uuid::Uuid;

/// A profile after the events of its stream folded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: i64,
    pub owner_id: Uuid,
    pub settings: ProfileSettings,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The version of its stream after the last event folded.
    pub version: i64,
    pub deleted: bool,
}

/// The profile after one more event of its stream, which is at `version`. Events of other
/// streams leave it as it was.
pub fn evolve(state: Option<Profile>, event: &PromptsEvent, version: i64) -> Option<Profile> {
    match (state, event) {
        (_, PromptsEvent::PromptProfileCreated(e)) => Some(Profile {
            id: e.profile_id,
            owner_id: e.owner_id,
            settings: e.settings.clone(),
            created_at: e.created_at,
            updated_at: e.created_at,
            version,
            deleted: false,
        }),
        (Some(profile), PromptsEvent::PromptProfileUpdated(e)) => Some(Profile {
            settings: e.settings.clone(),
            updated_at: e.updated_at,
            version,
            ..profile
        }),
        (Some(profile), PromptsEvent::PromptProfileDeleted(e)) => Some(Profile {
            updated_at: e.deleted_at,
            version,
            deleted: true,
            ..profile
        }),
        (state, _) => state,
    }
}

#[cfg(test)]
mod tests {
    use schemas::prompts::{
        Language, PromptProfileCreated, PromptProfileDeleted, PromptProfileUpdated,
    };

    use super::*;

    fn settings(major: &str) -> ProfileSettings {
        ProfileSettings {
            description: "No Description".into(),
            language: Language::English,
            major: major.into(),
            understanding_level: 2,
            only_references: false,
            data_in_sequence: false,
            ref_book_ids: vec![],
            ref_data_ids: vec![],
        }
    }

    #[test]
    fn a_profile_takes_each_update_whole_and_ends_deleted() {
        let owner = Uuid::from_u128(1);
        let at = |s| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let events = [
            PromptsEvent::PromptProfileCreated(PromptProfileCreated {
                profile_id: 3,
                owner_id: owner,
                settings: settings("Physics"),
                created_at: at(10),
            }),
            PromptsEvent::PromptProfileUpdated(PromptProfileUpdated {
                profile_id: 3,
                owner_id: owner,
                settings: settings("Chemistry"),
                updated_at: at(20),
            }),
            PromptsEvent::PromptProfileDeleted(PromptProfileDeleted {
                profile_id: 3,
                owner_id: owner,
                deleted_at: at(30),
            }),
        ];
        let updated = events[..2]
            .iter()
            .zip(1..)
            .fold(None, |state, (event, version)| {
                evolve(state, event, version)
            })
            .unwrap();
        assert_eq!(updated.settings.major, "Chemistry");
        assert_eq!((updated.version, updated.created_at), (2, at(10)));
        assert!(!updated.deleted);
        let deleted = evolve(Some(updated), &events[2], 3).unwrap();
        assert!(deleted.deleted);
        assert_eq!((deleted.version, deleted.updated_at), (3, at(30)));
    }

    #[test]
    fn an_update_without_a_creation_describes_nothing() {
        let event = PromptsEvent::PromptProfileUpdated(PromptProfileUpdated {
            profile_id: 3,
            owner_id: Uuid::from_u128(1),
            settings: settings("Physics"),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        });
        assert_eq!(evolve(None, &event, 1), None);
    }
}
