//! The latest stretch of the log, read once for every follower of a [`super::PgLog`].
//!
//! Without it, each follower read every append batch on its own: a context followed by a
//! projection, a reactor and two read models had each event read, sent and parsed four
//! times. The notice relay reads each committed batch once, before it announces it, and
//! caught-up followers take their events from here; a follower behind the stretch reads
//! the log itself.

use std::collections::VecDeque;

use schemas::RecordedEvent;
use serde_json::Value;

use super::Batch;

/// Events kept; a follower further behind than this reads the log.
pub(super) const CAPACITY: usize = 4096;
/// Payload bytes kept, about: events may be large (an error with its stack traces and
/// request), and the stretch must stay small beside the process whatever they hold.
const BUDGET_BYTES: usize = 16 << 20;

/// Every event of the log at positions `(start, end]`, in order, with no gap, once
/// started: every batch committed after `start` is announced by a notice the relay has
/// received or will receive, so a follower subscribed to the notices before it asks here
/// learns of every event past `end` by a notice.
#[derive(Debug, Default)]
pub(super) struct Recent {
    /// Each event with its payload's [`weight`].
    events: VecDeque<(RecordedEvent, usize)>,
    /// The sum of the weights.
    bytes: usize,
    start: i64,
    end: i64,
    started: bool,
}

impl Recent {
    /// Where the next read of the log must start for the stretch to stay whole; None
    /// until it starts (at the first notice) and after it is forgotten.
    pub(super) fn end(&self) -> Option<i64> {
        self.started.then_some(self.end)
    }

    /// Starts the stretch afresh after `after`.
    pub(super) fn restart(&mut self, after: i64) {
        self.clear();
        self.start = after;
        self.end = after;
        self.started = true;
    }

    /// Forgets everything, when notices may have been missed; the next notice starts it
    /// again.
    pub(super) fn forget(&mut self) {
        self.clear();
        self.started = false;
    }

    fn clear(&mut self) {
        self.events.clear();
        self.bytes = 0;
    }

    /// Adds the events read after [`Self::end`] through `through`. They must be every
    /// position of that stretch (positions are gapless and commit in order); when they are
    /// not, the stretch starts again after them rather than hold a hole.
    pub(super) fn extend(&mut self, events: Vec<RecordedEvent>, through: i64) {
        let whole = events
            .iter()
            .zip(self.end + 1..)
            .all(|(event, position)| event.position == position)
            && self.end + events.len() as i64 == through;
        if !whole {
            self.restart(through);
            return;
        }
        for event in events {
            let weight = weight(&event.data);
            self.bytes += weight;
            self.events.push_back((event, weight));
        }
        self.end = through;
        while self.events.len() > CAPACITY || self.bytes > BUDGET_BYTES {
            if let Some((_, weight)) = self.events.pop_front() {
                self.bytes -= weight;
            }
        }
        self.start = self.end - self.events.len() as i64;
    }

    /// The next events of `contexts` (all when None) and `event_types` (all when None)
    /// after `after`, at most `max`, when the stretch holds what follows `after`; None when
    /// `after` lies outside it (the follower then reads the log).
    pub(super) fn batch_after(
        &self,
        after: i64,
        max: usize,
        contexts: Option<&[String]>,
        event_types: Option<&[&str]>,
    ) -> Option<Batch> {
        if !self.started || after < self.start || after > self.end {
            return None;
        }
        let skip = usize::try_from(after - self.start).ok()?;
        let mut events = Vec::new();
        for (event, _) in self.events.iter().skip(skip) {
            let wanted = contexts.is_none_or(|c| c.contains(&event.context))
                && event_types.is_none_or(|t| t.contains(&event.event_type.as_str()));
            if wanted {
                events.push(event.clone());
                if events.len() == max {
                    let through = event.position;
                    return Some(Batch { events, through });
                }
            }
        }
        Some(Batch {
            events,
            through: self.end,
        })
    }
}

