//! Writing item histories to the store, reading the items read model back, and waiting
//! for a projection to catch up.

mod running;

use std::collections::BTreeMap;

use event_store::{AppendRequest, EventStore, ExpectedVersion};
use futures::{StreamExt, stream};
use schemas::{
    EventMetadata, NewEvent,
    items::{self, ItemCreated, ItemDeleted, ItemEvent, ItemUpdated},
};
use sqlx::PgPool;

pub(crate) use running::Running;

/// What the items read model must hold: id -> (name, version).
pub(crate) type Expected = BTreeMap<i64, (String, i64)>;

/// Appends, for each id, a creation and `updates` renames; every fifth item is then
/// deleted. Returns the state the read model must reach.
pub(crate) async fn write_histories(
    store: &EventStore,
    ids: std::ops::Range<i64>,
    updates: i64,
) -> Expected {
    stream::iter(ids)
        .map(|id| {
            let store = store.clone();
            async move {
                let mut events = vec![ItemEvent::Created(ItemCreated {
                    id,
                    name: format!("item {id}"),
                    description: String::new(),
                })];
                for n in 1..=updates {
                    events.push(ItemEvent::Updated(ItemUpdated {
                        id,
                        name: format!("item {id} v{n}"),
                        description: "updated".into(),
                    }));
                }
                let deleted = id % 5 == 0;
                if deleted {
                    events.push(ItemEvent::Deleted(ItemDeleted { id }));
                }
                store
                    .append(AppendRequest::new(
                        items::stream_id(id),
                        ExpectedVersion::NoStream,
                        events.iter().map(NewEvent::from_domain).collect(),
                        EventMetadata::default(),
                    ))
                    .await
                    .expect("append");
                (!deleted).then(|| (id, (format!("item {id}{}", suffix(updates)), updates + 1)))
            }
        })
        .buffer_unordered(64)
        .filter_map(|entry| async move { entry })
        .collect::<Expected>()
        .await
}

/// Renames the items `ids` of histories with `updates` renames once more (deleted ones
/// excepted); returns their new state.
pub(crate) async fn rename_again(
    store: &EventStore,
    ids: std::ops::Range<i64>,
    updates: i64,
) -> Expected {
    let mut renamed = Expected::new();
    for id in ids.filter(|id| id % 5 != 0) {
        let name = format!("item {id} renamed");
        let event = ItemEvent::Updated(ItemUpdated {
            id,
            name: name.clone(),
            description: "renamed".into(),
        });
        store
            .append(AppendRequest::new(
                items::stream_id(id),
                ExpectedVersion::Exact(updates + 1),
                vec![NewEvent::from_domain(&event)],
                EventMetadata::default(),
            ))
            .await
            .expect("append");
        renamed.insert(id, (name, updates + 2));
    }
    renamed
}

fn suffix(updates: i64) -> String {
    if updates == 0 {
        String::new()
    } else {
        format!(" v{updates}")
    }
}

pub(crate) async fn read_model(pool: &PgPool) -> Expected {
    let rows: Vec<(i64, String, i64)> =
        sqlx::query_as("SELECT id, name, version FROM items ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, name, version)| (id, (name, version)))
        .collect()
}

/// The lowest checkpoint among the items projection's sources (0 before it ran).
pub(crate) async fn checkpoint(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(min(position), 0) FROM projection_checkpoints WHERE projection = 'items'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

pub(crate) async fn head(pool: &PgPool) -> i64 {
    event_log::read::head(pool).await.unwrap()
}

/// Waits, at most a minute, until `projection` has applied every event of its context
/// (in Kafka mode its checkpoint stops at its own topic's last event, not the log's head).
pub(crate) async fn caught_up(pool: &PgPool, projection: &str) {
    let context = projector::projections()
        .into_iter()
        .find(|p| p.name() == projection)
        .unwrap_or_else(|| panic!("no projection named {projection}"))
        .context();
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        loop {
            let behind: bool = sqlx::query_scalar(
                "SELECT coalesce((SELECT min(position) FROM projection_checkpoints \
                                  WHERE projection = $1), 0) \
                      < coalesce((SELECT max(position) FROM events WHERE context = $2), 0)",
            )
            .bind(projection)
            .bind(context)
            .fetch_one(pool)
            .await
            .unwrap();
            if !behind {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the {projection} projection caught up"));
}
