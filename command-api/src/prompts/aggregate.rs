//! Decisions on profiles, reference books and reference texts, as pure functions of their
//! state. A user's own things are theirs alone: another user's is as good as none, so
//! whoever asks about it learns nothing, not even that it exists. The states are
//! `prompt_profile`'s, folded the way query-api folds them too.

use prompt_profile::{
    Book, Data, Profile,
    profile::evolve,
    reference::{evolve_book, evolve_data},
};
use schemas::prompts::{
    ProfileSettings, ProfileSlotFreed, ProfileSlotTaken, PromptProfileCreated,
    PromptProfileDeleted, PromptProfileUpdated, PromptsEvent, RefBookCreated, RefBookDeleted,
    RefBookUpdated, RefDataCreated, RefDataDeleted, RefDataUpdated,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::input::{BookFields, DataFields};
use crate::command::Aggregate;

/// Profiles one user may hold at once.
pub const MAX_PROFILES: i64 = 50;

/// The profiles a user holds, counted on their own stream: what keeps them under
/// [`MAX_PROFILES`] when creations race (each expects the version it counted at).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slots {
    pub held: i64,
    /// The version of the owner's stream (0: none taken yet).
    pub version: i64,
}

/// The user already holds as many profiles as anyone may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user holds at most {MAX_PROFILES} profiles; delete one to create another")]
pub struct LimitReached;

/// Something a user owns, deleted or not.
pub trait Owned {
    fn owner(&self) -> Uuid;
    fn deleted(&self) -> bool;
}

/// The state if it is `user`'s and not deleted; none otherwise.
pub fn visible_to<T: Owned>(state: Option<T>, user: Uuid) -> Option<T> {
    state.filter(|state| state.owner() == user && !state.deleted())
}

/// A new profile of `owner`, with the slot it takes; the store numbers it.
pub fn create_profile(
    number: i64,
    owner: Uuid,
    settings: ProfileSettings,
    slots: Slots,
    at: OffsetDateTime,
) -> Result<(PromptsEvent, PromptsEvent), LimitReached> {
    if slots.held >= MAX_PROFILES {
        return Err(LimitReached);
    }
    let created = PromptsEvent::PromptProfileCreated(PromptProfileCreated {
        profile_id: number,
        owner_id: owner,
        settings,
        created_at: at,
    });
    let taken = PromptsEvent::ProfileSlotTaken(ProfileSlotTaken {
        owner_id: owner,
        taken_at: at,
    });
    Ok((created, taken))
}

pub fn update_profile(
    profile: &Profile,
    settings: ProfileSettings,
    at: OffsetDateTime,
) -> PromptsEvent {
    PromptsEvent::PromptProfileUpdated(PromptProfileUpdated {
        profile_id: profile.id,
        owner_id: profile.owner_id,
        settings,
        updated_at: at,
    })
}

/// The deletion, and the slot it frees.
pub fn delete_profile(profile: &Profile, at: OffsetDateTime) -> (PromptsEvent, PromptsEvent) {
    let deleted = PromptsEvent::PromptProfileDeleted(PromptProfileDeleted {
        profile_id: profile.id,
        owner_id: profile.owner_id,
        deleted_at: at,
    });
    let freed = PromptsEvent::ProfileSlotFreed(ProfileSlotFreed {
        owner_id: profile.owner_id,
        profile_id: profile.id,
        freed_at: at,
    });
    (deleted, freed)
}

pub fn create_book(
    number: i64,
    owner: Uuid,
    fields: BookFields,
    at: OffsetDateTime,
) -> PromptsEvent {
    PromptsEvent::RefBookCreated(RefBookCreated {
        book_id: number,
        owner_id: owner,
        author: fields.author,
        title: fields.title,
        created_at: at,
    })
}

pub fn update_book(book: &Book, fields: BookFields, at: OffsetDateTime) -> PromptsEvent {
    PromptsEvent::RefBookUpdated(RefBookUpdated {
        book_id: book.id,
        owner_id: book.owner_id,
        author: fields.author,
        title: fields.title,
        updated_at: at,
    })
}

pub fn delete_book(book: &Book, at: OffsetDateTime) -> PromptsEvent {
    PromptsEvent::RefBookDeleted(RefBookDeleted {
        book_id: book.id,
        owner_id: book.owner_id,
        deleted_at: at,
    })
}

pub fn create_data(
    number: i64,
    owner: Uuid,
    fields: DataFields,
    at: OffsetDateTime,
) -> PromptsEvent {
    PromptsEvent::RefDataCreated(RefDataCreated {
        data_id: number,
        owner_id: owner,
        title: fields.title,
        text: fields.text,
        created_at: at,
    })
}

