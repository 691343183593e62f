//! [`RedisStore`]: actix-session's `SessionStore` on Redis, each key living exactly until its
//! session's deadline.

use std::{fmt, sync::Arc};

use crate::store::{
    scope,
    session_api::{LoadError, SaveError, SessionKey, SessionState, SessionStore, UpdateError},
};
use actix_web::cookie::time::Duration as CookieDuration;

use super::{
    connection::Connection,
    id::SessionId,
    keys::{id_of, new_session_key, parse_session_key, KeySpace, ParsedKey, UserKeys, UserTag},
    listed::{backoff, Listed},
    record::{assemble, assemble_layout_1, Record, Unreadable, LAYOUT_1_FIELDS, VIEW_FIELD},
    scripts::{Delete, Extend, Plan, Save, SaveReply, SessionKeys, Update},
    RedisStoreBuilder, RedisStoreError, SessionRegistry,
};
use crate::{
    session_event::Events, store::peek::login_millis, store::LoginRecord, store::StoreMarker,
    unix_ms::UnixMs, Clock, SessionEvent,
};

/// How many fresh keys `save` tries before giving up (a collision of 256 random bits means a
/// broken random source, not bad luck).
const SAVE_ATTEMPTS: usize = 3;

/// On a Redis Cluster, how many times a log-in reads its plan again when the user's index
/// changed between the plan and the save (another log-in of the user meanwhile), before giving
/// up.
const PLAN_ATTEMPTS: usize = 5;

/// What the store and its registry share: the connection, the key names, the clock.
pub(crate) struct Backend {
    pub(crate) connection: Connection,
    pub(crate) keys: KeySpace,
    pub(crate) clock: Arc<dyn Clock>,
    /// The session key of the middleware's state.
    pub(crate) state_key: Arc<str>,
    /// Where the store's events go (evictions, revocations): the log and the hooks.
    pub(crate) events: Events,
}

