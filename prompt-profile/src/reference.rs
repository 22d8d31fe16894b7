//! Reference books and reference texts as their streams describe them.

use schemas::prompts::PromptsEvent;
use time::OffsetDateTime;
use uuid::Uuid;

/// A reference book after the events of its stream folded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub id: i64,
    pub owner_id: Uuid,
    pub author: String,
    pub title: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
    pub deleted: bool,
}

/// A reference text after the events of its stream folded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    pub id: i64,
    pub owner_id: Uuid,
    pub title: String,
    pub text: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
    pub deleted: bool,
}

/// The book after one more event of its stream, which is at `version`.
pub fn evolve_book(state: Option<Book>, event: &PromptsEvent, version: i64) -> Option<Book> {
    match (state, event) {
        (_, PromptsEvent::RefBookCreated(e)) => Some(Book {
            id: e.book_id,
            owner_id: e.owner_id,
            author: e.author.clone(),
            title: e.title.clone(),
            created_at: e.created_at,
            updated_at: e.created_at,
            version,
            deleted: false,
        }),
        (Some(book), PromptsEvent::RefBookUpdated(e)) => Some(Book {
            author: e.author.clone(),
            title: e.title.clone(),
            updated_at: e.updated_at,
            version,
            ..book
        }),
        (Some(book), PromptsEvent::RefBookDeleted(e)) => Some(Book {
            updated_at: e.deleted_at,
            version,
            deleted: true,
            ..book
        }),
        (state, _) => state,
    }
}

/// The reference text after one more event of its stream, which is at `version`.
pub fn evolve_data(state: Option<Data>, event: &PromptsEvent, version: i64) -> Option<Data> {
    match (state, event) {
        (_, PromptsEvent::RefDataCreated(e)) => Some(Data {
            id: e.data_id,
            owner_id: e.owner_id,
            title: e.title.clone(),
            text: e.text.clone(),
            created_at: e.created_at,
            updated_at: e.created_at,
            version,
            deleted: false,
        }),
        (Some(data), PromptsEvent::RefDataUpdated(e)) => Some(Data {
            title: e.title.clone(),
            text: e.text.clone(),
            updated_at: e.updated_at,
            version,
            ..data
        }),
        (Some(data), PromptsEvent::RefDataDeleted(e)) => Some(Data {
            updated_at: e.deleted_at,
            version,
            deleted: true,
            ..data
        }),
        (state, _) => state,
    }
}

#[cfg(test)]
mod tests {
    use schemas::prompts::{RefBookCreated, RefBookDeleted, RefDataCreated, RefDataUpdated};

    use super::*;

    const OWNER: Uuid = Uuid::from_u128(1);

    #[test]
    fn a_book_is_created_then_deleted() {
        let created = PromptsEvent::RefBookCreated(RefBookCreated {
            book_id: 1,
            owner_id: OWNER,
            author: "Feynman".into(),
            title: "Lectures".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        });
        let deleted = PromptsEvent::RefBookDeleted(RefBookDeleted {
            book_id: 1,
            owner_id: OWNER,
            deleted_at: OffsetDateTime::UNIX_EPOCH,
        });
        let book = evolve_book(None, &created, 1).unwrap();
        assert!(!book.deleted);
        let gone = evolve_book(Some(book), &deleted, 2).unwrap();
        assert!(gone.deleted);
        assert_eq!(gone.version, 2);
    }

    #[test]
    fn a_text_takes_its_update_and_ignores_book_events() {
        let created = PromptsEvent::RefDataCreated(RefDataCreated {
            data_id: 2,
            owner_id: OWNER,
            title: "Notes".into(),
            text: "first".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        });
        let updated = PromptsEvent::RefDataUpdated(RefDataUpdated {
            data_id: 2,
            owner_id: OWNER,
            title: "Notes".into(),
            text: "second".into(),
            updated_at: OffsetDateTime::UNIX_EPOCH,
        });
        let data = evolve_data(None, &created, 1).unwrap();
        let data = evolve_data(Some(data), &updated, 2).unwrap();
        assert_eq!((data.text.as_str(), data.version), ("second", 2));
        assert_eq!(evolve_book(None, &created, 1), None);
    }
}
