//! [`SessionEvent`]: every moment of a session's life, and [`ExpiryEvent`], what one that ended
//! on its own reports. Where events go is `events.rs`.

use std::time::Duration;

use crate::{ExpiryReason, Policy};

/// What happened to a session: reported to the hook set with
/// [`on_event`](crate::config::SessionExpiryBuilder::on_event), logged with `tracing`, and with the
/// `metrics` feature counted. The Redis store reports its own ([`Revoked`](Self::Revoked),
/// [`Evicted`](Self::Evicted)) to the same hooks, given the middleware with
/// `RedisStoreBuilder::for_middleware`; the PostgreSQL store those and its reaper's
/// ([`Reaped`](Self::Reaped)), given it with `PostgresStoreBuilder::for_middleware`.
///
/// # Log lines
/// Every event is an info-level `tracing` event with target `session_expiry` and these stable
/// fields: `event` (`logged_in`, `logged_out`, `expired`, `reauthenticated`, `revoked`,
/// `evicted`, `adopted`, `credentials_changed`, `stamp_lookup_failed`, `reaped`), `user` (as [`log_user_ids`](crate::config::SessionExpiryBuilder::log_user_ids)
/// says; absent when unknown or omitted), and where they apply `reason`, `session_age_secs`,
/// `idle_for_secs`, `remembered`, `sessions`; `reaped` has `idle`, `absolute`, `revoked`,
/// `evicted`, `anonymous` and `batches`.
///
/// # Metrics
/// With the `metrics` feature, through the `metrics` facade (install any recorder, e.g.
/// `metrics-exporter-prometheus`): counters `session_expiry_logins_total`,
/// `session_expiry_logouts_total`, `session_expiry_expired_total` (label `reason`),
/// `session_expiry_refreshes_total` (last-seen writes), `session_expiry_store_errors_total`,
/// `session_expiry_stamp_lookup_errors_total`, `session_expiry_reaped_total` (label `reason`:
/// `idle`, `absolute`, `revoked`, `evicted` or `anonymous`; rows the PostgreSQL reaper
/// deleted), and
/// the histogram `session_expiry_session_duration_seconds` (label `reason`: `logout` or the
/// expiry's) of the sessions that end with a known age.
///
/// # Examples
/// ```
/// use session_expiry::{SessionEvent, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .on_event(|event: &SessionEvent| match event {
///         SessionEvent::LoggedIn { user, .. } => println!("{user} signed in"),
///         SessionEvent::Expired(expired) => {
///             println!("{:?} signed out: {}", expired.user, expired.reason)
///         }
///         _ => {}
///     })
///     .build();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// A user signed in (or a session was renewed for a new user).
    #[non_exhaustive]
    LoggedIn {
        /// The user.
        user: String,
        /// The policy the session runs under (its own, else the global one; capped).
        policy: Policy,
        /// Signed in with "keep me signed in".
        remembered: bool,
    },
    /// A user signed out.
    #[non_exhaustive]
    LoggedOut {
        /// The user.
        user: String,
        /// Time since log-in.
        session_age: Duration,
    },
    /// A session ended on its own: a timeout, a revocation or eviction met at its next request,
    /// or state that could not be trusted.
    Expired(ExpiryEvent),
    /// A user confirmed who they are again ([`Expiry::reauthenticated`](crate::Expiry::reauthenticated)).
    #[non_exhaustive]
    Reauthenticated {
        /// The user.
        user: String,
        /// Time since log-in.
        session_age: Duration,
    },
    /// Sessions of a user were revoked through the registry (Redis store): their next
    /// requests end with reason `revoked`.
    #[non_exhaustive]
    Revoked {
        /// The user.
        user: String,
        /// How many live sessions were revoked.
        sessions: usize,
    },
    /// Sessions of a user were evicted to make room for a newer log-in beyond their session
    /// limit (Redis store): their next requests end with reason `evicted`.
    #[non_exhaustive]
    Evicted {
        /// The user.
        user: String,
        /// How many sessions were evicted.
        sessions: usize,
    },
    /// A session signed in by another mechanism got its clocks started
    /// ([`Adoption`](crate::config::Adoption)).
    #[non_exhaustive]
    Adopted {
        /// The user.
        user: String,
    },
    /// A handler said the user's credentials changed
    /// ([`Expiry::credentials_changed`](crate::Expiry::credentials_changed)): this session was
    /// re-stamped, the user's other sessions end at their next check.
    #[non_exhaustive]
    CredentialsChanged {
        /// The user.
        user: String,
    },
    /// The [security stamp](crate::config::SessionExpiryBuilder::security_stamp) lookup failed:
    /// the request was answered `503`, the session kept (counted as
    /// `session_expiry_stamp_lookup_errors_total`).
    #[non_exhaustive]
    StampLookupFailed {
        /// The user.
        user: String,
        /// What the lookup said.
        error: String,
    },
    /// One run of the PostgreSQL store's reaper deleted the rows of sessions that ended over a
    /// day ago (their reasons are kept that long), summed by why each ended. A run skipped
    /// because another instance was reaping reports nothing.
    #[non_exhaustive]
    Reaped {
        /// Sessions that ended by their idle timeout.
        idle: usize,
        /// Sessions that ended by their absolute timeout.
        absolute: usize,
        /// Sessions revoked through the registry.
        revoked: usize,
        /// Sessions evicted beyond their user's session limit.
        evicted: usize,
        /// Sessions without a user whose time ran out.
        anonymous: usize,
        /// How many DELETE statements the run took.
        batches: usize,
    },
}

