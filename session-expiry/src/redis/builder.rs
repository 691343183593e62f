//! [`RedisStoreBuilder`]: how to reach Redis and how long to wait for it.

use std::{sync::Arc, time::Duration};

use super::{
    backend::Backend,
    connection::{Connection, Timeouts},
    keys::KeySpace,
    notify, valid_from, RedisStore, RedisStoreError,
};
use crate::{
    events::Events, stamp::Stamps, valid_from::ValidFrom, Clock, SessionExpiry, SystemClock,
    STATE_KEY,
};

/// A fluent builder for [`RedisStore`]; start with [`RedisStore::builder`] (one Redis), or
/// `RedisStore::cluster_builder` (a Redis Cluster, feature `redis-cluster`). Every setting
/// means the same on both.
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use session_expiry::redis::RedisStore;
///
/// # async fn run() -> Result<(), session_expiry::redis::RedisStoreError> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379")
///     .key_prefix("shop:session:")
///     .response_timeout(Duration::from_millis(250))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct RedisStoreBuilder {
    nodes: Nodes,
    prefix: String,
    connection_timeout: Duration,
    response_timeout: Duration,
    retry_after: Duration,
    clock: Arc<dyn Clock>,
    state_key: Arc<str>,
    events: Events,
    /// The middleware's security stamps, to tell other instances of changes.
    stamps: Option<Arc<Stamps>>,
    /// The middleware's "valid from" instant, to follow the one Redis keeps, and how often.
    valid_from: Option<(Arc<ValidFrom>, Duration)>,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: left out.
        f.debug_struct("RedisStoreBuilder")
            .field("prefix", &self.prefix)
            .field("connection_timeout", &self.connection_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("retry_after", &self.retry_after)
            .field("state_key", &self.state_key)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// Where the store's Redis is.
enum Nodes {
    Single(String),
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

impl RedisStoreBuilder {
    pub(crate) fn new(url: String) -> Self {
        Self::on(Nodes::Single(url))
    }

    #[cfg(feature = "redis-cluster")]
    pub(crate) fn cluster(urls: Vec<String>) -> Self {
        Self::on(Nodes::Cluster(urls))
    }

    fn on(nodes: Nodes) -> Self {
        Self {
            nodes,
            prefix: "session-expiry:".into(),
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            retry_after: Duration::from_secs(5),
            clock: Arc::new(SystemClock),
            state_key: Arc::from(STATE_KEY),
            events: Events::default(),
            stamps: None,
            valid_from: None,
        }
    }

    /// Starts every Redis key of this store with `prefix`; several apps (or tests) can share one
    /// Redis with different prefixes. It must not contain `{` or `}` (they are Redis Cluster
    /// hash tags, which the store places itself).
    ///
    /// Defaults to `session-expiry:`.
    ///
    /// # Examples
    /// ```
    /// let builder = session_expiry::redis::RedisStore::builder("redis://127.0.0.1")
    ///     .key_prefix("shop:");
    /// ```
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Gives up on one connection attempt after this long.
    ///
    /// Defaults to 1 second.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = session_expiry::redis::RedisStore::builder("redis://127.0.0.1")
    ///     .connection_timeout(Duration::from_millis(500));
    /// ```
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long one store operation may wait for Redis on top of the connection timeout: it
    /// takes at most the connection timeout plus this, a reconnection it has to wait for (and,
    /// on a cluster, its redirections and retries) included; past that the request is answered
    /// `503`. On a cluster, one command also gives up after this long by itself.
    ///
    /// Defaults to 1 second.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = session_expiry::redis::RedisStore::builder("redis://127.0.0.1")
    ///     .response_timeout(Duration::from_millis(250));
    /// ```
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long clients are told to wait (`Retry-After`) when Redis is unavailable.
    ///
    /// Defaults to 5 seconds.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = session_expiry::redis::RedisStore::builder("redis://127.0.0.1")
    ///     .retry_after(Duration::from_secs(2));
    /// ```
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Takes from `middleware`, the [`SessionExpiry`] this store serves, everything both must
    /// agree on: its clock (deadlines become TTLs, the registry is pruned by it), the session
    /// key of its state ([`state_key`](crate::config::SessionExpiryBuilder::state_key)), how log lines
    /// name users ([`log_user_ids`](crate::config::SessionExpiryBuilder::log_user_ids)) and its event
    /// hooks ([`on_event`](crate::config::SessionExpiryBuilder::on_event)), which then also get the
    /// store's own events: [`Revoked`](crate::SessionEvent::Revoked) (through the registry) and
    /// [`Evicted`](crate::SessionEvent::Evicted) (a log-in beyond the user's session limit). One
    /// source of truth: nothing to set twice and keep equal by hand.
    ///
    /// Without it the store assumes [`SessionExpiry::new`]'s defaults (the system clock,
    /// [`STATE_KEY`](crate::STATE_KEY), plain user ids, no hook): pass the middleware whenever
    /// it sets any of these.
    ///
    /// # Examples
    /// ```no_run
    /// use session_expiry::{redis::RedisStore, SessionEvent, SessionExpiry};
    ///
    /// # async fn run() -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let expiry = SessionExpiry::builder()
    ///     .state_key("auth")
    ///     .on_event(|event: &SessionEvent| println!("{}", event.name()))
    ///     .build();
    /// let store = RedisStore::builder("redis://127.0.0.1:6379")
    ///     .for_middleware(&expiry)
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn for_middleware(mut self, middleware: &SessionExpiry) -> Self {
        let configuration = middleware.configuration();
        self.clock = configuration
            .clock
            .clone()
            .unwrap_or_else(|| Arc::new(SystemClock));
        self.state_key = Arc::clone(&configuration.state_key);
        self.events = configuration.events.clone();
        self.stamps = configuration.stamps.clone();
        self.valid_from = Some((
            Arc::clone(&configuration.valid_from),
            configuration.stamp_check_interval,
        ));
        self
    }

    /// Connects to Redis and finishes the store.
    ///
    /// # Errors
    /// [`RedisStoreError::InvalidUrl`] or [`RedisStoreError::InvalidPrefix`] for a bad
    /// configuration; [`RedisStoreError::Unavailable`] or [`RedisStoreError::TimedOut`] if Redis
    /// cannot be reached now (later outages are survived and recovered from).
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run() -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let store = session_expiry::redis::RedisStore::builder("redis://127.0.0.1:6379")
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn build(self) -> Result<RedisStore, RedisStoreError> {
        if self.prefix.contains(['{', '}']) {
            return Err(RedisStoreError::InvalidPrefix);
        }
        let timeouts = Timeouts {
            connection: self.connection_timeout,
            response: self.response_timeout,
            retry_after: self.retry_after,
        };
        let connection = match &self.nodes {
            Nodes::Single(url) => Connection::single(url, timeouts).await?,
            #[cfg(feature = "redis-cluster")]
            Nodes::Cluster(urls) => Connection::cluster(urls, timeouts).await?,
        };
        // Plain PUBLISH reaches every node of a cluster: any one of them will do.
        let url = match &self.nodes {
            Nodes::Single(url) => Some(url.clone()),
            #[cfg(feature = "redis-cluster")]
            Nodes::Cluster(urls) => urls.first().cloned(),
        };
        let keys = KeySpace::new(self.prefix, self.events.user_ids.key().cloned());
        let (stamps, hub) = (self.stamps.as_ref(), &self.events.live);
        notify::wire(url, &connection, &keys, &self.clock, stamps, hub);
        let valid_from = self.valid_from.map(|(instant, interval)| {
            instant.follow(
                valid_from::source(connection.clone(), keys.valid_from()),
                interval,
            );
            instant
        });
        Ok(RedisStore::from_backend(Backend {
            connection,
            keys,
            clock: self.clock,
            state_key: self.state_key,
            events: self.events,
            valid_from,
        }))
    }
}
