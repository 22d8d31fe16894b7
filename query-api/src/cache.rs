//! A moka cache that never serves data older than the invalidations it has received.
//!
//! The stream follower invalidates when an event arrives, and that can happen before the
//! projector has applied the event: a reader that then loads the old row must not have
//! it served. Every load therefore carries the projection position its snapshot reflects
//! (read in the same statement), and every entry keeps it. Invalidation marks the entry's
//! *group* with the event's position; an entry older than its group's mark is neither
//! stored nor served. A group is the key itself for a by-id cache, or something coarser
//! (e.g. the member whose order listings an event changes), so one event can retire many
//! entries without enumerating them.
//!
//! Entries are weighed by the bytes they hold, so a cache of large pages stays within its
//! byte budget, and each weighs at least its share of the budget (the budget over the
//! entry capacity), so small entries are still bounded by count.
//!
//! Marks live in a fixed table of atomic slots, a group's mark in the slot its hash picks:
//! marking is one atomic maximum, whatever the write rate, and the table never grows. Two
//! groups sharing a slot share the newer mark, which can only make an entry look stale (a
//! miss), never fresh.

use std::{
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash},
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use moka::sync::Cache;

/// Entries also expire, as a bound on the damage of any missed invalidation.
const TIME_TO_LIVE: Duration = Duration::from_secs(300);
/// Mark slots per entry of capacity: few groups share a slot while the cache is full.
const SLOTS_PER_ENTRY: u64 = 4;
const MIN_SLOTS: u64 = 1024;

/// How much one cache may hold: entries and bytes, whichever bound is met first. Either
/// at 0 switches caching off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSize {
    pub entries: u64,
    pub bytes: u64,
}

impl CacheSize {
    fn is_off(self) -> bool {
        self.entries == 0 || self.bytes == 0
    }

    /// The least an entry weighs: with every entry at least this heavy, no more than
    /// `entries` fit in `bytes`.
    fn least_weight(self) -> u64 {
        self.bytes / self.entries.max(1)
    }
}

/// The bytes a cached value holds beyond its own fixed size (its heap: a body's bytes).
pub trait Weigh {
    fn heap_bytes(&self) -> usize;
}

impl Weigh for Bytes {
    fn heap_bytes(&self) -> usize {
        self.len()
    }
}

impl<T: Weigh> Weigh for Arc<T> {
    fn heap_bytes(&self) -> usize {
        std::mem::size_of::<T>() + T::heap_bytes(self)
    }
}

#[derive(Clone)]
struct Stamped<V> {
    value: V,
    /// The projection position the value's snapshot reflects.
    position: i64,
}