impl SessionEvent {
    /// The event's name in log lines (`event` field) and docs.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::SessionEvent;
    /// # fn f(event: &SessionEvent) {
    /// println!("{}", event.name());
    /// # }
    /// ```
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::LoggedIn { .. } => "logged_in",
            Self::LoggedOut { .. } => "logged_out",
            Self::Expired(_) => "expired",
            Self::Reauthenticated { .. } => "reauthenticated",
            Self::Revoked { .. } => "revoked",
            Self::Evicted { .. } => "evicted",
            Self::Adopted { .. } => "adopted",
            Self::CredentialsChanged { .. } => "credentials_changed",
            Self::StampLookupFailed { .. } => "stamp_lookup_failed",
            Self::Reaped { .. } => "reaped",
        }
    }

    /// The user the event is about, if known.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::SessionEvent;
    /// # fn f(event: &SessionEvent) {
    /// if let Some(user) = event.user() {
    ///     println!("{user}: {}", event.name());
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::LoggedIn { user, .. }
            | Self::LoggedOut { user, .. }
            | Self::Reauthenticated { user, .. }
            | Self::Revoked { user, .. }
            | Self::Evicted { user, .. }
            | Self::Adopted { user }
            | Self::CredentialsChanged { user }
            | Self::StampLookupFailed { user, .. } => Some(user),
            Self::Expired(expired) => expired.user.as_deref(),
            Self::Reaped { .. } => None,
        }
    }
}

/// Reported when the middleware ends a session, as [`SessionEvent::Expired`](crate::SessionEvent::Expired):
/// to `tracing` at info level, to every [`on_event`](crate::config::SessionExpiryBuilder::on_event) hook,
/// and to the shorthand [`on_expired`](crate::config::SessionExpiryBuilder::on_expired). It never carries
/// the session key.
///
/// # Examples
/// ```
/// use session_expiry::{ExpiryEvent, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .on_expired(|event: &ExpiryEvent| {
///         println!("{:?} signed out: {}", event.user, event.reason);
///     })
///     .build();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpiryEvent {
    /// The signed-in user, when the state was readable enough to name one.
    pub user: Option<String>,
    /// Why the session ended.
    pub reason: ExpiryReason,
    /// Time since log-in, when known.
    pub session_age: Option<Duration>,
    /// Time since the last recorded activity, when known.
    pub idle_for: Option<Duration>,
}
