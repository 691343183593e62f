//! [`Backend`]: what the PostgreSQL store, its registry and its reaper share: the pool, the
//! table's name in every statement, the clock, the timeouts.

use std::{future::Future, sync::Arc, time::Duration};

use deadpool_postgres::{Object, Pool, PoolError};
use sha2::{Digest as _, Sha256};

use super::{schema::Sql, PostgresStoreError};
use crate::{
    config::HashKey, events::Events, unix_ms::UnixMs, valid_from::ValidFrom, Clock, SessionExpiry,
};

/// What a user tag hashes before the user id (domain separation from other hashes).
const USER_DOMAIN: &[u8] = b"session-expiry/user\0";

/// Bytes of hash a user tag keeps: 128 bits.
const TAG_BYTES: usize = 16;

/// What the store and its registry share.
pub(crate) struct Backend {
    pub(crate) pool: Pool,
    pub(crate) sql: Sql,
    pub(crate) clock: Arc<dyn Clock>,
    /// The session key of the middleware's state.
    pub(crate) state_key: Arc<str>,
    /// Where the store's events go (evictions, revocations, reaped sessions).
    pub(crate) events: Events,
    /// The middleware served (a plain [`SessionExpiry::new`] unless
    /// [`for_middleware`](super::PostgresStoreBuilder::for_middleware) named one): the keys a
    /// session that ends keeps, the policy that names why a reaped one ended.
    pub(crate) middleware: SessionExpiry,
    /// The longest one operation may take, waiting for a connection included.
    pub(crate) timeout: Duration,
    /// What clients are told to wait when PostgreSQL is unavailable.
    pub(crate) retry_after: Duration,
    /// The middleware's "valid from" instant, when the store was built for it.
    pub(crate) valid_from: Option<Arc<ValidFrom>>,
}

impl Backend {
    pub(crate) fn now_ms(&self) -> i64 {
        i64::try_from(UnixMs::of(self.clock.now()).millis()).unwrap_or(i64::MAX)
    }

    /// The hash of a user id that groups the user's rows: keyed by the middleware's
    /// [`UserIdLogging::hashed`](crate::config::UserIdLogging::hashed) secret when one is set
    /// (HMAC-SHA-256), SHA-256 otherwise, as the Redis store's user tags are.
    pub(crate) fn tag_of(&self, user: &str) -> Vec<u8> {
        let digest: [u8; 32] = match self.events.user_ids.key() {
            Some(key) => key_mac(key, user),
            None => Sha256::new()
                .chain_update(USER_DOMAIN)
                .chain_update(user.as_bytes())
                .finalize()
                .into(),
        };
        digest[..TAG_BYTES].to_vec()
    }

    /// Runs `work` on a pooled connection, the wait for the connection included within the
    /// store's timeout.
    pub(crate) async fn with<T, F, Fut>(&self, work: F) -> Result<T, PostgresStoreError>
    where
        F: FnOnce(Object) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let bounded = async {
            let client = self
                .pool
                .get()
                .await
                .map_err(|error| self.pool_error(error))?;
            work(client).await.map_err(|error| self.error(error))
        };
        match tokio::time::timeout(self.timeout, bounded).await {
            Ok(result) => result,
            Err(_elapsed) => Err(self.timed_out()),
        }
    }

    pub(crate) fn error(&self, error: tokio_postgres::Error) -> PostgresStoreError {
        PostgresStoreError::from_postgres(error, self.timeout, self.retry_after)
    }

    fn timed_out(&self) -> PostgresStoreError {
        PostgresStoreError::TimedOut {
            after: self.timeout,
            retry_after: self.retry_after,
        }
    }

    fn pool_error(&self, error: PoolError) -> PostgresStoreError {
        match error {
            PoolError::Backend(error) => self.error(error),
            PoolError::Timeout(_) => self.timed_out(),
            other => PostgresStoreError::Pool(other.to_string()),
        }
    }
}

fn key_mac(key: &HashKey, user: &str) -> [u8; 32] {
    key.mac(USER_DOMAIN, user.as_bytes())
}

/// The advisory lock key of one user's log-ins: the table's own class, and 32 bits of the tag.
pub(crate) fn user_lock(tag: &[u8]) -> i32 {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&tag[..4]);
    i32::from_be_bytes(bytes)
}
