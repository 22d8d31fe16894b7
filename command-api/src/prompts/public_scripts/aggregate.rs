//! A public script as its stream describes it, and admins' decisions on it (that only
//! admins decide is the handlers' check, before anything is loaded).

use schemas::prompts::{
    PromptsEvent, PublicScriptCreated, PublicScriptDeleted, PublicScriptReordered,
    PublicScriptUpdated, Script,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::input::PublicScriptFields;
use crate::command::Aggregate;

/// A public script after the events of its stream folded so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicScript {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// By number.
    pub scripts: Vec<Script>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
    pub deleted: bool,
}

/// A new order that does not list each of the script's numbers once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must list each of the script's numbers once, in any order: {numbers:?}")]
pub struct NotItsNumbers {
    pub numbers: Vec<i16>,
}

/// A new public script; the store numbers it.
pub fn create(
    number: i64,
    fields: PublicScriptFields,
    by: Uuid,
    at: OffsetDateTime,
) -> PromptsEvent {
    PromptsEvent::PublicScriptCreated(PublicScriptCreated {
        script_id: number,
        name: fields.name,
        description: fields.description,
        scripts: fields.scripts,
        by,
        created_at: at,
    })
}

pub fn update(
    script: &PublicScript,
    fields: PublicScriptFields,
    by: Uuid,
    at: OffsetDateTime,
) -> PromptsEvent {
    PromptsEvent::PublicScriptUpdated(PublicScriptUpdated {
        script_id: script.id,
        name: fields.name,
        description: fields.description,
        scripts: fields.scripts,
        by,
        updated_at: at,
    })
}

/// The scripts in a new `order`, which must list every number the script has.
pub fn reorder(
    script: &PublicScript,
    order: Vec<i16>,
    by: Uuid,
    at: OffsetDateTime,
) -> Result<PromptsEvent, NotItsNumbers> {
    let numbers: Vec<i16> = script.scripts.iter().map(|s| s.number).collect();
    let mut listed = order.clone();
    listed.sort_unstable();
    if listed != numbers {
        return Err(NotItsNumbers { numbers });
    }
    Ok(PromptsEvent::PublicScriptReordered(PublicScriptReordered {
        script_id: script.id,
        order,
        by,
        reordered_at: at,
    }))
}

pub fn delete(script: &PublicScript, by: Uuid, at: OffsetDateTime) -> PromptsEvent {
    PromptsEvent::PublicScriptDeleted(PublicScriptDeleted {
        script_id: script.id,
        by,
        deleted_at: at,
    })
}

/// `scripts` after a reorder: the one numbered `order[0]` becomes number 1, and so on.
pub fn reordered(scripts: &[Script], order: &[i16]) -> Vec<Script> {
    (1..)
        .zip(order)
        .filter_map(|(number, old)| {
            let script = scripts.iter().find(|s| s.number == *old)?;
            Some(Script {
                number,
                text: script.text.clone(),
            })
        })
        .collect()
}

impl Aggregate for PublicScript {
    type Event = PromptsEvent;

    fn evolve(state: Option<Self>, event: &PromptsEvent, version: i64) -> Option<Self> {
        match (state, event) {
            (_, PromptsEvent::PublicScriptCreated(e)) => Some(Self {
                id: e.script_id,
                name: e.name.clone(),
                description: e.description.clone(),
                scripts: e.scripts.clone(),
                created_at: e.created_at,
                updated_at: e.created_at,
                version,
                deleted: false,
            }),
            (Some(script), PromptsEvent::PublicScriptUpdated(e)) => Some(Self {
                name: e.name.clone(),
                description: e.description.clone(),
                scripts: e.scripts.clone(),
                updated_at: e.updated_at,
                version,
                ..script
            }),
            (Some(script), PromptsEvent::PublicScriptReordered(e)) => Some(Self {
                scripts: reordered(&script.scripts, &e.order),
                updated_at: e.reordered_at,
                version,
                ..script
            }),
            (Some(script), PromptsEvent::PublicScriptDeleted(_)) => Some(Self {
                version,
                deleted: true,
                ..script
            }),
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, fold, numbered::assert_numbered_as_stored};

    const ADMIN: Uuid = Uuid::from_u128(9);

    fn scripts(texts: &[(i16, &str)]) -> Vec<Script> {
        texts
            .iter()
            .map(|(number, text)| Script {
                number: *number,
                text: (*text).into(),
            })
            .collect()
    }

    fn script() -> PublicScript {
        let fields = PublicScriptFields {
            name: "Review".into(),
            description: String::new(),
            scripts: scripts(&[(1, "a"), (2, "b"), (3, "c")]),
        };
        let created = create(5, fields, ADMIN, OffsetDateTime::UNIX_EPOCH);
        fold::<PublicScript>(None, &[created], 1).unwrap()
    }

    #[test]
    fn a_new_public_script_is_numbered_where_the_store_numbers_it() {
        let fields = PublicScriptFields {
            name: "n".into(),
            description: String::new(),
            scripts: scripts(&[(1, "a")]),
        };
        let created = create(UNNUMBERED, fields, ADMIN, OffsetDateTime::UNIX_EPOCH);
        assert_numbered_as_stored::<PublicScript>(vec![created]);
    }

    #[test]
    fn a_reorder_renumbers_the_scripts_in_the_order_given() {
        let script = script();
        let event = reorder(&script, vec![3, 1, 2], ADMIN, OffsetDateTime::UNIX_EPOCH).unwrap();
        let after = fold(Some(script), &[event], 2).unwrap();
        assert_eq!(after.scripts, scripts(&[(1, "c"), (2, "a"), (3, "b")]));
        assert_eq!(after.version, 2);
    }

    #[test]
    fn an_order_must_list_each_of_the_scripts_numbers() {
        let script = script();
        for order in [vec![1, 2], vec![1, 2, 4], vec![1, 2, 3, 4]] {
            let refused = reorder(&script, order.clone(), ADMIN, OffsetDateTime::UNIX_EPOCH);
            assert_eq!(
                refused,
                Err(NotItsNumbers {
                    numbers: vec![1, 2, 3]
                }),
                "{order:?}"
            );
        }
    }
}