pub struct GuardedCache<K, V, G = K> {
    name: &'static str,
    /// None when caching is switched off (capacity 0).
    entries: Option<Cache<K, Stamped<V>>>,
    /// The newest invalidating event position of the groups hashed to each slot.
    marks: Box<[AtomicI64]>,
    /// A fixed hash, so which groups share a slot does not change between runs.
    hasher: BuildHasherDefault<DefaultHasher>,
    /// Entries older than this are stale whatever their group.
    floor: AtomicI64,
    group_of: fn(&K) -> G,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> GuardedCache<K, V, K>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
{
    /// A cache whose every key is its own group.
    pub fn new(name: &'static str, size: CacheSize) -> Self {
        Self::grouped(name, size, K::clone)
    }
}

impl<K, V, G> GuardedCache<K, V, G>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Weigh + Clone + Send + Sync + 'static,
    G: Hash,
{
    /// A cache whose entries are invalidated by the group `group_of` puts them in.
    /// A size of 0 switches caching off: nothing is stored and every read is a miss.
    pub fn grouped(name: &'static str, size: CacheSize, group_of: fn(&K) -> G) -> Self {
        let slots = size
            .entries
            .saturating_mul(SLOTS_PER_ENTRY)
            .max(MIN_SLOTS)
            .next_power_of_two();
        Self::with_slots(name, size, group_of, slots as usize)
    }

    fn with_slots(
        name: &'static str,
        size: CacheSize,
        group_of: fn(&K) -> G,
        slots: usize,
    ) -> Self {
        let least = size.least_weight();
        let entries = (!size.is_off()).then(|| {
            Cache::builder()
                .max_capacity(size.bytes)
                .weigher(move |_key: &K, entry: &Stamped<V>| {
                    let bytes = std::mem::size_of::<K>()
                        + std::mem::size_of::<Stamped<V>>()
                        + entry.value.heap_bytes();
                    u32::try_from((bytes as u64).max(least)).unwrap_or(u32::MAX)
                })
                .time_to_live(TIME_TO_LIVE)
                .build()
        });
        // Both outcomes exported at zero from the start: a rate over a series that first
        // appears at its nth hit would miss those n hits.
        for outcome in ["hit", "miss"] {
            metrics::counter!("cache_requests_total", "cache" => name, "outcome" => outcome)
                .increment(0);
        }
        Self {
            name,
            entries,
            marks: (0..slots).map(|_| AtomicI64::new(0)).collect(),
            hasher: BuildHasherDefault::default(),
            floor: AtomicI64::new(0),
            group_of,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn slot(&self, group: &G) -> &AtomicI64 {
        let hash = self.hasher.hash_one(group);
        &self.marks[hash as usize % self.marks.len()]
    }

    /// The position an entry of `group` must reflect to be fresh.
    fn mark(&self, group: &G) -> i64 {
        let floor = self.floor.load(Ordering::Acquire);
        self.slot(group).load(Ordering::Acquire).max(floor)
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let value = self
            .entries
            .as_ref()
            .and_then(|entries| entries.get(key))
            .filter(|entry| entry.position >= self.mark(&(self.group_of)(key)))
            .map(|entry| entry.value);
        self.count(value.is_some());
        value
    }

    fn count(&self, hit: bool) {
        let (counter, outcome) = if hit {
            (&self.hits, "hit")
        } else {
            (&self.misses, "miss")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_requests_total", "cache" => self.name, "outcome" => outcome)
            .increment(1);
        let hits = self.hits.load(Ordering::Relaxed) as f64;
        let total = hits + self.misses.load(Ordering::Relaxed) as f64;
        metrics::gauge!("cache_hit_ratio", "cache" => self.name).set(hits / total);
    }

    /// Stores a value loaded from a snapshot that reflects the log up to `position`,
    /// unless its group has been invalidated by a newer event.
    pub fn insert(&self, key: K, value: V, position: i64) {
        let Some(entries) = &self.entries else {
            return;
        };
        if position >= self.mark(&(self.group_of)(&key)) {
            entries.insert(key, Stamped { value, position });
        }
    }

    /// An event at `position` changed what the entries of `group` hold.
    pub fn invalidate(&self, group: G, position: i64) {
        self.slot(&group).fetch_max(position, Ordering::AcqRel);
    }

    /// An event at `position` may have changed every entry.
    pub fn invalidate_all(&self, position: i64) {
        self.floor.fetch_max(position, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Weigh for &'static str {
        fn heap_bytes(&self) -> usize {
            0
        }
    }

    const HUNDRED: CacheSize = CacheSize {
        entries: 100,
        bytes: 1 << 20,
    };

    fn cache() -> GuardedCache<i64, &'static str> {
        GuardedCache::new("test", HUNDRED)
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
    fn invalidation_retires_a_stored_entry() {
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
    fn an_entry_stored_while_its_group_was_invalidated_is_not_served() {
        // The insert checked the mark just before the invalidation landed.
        let cache = cache();
        cache.insert(1, "row", 9);
        cache.invalidate(1, 10);
        cache.insert(1, "raced", 9);
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn invalidating_everything_refuses_older_loads_of_any_key() {
        let cache = cache();
        cache.insert(1, "row", 1);
        cache.invalidate_all(4);
        assert_eq!(cache.get(&1), None);
        cache.insert(2, "old", 3);
        assert_eq!(cache.get(&2), None);
        cache.insert(2, "new", 4);
        assert_eq!(cache.get(&2), Some("new"));
    }

    #[test]
    fn a_group_invalidation_retires_every_entry_of_the_group_only() {
        let cache: GuardedCache<(u8, u8), &str, u8> =
            GuardedCache::grouped("test", HUNDRED, |key| key.0);
        cache.insert((1, 1), "a page", 5);
        cache.insert((1, 2), "another page", 5);
        cache.insert((2, 1), "someone else's page", 5);
        cache.invalidate(1, 6);
        assert_eq!(cache.get(&(1, 1)), None);
        assert_eq!(cache.get(&(1, 2)), None);
        assert_eq!(cache.get(&(2, 1)), Some("someone else's page"));
    }

    #[test]
    fn groups_sharing_a_slot_share_the_newer_mark() {
        let cache: GuardedCache<i64, &str> =
            GuardedCache::with_slots("test", HUNDRED, i64::clone, 1);
        cache.insert(2, "row", 5);
        cache.invalidate(1, 6);
        assert_eq!(cache.get(&2), None, "stale by the shared mark, never fresh");
        cache.insert(2, "row", 6);
        assert_eq!(cache.get(&2), Some("row"));
    }

    #[test]
    fn capacity_zero_stores_nothing() {
        for size in [
            CacheSize {
                entries: 0,
                ..HUNDRED
            },
            CacheSize {
                bytes: 0,
                ..HUNDRED
            },
        ] {
            let cache: GuardedCache<i64, &str> = GuardedCache::new("test", size);
            cache.insert(1, "row", 1);
            assert_eq!(cache.get(&1), None);
        }
    }

    /// What the cache holds and what the values in it hold, once moka has applied every
    /// pending insert and eviction.
    fn held(cache: &GuardedCache<i64, Bytes>, keys: i64) -> (u64, usize) {
        let entries = cache.entries.as_ref().expect("caching is on");
        entries.run_pending_tasks();
        let bytes = (0..keys)
            .filter_map(|key| entries.get(&key))
            .map(|entry| entry.value.len())
            .sum();
        (entries.weighted_size(), bytes)
    }

    #[test]
    fn large_pages_stay_within_the_byte_budget() {
        let cache: GuardedCache<i64, Bytes> = GuardedCache::new("test", HUNDRED);
        let page = Bytes::from(vec![b'x'; 256 * 1024]);
        for key in 0..100 {
            cache.insert(key, page.clone(), 1);
        }
        let (weighed, bytes) = held(&cache, 100);
        assert!(weighed <= HUNDRED.bytes, "weighed {weighed}");
        assert!(
            bytes as u64 <= HUNDRED.bytes,
            "holds {bytes} bytes of pages"
        );
        assert!(bytes > 0, "a page within the budget is kept");
    }

    #[test]
    fn small_entries_up_to_the_entry_capacity_all_fit() {
        let cache: GuardedCache<i64, Bytes> = GuardedCache::new("test", HUNDRED);
        for key in 0..100 {
            cache.insert(key, Bytes::from_static(b"a short row"), 1);
        }
        let (weighed, _) = held(&cache, 100);
        assert!(weighed <= HUNDRED.bytes, "weighed {weighed}");
        assert!((0..100).all(|key| cache.get(&key).is_some()));
        for key in 100..200 {
            cache.insert(key, Bytes::from_static(b"a short row"), 1);
        }
        let entries = cache.entries.as_ref().expect("caching is on");
        entries.run_pending_tasks();
        assert!(entries.entry_count() <= 100, "{}", entries.entry_count());
    }
}
