//! [`ExpiryStatus`]: how long a session has left.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{config::configuration::Configuration, context::Snapshot, unix_ms::UnixMs};

/// How long a session has left, from [`Expiry::status`](crate::Expiry::status).
///
/// # Examples
/// ```
/// # fn f(expiry: session_expiry::Expiry) {
/// let left = expiry.status().and_then(|status| status.expires_at);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpiryStatus {
    /// The signed-in user.
    pub user: String,
    /// Time left before inactivity ends the session; `None` without an idle timeout.
    pub idle_remaining: Option<Duration>,
    /// Time left before the absolute timeout; `None` without one.
    pub absolute_remaining: Option<Duration>,
    /// When the session ends if nothing else happens; `None` without any timeout.
    pub expires_at: Option<DateTime<Utc>>,
    /// How often activity is recorded at most: a client that reports activity by itself (the
    /// browser script's typing detection) need not do it more often.
    pub refresh_granularity: Duration,
    /// When the user last proved who they are: the log-in, or the last
    /// [`Expiry::reauthenticated`](crate::Expiry::reauthenticated).
    /// `None` for a session adopted from another mechanism (see
    /// [`Adoption`](crate::config::Adoption)) that has not proved it since: no credentials were
    /// presented, so `#[fresh_auth]` routes ask for the password.
    pub authenticated_at: Option<DateTime<Utc>>,
    /// Whether the user signed in with "keep me signed in".
    pub remembered: bool,
    /// When these figures were taken.
    pub as_of: DateTime<Utc>,
}

impl ExpiryStatus {
    /// How long a route with `#[fresh_auth]` of `window` still lets the user through without
    /// asking for their password again (zero once it does).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// # fn f(expiry: session_expiry::Expiry) {
    /// if let Some(status) = expiry.status() {
    ///     let left = status.fresh_auth_remaining(Duration::from_secs(300));
    ///     println!("{}s before /settings asks for the password again", left.as_secs());
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn fresh_auth_remaining(&self, window: Duration) -> Duration {
        let Some(authenticated_at) = self.authenticated_at else {
            return Duration::ZERO;
        };
        let age = (self.as_of - authenticated_at)
            .to_std()
            .unwrap_or(Duration::ZERO);
        window.saturating_sub(age)
    }

    /// The status of `snapshot` at `now`.
    pub(crate) fn of(snapshot: &Snapshot, config: &Configuration, now: UnixMs) -> Self {
        let Snapshot { state, policy } = snapshot;
        let remaining = |from: UnixMs, limit: Option<Duration>| {
            limit.map(|limit| limit.saturating_sub(now.since(from)))
        };
        Self {
            idle_remaining: remaining(state.seen, policy.idle()),
            absolute_remaining: remaining(state.login, policy.absolute()),
            expires_at: policy
                .deadline(state.login, state.seen)
                .map(UnixMs::to_datetime),
            refresh_granularity: config.granularity(policy),
            authenticated_at: state.authenticated.map(UnixMs::to_datetime),
            remembered: state.remembered,
            as_of: now.to_datetime(),
            user: state.user.clone(),
        }
    }
}