impl Backend {
    pub(crate) fn now_ms(&self) -> u64 {
        UnixMs::of(self.clock.now()).millis()
    }
}

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

    /// What the user's index still says about a signed-in session whose data key is gone:
    /// Redis dropped it at its deadline, and the index, which outlives its sessions by
    /// [`INDEX_GRACE`](super::scripts::INDEX_GRACE), names whose it was. `None` if the index no
    /// longer lists it (logged out, revoked, pruned, or saved before entries named their user).
    async fn ended(
        &self,
        tag: &UserTag,
        id: &SessionId,
    ) -> Result<Option<StoreMarker>, RedisStoreError> {
        let mut cmd = ::redis::cmd("HGET");
        cmd.arg(self.backend.keys.index(tag)).arg(id.as_str());
        let info: Option<String> = self.backend.connection.query(&cmd).await?;
        let Some((login_ms, user, policy)) = info
            .and_then(|raw| LoginRecord::parse(&raw))
            .and_then(LoginRecord::ended)
        else {
            return Ok(None);
        };
        if self.backend.keys.tag_of(&user) != *tag {
            return Ok(None);
        }
        Ok(Some(StoreMarker::Ended {
            login_ms,
            user,
            policy,
        }))
    }

    /// Reads the state of the session `parsed` names: `None` for no session.
    async fn read(
        &self,
        parsed: &ParsedKey,
    ) -> Result<Result<Option<SessionState>, Unreadable>, RedisStoreError> {
        let key = self.data_key(parsed);
        // One field, one bulk reply: parsing a reply costs the connection's task per element.
        let mut cmd = ::redis::Cmd::with_capacity(3, "HGET".len() + key.len() + VIEW_FIELD.len());
        cmd.arg("HGET").arg(&key).arg(VIEW_FIELD);
        let view: Option<String> = self.backend.connection.query(&cmd).await?;
        match view {
            Some(view) => Ok(assemble(&view, &parsed.id, &self.backend.state_key).map(Some)),
            // Boxed: the rare path's futures would make every request's future larger to move.
            None => Box::pin(self.read_without_view(parsed, &key)).await,
        }
    }

    /// No session, or one an earlier release saved (layout 1): the rare path, so its extra round
    /// trips (same slot) are only taken here.
    async fn read_without_view(
        &self,
        parsed: &ParsedKey,
        key: &str,
    ) -> Result<Result<Option<SessionState>, Unreadable>, RedisStoreError> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(key).arg(&LAYOUT_1_FIELDS);
        let fields = self.backend.connection.query(&cmd).await?;
        match (
            assemble_layout_1(fields, &parsed.id, &self.backend.state_key),
            &parsed.tag,
        ) {
            // A signed-in session without data: Redis dropped it at its deadline.
            (Ok(None), Some(tag)) => Ok(Ok(self.ended(tag, &parsed.id).await?.map(|marker| {
                let mut state = SessionState::new();
                marker.write(&mut state);
                state
            }))),
            (assembled, _) => Ok(assembled),
        }
    }

    /// Saves `record` under a fresh key, in its user's slot when it has a user, within the
    /// user's session limit: evicting their least recently active sessions, or refusing
    /// ([`RedisStoreError::TooManySessions`]). Each attempt plans (on a cluster, what the save
    /// will touch), invokes the save, and interprets its reply.
    async fn create(
        &self,
        record: &Record,
        fallback_ttl: u64,
    ) -> Result<SessionKey, RedisStoreError> {
        if record.is_empty() {
            // Nothing to keep: a key that leads nowhere is the same empty session.
            return session_key(new_session_key(None));
        }
        if scope::renews_an_ended_session(record.login_ms()) {
            tracing::debug!(
                target: "session_expiry",
                "the session ended while this request ran: it is not renewed"
            );
            return session_key(new_session_key(None));
        }
        let login = LogIn::of(&self.backend, record);
        // One instant for the plan and the save, so both pick the same sessions.
        let now = self.backend.now_ms();
        let mut key = new_session_key(login.tag.as_ref());
        let (mut collisions, mut plans) = (0, 0);
        let mut missed = Vec::new();
        while collisions < SAVE_ATTEMPTS && plans < PLAN_ATTEMPTS {
            let listed = self
                .plan_save(login.tag.as_ref(), record, now, &missed)
                .await?;
            match self.save(&login, &key, &listed, now, fallback_ttl).await? {
                SaveReply::Saved { evicted } => {
                    self.evicted(record, evicted);
                    return session_key(key);
                }
                // Already past its deadline: nothing was saved, the key leads nowhere.
                SaveReply::PastDeadline => return session_key(key),
                SaveReply::KeyTaken => {
                    collisions += 1;
                    key = new_session_key(login.tag.as_ref());
                }
                // The index changed since the plan was read.
                SaveReply::Undeclared(ids) => {
                    plans += 1;
                    missed.extend(ids);
                    backoff().await;
                }
                SaveReply::Refused { max } => return Err(self.refused(record, max)),
            }
        }
        if plans >= PLAN_ATTEMPTS {
            return Err(RedisStoreError::Contended {
                retry_after: self.backend.connection.retry_after(),
            });
        }
        Err(RedisStoreError::Corrupt(
            "every fresh session key tried was already taken".into(),
        ))
    }

    /// One attempt at saving `login` under `key`.
    async fn save(
        &self,
        login: &LogIn<'_>,
        key: &str,
        listed: &Listed,
        now: u64,
        fallback_ttl: u64,
    ) -> Result<SaveReply, RedisStoreError> {
        let id = id_of(key);
        let data = self.backend.keys.data(login.tag.as_ref(), &id);
        Save {
            keys: SessionKeys {
                data: &data,
                user: login.user.as_ref(),
            },
            listed,
            id: &id,
            record: login.record,
            now,
            fallback_ttl,
            login: &login.json,
            base: &login.base,
            cap: login.record.cap(),
        }
        .run(&self.backend.connection)
        .await
    }

    /// On a cluster, the sessions a save of `record` will prune or evict, to declare them, and
    /// those a save met undeclared before (`missed`).
    async fn plan_save(
        &self,
        tag: Option<&UserTag>,
        record: &Record,
        now: u64,
        missed: &[SessionId],
    ) -> Result<Listed, RedisStoreError> {
        let Some(tag) = tag else {
            return Ok(Listed::default());
        };
        let plan = Plan::Save {
            max: record.cap().filter(|cap| !cap.refuse).map(|cap| cap.max),
        };
        Ok(Listed::plan(&self.backend, tag, plan, now)
            .await?
            .and(&self.backend, tag, missed))
    }

    /// Reports the sessions a log-in evicted.
    fn evicted(&self, record: &Record, evicted: usize) {
        if let (Some(user), 1..) = (record.user(), evicted) {
            self.backend.events.emit(&SessionEvent::Evicted {
                user: user.to_owned(),
                sessions: evicted,
            });
        }
    }

    /// A log-in the session limit `max` refused: logged, and told to the request's scope.
    fn refused(&self, record: &Record, max: u32) -> RedisStoreError {
        let user = record
            .user()
            .and_then(|user| self.backend.events.user_ids.name(user));
        tracing::info!(
            target: "session_expiry",
            user,
            max,
            "log-in refused: the user already holds as many sessions as their limit allows"
        );
        scope::refused(max);
        RedisStoreError::TooManySessions { max }
    }

    /// Deletes a live session (a tombstone stays until its deadline); whether one was deleted.
    async fn remove(&self, parsed: &ParsedKey) -> Result<bool, RedisStoreError> {
        let (data, user) = self.session_keys(parsed.tag.as_ref(), &parsed.id);
        let delete = Delete {
            keys: SessionKeys {
                data: &data,
                user: user.as_ref(),
            },
            id: &parsed.id,
        };
        let deleted = delete.run(&self.backend.connection).await?;
        if !deleted {
            scope::ended_meanwhile();
        }
        Ok(deleted)
    }

    async fn rewrite(
        &self,
        session_key: SessionKey,
        record: &Record,
        fallback_ttl: u64,
    ) -> Result<SessionKey, RedisStoreError> {
        let Some(parsed) = parse_session_key(session_key.as_ref()) else {
            // `load` found nothing under such a key, so actix-session saves instead: unreachable.
            return Ok(session_key);
        };
        let wanted = record.user().map(|user| self.backend.keys.tag_of(user));
        if wanted.is_some() && wanted != parsed.tag {
            // The state names a user the key is not tagged for (it was signed in without
            // renewing the session): move it to that user's slot, unless it ended meanwhile.
            if !self.remove(&parsed).await? {
                return Ok(session_key);
            }
            return self.create(record, fallback_ttl).await;
        }
        let (data, user) = self.session_keys(parsed.tag.as_ref(), &parsed.id);
        let update = Update {
            keys: SessionKeys {
                data: &data,
                user: user.as_ref(),
            },
            id: &parsed.id,
            record,
            now: self.backend.now_ms(),
            fallback_ttl,
        };
        if !update.run(&self.backend.connection).await? {
            tracing::debug!(
                target: "session_expiry",
                session = %parsed.id,
                "the session ended while this request ran: its changes are dropped"
            );
        }
        Ok(session_key)
    }

    /// Logs a failure, and tells the request's scope when Redis is unavailable.
    fn failed(&self, operation: &str, error: RedisStoreError) -> anyhow::Error {
        if let RedisStoreError::TooManySessions { .. } = error {
            // The session limit at work, logged where it refused: not a failure of the store.
            return anyhow::Error::new(error);
        }
        crate::metrics::store_error();
        tracing::error!(
            target: "session_expiry",
            error = %error.chain(),
            "the Redis session store could not {operation}"
        );
        if let Some(retry_after) = error.retry_after() {
            scope::report_outage(retry_after);
        }
        anyhow::Error::new(error)
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
                Some(retry_after) => {
                    crate::metrics::store_error();
                    tracing::error!(
                        target: "session_expiry",
                        error = %error.chain(),
                        "Redis is unavailable: the session cannot be checked"
                    );
                    let mut state = SessionState::new();
                    StoreMarker::Unavailable { retry_after }.write(&mut state);
                    Ok(Some(state))
                }
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

/// What every attempt at saving one record shares: its user's slot and index, and the log-in
/// record for the index (all empty without a user).
struct LogIn<'r> {
    record: &'r Record,
    tag: Option<UserTag>,
    user: Option<UserKeys>,
    /// The log-in record, as JSON.
    json: String,
    /// The prefix of the user's data keys.
    base: String,
}

