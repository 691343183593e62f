//! The registry of each user's sessions, one type for every server-side store: list them a
//! page at a time, count them, revoke one, all, or all but the caller's own ("log out
//! everywhere"), and sign in within the user's session limit.
//!
//! [`SessionRegistry`] is what handlers take (`web::Data<SessionRegistry>`), whichever store
//! keeps the sessions: `RedisStore::registry` (feature
//! `redis`) and `PostgresStore::registry` (feature
//! `postgres`) both hand one out, so the same handler code serves either. What each costs is
//! in its store's module docs.
//!
//! [`SessionId`] names a session without revealing its key (a hash of it), [`Page`] and
//! [`PageCursor`] walk a user's sessions, most recently active first, and [`SessionInfo`] is
//! what a page says of each.

pub(crate) mod device;
pub(crate) mod id;
pub(crate) mod page;
pub(crate) mod web;

use chrono::{DateTime, Utc};

pub use self::{
    id::{InvalidSessionId, SessionId},
    page::{InvalidPageCursor, Page, PageCursor, SessionPage, MAX_PAGE_SIZE},
};
use crate::{events::Events, unix_ms::UnixMs, Expiry, ExpiryError, SessionEvent};

/// Which of a user's sessions a revocation ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which<'a> {
    /// The one session.
    One(&'a SessionId),
    /// Every session of the user.
    All,
    /// Every session of the user but this one.
    Others(&'a SessionId),
}

/// What a server-side store does for its [`SessionRegistry`]: the store-specific half. The
/// store-neutral half (the session limit at log-in, the revocation events) is the registry's.
pub(crate) trait Backend {
    /// The store's name, for `Debug`.
    fn name(&self) -> &'static str;

    /// Where the store's events go.
    fn events(&self) -> &Events;

    /// One page of the user's live sessions, most recently active first.
    async fn list(&self, user: &str, page: &Page) -> Result<SessionPage, RegistryError>;

    /// How many live sessions the user holds.
    async fn count(&self, user: &str) -> Result<usize, RegistryError>;

    /// Revokes `which` of the user's sessions; how many were live.
    async fn revoke(&self, user: &str, which: Which<'_>) -> Result<usize, RegistryError>;
}

/// The store a registry asks: a closed set, so that the registry is one type, cheap to clone,
/// without boxing a future per call.
#[derive(Clone)]
enum Store {
    #[cfg(feature = "redis")]
    Redis(std::sync::Arc<crate::redis::Backend>),
    #[cfg(feature = "postgres")]
    Postgres(std::sync::Arc<crate::postgres::Backend>),
}

/// Runs `$call` on whichever store backs the registry.
macro_rules! on_store {
    ($registry:expr, $backend:ident => $call:expr) => {
        match &$registry.store {
            #[cfg(feature = "redis")]
            Store::Redis($backend) => $call,
            #[cfg(feature = "postgres")]
            Store::Postgres($backend) => $call,
        }
    };
}

/// The sessions of each user, kept by the server-side store itself as it saves and deletes
/// them; get it from `RedisStore::registry` or
/// `PostgresStore::registry` and hand it to
/// handlers with `web::Data`. The same type, and the same semantics, on every store.
///
/// Listing one page, counting and revoking one session never walk all of a user's sessions;
/// revoking all (or all other) sessions does, in bounded steps. A revoked session ends at its
/// next request, on every app instance, with reason `revoked`; a request already running when
/// it is revoked finishes, but what it writes to the session is dropped. The store's module
/// docs give each operation's cost.
///
/// # Examples
/// ```no_run
/// use actix_web::{post, web, HttpResponse};
/// use session_expiry::{registry::SessionRegistry, Expiry, ExpiryError};
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
    store: Store,
}

impl std::fmt::Debug for SessionRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = on_store!(self, backend => backend.name());
        f.debug_struct("SessionRegistry")
            .field("store", &store)
            .finish_non_exhaustive()
    }
}

/// One live session of a user, as [`SessionRegistry::list`] reports it.
///
/// # Examples
/// ```no_run
/// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
/// use session_expiry::registry::Page;
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
    /// The `User-Agent` of the log-in request (needs the store's `RequestScope`).
    pub user_agent: Option<String>,
    /// A readable label of the device, from the user agent: "Firefox 128 on Linux"; `None`
    /// when the user agent is unknown or names neither browser nor operating system (see the
    /// [`redis` module docs](crate::redis#device-labels) for the parser).
    pub device: Option<String>,
    /// The client IP of the log-in request (needs the store's `RequestScope`).
    pub ip: Option<String>,
    /// Whether this is the caller's own session (the one [`Page::current`] named).
    pub current: bool,
}

