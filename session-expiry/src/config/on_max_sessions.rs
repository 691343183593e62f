//! [`OnMaxSessions`]: what a log-in beyond the user's session limit does.

/// What a log-in beyond the user's session limit does (see
/// [`Policy::with_max_sessions`](crate::Policy::with_max_sessions)). Needs a store with a session registry (the Redis store); the
/// cookie store cannot count a user's sessions.
///
/// # Examples
/// ```
/// use session_expiry::{config::OnMaxSessions, SessionExpiry};
/// let middleware = SessionExpiry::builder()
///     .max_sessions(3)
///     .on_max_sessions(OnMaxSessions::Refuse)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnMaxSessions {
    /// End the user's least recently active session(s) to make room: their next request gets
    /// the expired answer with reason `evicted`.
    #[default]
    EvictLeastRecentlyActive,
    /// Refuse the log-in: the store refuses to save it, and can tell the handler first
    /// ([`ExpiryError::TooManySessions`](crate::ExpiryError::TooManySessions)).
    ///
    /// Whoever holds the limit's worth of a user's sessions can then keep the owner from
    /// signing in at all: give the refusal a way out once the password is checked (with the
    /// Redis store, `SessionRegistry::login_signing_out_others`).
    Refuse,
}
