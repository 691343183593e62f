//! What happened when a session ended on its own: the reason and the event reported.

use std::{fmt, str::FromStr, time::Duration};

/// Why a session was ended.
///
/// # Examples
/// ```
/// use session_expiry::ExpiryReason;
/// assert_eq!(ExpiryReason::Idle.as_str(), "idle");
/// assert_eq!("absolute".parse::<ExpiryReason>(), Ok(ExpiryReason::Absolute));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ExpiryReason {
    /// No activity for the idle timeout.
    Idle,
    /// The absolute timeout since log-in has passed.
    Absolute,
    /// The session was revoked (log out everywhere, or by an administrator).
    Revoked,
    /// The session was ended to make room for a newer log-in of the same user beyond their
    /// session limit: it was their least recently active one.
    Evicted,
    /// The stored state could not be trusted (tampered, truncated, from the future, unknown
    /// version); the session is ended rather than guessed at.
    Invalid,
}

impl ExpiryReason {
    /// The reason as it appears in JSON answers and in the `reason` query parameter.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::ExpiryReason::Revoked.as_str(), "revoked");
    /// ```
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Absolute => "absolute",
            Self::Revoked => "revoked",
            Self::Evicted => "evicted",
            Self::Invalid => "invalid",
        }
    }
}

impl fmt::Display for ExpiryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown [`ExpiryReason`].
///
/// # Examples
/// ```
/// use session_expiry::ExpiryReason;
/// assert!("nap".parse::<ExpiryReason>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown expiry reason; expected one of: idle, absolute, revoked, evicted, invalid")]
pub struct UnknownReason;

impl FromStr for ExpiryReason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "idle" => Ok(Self::Idle),
            "absolute" => Ok(Self::Absolute),
            "revoked" => Ok(Self::Revoked),
            "evicted" => Ok(Self::Evicted),
            "invalid" => Ok(Self::Invalid),
            _ => Err(UnknownReason),
        }
    }
}

/// Reported when the middleware ends a session, as [`SessionEvent::Expired`](crate::SessionEvent::Expired):
/// to `tracing` at info level, to every [`on_event`](crate::SessionExpiryBuilder::on_event) hook,
/// and to the shorthand [`on_expired`](crate::SessionExpiryBuilder::on_expired). It never carries
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