impl SessionInfo {
    /// A listed session: `device` comes from `user_agent`, `current` from the page.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn listed(
        id: SessionId,
        logged_in_at: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        user_agent: Option<String>,
        ip: Option<String>,
        page: &Page,
    ) -> Self {
        Self {
            current: page.current_id() == Some(&id),
            id,
            logged_in_at,
            last_seen,
            expires_at,
            device: user_agent.as_deref().and_then(device::label),
            user_agent,
            ip,
        }
    }
}

/// An error of a [`SessionRegistry`]: its store's own.
///
/// As a handler's error it answers as the store's error does: `503` with `Retry-After` when the
/// store is unavailable, `403` for a refused log-in, an opaque `500` otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The Redis store's error.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[error(transparent)]
    Redis(#[from] crate::redis::RedisStoreError),
    /// The PostgreSQL store's error.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    #[error(transparent)]
    Postgres(#[from] crate::postgres::PostgresStoreError),
}

impl RegistryError {
    /// Whether the store is (for now) out of reach: the request may succeed later.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            #[cfg(feature = "redis")]
            Self::Redis(error) => error.is_unavailable(),
            #[cfg(feature = "postgres")]
            Self::Postgres(error) => error.is_unavailable(),
        }
    }

    /// The error and its causes on one line, for the log.
    pub(crate) fn chain(&self) -> String {
        match self {
            #[cfg(feature = "redis")]
            Self::Redis(error) => error.chain(),
            #[cfg(feature = "postgres")]
            Self::Postgres(error) => error.chain(),
        }
    }
}

impl actix_web::ResponseError for RegistryError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        match self {
            #[cfg(feature = "redis")]
            Self::Redis(error) => error.status_code(),
            #[cfg(feature = "postgres")]
            Self::Postgres(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        match self {
            #[cfg(feature = "redis")]
            Self::Redis(error) => error.error_response(),
            #[cfg(feature = "postgres")]
            Self::Postgres(error) => error.error_response(),
        }
    }
}

impl SessionRegistry {
    #[cfg(feature = "redis")]
    pub(crate) fn new(backend: std::sync::Arc<crate::redis::Backend>) -> Self {
        Self {
            store: Store::Redis(backend),
        }
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn postgres(backend: std::sync::Arc<crate::postgres::Backend>) -> Self {
        Self {
            store: Store::Postgres(backend),
        }
    }

    /// One page of the live sessions of `user`, most recently active first, with where the
    /// next page starts.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable or holds an unreadable entry.
    ///
    /// # Examples
    /// ```no_run
    /// use session_expiry::registry::{Page, PageCursor, SessionId, SessionRegistry};
    ///
    /// # async fn run(
    /// #     registry: SessionRegistry,
    /// #     current: Option<SessionId>,
    /// #     cursor: Option<PageCursor>,
    /// # ) -> Result<(), session_expiry::registry::RegistryError> {
    /// let page = registry
    ///     .list("alice", Page::new(20).after(cursor).current(current))
    ///     .await?;
    /// println!("{} sessions, more: {}", page.sessions.len(), page.next.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, user: &str, page: Page) -> Result<SessionPage, RegistryError> {
        on_store!(self, backend => backend.list(user, &page).await)
    }

    /// How many live sessions `user` holds.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
    /// println!("alice is signed in on {} devices", registry.count("alice").await?);
    /// # Ok(()) }
    /// ```
    pub async fn count(&self, user: &str) -> Result<usize, RegistryError> {
        on_store!(self, backend => backend.count(user).await)
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
    /// user's live sessions. Two log-ins at the same moment may both pass this check; the save
    /// still enforces the limit atomically, and the one that would exceed it is answered `403`
    /// `{"error":"too_many_sessions","max_sessions":n}` by the store's `RequestScope`. If the
    /// store cannot be asked, the log-in goes ahead and the save decides (`503` while the
    /// store is unavailable).
    ///
    /// # Errors
    /// [`ExpiryError::TooManySessions`], and what [`Expiry::login`] returns.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{registry::SessionRegistry, Expiry, ExpiryError};
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
    /// [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse), whoever holds the
    /// limit's worth of a user's sessions (someone else with the password, a script, stolen
    /// cookies) would otherwise lock the owner out of every new log-in: offer "sign out the
    /// other devices and continue" on the refusal, and call this once the password has been
    /// checked again.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable (nothing is revoked then, nobody signed
    /// in), and what [`login`](Self::login) returns.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{registry::SessionRegistry, Expiry};
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
    /// # async fn f(registry: session_expiry::registry::SessionRegistry, expiry: session_expiry::Expiry) -> Result<(), session_expiry::ExpiryError> {
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
    /// [`RegistryError`] if the store is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), Box<dyn std::error::Error>> {
    /// let id = "0123456789abcdef0123456789abcdef".parse()?;
    /// if !registry.revoke("alice", &id).await? {
    ///     println!("no such session");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn revoke(&self, user: &str, id: &SessionId) -> Result<bool, RegistryError> {
        Ok(self.revoke_where(user, Which::One(id)).await? == 1)
    }

