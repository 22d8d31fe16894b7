//! The prompts read models: each user's profiles, books and reference texts (theirs
//! alone: anyone else is told they do not exist), with the dialogues profiles give and
//! their pasts folded from the log; and the public scripts every logged-in user reads.
//!
//! Every cached entry of a user's things is in that user's group: any event of theirs (a
//! book's deletion changes the profiles that linked it, and their dialogues) retires them
//! all, and nobody else's. A profile's history and its state at a past position are read
//! from the log, which is never behind, and are not cached.
//!
//! - [`queries`]: the SQL of the `profiles` read model, each read with its checkpoint.
//! - [`handlers`]: listings and views of profiles, books and texts.
//! - [`dialogues`]: a profile's scripts, as texts and as chat messages.
//! - [`past`]: a profile, its references and its dialogue as they were at a position.
//! - [`history`]: every change of a profile.
//! - [`public_scripts`]: the public scripts' read model and endpoints.

pub mod dialogues;
pub mod handlers;
pub mod history;
pub mod past;
pub mod public_scripts;
pub mod queries;

use axum::{Router, routing::get};
use bytes::Bytes;
use schemas::{
    DomainEvent, RecordedEvent,
    prompts::{OWNED_EVENT_TYPES, PromptsEvent},
};
use service_kit::paging::Page;
use uuid::Uuid;

use crate::{
    AppState,
    cache::{CacheSize, GuardedCache, Weigh},
    follow::Invalidate,
    read_model::ReadModel,
};

/// A rendered view and the version for its ETag.
#[derive(Clone)]
pub struct CachedView {
    pub body: Bytes,
    pub version: i64,
}

impl Weigh for CachedView {
    fn heap_bytes(&self) -> usize {
        self.body.len()
    }
}

/// A cache of one user's views: keyed by the user and what they asked for, grouped by
/// the user.
pub type OwnersCache<K, V> = GuardedCache<(Uuid, K), V, Uuid>;

pub struct ProfilesReadModel {
    pub progress: ReadModel,
    /// The checkpoint source the rows are current for.
    pub source: String,
    pub profiles: OwnersCache<i64, CachedView>,
    pub profile_pages: OwnersCache<Page, Bytes>,
    pub dialogues: OwnersCache<i64, Bytes>,
    pub books: OwnersCache<i64, CachedView>,
    pub book_pages: OwnersCache<Page, Bytes>,
    pub data: OwnersCache<i64, CachedView>,
    pub data_pages: OwnersCache<Page, Bytes>,
}

fn owner_of<K>(key: &(Uuid, K)) -> Uuid {
    key.0
}

impl ProfilesReadModel {
    pub fn new(size: CacheSize, source: String) -> Self {
        Self {
            progress: ReadModel::new("profiles", PromptsEvent::CONTEXT),
            source,
            profiles: GuardedCache::grouped("prompt_profiles", size, owner_of),
            profile_pages: GuardedCache::grouped("prompt_profile_pages", size, owner_of),
            dialogues: GuardedCache::grouped("prompt_dialogues", size, owner_of),
            books: GuardedCache::grouped("prompt_books", size, owner_of),
            book_pages: GuardedCache::grouped("prompt_book_pages", size, owner_of),
            data: GuardedCache::grouped("prompt_data", size, owner_of),
            data_pages: GuardedCache::grouped("prompt_data_pages", size, owner_of),
        }
    }

    /// An event at `position` changed `owner`'s things.
    fn retire(&self, owner: Uuid, position: i64) {
        self.profiles.invalidate(owner, position);
        self.profile_pages.invalidate(owner, position);
        self.dialogues.invalidate(owner, position);
        self.books.invalidate(owner, position);
        self.book_pages.invalidate(owner, position);
        self.data.invalidate(owner, position);
        self.data_pages.invalidate(owner, position);
    }
}

impl Invalidate for ProfilesReadModel {
    fn progress(&self) -> &ReadModel {
        &self.progress
    }

    fn event_types(&self) -> Option<&'static [&'static str]> {
        Some(&OWNED_EVENT_TYPES)
    }

    fn on_event(&self, event: &RecordedEvent) {
        match event.decode::<PromptsEvent>().map(|e| e.owner()) {
            Ok(Some(owner)) => self.retire(owner, event.position),
            Ok(None) => {}
            // An event this version cannot read may change anyone's.
            Err(_) => self.on_reset(event.position),
        }
    }

    fn on_applied(&self, position: i64) {
        self.progress.set_applied(position);
    }

    fn on_reset(&self, position: i64) {
        self.profiles.invalidate_all(position);
        self.profile_pages.invalidate_all(position);
        self.dialogues.invalidate_all(position);
        self.books.invalidate_all(position);
        self.book_pages.invalidate_all(position);
        self.data.invalidate_all(position);
        self.data_pages.invalidate_all(position);
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles", get(handlers::list_profiles))
        .route("/api/v1/profiles/{id}", get(handlers::get_profile))
        .route("/api/v1/profiles/{id}/dialogues", get(dialogues::dialogues))
        .route("/api/v1/profiles/{id}/history", get(history::history))
        .route("/api/v1/ref-books", get(handlers::list_books))
        .route("/api/v1/ref-books/{id}", get(handlers::get_book))
        .route("/api/v1/ref-data", get(handlers::list_data))
        .route("/api/v1/ref-data/{id}", get(handlers::get_data))
        .merge(public_scripts::router())
}
