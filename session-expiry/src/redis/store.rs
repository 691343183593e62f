//! [`RedisStore`]: actix-session's `SessionStore` on Redis, each key living exactly until its
//! session's deadline.

mod read;
mod write;

use std::{fmt, sync::Arc};

use actix_web::cookie::time::Duration as CookieDuration;

use super::{
    backend::Backend,
    id::SessionId,
    keys::{parse_session_key, ParsedKey, UserKeys, UserTag},
    record::Record,
    scripts::{Extend, SessionKeys},
    RedisStoreBuilder, RedisStoreError, SessionRegistry,
};
use crate::store::{
    peek::login_millis,
    scope,
    session_api::{LoadError, SaveError, SessionKey, SessionState, SessionStore, UpdateError},
};

/// An actix-session store on Redis, made for [`SessionExpiry`](crate::SessionExpiry).
///
/// - Each key's TTL is its session's earliest deadline (idle or absolute, from the expiry state
///   being saved), so Redis drops a session the moment it can no longer be used. Sessions without
///   expiry state get the TTL actix-session passes.
/// - A signed-in session's registry entry (log-in instant, user, policy snapshot) outlives its
///   key by 24 hours: a request on a session Redis dropped at its deadline gets the expired
///   answer with reason `idle` or `absolute`, not an anonymous one (one `HGET` more, on that
///   request only). Past that window it is anonymous.
/// - An update never brings back a session that was deleted or revoked meanwhile, and of two
///   concurrent saves the later last-seen wins (merged by a script on the server).
/// - Every signed-in session is listed in its user's [`SessionRegistry`], kept by the same
///   scripts that save and delete, so the two cannot drift. What a log-in, a refresh, revoking
///   one session or listing one page costs grows with the logarithm of the user's session count,
///   never with the count itself (see [the module docs](super#costs)).
/// - A revoked session is a small tombstone until its deadline: a request on it gets the expired
///   answer with reason `revoked`.
/// - Each user holds at most their session limit of live sessions
///   ([`SessionExpiryBuilder::max_sessions`](crate::config::SessionExpiryBuilder::max_sessions),
///   [`Policy::with_max_sessions`](crate::Policy::with_max_sessions); 100 unless set), enforced
///   atomically by the script that saves a log-in: beyond it, the least recently active session
///   becomes a tombstone whose next request gets reason `evicted`, or, with
///   [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse), the log-in is not saved and
///   [`RequestScope`](super::RequestScope) answers `403` `{"error":"too_many_sessions",
///   "max_sessions":n}` (see [`SessionRegistry::login`] to say it in the handler instead). The
///   limit bounds what one account can make Redis keep, so that no account can slow the store
///   down for the others.
/// - Redis unreachable: a request carrying a session gets `503` with `Retry-After` (see
///   [`RequestScope`](super::RequestScope) for failed saves), nothing is accepted unchecked,
///   and the connection recovers by itself.
///
/// Needs the [`SessionExpiry`](crate::SessionExpiry) middleware inside its `SessionMiddleware`:
/// the store reports revocations and outages through it.
///
/// # Examples
/// ```no_run
/// use actix_session::SessionMiddleware;
/// use actix_web::{cookie::Key, web, App, HttpServer};
/// use session_expiry::{redis::{RedisStore, RequestScope}, SessionExpiry};
///
/// #[actix_web::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let store = RedisStore::builder("redis://127.0.0.1:6379").build().await?;
///     let registry = store.registry();
///     let key = Key::generate(); // every instance needs the same key: load it from a secret
///     HttpServer::new(move || {
///         App::new()
///             .app_data(web::Data::new(registry.clone()))
///             .wrap(SessionExpiry::new())
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
pub struct RedisStore {
    backend: Arc<Backend>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("keys", &self.backend.keys)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts configuring a store on the Redis at `url` (`redis://[user:password@]host:port[/db]`,
    /// or `rediss://` with a TLS feature of the `redis` crate).
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run() -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let store = session_expiry::redis::RedisStore::builder("redis://127.0.0.1:6379")
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(url.into())
    }