    /// Revokes every session of `user` ("log out everywhere", this device included); how many
    /// were live.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
    /// let revoked = registry.revoke_all("alice").await?;
    /// # Ok(()) }
    /// ```
    pub async fn revoke_all(&self, user: &str) -> Result<usize, RegistryError> {
        self.revoke_where(user, Which::All).await
    }

    /// Revokes every session of `user` but `current` ("log out other devices"); how many were
    /// live. The request's own id comes from the [`SessionId`] extractor.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// use actix_web::{post, web, HttpResponse};
    /// use session_expiry::{registry::{SessionId, SessionRegistry}, Expiry, ExpiryError};
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
    ) -> Result<usize, RegistryError> {
        self.revoke_where(user, Which::Others(current)).await
    }

    /// Signs out everyone signed in before `instant`, on every instance, without a restart: a
    /// global "sign out everyone" (after a breach, a leaked signing key, a change of the terms).
    /// Their next request ends with reason `revoked`. The store keeps the instant, and it only
    /// moves forward: an earlier one than kept changes nothing. Returns the instant now kept.
    ///
    /// This instance sees it at once; every other one whose store was built `for_middleware`
    /// reads the kept instant at most once per
    /// [`stamp_check_interval`](crate::config::SessionExpiryBuilder::stamp_check_interval)
    /// (60 seconds unless set), on its first signed-in request after that, so it sees it within
    /// the interval. Between reads a request costs one atomic load. The builder's
    /// [`sessions_valid_from`](crate::config::SessionExpiryBuilder::sessions_valid_from) sets one
    /// at start-up; the later of the two holds.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable: nothing changed then.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
    /// let kept = registry.set_sessions_valid_from(chrono::Utc::now()).await?;
    /// println!("everyone signed in before {kept} is signed out");
    /// # Ok(()) }
    /// ```
    pub async fn set_sessions_valid_from(
        &self,
        instant: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, RegistryError> {
        let wanted = UnixMs::of(instant).millis();
        let (kept, events) = on_store!(self, backend => {
            // Both stores' own: `keep_valid_from`, `kept_valid_from`, `valid_from`.
            let kept = backend.keep_valid_from(wanted).await?;
            if let Some(local) = &backend.valid_from {
                local.raise(kept);
            }
            (kept, backend.events())
        });
        // Their long-lived connections close, here and on the other instances.
        events
            .live
            .end(crate::live::Notice::signed_in_before(kept))
            .await;
        tracing::info!(
            target: "session_expiry",
            valid_from = kept,
            "sessions signed in before this instant (Unix ms) are signed out"
        );
        Ok(UnixMs::new(kept).map_or(instant, UnixMs::to_datetime))
    }

    /// The instant kept by [`set_sessions_valid_from`](Self::set_sessions_valid_from), if any.
    ///
    /// # Errors
    /// [`RegistryError`] if the store is unavailable.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::registry::SessionRegistry) -> Result<(), session_expiry::registry::RegistryError> {
    /// if let Some(instant) = registry.sessions_valid_from().await? {
    ///     println!("sessions signed in before {instant} are signed out");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn sessions_valid_from(&self) -> Result<Option<DateTime<Utc>>, RegistryError> {
        let kept = on_store!(self, backend => backend.kept_valid_from().await?);
        Ok(kept.and_then(UnixMs::new).map(UnixMs::to_datetime))
    }

    async fn revoke_where(&self, user: &str, which: Which<'_>) -> Result<usize, RegistryError> {
        let (revoked, events) = on_store!(self, backend => (
            backend.revoke(user, which).await?,
            backend.events(),
        ));
        if revoked > 0 {
            events.emit(&SessionEvent::Revoked {
                user: user.to_owned(),
                sessions: revoked,
            });
            events
                .live
                .end(crate::live::Notice::revoked(user, which))
                .await;
        }
        Ok(revoked)
    }
}
