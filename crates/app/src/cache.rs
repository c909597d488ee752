//! A small read-through cache for the public portal's read-mostly data (a published service
//! with its agency and form titles, the list of provinces). Entries live [`PUBLIC_CACHE_TTL`]
//! at most; a change on this node empties the cache at once, and a change on another node shows
//! here within the TTL (the search index's poll also empties it when the catalogue changed).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long an entry may be served before it is read again from the database.
pub const PUBLIC_CACHE_TTL: Duration = Duration::from_secs(30);

/// Entries kept at most; past it the cache starts again empty (a cheap, safe bound).
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug)]
pub(crate) struct Cache<V> {
    entries: RwLock<HashMap<String, (Instant, Arc<V>)>>,
    ttl: Duration,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Cache {
            entries: RwLock::new(HashMap::new()),
            ttl: PUBLIC_CACHE_TTL,
        }
    }
}

impl<V> Cache<V> {
    /// The fresh entry for `key`, if there is one.
    pub(crate) fn get(&self, key: &str) -> Option<Arc<V>> {
        let entries = self.entries.read().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(value))
    }

    pub(crate) fn put(&self, key: &str, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key.to_owned(), (Instant::now(), value));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_clear() {
        let cache: Cache<u32> = Cache {
            entries: RwLock::new(HashMap::new()),
            ttl: Duration::from_millis(20),
        };
        cache.put("a", Arc::new(1));
        assert_eq!(cache.get("a").as_deref(), Some(&1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get("a"), None);
        cache.put("b", Arc::new(2));
        cache.clear();
        assert_eq!(cache.get("b"), None);
    }
}
