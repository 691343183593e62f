//! [`SessionRegistry`]: every session of a user, to list and revoke ("log out everywhere").

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    backend::Backend,
    device,
    id::SessionId,
    listed::backoff,
    page::{Page, SessionPage},
    scripts::{List, ListReply, ListedSession, Plan, Revoke},
    RedisStoreError,
};
use crate::{Expiry, ExpiryError, SessionEvent};

/// How many times listing or revoking all (or all other) sessions of a user on a Redis Cluster
/// reads the index again when a session was saved meanwhile, before giving up.
const REVOKE_ATTEMPTS: usize = 5;

/// The sessions of each user, kept by the [`RedisStore`](super::RedisStore) itself as it saves
/// and deletes them; get it with [`RedisStore::registry`](super::RedisStore::registry) and hand
/// it to handlers with `web::Data`.
///
/// Each method is one round trip to Redis (one script, on the user's hash slot). On a Redis
/// Cluster, `list`, `revoke_all` and `revoke_others` first read the user's index, to declare
/// the keys the script touches: two round trips. Listing one page, counting and revoking one
/// session cost O(log n) in the user's session count n; revoking all (or all other) sessions
/// walks them all. A revoked session ends at its next request, on every app instance, with
/// reason `revoked`; a request already running when it is revoked finishes, but what it writes
/// to the session is dropped.
///
/// # Examples
/// ```no_run
/// use actix_web::{post, web, HttpResponse};
/// use session_expiry::{redis::SessionRegistry, Expiry, ExpiryError};
///
/// /// "Log out everywhere".
/// #[post("/sessions/revoke-all")]
/// async fn revoke_all(
///     expiry: Expiry,
///     registry: web::Data<SessionRegistry>,
/// ) -> actix_web::Result<HttpResponse> {
///     let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
///     let revoked = registry.revoke_all(&user).await?;
///     Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))
/// }
/// ```
#[derive(Clone)]
pub struct SessionRegistry {
    backend: Arc<Backend>,
}

impl std::fmt::Debug for SessionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRegistry").finish_non_exhaustive()
    }
}

/// One live session of a user, as [`SessionRegistry::list`] reports it.
///
/// # Examples
/// ```no_run
/// # async fn run(registry: session_expiry::redis::SessionRegistry) -> Result<(), session_expiry::redis::RedisStoreError> {
/// use session_expiry::redis::Page;
///
/// for session in registry.list("alice", Page::default()).await?.sessions {
///     println!(
///         "{} since {} from {:?} ({}), active {}, ends at {:?}",
///         session.id,
///         session.logged_in_at,
///         session.ip,
///         session.device.as_deref().unwrap_or("unknown device"),
///         session.last_seen,
///         session.expires_at,
///     );
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session's opaque id, for [`SessionRegistry::revoke`].
    pub id: SessionId,
    /// When the user signed in.
    pub logged_in_at: DateTime<Utc>,
    /// The last recorded activity (recorded at most once per refresh granularity).
    pub last_seen: DateTime<Utc>,
    /// When the session ends without further activity; `None` without any timeout.
    pub expires_at: Option<DateTime<Utc>>,
    /// The `User-Agent` of the log-in request (needs [`RequestScope`](super::RequestScope)).
    pub user_agent: Option<String>,
    /// A readable label of the device, from the user agent: "Firefox 128 on Linux"; `None`
    /// when the user agent is unknown or names neither browser nor operating system (see the
    /// [module docs](super#device-labels) for the parser).
    pub device: Option<String>,
    /// The client IP of the log-in request (needs [`RequestScope`](super::RequestScope)).
    pub ip: Option<String>,
    /// Whether this is the caller's own session (the one [`Page::current`] named).
    pub current: bool,
}

impl SessionRegistry {
    pub(crate) fn new(backend: Arc<Backend>) -> Self {
        Self { backend }
    }

