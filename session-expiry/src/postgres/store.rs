//! [`PostgresStore`]: actix-session's `SessionStore` on PostgreSQL.

use std::{fmt, sync::Arc};

use actix_web::cookie::time::Duration as CookieDuration;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::{
    backend::{user_lock, Backend},
    schema::migrate,
    PostgresStoreBuilder, PostgresStoreError,
};
use crate::{
    config::LogoutBehavior,
    registry::{id::ID_BYTES, SessionId, SessionRegistry},
    store::{
        peek::{peek, Peek},
        reserved::{ENDING_KEY, ID_KEY, RESERVED_PREFIX},
        scope,
        session_api::{
            put_str, LoadError, SaveError, SessionKey, SessionState, SessionStore, UpdateError,
        },
        LoginRecord, StoreMarker,
    },
    SessionEvent,
};

/// An actix-session store on PostgreSQL, made for [`SessionExpiry`](crate::SessionExpiry).
/// See [the module docs](super) for what it keeps and what each request costs.
///
/// # Examples
/// ```no_run
/// use actix_session::SessionMiddleware;
/// use actix_web::{cookie::Key, web, App, HttpServer};
/// use session_expiry::{postgres::{PostgresStore, RequestScope}, SessionExpiry};
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let expiry = SessionExpiry::new();
///     let store = PostgresStore::builder("postgres://app@localhost/app")
///         .for_middleware(&expiry)
///         .build()
///         .await?;
///     let registry = store.registry();
///     let key = Key::generate(); // every instance needs the same key: load it from a secret
///     HttpServer::new(move || {
///         App::new()
///             .app_data(web::Data::new(registry.clone()))
///             .wrap(expiry.clone())
///             .wrap(SessionMiddleware::new(store.clone(), key.clone()))
///             .wrap(RequestScope::new())
///     })
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    backend: Arc<Backend>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.backend.sql.schema)
            .field("table", &self.backend.sql.table)
            .finish_non_exhaustive()
    }
}

/// Random bytes in a session key: 256 bits.
const RANDOM_BYTES: usize = 32;

