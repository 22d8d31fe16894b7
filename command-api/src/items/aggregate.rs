//! The item aggregate as pure functions: `decide` turns a command into events given the
//! current state, `evolve` folds an event into the state. No I/O here.

use schemas::items::{ItemCreated, ItemDeleted, ItemEvent, ItemUpdated};

use super::input::ItemFields;

/// An item as its own stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemCommand {
    CreateItem { id: i64, fields: ItemFields },
    UpdateItem { fields: ItemFields },
    DeleteItem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("the item already exists")]
    AlreadyExists,
    #[error("no such item")]
    NotFound,
}

/// The events a command produces, or why it is refused.
pub fn decide(state: Option<&Item>, command: ItemCommand) -> Result<Vec<ItemEvent>, ItemError> {
    let live = state.filter(|item| !item.deleted);
    match (live, command) {
        (None, ItemCommand::CreateItem { id, fields }) if state.is_none() => {
            Ok(vec![ItemEvent::Created(ItemCreated {
                id,
                name: fields.name,
                description: fields.description,
            })])
        }
        (_, ItemCommand::CreateItem { .. }) => Err(ItemError::AlreadyExists),
        (Some(item), ItemCommand::UpdateItem { fields }) => {
            Ok(vec![ItemEvent::Updated(ItemUpdated {
                id: item.id,
                name: fields.name,
                description: fields.description,
            })])
        }
        (Some(item), ItemCommand::DeleteItem) => {
            Ok(vec![ItemEvent::Deleted(ItemDeleted { id: item.id })])
        }
        (None, _) => Err(ItemError::NotFound),
    }
}

/// The state after one more event, which is at `version` in the stream.
pub fn evolve(state: Option<Item>, event: &ItemEvent, version: i64) -> Option<Item> {
    match (state, event) {
        (_, ItemEvent::Created(e)) => Some(Item {
            id: e.id,
            name: e.name.clone(),
            description: e.description.clone(),
            version,
            deleted: false,
        }),
        (Some(item), ItemEvent::Updated(e)) => Some(Item {
            name: e.name.clone(),
            description: e.description.clone(),
            version,
            ..item
        }),
        (Some(item), ItemEvent::Deleted(_)) => Some(Item {
            deleted: true,
            version,
            ..item
        }),
        (None, _) => None,
    }
}

impl crate::command::Aggregate for Item {
    type Event = ItemEvent;

    fn evolve(state: Option<Self>, event: &ItemEvent, version: i64) -> Option<Self> {
        evolve(state, event, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, numbered::assert_numbered_as_stored};

    fn fields(name: &str) -> ItemFields {
        ItemFields {
            name: name.into(),
            description: String::new(),
        }
    }

    fn given(events: &[ItemEvent]) -> Option<Item> {
        events
            .iter()
            .zip(1..)
            .fold(None, |state, (event, version)| {
                evolve(state, event, version)
            })
    }

    fn created() -> ItemEvent {
        ItemEvent::Created(ItemCreated {
            id: 1,
            name: "lamp".into(),
            description: String::new(),
        })
    }

    #[test]
    fn creating_a_new_item_records_it() {
        let events = decide(
            None,
            ItemCommand::CreateItem {
                id: 1,
                fields: fields("lamp"),
            },
        );
        assert_eq!(events, Ok(vec![created()]));
    }

    #[test]
    fn a_new_item_is_numbered_where_the_store_numbers_it() {
        let command = ItemCommand::CreateItem {
            id: UNNUMBERED,
            fields: fields("lamp"),
        };
        assert_numbered_as_stored::<Item>(decide(None, command).unwrap());
    }

    #[test]
    fn creating_an_existing_item_is_refused() {
        let state = given(&[created()]);
        let result = decide(
            state.as_ref(),
            ItemCommand::CreateItem {
                id: 1,
                fields: fields("x"),
            },
        );
        assert_eq!(result, Err(ItemError::AlreadyExists));
    }

    #[test]
    fn updating_replaces_name_and_description_and_bumps_the_version() {
        let state = given(&[created()]);
        let events = decide(
            state.as_ref(),
            ItemCommand::UpdateItem {
                fields: fields("desk"),
            },
        )
        .unwrap();
        let item = evolve(state, &events[0], 2).unwrap();
        assert_eq!((item.name.as_str(), item.version), ("desk", 2));
    }

    #[test]
    fn a_deleted_item_can_be_neither_updated_nor_deleted_again() {
        let state = given(&[created(), ItemEvent::Deleted(ItemDeleted { id: 1 })]);
        assert!(state.as_ref().unwrap().deleted);
        let update = decide(
            state.as_ref(),
            ItemCommand::UpdateItem {
                fields: fields("x"),
            },
        );
        assert_eq!(update, Err(ItemError::NotFound));
        assert_eq!(
            decide(state.as_ref(), ItemCommand::DeleteItem),
            Err(ItemError::NotFound)
        );
    }

    #[test]
    fn commands_on_a_missing_item_are_not_found() {
        assert_eq!(
            decide(None, ItemCommand::DeleteItem),
            Err(ItemError::NotFound)
        );
    }
}