pub fn update_data(data: &Data, fields: DataFields, at: OffsetDateTime) -> PromptsEvent {
    PromptsEvent::RefDataUpdated(RefDataUpdated {
        data_id: data.id,
        owner_id: data.owner_id,
        title: fields.title,
        text: fields.text,
        updated_at: at,
    })
}

pub fn delete_data(data: &Data, at: OffsetDateTime) -> PromptsEvent {
    PromptsEvent::RefDataDeleted(RefDataDeleted {
        data_id: data.id,
        owner_id: data.owner_id,
        deleted_at: at,
    })
}

impl Aggregate for Slots {
    type Event = PromptsEvent;

    fn evolve(state: Option<Self>, event: &PromptsEvent, version: i64) -> Option<Self> {
        let held = state.unwrap_or_default().held;
        let held = match event {
            PromptsEvent::ProfileSlotTaken(_) => held + 1,
            PromptsEvent::ProfileSlotFreed(_) => held - 1,
            _ => held,
        };
        Some(Self { held, version })
    }
}

impl Aggregate for Profile {
    type Event = PromptsEvent;

    fn evolve(state: Option<Self>, event: &PromptsEvent, version: i64) -> Option<Self> {
        evolve(state, event, version)
    }
}

impl Aggregate for Book {
    type Event = PromptsEvent;

    fn evolve(state: Option<Self>, event: &PromptsEvent, version: i64) -> Option<Self> {
        evolve_book(state, event, version)
    }
}

impl Aggregate for Data {
    type Event = PromptsEvent;

    fn evolve(state: Option<Self>, event: &PromptsEvent, version: i64) -> Option<Self> {
        evolve_data(state, event, version)
    }
}

impl Owned for Profile {
    fn owner(&self) -> Uuid {
        self.owner_id
    }

    fn deleted(&self) -> bool {
        self.deleted
    }
}

impl Owned for Book {
    fn owner(&self) -> Uuid {
        self.owner_id
    }

    fn deleted(&self) -> bool {
        self.deleted
    }
}

impl Owned for Data {
    fn owner(&self) -> Uuid {
        self.owner_id
    }

    fn deleted(&self) -> bool {
        self.deleted
    }
}

#[cfg(test)]
mod tests {
    use schemas::prompts::Language;

    use super::*;
    use crate::command::fold;

    const ADA: Uuid = Uuid::from_u128(1);
    const BOB: Uuid = Uuid::from_u128(2);

    fn settings() -> ProfileSettings {
        ProfileSettings {
            description: "No Description".into(),
            language: Language::English,
            major: "Physics".into(),
            understanding_level: 3,
            only_references: false,
            data_in_sequence: false,
            ref_book_ids: vec![],
            ref_data_ids: vec![],
        }
    }

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn slots_after(events: &[PromptsEvent]) -> Slots {
        fold::<Slots>(None, events, 1).unwrap_or_default()
    }

    #[test]
    fn the_fiftieth_profile_is_created_and_the_fifty_first_refused() {
        let mut events = Vec::new();
        for n in 1..=MAX_PROFILES {
            let (_, taken) = create_profile(n, ADA, settings(), slots_after(&events), at())
                .expect("under the limit");
            events.push(taken);
        }
        let full = slots_after(&events);
        assert_eq!((full.held, full.version), (50, 50));
        assert_eq!(
            create_profile(51, ADA, settings(), full, at()),
            Err(LimitReached)
        );
    }

    #[test]
    fn a_deleted_profile_frees_its_slot() {
        let (created, taken) = create_profile(1, ADA, settings(), Slots::default(), at()).unwrap();
        let profile = fold::<Profile>(None, &[created], 1).unwrap();
        let (deleted, freed) = delete_profile(&profile, at());
        assert!(fold(Some(profile), &[deleted], 2).unwrap().deleted);
        assert_eq!(slots_after(&[taken, freed]).held, 0);
    }

    #[test]
    fn another_users_book_or_a_deleted_one_is_as_good_as_none() {
        let created = create_book(
            4,
            ADA,
            BookFields {
                author: "Feynman".into(),
                title: "Lectures".into(),
            },
            at(),
        );
        let book = fold::<Book>(None, &[created], 1).unwrap();
        assert!(visible_to(Some(book.clone()), ADA).is_some());
        assert!(visible_to(Some(book.clone()), BOB).is_none());
        let gone = fold(Some(book.clone()), &[delete_book(&book, at())], 2).unwrap();
        assert!(visible_to(Some(gone), ADA).is_none());
    }
}