/// A fresh session key: 256 random bits in base64url.
fn new_key() -> String {
    let mut bytes = [0; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The row id of a session key: the first 16 bytes of its SHA-256. `None` for a key this store
/// never made (43 base64url characters), which is then no session.
fn row_id(key: &str) -> Option<Vec<u8>> {
    let ours = key.len() == 43
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ours.then(|| Sha256::digest(key.as_bytes())[..ID_BYTES].to_vec())
}

fn session_key(key: String) -> Result<SessionKey, PostgresStoreError> {
    SessionKey::try_from(key).map_err(|error| PostgresStoreError::Corrupt(error.to_string()))
}

/// A session's state split into the table's columns.
struct Row {
    state: Option<String>,
    peeked: Option<Peek>,
    entries: String,
    nothing: bool,
}

impl Row {
    fn of(mut state: SessionState, state_key: &str) -> serde_json::Result<Self> {
        let raw = state.remove(state_key);
        state.retain(|key, _| !key.starts_with(RESERVED_PREFIX));
        Ok(Self {
            peeked: raw.as_deref().and_then(peek),
            nothing: raw.is_none() && state.is_empty(),
            state: raw,
            entries: serde_json::to_string(&state)?,
        })
    }

    fn login_ms(&self) -> Option<i64> {
        self.peeked.as_ref().map(|p| ms(p.login.millis()))
    }

    fn seen_ms(&self) -> i64 {
        self.peeked.as_ref().map_or(0, |p| ms(p.seen.millis()))
    }

    /// The row's deadline: the state's, or actix-session's TTL from now without one.
    fn expires_ms(&self, now: i64, ttl: &CookieDuration) -> i64 {
        match self.peeked.as_ref().and_then(|p| p.deadline) {
            Some(deadline) => ms(deadline.millis()),
            None => now
                .saturating_add(i64::try_from(ttl.whole_milliseconds().max(1)).unwrap_or(i64::MAX)),
        }
    }

    fn user(&self) -> Option<&str> {
        self.peeked.as_ref().map(|p| p.user.as_str())
    }

    /// What the registry keeps from the log-in: the client, whose session it is, and under
    /// which policy.
    fn login_record(&self) -> Option<String> {
        let peeked = self.peeked.as_ref()?;
        let (user_agent, ip) = scope::client();
        Some(
            LoginRecord {
                ip,
                login_ms: Some(peeked.login.millis()),
                policy: peeked.policy,
                user: Some(peeked.user.clone()),
                user_agent,
            }
            .to_json(),
        )
    }
}

fn ms(millis: u64) -> i64 {
    i64::try_from(millis).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// Starts configuring a store on the database at `url`
    /// (`postgres://user:password@host:port/database`, or the key-value form), without TLS:
    /// for a database on the same host or a private network. For TLS, build your own
    /// `deadpool_postgres::Pool` with a rustls or native-tls connector and use
    /// [`from_pool`](Self::from_pool).
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run() -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// let store = session_expiry::postgres::PostgresStore::builder("postgres://app@localhost/app")
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder::url(url.into())
    }

    /// Starts configuring a store on the app's own pool, with whatever TLS connector the pool
    /// was built with. Bound its waits with the pool's own `wait_timeout` too; the store's
    /// [`timeout`](PostgresStoreBuilder::timeout) bounds each operation anyway.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(pool: deadpool_postgres::Pool) -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// let store = session_expiry::postgres::PostgresStore::from_pool(pool).build().await?;
    /// # Ok(()) }
    /// ```
    pub fn from_pool(pool: deadpool_postgres::Pool) -> PostgresStoreBuilder {
        PostgresStoreBuilder::pool(pool)
    }

    pub(crate) fn from_backend(backend: Backend) -> Self {
        Self {
            backend: Arc::new(backend),
        }
    }

    /// Creates the session table, or upgrades it to this release's schema version: in one
    /// transaction under an advisory lock, so that instances starting at once are safe;
    /// nothing to do is a no-op. [`PostgresStoreBuilder::build`] runs it; run it again after
    /// restoring a database, for example. Returns the schema version.
    ///
    /// # Errors
    /// [`PostgresStoreError`] if PostgreSQL is unavailable or refuses the DDL, or the table is
    /// newer than this release.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(store: session_expiry::postgres::PostgresStore) -> Result<(), session_expiry::postgres::PostgresStoreError> {
    /// assert_eq!(store.migrate().await?, 1);
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self) -> Result<i32, PostgresStoreError> {
        let backend = &self.backend;
        let bounded = async {
            let mut client = backend
                .pool
                .get()
                .await
                .map_err(|error| PostgresStoreError::Pool(error.to_string()))?;
            migrate(&mut client, &backend.sql)
                .await
                .map_err(|error| error.into_store_error(backend))
        };
        tokio::time::timeout(backend.timeout * 10, bounded)
            .await
            .unwrap_or(Err(PostgresStoreError::TimedOut {
                after: backend.timeout * 10,
                retry_after: backend.retry_after,
            }))
    }

    /// The registry of this store's sessions, on the same pool: hand it to handlers with
    /// `web::Data`. The same [`SessionRegistry`] type the Redis store hands out.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(store: session_expiry::postgres::PostgresStore) {
    /// let registry = actix_web::web::Data::new(store.registry());
    /// # }
    /// ```
    #[must_use]
    pub fn registry(&self) -> SessionRegistry {
        SessionRegistry::postgres(Arc::clone(&self.backend))
    }

    pub(crate) fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// Logs a failure, and tells the request's scope when the server is unavailable.
    fn failed(&self, operation: &str, error: PostgresStoreError) -> anyhow::Error {
        crate::store::failure::failed(operation, error)
    }

    /// One SELECT: the session's data while it is live, what names its end after.
    async fn read(&self, id: &[u8]) -> Result<Option<SessionState>, PostgresStoreError> {
        let now = self.backend.now_ms();
        let kept = match &self.backend.middleware.configuration().logout_behavior {
            LogoutBehavior::Keep(keys) => Some(keys),
            _ => None,
        };
        let keeps = kept.is_some();
        let sql = &self.backend.sql.load;
        let row = self
            .backend
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                client.query_opt(&statement, &[&id, &now, &keeps]).await
            })
            .await?;
        let Some(row) = row else { return Ok(None) };
        let ended: Option<String> = row.get(0);
        let login: Option<String> = row.get(1);
        let live: bool = row.get(2);
        let expiry: Option<String> = row.get(3);
        let entries: Option<String> = row.get(4);
        let mut state = SessionState::new();
        match ended.as_deref() {
            Some(why) => {
                let marker = match why {
                    "revoked" => StoreMarker::Revoked,
                    "evicted" => StoreMarker::Evicted,
                    _ => StoreMarker::Unknown,
                };
                marker.write(&mut state);
                if let Some(expiry) = expiry {
                    state.insert(ENDING_KEY.to_owned(), expiry);
                }
            }
            None if live => {
                if let Some(entries) = entries {
                    state = serde_json::from_str(&entries).map_err(|_| {
                        PostgresStoreError::Corrupt("a session's entries are not JSON".into())
                    })?;
                }
                if let Some(expiry) = expiry {
                    if let Some(login) = crate::store::peek::login_millis(&expiry) {
                        scope::loaded(login);
                    }
                    state.insert(self.backend.state_key.to_string(), expiry);
                }
                put_str(&mut state, ID_KEY, SessionId::of_digest(id).as_str());
            }
            // Past its deadline: no data, only whose it was and its expiry state, so that the
            // middleware names the reason (`idle` or `absolute`) and how long it was idle;
            // of its entries only those the app keeps past a session's end.
            None => {
                let Some((login_ms, user, policy)) = login
                    .as_deref()
                    .and_then(LoginRecord::parse)
                    .and_then(LoginRecord::ended)
                else {
                    return Ok(None);
                };
                if let (Some(keys), Some(entries)) = (kept, entries) {
                    let entries: SessionState = serde_json::from_str(&entries).map_err(|_| {
                        PostgresStoreError::Corrupt("a session's entries are not JSON".into())
                    })?;
                    state.extend(entries.into_iter().filter(|(key, _)| keys.contains(key)));
                }
                if let Some(expiry) = expiry {
                    state.insert(ENDING_KEY.to_owned(), expiry);
                }
                StoreMarker::Ended {
                    login_ms,
                    user,
                    policy,
                }
                .write(&mut state);
            }
        }
        Ok(Some(state))
    }

    /// Saves `row` under a fresh key; a signed-in one within its user's session limit, under
    /// the user's advisory transaction lock.
    async fn create(
        &self,
        row: &Row,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, PostgresStoreError> {
        if row.nothing {
            return session_key(new_key());
        }
        if scope::renews_an_ended_session(row.peeked.as_ref().map(|p| p.login.millis())) {
            tracing::debug!(
                target: "session_expiry",
                "the session ended while this request ran: it is not renewed"
            );
            return session_key(new_key());
        }
        let now = self.backend.now_ms();
        let expires = row.expires_ms(now, ttl);
        let key = new_key();
        if expires <= now {
            // Already past its deadline: nothing saved, the key leads nowhere.
            return session_key(key);
        }
        let id = row_id(&key).unwrap_or_default();
        let tag = row.user().map(|user| self.backend.tag_of(user));
        let login = row.login_record();
        let cap = row.peeked.as_ref().and_then(|p| p.cap);
        let sql = &self.backend.sql;
        let (login_ms, seen) = (row.login_ms(), row.seen_ms());
        let outcome = self
            .backend
            .with(|mut client| async move {
                let tx = client.transaction().await?;
                let mut evicted = 0;
                if let Some(tag) = &tag {
                    tx.execute(
                        "SELECT pg_advisory_xact_lock($1, $2)",
                        &[&sql.lock_class, &user_lock(tag)],
                    )
                    .await?;
                    if let Some(cap) = cap {
                        let count = tx.prepare_cached(&sql.count).await?;
                        let live: i64 = tx.query_one(&count, &[tag, &now]).await?.get(0);
                        let max = i64::from(cap.max);
                        if live >= max && cap.refuse {
                            return Ok(Err(cap.max));
                        }
                        if live >= max {
                            let evict = tx.prepare_cached(&sql.evict).await?;
                            evicted = tx.execute(&evict, &[tag, &now, &(live - max + 1)]).await?;
                        }
                    }
                }
                let insert = tx.prepare_cached(&sql.insert).await?;
                tx.execute(
                    &insert,
                    &[
                        &id,
                        &tag,
                        &login_ms,
                        &seen,
                        &expires,
                        &login,
                        &row.state,
                        &row.entries,
                    ],
                )
                .await?;
                tx.commit().await?;
                Ok(Ok(evicted))
            })
            .await?;
        match outcome {
            Ok(evicted) => {
                if let (Some(user), 1..) = (row.user(), evicted) {
                    self.backend.events.emit(&SessionEvent::Evicted {
                        user: user.to_owned(),
                        sessions: usize::try_from(evicted).unwrap_or(usize::MAX),
                    });
                    // Their connections look them up (here and elsewhere) and close.
                    let notice = crate::live::Notice::evicted(user);
                    self.backend.events.live.end_now(notice);
                }
                session_key(key)
            }
            Err(max) => {
                let user = row
                    .user()
                    .and_then(|user| self.backend.events.user_ids.name(user));
                tracing::info!(
                    target: "session_expiry",
                    user,
                    max,
                    "log-in refused: the user already holds as many sessions as their limit allows"
                );
                scope::refused(max);
                Err(PostgresStoreError::TooManySessions { max })
            }
        }
    }

    /// A request's changes to a live session (the refresh): one UPDATE, a HOT one.
    async fn rewrite(
        &self,
        key: SessionKey,
        row: &Row,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, PostgresStoreError> {
        let Some(id) = row_id(key.as_ref()) else {
            return Ok(key);
        };
        let now = self.backend.now_ms();
        let expires = row.expires_ms(now, ttl);
        let tag = row.user().map(|user| self.backend.tag_of(user));
        let login = row.login_record();
        let (login_ms, seen) = (row.login_ms(), row.seen_ms());
        let sql = &self.backend.sql.update;
        let updated = self
            .backend
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                client
                    .execute(
                        &statement,
                        &[
                            &id,
                            &now,
                            &seen,
                            &expires,
                            &row.state,
                            &row.entries,
                            &tag,
                            &login,
                            &login_ms,
                        ],
                    )
                    .await
            })
            .await?;
        if updated == 0 {
            tracing::debug!(
                target: "session_expiry",
                "the session ended (or was saved more recently) while this request ran: its \
                 changes are dropped"
            );
        }
        Ok(key)
    }

    /// Deletes a live session (a revoked or evicted one stays, to name its reason); whether one
    /// was deleted.
    async fn remove(&self, key: &SessionKey) -> Result<bool, PostgresStoreError> {
        let Some(id) = row_id(key.as_ref()) else {
            return Ok(false);
        };
        let sql = &self.backend.sql.delete;
        let deleted = self
            .backend
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                client.execute(&statement, &[&id]).await
            })
            .await?;
        if deleted == 0 {
            scope::ended_meanwhile();
        }
        Ok(deleted > 0)
    }
}