impl<'r> LogIn<'r> {
    fn of(backend: &Backend, record: &'r Record) -> Self {
        let tag = record.user().map(|user| backend.keys.tag_of(user));
        Self {
            record,
            user: tag.as_ref().map(|tag| backend.keys.user(tag)),
            json: tag
                .as_ref()
                .map(|_| login_record(record))
                .unwrap_or_default(),
            base: tag
                .as_ref()
                .map(|tag| backend.keys.sessions_of(tag))
                .unwrap_or_default(),
            tag,
        }
    }
}

/// What the registry keeps about a session from its log-in: where it signed in (for the
/// listing), and whose it is under which policy snapshot (to name the reason it ended once Redis
/// has dropped its data, see [`RedisStore::ended`]).
fn login_record(record: &Record) -> String {
    let (user_agent, ip) = scope::client();
    LoginRecord {
        ip,
        login_ms: record.login_ms(),
        policy: record.policy(),
        user: record.user().map(str::to_owned),
        user_agent,
    }
    .to_json()
}

fn session_key(key: String) -> Result<SessionKey, RedisStoreError> {
    SessionKey::try_from(key).map_err(|error| RedisStoreError::Corrupt(error.to_string()))
}

/// actix-session's TTL in milliseconds, at least one.
fn millis(ttl: &CookieDuration) -> u64 {
    u64::try_from(ttl.whole_milliseconds().max(1)).unwrap_or(u64::MAX)
}
