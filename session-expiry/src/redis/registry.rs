//! [`SessionRegistry`]: every session of a user, to list and revoke ("log out everywhere").

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    device,
    id::SessionId,
    listed::{backoff, Listed, Plan},
    page::{Page, PageCursor, SessionPage},
    scripts::SCRIPTS,
    store::Backend,
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

/// What the save script recorded at log-in.
#[derive(serde::Deserialize)]
struct LoginInfo {
    l: Option<u64>,
    ua: Option<String>,
    ip: Option<String>,
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
        let (activity, after) = PageCursor::args(page.cursor());
        let mut missed = Vec::new();
        for _ in 0..REVOKE_ATTEMPTS {
            let plan = Plan::List {
                after: page.cursor(),
                limit: page.limit(),
            };
            let listed = Listed::plan(&self.backend, &tag, plan, now).await?.and(
                &self.backend,
                &tag,
                &missed,
            );
            let mut invocation = SCRIPTS.list.prepare_invoke();
            keys.declare(&mut invocation);
            listed.declare(&mut invocation);
            invocation
                .arg(&base)
                .arg(now)
                .arg(listed.flag())
                .arg(&activity)
                .arg(after)
                .arg(page.limit());
            let flat: Vec<String> = self.backend.connection.invoke(&invocation).await?;
            match flat.as_slice() {
                // Sessions of the page were saved after the plan was read: read it again.
                [status, ids @ ..] if status == "-2" => {
                    missed.extend(ids.iter().cloned());
                    backoff().await;
                }
                [status, next_activity, next_id, entries @ ..] if status == "1" => {
                    return listed_page(next_activity, next_id, entries, page.current_id())
                }
                _ => return Err(corrupt("the list script answered something unexpected")),
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
    /// under [`OnSessionLimit::Refuse`](crate::OnSessionLimit::Refuse): then it returns
    /// [`ExpiryError::TooManySessions`] and signs nobody in, so the handler can say so in its
    /// own words (a log-in form that shows "sign out elsewhere first"). Under the default
    /// [`OnSessionLimit::EvictLeastRecentlyActive`](crate::OnSessionLimit::EvictLeastRecentlyActive)
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
        Ok(self.revoke_where(user, "one", Some(id)).await? == 1)
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
        self.revoke_where(user, "all", None).await
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
        self.revoke_where(user, "others", Some(current)).await
    }

    async fn revoke_where(
        &self,
        user: &str,
        mode: &str,
        id: Option<&SessionId>,
    ) -> Result<usize, RedisStoreError> {
        let tag = self.backend.keys.tag_of(user);
        let keys = &self.backend.keys;
        for _ in 0..REVOKE_ATTEMPTS {
            let mut invocation = SCRIPTS.revoke.prepare_invoke();
            keys.user(&tag).declare(&mut invocation);
            let listed = match (mode, id) {
                ("one", Some(id)) => {
                    invocation.key(keys.data(Some(&tag), id));
                    Listed::default()
                }
                _ => Listed::read(&self.backend, &tag).await?,
            };
            listed.declare(&mut invocation);
            invocation
                .arg(keys.sessions_of(&tag))
                .arg(mode)
                .arg(id.map_or("", SessionId::as_str))
                .arg(listed.flag());
            // -1: a session was saved since the index was read; read it again.
            let revoked: i64 = self.backend.connection.invoke(&invocation).await?;
            if let Ok(revoked) = usize::try_from(revoked) {
                if revoked > 0 {
                    self.backend.events.emit(&SessionEvent::Revoked {
                        user: user.to_owned(),
                        sessions: revoked,
                    });
                }
                return Ok(revoked);
            }
        }
        Err(RedisStoreError::Contended {
            retry_after: self.backend.connection.retry_after(),
        })
    }
}

/// The page the list script answered: the next cursor, then id, log-in record, last seen and
/// deadline of each session.
fn listed_page(
    next_activity: &str,
    next_id: &str,
    entries: &[String],
    current: Option<&SessionId>,
) -> Result<SessionPage, RedisStoreError> {
    let next = match (next_activity, next_id) {
        ("", "") => None,
        (activity, id) => Some(
            PageCursor::from_script(activity, id)
                .ok_or_else(|| corrupt("a session's activity is malformed"))?,
        ),
    };
    let sessions = entries
        .chunks(4)
        .map(|entry| match entry {
            [id, info, seen, deadline] => session_info(id, info, seen, deadline, current),
            _ => Err(corrupt("a registry entry is incomplete")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SessionPage { sessions, next })
}

fn session_info(
    id: &str,
    info: &str,
    seen: &str,
    deadline: &str,
    current: Option<&SessionId>,
) -> Result<SessionInfo, RedisStoreError> {
    let id: SessionId = id
        .parse()
        .map_err(|_| corrupt("a registry id is malformed"))?;
    // A session without a log-in record (saved before records were kept) is still listed.
    let info = match info {
        "" => LoginInfo {
            l: None,
            ua: None,
            ip: None,
        },
        info => serde_json::from_str(info).map_err(|_| corrupt("a registry entry is malformed"))?,
    };
    let instant = |ms: &str| {
        ms.parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| corrupt("a session's instant is malformed"))
    };
    let last_seen = instant(seen)?;
    Ok(SessionInfo {
        current: current == Some(&id),
        id,
        logged_in_at: match info.l {
            Some(ms) => instant(&ms.to_string())?,
            None => last_seen,
        },
        last_seen,
        expires_at: match deadline {
            "" => None,
            ms => Some(instant(ms)?),
        },
        device: info.ua.as_deref().and_then(device::label),
        user_agent: info.ua,
        ip: info.ip,
    })
}

fn corrupt(what: &str) -> RedisStoreError {
    RedisStoreError::Corrupt(what.to_owned())
}
