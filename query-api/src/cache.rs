//! A moka cache that never stores data older than the invalidations it has received.
//!
//! The stream follower invalidates a key when an event for it arrives, and that can
//! happen before the projector has applied the event. A reader that then loads the old
//! row must not cache it. Every load therefore carries the projection position its
//! snapshot reflects (read in the same statement), and an entry is stored only if that
//! position is at least the last event position invalidated for its key.

use std::{collections::HashMap, hash::Hash, sync::Mutex, time::Duration};

use moka::sync::Cache;

/// Entries also expire, as a bound on the damage of any missed invalidation.
const TIME_TO_LIVE: Duration = Duration::from_secs(300);

pub struct GuardedCache<K, V> {
    name: &'static str,
    cache: Cache<K, V>,
    guard: Mutex<Guard<K>>,
}

struct Guard<K> {
    /// Last invalidating event position per key.
    pending: HashMap<K, i64>,
    /// Loads older than this are never stored (set by whole-cache invalidation and pruning).
    floor: i64,
}

impl<K, V> GuardedCache<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    pub fn new(name: &'static str, capacity: u64) -> Self {
        Self {
            name,
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(TIME_TO_LIVE)
                .build(),
            guard: Mutex::new(Guard {
                pending: HashMap::new(),
                floor: 0,
            }),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let value = self.cache.get(key);
        let outcome = if value.is_some() { "hit" } else { "miss" };
        metrics::counter!("cache_requests_total", "cache" => self.name, "outcome" => outcome)
            .increment(1);
        value
    }

    /// Stores a value loaded from a snapshot that reflects the log up to `position`,
    /// unless an invalidation newer than that snapshot has been seen for the key.
    pub fn insert(&self, key: K, value: V, position: i64) {
        let guard = self.guard.lock().expect("cache guard poisoned");
        let newest = guard
            .pending
            .get(&key)
            .copied()
            .unwrap_or(0)
            .max(guard.floor);
        if position >= newest {
            self.cache.insert(key, value);
        }
    }

    /// An event at `position` changed `key`.
    pub fn invalidate(&self, key: K, position: i64) {
        let mut guard = self.guard.lock().expect("cache guard poisoned");
        let entry = guard.pending.entry(key.clone()).or_insert(position);
        *entry = (*entry).max(position);
        self.cache.invalidate(&key);
    }

    /// An event at `position` may have changed every entry.
    pub fn invalidate_all(&self, position: i64) {
        let mut guard = self.guard.lock().expect("cache guard poisoned");
        guard.floor = guard.floor.max(position);
        self.cache.invalidate_all();
    }

    /// The projection has applied everything up to `applied`: per-key marks at or below
    /// it are replaced by the floor, so the map stays small.
    pub fn prune(&self, applied: i64) {
        let mut guard = self.guard.lock().expect("cache guard poisoned");
        guard.floor = guard.floor.max(applied);
        guard.pending.retain(|_, position| *position > applied);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> GuardedCache<i64, &'static str> {
        GuardedCache::new("test", 100)
    }

    #[test]
    fn a_load_older_than_an_invalidation_is_not_stored() {
        let cache = cache();
        cache.invalidate(1, 10);
        cache.insert(1, "old row", 9);
        assert_eq!(cache.get(&1), None);
        cache.insert(1, "new row", 10);
        assert_eq!(cache.get(&1), Some("new row"));
    }

    #[test]
    fn invalidation_removes_a_stored_entry() {
        let cache = cache();
        cache.insert(1, "row", 5);
        cache.invalidate(1, 6);
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn other_keys_are_unaffected_by_an_invalidation() {
        let cache = cache();
        cache.invalidate(1, 10);
        cache.insert(2, "row", 3);
        assert_eq!(cache.get(&2), Some("row"));
    }

    #[test]
    fn pruning_keeps_refusing_loads_older_than_the_applied_position() {
        let cache = cache();
        cache.invalidate(1, 10);
        cache.prune(12);
        cache.insert(1, "stale", 9);
        assert_eq!(cache.get(&1), None);
        cache.insert(1, "fresh", 12);
        assert_eq!(cache.get(&1), Some("fresh"));
    }

    #[test]
    fn invalidating_everything_refuses_older_loads_of_any_key() {
        let cache = cache();
        cache.insert(1, "row", 1);
        cache.invalidate_all(4);
        assert_eq!(cache.get(&1), None);
        cache.insert(2, "old", 3);
        assert_eq!(cache.get(&2), None);
    }
}