    /// One page of the live sessions of `user`, most recently active first, with where the
    /// next page starts. One script on the user's hash slot (two round trips on a Redis
    /// Cluster), O(log n + limit) in the user's session count n; it also clears a few sessions
    /// that ended from the index.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable or holds an unreadable entry.
    ///
    /// # Examples
    /// ```no_run
    /// use session_expiry::redis::{Page, PageCursor, SessionId, SessionRegistry};
    ///
    /// # async fn run(
    /// #     registry: SessionRegistry,
    /// #     current: Option<SessionId>,
    /// #     cursor: Option<PageCursor>,
    /// # ) -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let page = registry
    ///     .list("alice", Page::new(20).after(cursor).current(current))
    ///     .await?;
    /// println!("{} sessions, more: {}", page.sessions.len(), page.next.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, user: &str, page: Page) -> Result<SessionPage, RedisStoreError> {
        let tag = self.backend.keys.tag_of(user);
        let keys = self.backend.keys.user(&tag);
        let base = self.backend.keys.sessions_of(&tag);
        let now = self.backend.now_ms();
        let mut missed = Vec::new();
        for _ in 0..REVOKE_ATTEMPTS {
            let plan = Plan::List {
                after: page.cursor(),
                limit: page.limit(),
            };
            let listed =
                plan.listed(&self.backend, &tag, now)
                    .await?
                    .and(&self.backend, &tag, &missed);
            let list = List {
                user: &keys,
                listed: &listed,
                base: &base,
                now,
                after: page.cursor(),
                limit: page.limit(),
            };
            match list.run(&self.backend.connection).await? {
                // Sessions of the page were saved after the plan was read: read it again.
                ListReply::Undeclared(ids) => {
                    missed.extend(ids);
                    backoff().await;
                }
                ListReply::Page { next, sessions } => {
                    let sessions = sessions
                        .into_iter()
                        .map(|listed| session_info(listed, page.current_id()))
                        .collect::<Result<_, _>>()?;
                    return Ok(SessionPage { sessions, next });
                }
            }
        }
        Err(RedisStoreError::Contended {
            retry_after: self.backend.connection.retry_after(),
        })
    }

    /// How many live sessions `user` holds: one `ZCOUNT`, O(log n).
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::redis::SessionRegistry) -> Result<(), session_expiry::redis::RedisStoreError> {
    /// println!("alice is signed in on {} devices", registry.count("alice").await?);
    /// # Ok(()) }
    /// ```
    pub async fn count(&self, user: &str) -> Result<usize, RedisStoreError> {
        let keys = self.backend.keys.user(&self.backend.keys.tag_of(user));
        let mut cmd = ::redis::cmd("ZCOUNT");
        cmd.arg(&keys.expiries)
            .arg(format!("({}", self.backend.now_ms()))
            .arg("+inf");
        self.backend.connection.query(&cmd).await
    }

    /// Signs `user` in, as [`Expiry::login`] does, unless that would exceed their session limit
    /// under [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse): then it returns
    /// [`ExpiryError::TooManySessions`] and signs nobody in, so the handler can say so in its
    /// own words (a log-in form that offers "sign out the other devices and continue", see
    /// [`login_signing_out_others`](Self::login_signing_out_others)). Under the default
    /// [`OnMaxSessions::EvictLeastRecentlyActive`](crate::config::OnMaxSessions::EvictLeastRecentlyActive)
    /// it never refuses: the save makes room.
    ///
    /// To know the limit, it resolves the user's policy now (the
    /// [`PolicyResolver`](crate::PolicyResolver) is still consulted once), then counts the
    /// user's live sessions (O(log n)). Two log-ins at the same moment may both pass this
    /// check; the save still enforces the limit atomically, and the one that would exceed it is
    /// answered `403` `{"error":"too_many_sessions","max_sessions":n}` by
    /// [`RequestScope`](super::RequestScope). If Redis cannot be asked, the log-in goes ahead
    /// and the save decides (`503` while Redis is unavailable).
    ///
    /// # Errors
    /// [`ExpiryError::TooManySessions`], and what [`Expiry::login`] returns.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{redis::SessionRegistry, Expiry, ExpiryError};
    ///
    /// #[post("/login")]
    /// async fn login(
    ///     expiry: Expiry,
    ///     registry: web::Data<SessionRegistry>,
    /// ) -> actix_web::Result<HttpResponse> {
    ///     // ... check the credentials first, then:
    ///     match registry.login(&expiry, "alice").await {
    ///         Ok(()) => Ok(HttpResponse::Ok().finish()),
    ///         Err(ExpiryError::TooManySessions { max }) => Ok(HttpResponse::Forbidden().body(
    ///             format!("You are signed in on {max} devices already: sign out of one first."),
    ///         )),
    ///         Err(other) => Err(other.into()),
    ///     }
    /// }
    /// ```
    pub async fn login(&self, expiry: &Expiry, user: impl Into<String>) -> Result<(), ExpiryError> {
        self.login_checked(expiry, user.into(), false).await
    }

    /// The way out of a refused log-in: revokes every session of `user`, then signs them in
    /// here, as [`login`](Self::login) does; how many sessions were revoked. Under
    /// [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse), whoever holds the limit's worth
    /// of a user's sessions (someone else with the password, a script, stolen cookies) would
    /// otherwise lock the owner out of every new log-in: offer "sign out the other devices and
    /// continue" on the refusal, and call this once the password has been checked again.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable (nothing is revoked then, nobody signed in),
    /// and what [`login`](Self::login) returns.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{redis::SessionRegistry, Expiry};
    ///
    /// #[post("/login/sign-out-others")]
    /// async fn sign_out_others(
    ///     expiry: Expiry,
    ///     registry: web::Data<SessionRegistry>,
    /// ) -> actix_web::Result<HttpResponse> {
    ///     // ... check the credentials again first, then:
    ///     let revoked = registry.login_signing_out_others(&expiry, "alice").await?;
    ///     Ok(HttpResponse::Ok().body(format!("Signed out of {revoked} other devices.")))
    /// }
    /// ```
    pub async fn login_signing_out_others(
        &self,
        expiry: &Expiry,
        user: impl Into<String>,
    ) -> actix_web::Result<usize> {
        let user = user.into();
        let revoked = self.revoke_all(&user).await?;
        self.login(expiry, user).await?;
        Ok(revoked)
    }

    /// [`login`](Self::login) with "keep me signed in", as [`Expiry::login_remembered`].
    ///
    /// # Errors
    /// As [`login`](Self::login).
    ///
    /// # Examples
    /// ```no_run
    /// # async fn f(registry: session_expiry::redis::SessionRegistry, expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
    /// registry.login_remembered(&expiry, "alice").await?;
    /// # Ok(()) }
    /// ```
    pub async fn login_remembered(
        &self,
        expiry: &Expiry,
        user: impl Into<String>,
    ) -> Result<(), ExpiryError> {
        self.login_checked(expiry, user.into(), true).await
    }

    async fn login_checked(
        &self,
        expiry: &Expiry,
        user: String,
        remembered: bool,
    ) -> Result<(), ExpiryError> {
        let login = expiry.resolve_login(user.clone(), remembered).await?;
        if let Some(cap) = login.cap().filter(|cap| cap.refuse) {
            match self.count(&user).await {
                Ok(live) if live >= usize::try_from(cap.max).unwrap_or(usize::MAX) => {
                    return Err(ExpiryError::TooManySessions { max: cap.max });
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(
                    target: "session_expiry",
                    error = %error.chain(),
                    "the session limit could not be checked before the log-in: the save will"
                ),
            }
        }
        expiry.finish_login(login)
    }

    /// Revokes the session `id` of `user`; whether it was live.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::redis::SessionRegistry) -> Result<(), Box<dyn std::error::Error>> {
    /// let id = "0123456789abcdef0123456789abcdef".parse()?;
    /// if !registry.revoke("alice", &id).await? {
    ///     println!("no such session");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, user: &str, id: &SessionId) -> Result<bool, RedisStoreError> {
        Ok(self.revoke_where(user, Revoke::One(id)).await? == 1)
    }

    /// Revokes every session of `user` ("log out everywhere", this device included); how many
    /// were live.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::redis::SessionRegistry) -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let revoked = registry.revoke_all("alice").await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke_all(&self, user: &str) -> Result<usize, RedisStoreError> {
        self.revoke_where(user, Revoke::All).await
    }

    /// Revokes every session of `user` but `current` ("log out other devices"); how many were
    /// live. The request's own id comes from the [`SessionId`] extractor.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{redis::{SessionId, SessionRegistry}, Expiry, ExpiryError};
    ///
    /// #[post("/sessions/revoke-others")]
    /// async fn revoke_others(
    ///     expiry: Expiry,
    ///     current: SessionId,
    ///     registry: web::Data<SessionRegistry>,
    /// ) -> actix_web::Result<HttpResponse> {
    ///     let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    ///     let revoked = registry.revoke_others(&user, &current).await?;
    ///     Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))
    /// }
    /// ```
    pub async fn revoke_others(
        &self,
        user: &str,
        current: &SessionId,
    ) -> Result<usize, RedisStoreError> {
        self.revoke_where(user, Revoke::Others(current)).await
    }

    async fn revoke_where(&self, user: &str, which: Revoke<'_>) -> Result<usize, RedisStoreError> {
        let tag = self.backend.keys.tag_of(user);
        let keys = self.backend.keys.user(&tag);
        let base = self.backend.keys.sessions_of(&tag);
        let revoked = match which {
            Revoke::One(_) => {
                which
                    .run(&self.backend.connection, &keys, &base, &[])
                    .await?
            }
            // In bounded steps: a batch of the index read, then revoked, until the index has
            // been walked. No call runs long whatever the index holds (ended sessions' records
            // stay in it for a day), so other users are served in between.
            Revoke::All | Revoke::Others(_) => {
                let mut batches = IndexBatches::new(&keys.info);
                let mut revoked = 0;
                while let Some(ids) = batches.next(&self.backend).await? {
                    if !ids.is_empty() {
                        revoked += which
                            .run(&self.backend.connection, &keys, &base, &ids)
                            .await?;
                    }
                }
                revoked
            }
        };
        if revoked > 0 {
            self.backend.events.emit(&SessionEvent::Revoked {
                user: user.to_owned(),
                sessions: revoked,
            });
        }
        Ok(revoked)
    }
}

