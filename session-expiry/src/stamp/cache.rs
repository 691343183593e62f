//! [`StampCache`]: the stamps of recently seen users, shared by all of a user's sessions in
//! this process, so that a lookup runs at most once per user per check interval.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::sync::OnceCell;

use super::{StampFuture, StampHash, StampLookupError};
use crate::unix_ms::UnixMs;

/// Users kept at most: past it, entries older than the interval go, and if that is not enough,
/// all of them (each user then costs one lookup more, nothing else).
const MAX_USERS: usize = 100_000;

/// One user's stamp as looked up at `started`; the lookup runs once, whoever waits on it.
#[derive(Debug)]
pub(crate) struct Entry {
    started: UnixMs,
    /// `None` inside: the user no longer exists. Left empty by a failed lookup, which the next
    /// request tries again.
    stamp: OnceCell<Option<StampHash>>,
}

/// What the cache knows of a user now.
#[derive(Debug)]
pub(crate) enum Cached {
    /// Looked up within the interval.
    Known(Option<StampHash>),
    /// To look up (or being looked up by another request): await [`Entry::resolve`].
    Lookup(Arc<Entry>),
}

#[derive(Debug)]
pub(crate) struct StampCache {
    interval: Duration,
    max_users: usize,
    entries: Mutex<HashMap<String, Arc<Entry>>>,
}

impl StampCache {
    pub(crate) fn new(interval: Duration) -> Self {
        Self::bounded(interval, MAX_USERS)
    }

    fn bounded(interval: Duration, max_users: usize) -> Self {
        Self {
            interval,
            max_users,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        // A panic elsewhere cannot leave a map of `Arc`s inconsistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is known of `user`'s stamp at `now`.
    pub(crate) fn get(&self, user: &str, now: UnixMs) -> Cached {
        let mut entries = self.lock();
        if let Some(entry) = entries.get(user) {
            if now >= entry.started && now.since(entry.started) < self.interval {
                return match entry.stamp.get() {
                    Some(stamp) => Cached::Known(*stamp),
                    None => Cached::Lookup(Arc::clone(entry)),
                };
            }
        }
        if entries.len() >= self.max_users {
            let interval = self.interval;
            entries.retain(|_, entry| now >= entry.started && now.since(entry.started) < interval);
            if entries.len() >= self.max_users {
                entries.clear();
            }
        }
        let entry = Arc::new(Entry {
            started: now,
            stamp: OnceCell::new(),
        });
        entries.insert(user.to_owned(), Arc::clone(&entry));
        Cached::Lookup(entry)
    }

    /// Drops what is known of `user`: their next request looks the stamp up again.
    pub(crate) fn forget(&self, user: &str) {
        self.lock().remove(user);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl Entry {
    /// The user's stamp: looked up by `lookup` (hashed under `key`) unless another request
    /// already did, or is doing so (then this one waits for it).
    pub(crate) async fn resolve(
        &self,
        key: &[u8],
        lookup: impl FnOnce() -> StampFuture,
    ) -> Result<Option<StampHash>, StampLookupError> {
        self.stamp
            .get_or_try_init(|| async {
                let stamp = lookup().await?;
                Ok::<_, StampLookupError>(stamp.map(|stamp| StampHash::of(key, &stamp)))
            })
            .await
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(secs: u32) -> UnixMs {
        UnixMs::new(1_000_000_000)
            .unwrap()
            .plus(Duration::from_secs(u64::from(secs)))
    }

    fn known(cached: Cached) -> Option<StampHash> {
        match cached {
            Cached::Known(stamp) => stamp,
            Cached::Lookup(_) => panic!("expected a known stamp"),
        }
    }

    #[actix_web::test]
    async fn a_stamp_is_looked_up_once_per_interval_and_again_after_it_or_a_forget() {
        let cache = StampCache::new(MINUTE);
        let Cached::Lookup(entry) = cache.get("alice", at(0)) else {
            panic!("a first request looks up");
        };
        let stamp = entry
            .resolve(b"key", || Box::pin(async { Ok(Some(b"1".to_vec())) }))
            .await
            .unwrap();
        assert_eq!(known(cache.get("alice", at(59))), stamp);
        assert!(matches!(cache.get("alice", at(60)), Cached::Lookup(_)));
        cache.forget("alice");
        assert!(matches!(cache.get("alice", at(61)), Cached::Lookup(_)));
    }

    #[actix_web::test]
    async fn a_failed_lookup_is_tried_again_by_the_next_request() {
        let cache = StampCache::new(MINUTE);
        let Cached::Lookup(entry) = cache.get("alice", at(0)) else {
            panic!("a first request looks up");
        };
        let failed = entry
            .resolve(b"key", || Box::pin(async { Err("database down".into()) }))
            .await;
        assert!(failed.is_err());
        let Cached::Lookup(again) = cache.get("alice", at(1)) else {
            panic!("a failure is not cached");
        };
        let stamp = again
            .resolve(b"key", || Box::pin(async { Ok(None) }))
            .await
            .unwrap();
        assert_eq!(stamp, None);
        assert_eq!(known(cache.get("alice", at(2))), None);
    }

    #[test]
    fn the_cache_never_holds_more_users_than_its_bound() {
        let cache = StampCache::bounded(MINUTE, 100);
        for user in 0..1_000 {
            let _ = cache.get(&user.to_string(), at(user / 10));
            assert!(cache.len() <= 100, "{} entries", cache.len());
        }
    }
}