impl SessionStore for PostgresStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let Some(id) = row_id(session_key.as_ref()) else {
            return Ok(None);
        };
        match self.read(&id).await {
            Ok(state) => Ok(state),
            Err(error) => match error.retry_after() {
                Some(retry_after) => Ok(Some(crate::store::failure::unavailable_on_load(
                    &error,
                    retry_after,
                ))),
                None => Err(LoadError::Other(self.failed("load a session", error))),
            },
        }
    }

    async fn save(
        &self,
        session_state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, SaveError> {
        let row = Row::of(session_state, &self.backend.state_key)
            .map_err(|error| SaveError::Serialization(error.into()))?;
        self.create(&row, ttl)
            .await
            .map_err(|error| SaveError::Other(self.failed("save a session", error)))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let row = Row::of(session_state, &self.backend.state_key)
            .map_err(|error| UpdateError::Serialization(error.into()))?;
        self.rewrite(session_key, &row, ttl)
            .await
            .map_err(|error| UpdateError::Other(self.failed("update a session", error)))
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        let Some(id) = row_id(session_key.as_ref()) else {
            return Ok(());
        };
        let now = self.backend.now_ms();
        let expires =
            now.saturating_add(i64::try_from(ttl.whole_milliseconds().max(1)).unwrap_or(i64::MAX));
        let sql = &self.backend.sql.update_ttl;
        let result = self
            .backend
            .with(|client| async move {
                let statement = client.prepare_cached(sql).await?;
                client.execute(&statement, &[&id, &now, &expires]).await
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not extending a session without deadline only ends it early.
            Err(error) if error.is_unavailable() => {
                tracing::warn!(
                    target: "session_expiry",
                    error = %error.chain(),
                    "PostgreSQL is unavailable: a session's TTL was not extended"
                );
                Ok(())
            }
            Err(error) => Err(self.failed("extend a session", error)),
        }
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        self.remove(session_key)
            .await
            .map(drop)
            .map_err(|error| self.failed("delete a session", error))
    }
}
