//! The global "sign out everyone": sessions signed in before an instant end with reason
//! `revoked`.
//!
//! The builder sets the instant once ([`sessions_valid_from`]); a server-side store also keeps
//! one that the app moves at run time through its registry
//! (`SessionRegistry::set_sessions_valid_from`). Each instance reads the store's at most once
//! per stamp check interval, on the first signed-in request after it is due: between reads a
//! request costs one atomic load and a comparison. The instant only moves forward.
//!
//! [`sessions_valid_from`]: crate::config::SessionExpiryBuilder::sessions_valid_from

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock,
    },
    time::Duration,
};

use crate::unix_ms::UnixMs;

/// Reads the instant the store keeps (Unix ms; `None` when it keeps none), or why it could not.
pub(crate) type Source = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<Option<u64>, String>> + Send>> + Send + Sync,
>;

/// How soon a failed read is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// The instant before which sessions end, shared by the middleware and its store.
#[derive(Default)]
pub(crate) struct ValidFrom {
    /// Unix ms; 0: none.
    millis: AtomicU64,
    /// When the store's instant is next read (Unix ms); `u64::MAX` without a store to read.
    next_read: AtomicU64,
    /// How often the store's instant is read.
    interval: OnceLock<Duration>,
    source: OnceLock<Source>,
}

impl ValidFrom {
    /// No instant yet, and nothing to read one from.
    pub(crate) fn new() -> Self {
        Self {
            next_read: AtomicU64::new(u64::MAX),
            ..Self::default()
        }
    }

    /// The instant, Unix ms (0: none).
    pub(crate) fn millis(&self) -> u64 {
        self.millis.load(Ordering::Relaxed)
    }

    /// Moves the instant forward to `millis`, never back.
    pub(crate) fn raise(&self, millis: u64) {
        self.millis.fetch_max(millis, Ordering::Relaxed);
    }

    /// Reads the store's instant through `source` every `interval` from now on (the first read
    /// is due at once). The first store built for the middleware wins.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn follow(&self, source: Source, interval: Duration) {
        if self.source.set(source).is_ok() {
            let _set_once = self.interval.set(interval);
            self.next_read.store(0, Ordering::Relaxed);
        }
    }

    /// Whether the store's instant is due to be read at `now`; `true` to exactly one caller
    /// per interval, which then [`read`](Self::read)s it.
    pub(crate) fn claim_read(&self, now: UnixMs) -> bool {
        let due = self.next_read.load(Ordering::Relaxed);
        if now.millis() < due {
            return false;
        }
        let interval = self.interval.get().copied().unwrap_or_default();
        let next = now.plus(interval).millis().max(now.millis() + 1);
        self.next_read
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Reads the store's instant (claimed at `now`) and moves forward to it; a failed read
    /// keeps the instant known and is tried again within a second.
    pub(crate) async fn read(&self, now: UnixMs) {
        let Some(source) = self.source.get() else {
            return;
        };
        match source().await {
            Ok(Some(millis)) => self.raise(millis),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(
                    target: "session_expiry",
                    %error,
                    "could not read the sessions' valid-from instant from the store: trying \
                     again within a second"
                );
                let retry = now.plus(RETRY).millis();
                self.next_read.fetch_min(retry, Ordering::Relaxed);
            }
        }
    }
}

impl std::fmt::Debug for ValidFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidFrom")
            .field("millis", &self.millis())
            .field("follows_a_store", &self.source.get().is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> UnixMs {
        UnixMs::new(ms).unwrap_or_else(|| unreachable!("a test instant"))
    }

    #[test]
    fn only_moves_forward() {
        let valid_from = ValidFrom::new();
        valid_from.raise(2_000);
        valid_from.raise(1_000);
        assert_eq!(valid_from.millis(), 2_000);
    }

    #[test]
    fn without_a_store_nothing_is_ever_due() {
        assert!(!ValidFrom::new().claim_read(at(u64::from(u32::MAX))));
    }

    #[cfg(any(feature = "redis", feature = "postgres"))]
    #[test]
    fn one_read_per_interval() {
        let valid_from = ValidFrom::new();
        let source: Source = Arc::new(|| Box::pin(async { Ok(Some(5)) }));
        valid_from.follow(source, Duration::from_secs(60));
        assert!(valid_from.claim_read(at(1_000)));
        assert!(!valid_from.claim_read(at(1_000)));
        assert!(!valid_from.claim_read(at(60_999)));
        assert!(valid_from.claim_read(at(61_000)));
    }

    #[cfg(any(feature = "redis", feature = "postgres"))]
    #[actix_web::test]
    async fn a_failed_read_is_tried_again_within_a_second() {
        let valid_from = ValidFrom::new();
        let source: Source = Arc::new(|| Box::pin(async { Err("down".to_owned()) }));
        valid_from.follow(source, Duration::from_secs(60));
        assert!(valid_from.claim_read(at(1_000)));
        valid_from.read(at(1_000)).await;
        assert!(!valid_from.claim_read(at(1_999)));
        assert!(valid_from.claim_read(at(2_000)));
        assert_eq!(valid_from.millis(), 0);
    }
}