/// How many of an index's records one step of revoking all reads (and its script then walks).
const REVOKE_BATCH: usize = 64;

/// A user's index read in batches with `HSCAN`: every session it holds the whole time is met
/// (one may be met twice, which revoking twice does not mind).
struct IndexBatches<'a> {
    index: &'a str,
    cursor: Option<u64>,
}

impl<'a> IndexBatches<'a> {
    fn new(index: &'a str) -> Self {
        Self {
            index,
            cursor: Some(0),
        }
    }

    /// The next batch of session ids; `None` once the index has been walked.
    async fn next(&mut self, backend: &Backend) -> Result<Option<Vec<String>>, RedisStoreError> {
        let Some(cursor) = self.cursor else {
            return Ok(None);
        };
        let mut cmd = ::redis::cmd("HSCAN");
        cmd.arg(self.index)
            .arg(cursor)
            .arg("COUNT")
            .arg(REVOKE_BATCH);
        let (next, pairs): (u64, Vec<String>) = backend.connection.query(&cmd).await?;
        self.cursor = (next != 0).then_some(next);
        // Field, value, field, value: the fields are the session ids.
        Ok(Some(pairs.into_iter().step_by(2).collect()))
    }
}

/// A listed session as the registry reports it.
fn session_info(
    listed: ListedSession,
    current: Option<&SessionId>,
) -> Result<SessionInfo, RedisStoreError> {
    let instant = |ms: i64| {
        DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| corrupt("a session's instant is malformed"))
    };
    let last_seen = instant(listed.seen_ms)?;
    let login = listed.login;
    Ok(SessionInfo {
        current: current == Some(&listed.id),
        id: listed.id,
        logged_in_at: match login.login_ms.map(i64::try_from) {
            Some(Ok(ms)) => instant(ms)?,
            Some(Err(_)) => return Err(corrupt("a session's instant is malformed")),
            None => last_seen,
        },
        last_seen,
        expires_at: listed.deadline_ms.map(instant).transpose()?,
        device: login.user_agent.as_deref().and_then(device::label),
        user_agent: login.user_agent,
        ip: login.ip,
    })
}

fn corrupt(what: &str) -> RedisStoreError {
    RedisStoreError::Corrupt(what.to_owned())
}