    /// Starts configuring a store on a Redis Cluster, given the URLs of some of its nodes (the
    /// client learns the others from them). Keys are placed so that every operation touches one
    /// hash slot (its user's), and a slot being moved to another node does not fail a request.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run() -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let store = session_expiry::redis::RedisStore::cluster_builder([
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    ///     "redis://10.0.0.3:6379",
    /// ])
    /// .build()
    /// .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster_builder<U: Into<String>>(
        urls: impl IntoIterator<Item = U>,
    ) -> RedisStoreBuilder {
        RedisStoreBuilder::cluster(urls.into_iter().map(Into::into).collect())
    }

    pub(crate) fn from_backend(backend: Backend) -> Self {
        Self {
            backend: Arc::new(backend),
        }
    }

    /// The registry of this store's sessions, on the same connection: hand it to handlers with
    /// `web::Data`.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(store: session_expiry::redis::RedisStore) {
    /// let registry = actix_web::web::Data::new(store.registry());
    /// # }
    /// ```
    #[must_use]
    pub fn registry(&self) -> SessionRegistry {
        SessionRegistry::new(Arc::clone(&self.backend))
    }

    fn data_key(&self, parsed: &ParsedKey) -> String {
        self.backend.keys.data(parsed.tag.as_ref(), &parsed.id)
    }

    /// The keys of a script on the session `id`: its data key and, signed in, its user's index.
    fn session_keys(&self, tag: Option<&UserTag>, id: &SessionId) -> (String, Option<UserKeys>) {
        (
            self.backend.keys.data(tag, id),
            tag.map(|tag| self.backend.keys.user(tag)),
        )
    }

    /// Logs a failure, and tells the request's scope when the server is unavailable.
    fn failed(&self, operation: &str, error: RedisStoreError) -> anyhow::Error {
        crate::store::failure::failed(operation, error)
    }
}

impl SessionStore for RedisStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let Some(parsed) = parse_session_key(session_key.as_ref()) else {
            tracing::debug!(target: "session_expiry", "not a key of this store: a new session");
            return Ok(None);
        };
        let read = self.read(&parsed).await;
        match read {
            Ok(assembled) => {
                let state = assembled.map_err(|unreadable| {
                    LoadError::Deserialization(anyhow::Error::new(unreadable))
                })?;
                let login = state
                    .as_ref()
                    .and_then(|state| login_millis(state.get(&*self.backend.state_key)?));
                if let Some(login) = login {
                    scope::loaded(login);
                }
                Ok(state)
            }
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
        let record = Record::from_state(session_state, &self.backend.state_key)
            .map_err(|error| SaveError::Serialization(error.into()))?;
        self.create(&record, millis(ttl))
            .await
            .map_err(|error| SaveError::Other(self.failed("save a session", error)))
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &CookieDuration,
    ) -> Result<SessionKey, UpdateError> {
        let record = Record::from_state(session_state, &self.backend.state_key)
            .map_err(|error| UpdateError::Serialization(error.into()))?;
        self.rewrite(session_key, &record, millis(ttl))
            .await
            .map_err(|error| UpdateError::Other(self.failed("update a session", error)))
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &CookieDuration,
    ) -> Result<(), anyhow::Error> {
        let Some(parsed) = parse_session_key(session_key.as_ref()) else {
            return Ok(());
        };
        let (data, user) = self.session_keys(parsed.tag.as_ref(), &parsed.id);
        let extend = Extend {
            keys: SessionKeys {
                data: &data,
                user: user.as_ref(),
            },
            id: &parsed.id,
            ttl: millis(ttl),
            now: self.backend.now_ms(),
        };
        match extend.run(&self.backend.connection).await {
            Ok(_) => Ok(()),
            // Not extending the TTL of a session without deadline only ends it early: not worth
            // failing a request that was otherwise answered.
            Err(error) if error.is_unavailable() => {
                tracing::warn!(
                    target: "session_expiry",
                    error = %error.chain(),
                    "Redis is unavailable: a session's TTL was not extended"
                );
                Ok(())
            }
            Err(error) => Err(self.failed("extend a session", error)),
        }
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        let Some(parsed) = parse_session_key(session_key.as_ref()) else {
            return Ok(());
        };
        self.remove(&parsed)
            .await
            .map(drop)
            .map_err(|error| self.failed("delete a session", error))
    }
}

fn session_key(key: String) -> Result<SessionKey, RedisStoreError> {
    SessionKey::try_from(key).map_err(|error| RedisStoreError::Corrupt(error.to_string()))
}

/// actix-session's TTL in milliseconds, at least one.
fn millis(ttl: &CookieDuration) -> u64 {
    u64::try_from(ttl.whole_milliseconds().max(1)).unwrap_or(u64::MAX)
}
