//! [`SessionRegistry`]: every session of a user, to list and revoke ("log out everywhere").

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    id::SessionId, keys::UserTag, listed::Listed, scripts::SCRIPTS, store::Backend, RedisStoreError,
};

/// How many times revoking all (or all other) sessions of a user on a Redis Cluster reads the
/// index again when a session was saved meanwhile, before giving up.
const REVOKE_ATTEMPTS: usize = 5;

/// The sessions of each user, kept by the [`RedisStore`](super::RedisStore) itself as it saves
/// and deletes them; get it with [`RedisStore::registry`](super::RedisStore::registry) and hand
/// it to handlers with `web::Data`.
///
/// Each method is one round trip to Redis (one script, on the user's hash slot), and prunes the
/// entries of sessions that have ended as it meets them. On a Redis Cluster, `list`,
/// `revoke_all` and `revoke_others` first read the user's index, to declare the keys the script
/// touches: two round trips. A revoked session ends at its next
/// request, on every app instance, with reason `revoked`; a request already running when it is
/// revoked finishes, but what it writes to the session is dropped.
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
/// for session in registry.list("alice").await? {
///     println!(
///         "{} since {} from {:?} ({:?}), ends at {:?}",
///         session.id, session.logged_in_at, session.ip, session.user_agent, session.expires_at,
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
    /// The client IP of the log-in request (needs [`RequestScope`](super::RequestScope)).
    pub ip: Option<String>,
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

    /// The live sessions of `user`, most recently active first.
    ///
    /// # Errors
    /// [`RedisStoreError`] if Redis is unavailable or holds an unreadable entry.
    ///
    /// # Examples
    /// ```no_run
    /// # async fn run(registry: session_expiry::redis::SessionRegistry) -> Result<(), session_expiry::redis::RedisStoreError> {
    /// let sessions = registry.list("alice").await?;
    /// println!("alice is signed in {} times", sessions.len());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, user: &str) -> Result<Vec<SessionInfo>, RedisStoreError> {
        let tag = UserTag::of(user);
        let listed = Listed::read(&self.backend, &tag).await?;
        let mut invocation = SCRIPTS.list.prepare_invoke();
        invocation.key(self.backend.keys.index(&tag));
        listed.declare(&mut invocation);
        invocation
            .arg(self.backend.keys.sessions_of(&tag))
            .arg(self.backend.now_ms())
            .arg(listed.flag());
        let flat: Vec<String> = self.backend.connection.invoke(&invocation).await?;
        let mut sessions = flat
            .chunks(4)
            .map(|entry| match entry {
                [id, info, seen, deadline] => session_info(id, info, seen, deadline),
                _ => Err(corrupt("a registry entry is incomplete")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        sessions.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
        Ok(sessions)
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
        let tag = UserTag::of(user);
        let keys = &self.backend.keys;
        for _ in 0..REVOKE_ATTEMPTS {
            let mut invocation = SCRIPTS.revoke.prepare_invoke();
            invocation.key(keys.index(&tag));
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
                let user = self.backend.user_ids.name(user);
                tracing::info!(target: "session_expiry", user, revoked, mode, "sessions revoked");
                return Ok(revoked);
            }
        }
        Err(RedisStoreError::Contended {
            retry_after: self.backend.connection.retry_after(),
        })
    }
}

fn session_info(
    id: &str,
    info: &str,
    seen: &str,
    deadline: &str,
) -> Result<SessionInfo, RedisStoreError> {
    let id = id
        .parse()
        .map_err(|_| corrupt("a registry id is malformed"))?;
    let info: LoginInfo =
        serde_json::from_str(info).map_err(|_| corrupt("a registry entry is malformed"))?;
    let instant = |ms: &str| {
        ms.parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| corrupt("a session's instant is malformed"))
    };
    let last_seen = instant(seen)?;
    Ok(SessionInfo {
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
        user_agent: info.ua,
        ip: info.ip,
    })
}

fn corrupt(what: &str) -> RedisStoreError {
    RedisStoreError::Corrupt(what.to_owned())
}