/// About the bytes a payload holds: its texts, and a word for every other value.
fn weight(value: &Value) -> usize {
    const WORD: usize = 8;
    match value {
        Value::String(text) => text.len() + WORD,
        Value::Array(values) => values.iter().map(weight).sum::<usize>() + WORD,
        Value::Object(members) => {
            members
                .iter()
                .map(|(key, value)| key.len() + weight(value))
                .sum::<usize>()
                + WORD
        }
        _ => WORD,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;
    use uuid::Uuid;

    use super::*;

    fn event(position: i64, context: &str, event_type: &str) -> RecordedEvent {
        RecordedEvent {
            event_id: Uuid::now_v7(),
            stream_id: format!("{context}-1"),
            stream_version: position,
            position,
            context: context.into(),
            event_type: event_type.into(),
            schema_version: 1,
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            correlation_id: "req".into(),
            actor: None,
            data: json!({}).into(),
        }
    }

    fn positions(batch: &Batch) -> Vec<i64> {
        batch.events.iter().map(|e| e.position).collect()
    }

    #[test]
    fn a_follower_gets_its_contexts_and_types_after_its_position() {
        let mut recent = Recent::default();
        recent.restart(10);
        recent.extend(
            vec![
                event(11, "items", "ItemCreated"),
                event(12, "errors", "ErrorLogged"),
                event(13, "errors", "ProjectCreated"),
                event(14, "items", "ItemDeleted"),
            ],
            14,
        );
        let items = [String::from("items")];
        let batch = recent.batch_after(10, 100, Some(&items), None).unwrap();
        assert_eq!((positions(&batch), batch.through), (vec![11, 14], 14));
        let errors = [String::from("errors")];
        let logged = recent
            .batch_after(11, 100, Some(&errors), Some(&["ErrorLogged"]))
            .unwrap();
        assert_eq!((positions(&logged), logged.through), (vec![12], 14));
        let caught_up = recent.batch_after(14, 100, None, None).unwrap();
        assert_eq!((positions(&caught_up), caught_up.through), (vec![], 14));
    }

    #[test]
    fn a_full_batch_ends_at_its_last_event() {
        let mut recent = Recent::default();
        recent.restart(0);
        recent.extend(
            (1..=5).map(|p| event(p, "items", "ItemCreated")).collect(),
            5,
        );
        let batch = recent.batch_after(1, 2, None, None).unwrap();
        assert_eq!((positions(&batch), batch.through), (vec![2, 3], 3));
    }

    #[test]
    fn a_follower_behind_the_stretch_is_sent_to_the_log() {
        let mut recent = Recent::default();
        recent.restart(0);
        let total = CAPACITY as i64 + 10;
        recent.extend(
            (1..=total)
                .map(|p| event(p, "items", "ItemCreated"))
                .collect(),
            total,
        );
        assert!(recent.batch_after(9, 10, None, None).is_none());
        let kept = recent.batch_after(10, 1, None, None).unwrap();
        assert_eq!(positions(&kept), vec![11]);
    }

    #[test]
    fn large_payloads_shorten_the_stretch_to_its_budget() {
        let mut recent = Recent::default();
        recent.restart(0);
        let large = |position| {
            let mut event = event(position, "errors", "ErrorLogged");
            event.data = json!({ "extra": "x".repeat(1 << 20) }).into();
            event
        };
        recent.extend((1..=40).map(large).collect(), 40);
        assert!(recent.bytes <= BUDGET_BYTES);
        assert_eq!(recent.events.len(), 15, "{} bytes", recent.bytes);
        assert!(recent.batch_after(24, 100, None, None).is_none());
        let kept = recent.batch_after(25, 100, None, None).unwrap();
        assert_eq!(positions(&kept), (26..=40).collect::<Vec<_>>());
        recent.extend(vec![event(41, "items", "ItemCreated")], 41);
        assert_eq!(recent.end(), Some(41));
    }

    #[test]
    fn a_stretch_with_a_gap_starts_again_after_it() {
        let mut recent = Recent::default();
        recent.restart(0);
        recent.extend(vec![event(1, "items", "ItemCreated")], 1);
        recent.extend(vec![event(3, "items", "ItemCreated")], 3);
        assert_eq!(recent.end(), Some(3));
        assert!(recent.batch_after(1, 10, None, None).is_none());
        let empty = recent.batch_after(3, 10, None, None).unwrap();
        assert_eq!((positions(&empty), empty.through), (vec![], 3));
    }

    #[test]
    fn nothing_is_answered_before_the_first_notice_or_after_forgetting() {
        let mut recent = Recent::default();
        assert_eq!(recent.end(), None);
        assert!(recent.batch_after(0, 10, None, None).is_none());
        recent.restart(7);
        recent.extend(vec![event(8, "items", "ItemCreated")], 8);
        assert!(recent.batch_after(9, 10, None, None).is_none());
        recent.forget();
        assert_eq!(recent.end(), None);
        assert!(recent.batch_after(8, 10, None, None).is_none());
    }
}
