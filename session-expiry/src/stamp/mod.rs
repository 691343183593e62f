//! Security stamps: sessions end when their user's credentials change.
//!
//! The app names, for each user, a stamp: bytes it changes whenever the credentials change (a
//! counter, a password-changed-at time, the password hash itself). A session keeps a keyed hash
//! of the stamp it was signed in under ([`StampHash`]); a request whose user's stamp has changed
//! since ends with reason `credentials_changed`. Lookups are shared by all of a user's sessions
//! through [`StampCache`], at most one per user per check interval per process.

mod cache;
pub(crate) mod check;
mod hash;
mod lookup;

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock},
    time::Duration,
};

pub use self::lookup::{StampFuture, StampLookup, StampLookupError};
pub(crate) use self::{
    cache::{Cached, StampCache},
    hash::StampHash,
};

/// Tells the app's other instances that `user`'s credentials changed (the Redis store's
/// `PUBLISH`); awaited on the way out of the request that changed them.
pub(crate) type Publisher = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ()>>> + Send + Sync>;

/// The default of [`stamp_check_interval`](crate::config::SessionExpiryBuilder::stamp_check_interval).
pub(crate) const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(60);

/// Everything the middleware needs for security stamps.
pub(crate) struct Stamps {
    pub(crate) lookup: Arc<dyn StampLookup>,
    pub(crate) cache: StampCache,
    /// Set by a server-side store that tells other instances (`RedisStoreBuilder::for_middleware`).
    pub(crate) publisher: OnceLock<Publisher>,
}

impl Stamps {
    pub(crate) fn new(lookup: Arc<dyn StampLookup>, interval: Duration) -> Self {
        Self {
            lookup,
            cache: StampCache::new(interval),
            publisher: OnceLock::new(),
        }
    }
}

impl std::fmt::Debug for Stamps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stamps")
            .field("interval", &self.cache.interval())
            .field("publishes", &self.publisher.get().is_some())
            .finish_non_exhaustive()
    }
}
