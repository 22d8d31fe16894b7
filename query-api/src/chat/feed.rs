//! The hub's feed: chat events and email events, put back in log order.
//!
//! A user's stream carries both, and a client resumes it from one number, the id of the
//! last frame it saw. That number says "everything up to here, nothing after" only if the
//! frames left in position order, whichever context they came from. The two contexts are
//! followed by two subscriptions (two Kafka topics, or two readers of the PostgreSQL log),
//! each in order but each at its own pace, so their events are merged here: an event is
//! released once every lane has passed its position (each lane's `through`: every event of
//! its context at or below it has arrived), and released events go out in position order.
//!
//! A lane's `through` moves with its subscription's batches. From the PostgreSQL log it
//! follows the log's head; from Kafka only with its own context's events, so a quiet
//! context would hold the other back: [`super::align`] then asks the log how far the
//! quiet lane may be taken to have come.

use std::collections::BTreeMap;

use schemas::{DomainEvent, RecordedEvent, chat::ChatEvent, email::EmailEvent};

/// The contexts the hub follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Chat,
    Email,
}

impl Lane {
    pub const ALL: [Self; 2] = [Self::Chat, Self::Email];

    pub fn context(self) -> &'static str {
        match self {
            Self::Chat => ChatEvent::CONTEXT,
            Self::Email => EmailEvent::CONTEXT,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A lane that holds released events back: it has come `through` this far, and an event
/// of another lane waits at `wanted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lag {
    pub lane: Lane,
    pub through: i64,
    pub wanted: i64,
}

/// Events arrived but not released, and how far each lane has come.
#[derive(Debug)]
pub struct Merge {
    through: [i64; 2],
    /// The last event released from each lane (or where the lane started).
    last: [i64; 2],
    /// Every event at or below this has been released (or was history at the start).
    released: i64,
    pending: BTreeMap<i64, (Lane, RecordedEvent)>,
}

impl Merge {
    /// Starts at `position`: what lies at or below it is history. `last` is, per lane, the
    /// last event at or below it.
    pub fn new(position: i64, last: [i64; 2]) -> Self {
        Self {
            through: [position; 2],
            last,
            released: position,
            pending: BTreeMap::new(),
        }
    }

    /// Every event at or below this position has been released.
    pub fn released(&self) -> i64 {
        self.released
    }

    /// The last event of `lane` released: a read model of that context that has applied
    /// it holds everything of the context up to [`Self::released`].
    pub fn last(&self, lane: Lane) -> i64 {
        self.last[lane.index()]
    }

    /// An event arrived on `lane`. One at or below the released position is history (a
    /// lane that started earlier than the hub, or a redelivery) and is dropped.
    pub fn push(&mut self, lane: Lane, event: RecordedEvent) {
        if event.position > self.released {
            self.pending.insert(event.position, (lane, event));
        }
    }

    /// `lane` has delivered every event of its context up to `through`; returns what that
    /// releases, in position order.
    pub fn advance(&mut self, lane: Lane, through: i64) -> Vec<(Lane, RecordedEvent)> {
        let slot = &mut self.through[lane.index()];
        *slot = (*slot).max(through);
        let upto = self.through.iter().copied().min().unwrap_or(self.released);
        if upto <= self.released {
            return Vec::new();
        }
        let later = self.pending.split_off(&(upto + 1));
        let ready = std::mem::replace(&mut self.pending, later);
        self.released = upto;
        ready
            .into_values()
            .inspect(|(lane, event)| self.last[lane.index()] = event.position)
            .collect()
    }

    /// The lane furthest behind, when it holds back an event that has arrived.
    pub fn lagging(&self) -> Option<Lag> {
        let (&wanted, _) = self.pending.first_key_value()?;
        Lane::ALL
            .into_iter()
            .map(|lane| Lag {
                lane,
                through: self.through[lane.index()],
                wanted,
            })
            .filter(|lag| lag.through < wanted)
            .min_by_key(|lag| lag.through)
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn event(position: i64) -> RecordedEvent {
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: "s".into(),
            stream_version: 1,
            position,
            context: "test".into(),
            event_type: "Test".into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: "test".into(),
            actor: None,
            data: serde_json::Value::Null.into(),
        }
    }

    fn positions(released: Vec<(Lane, RecordedEvent)>) -> Vec<(Lane, i64)> {
        released
            .into_iter()
            .map(|(lane, event)| (lane, event.position))
            .collect()
    }

    #[test]
    fn events_leave_in_position_order_once_both_lanes_passed_them() {
        let mut merge = Merge::new(10, [10, 7]);
        // The email lane runs ahead of the chat lane.
        merge.push(Lane::Email, event(12));
        merge.push(Lane::Email, event(15));
        assert!(positions(merge.advance(Lane::Email, 15)).is_empty());
        assert_eq!(merge.released(), 10);
        merge.push(Lane::Chat, event(11));
        merge.push(Lane::Chat, event(14));
        assert_eq!(
            positions(merge.advance(Lane::Chat, 14)),
            [(Lane::Chat, 11), (Lane::Email, 12), (Lane::Chat, 14)]
        );
        assert_eq!(merge.released(), 14);
        assert_eq!((merge.last(Lane::Chat), merge.last(Lane::Email)), (14, 12));
        assert_eq!(
            positions(merge.advance(Lane::Chat, 20)),
            [(Lane::Email, 15)]
        );
        assert_eq!(merge.released(), 15);
    }

    #[test]
    fn history_and_redeliveries_are_dropped() {
        let mut merge = Merge::new(10, [10, 10]);
        merge.push(Lane::Email, event(9));
        merge.push(Lane::Chat, event(11));
        merge.push(Lane::Chat, event(11));
        merge.advance(Lane::Email, 11);
        assert_eq!(positions(merge.advance(Lane::Chat, 11)), [(Lane::Chat, 11)]);
        merge.push(Lane::Chat, event(11));
        assert!(positions(merge.advance(Lane::Chat, 12)).is_empty());
    }

    #[test]
    fn a_lane_that_reports_less_than_it_did_does_not_go_back() {
        let mut merge = Merge::new(0, [0, 0]);
        merge.advance(Lane::Chat, 8);
        merge.advance(Lane::Chat, 3);
        merge.push(Lane::Email, event(6));
        assert_eq!(positions(merge.advance(Lane::Email, 6)), [(Lane::Email, 6)]);
    }

    #[test]
    fn the_lagging_lane_is_the_one_behind_a_waiting_event() {
        let mut merge = Merge::new(0, [0, 0]);
        assert_eq!(merge.lagging(), None);
        merge.advance(Lane::Chat, 5);
        assert_eq!(merge.lagging(), None, "nothing waits for the email lane");
        merge.push(Lane::Chat, event(7));
        merge.advance(Lane::Chat, 7);
        let lag = Lag {
            lane: Lane::Email,
            through: 0,
            wanted: 7,
        };
        assert_eq!(merge.lagging(), Some(lag));
        merge.advance(Lane::Email, 7);
        assert_eq!(merge.lagging(), None);
    }
}
