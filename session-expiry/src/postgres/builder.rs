//! [`PostgresStoreBuilder`]: which database, which table, how long to wait for it.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use super::{
    backend::Backend,
    schema::{valid_name, Sql},
    valid_from, PostgresStore, PostgresStoreError,
};
use crate::{events::Events, valid_from::ValidFrom, Clock, SessionExpiry, SystemClock, STATE_KEY};

/// A fluent builder for [`PostgresStore`]; start with [`PostgresStore::builder`] (a URL, no
/// TLS) or [`PostgresStore::from_pool`] (the app's own pool, any TLS connector).
///
/// # Examples
/// ```no_run
/// use std::time::Duration;
/// use session_expiry::postgres::PostgresStore;
///
/// # async fn run() -> Result<(), session_expiry::postgres::PostgresStoreError> {
/// let store = PostgresStore::builder("postgres://app@localhost/app")
///     .schema("auth")
///     .table("sessions")
///     .timeout(Duration::from_millis(500))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct PostgresStoreBuilder {
    source: Source,
    schema: String,
    table: String,
    timeout: Duration,
    retry_after: Duration,
    max_connections: usize,
    clock: Arc<dyn Clock>,
    state_key: Arc<str>,
    events: Events,
    /// The middleware's "valid from" instant, to follow the one the table keeps, and how often.
    valid_from: Option<(Arc<ValidFrom>, Duration)>,
    middleware: SessionExpiry,
}

impl std::fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: left out.
        f.debug_struct("PostgresStoreBuilder")
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("timeout", &self.timeout)
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
    }
}

/// Where the store's connections come from.
enum Source {
    Url(String),
    Pool(Pool),
}

impl PostgresStoreBuilder {
    pub(crate) fn url(url: String) -> Self {
        Self::on(Source::Url(url))
    }

    pub(crate) fn pool(pool: Pool) -> Self {
        Self::on(Source::Pool(pool))
    }

    fn on(source: Source) -> Self {
        Self {
            source,
            schema: "public".into(),
            table: "session_expiry".into(),
            timeout: Duration::from_secs(1),
            retry_after: Duration::from_secs(5),
            max_connections: 16,
            clock: Arc::new(SystemClock),
            state_key: Arc::from(STATE_KEY),
            events: Events::default(),
            valid_from: None,
            middleware: SessionExpiry::new(),
        }
    }

    /// The schema of the session table, created if missing. A plain lowercase identifier.
    ///
    /// Defaults to `public`.
    ///
    /// # Examples
    /// ```
    /// let builder = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .schema("auth");
    /// ```
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The session table's name (its schema versions are kept in `<table>_schema`). A plain
    /// lowercase identifier.
    ///
    /// Defaults to `session_expiry`.
    ///
    /// # Examples
    /// ```
    /// let builder = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .table("web_sessions");
    /// ```
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The longest one store operation may take, the wait for a pooled connection included;
    /// past it the request is answered `503`. Built from a URL, it is also each connection's
    /// `statement_timeout`, so the server gives up too.
    ///
    /// Defaults to 1 second.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .timeout(Duration::from_millis(250));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long clients are told to wait (`Retry-After`) when PostgreSQL is unavailable.
    ///
    /// Defaults to 5 seconds.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let builder = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .retry_after(Duration::from_secs(2));
    /// ```
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The most connections the store's own pool opens (built from a URL only).
    ///
    /// Defaults to 16.
    ///
    /// # Examples
    /// ```
    /// let builder = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .max_connections(4);
    /// ```
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Takes from `middleware`, the [`SessionExpiry`] this store serves, everything both must
    /// agree on: its clock (the store compares deadlines with it, in its queries), the session
    /// key of its state, how log lines name users (whose secret also keys the user tags) and
    /// its event hooks, which then also get the store's own events
    /// ([`Revoked`](crate::SessionEvent::Revoked), [`Evicted`](crate::SessionEvent::Evicted),
    /// [`Reaped`](crate::SessionEvent::Reaped)), the keys its
    /// [`logout_behavior`](crate::config::SessionExpiryBuilder::logout_behavior) keeps (a
    /// session past its deadline gives back those and nothing else), and its policy (which names
    /// why each reaped session ended: `idle` or `absolute`).
    ///
    /// # Examples
    /// ```no_run
    /// use session_expiry::{postgres::PostgresStore, SessionExpiry};
    ///
    /// # async fn run() -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// let expiry = SessionExpiry::builder().state_key("auth").build();
    /// let store = PostgresStore::builder("postgres://localhost/app")
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
        self.valid_from = Some((
            Arc::clone(&configuration.valid_from),
            configuration.stamp_check_interval,
        ));
        self.middleware = middleware.clone();
        self
    }

    /// Builds the pool (from a URL), then creates or upgrades the session table
    /// ([`PostgresStore::migrate`]).
    ///
    /// # Errors
    /// [`PostgresStoreError::InvalidUrl`] or [`PostgresStoreError::InvalidName`] for a bad
    /// configuration; [`PostgresStoreError::Unavailable`] or
    /// [`PostgresStoreError::TimedOut`] if PostgreSQL cannot be reached now (later outages are
    /// survived and recovered from); [`PostgresStoreError::SchemaTooNew`] if a later release
    /// upgraded the table.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run() -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// let store = session_expiry::postgres::PostgresStore::builder("postgres://localhost/app")
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn build(self) -> Result<PostgresStore, PostgresStoreError> {
        for name in [&self.schema, &self.table] {
            if !valid_name(name) {
                return Err(PostgresStoreError::InvalidName(name.clone()));
            }
        }
        let mut listener = None;
        let pool = match self.source {
            Source::Pool(pool) => pool,
            Source::Url(url) => {
                let mut config: tokio_postgres::Config =
                    url.parse().map_err(PostgresStoreError::InvalidUrl)?;
                listener = Some(config.clone());
                let ms = self.timeout.as_millis().max(1);
                config.options(format!("-c statement_timeout={ms}"));
                config.connect_timeout(self.timeout);
                let manager = Manager::from_config(
                    config,
                    tokio_postgres::NoTls,
                    ManagerConfig {
                        recycling_method: RecyclingMethod::Fast,
                    },
                );
                Pool::builder(manager)
                    .max_size(self.max_connections)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(self.timeout))
                    .create_timeout(Some(self.timeout))
                    .recycle_timeout(Some(self.timeout))
                    .build()
                    .map_err(|error| PostgresStoreError::Pool(error.to_string()))?
            }
        };
        let sql = Sql::new(&self.schema, &self.table);
        let channel = super::notify::channel(&self.schema, &self.table);
        let (table, hub) = (sql.qualified(), &self.events.live);
        super::notify::wire(
            &pool,
            listener,
            channel,
            table,
            self.timeout,
            &self.clock,
            hub,
        );
        let store = PostgresStore::from_backend(Backend {
            pool,
            sql,
            clock: self.clock,
            state_key: self.state_key,
            events: self.events,
            middleware: self.middleware,
            timeout: self.timeout,
            retry_after: self.retry_after,
            valid_from: self
                .valid_from
                .as_ref()
                .map(|(instant, _)| Arc::clone(instant)),
        });
        store.migrate().await?;
        if let Some((instant, interval)) = self.valid_from {
            instant.follow(valid_from::source(store.backend()), interval);
        }
        Ok(store)
    }
}
