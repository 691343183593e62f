//! [`ExpiryReason`]: why a session ended, as the JSON answer, the redirect's `reason`, the
//! events, the metrics label and the browser script name it.

use std::{fmt, str::FromStr};

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
    /// The user's credentials changed since the session signed in (their
    /// [security stamp](crate::config::SessionExpiryBuilder::security_stamp) differs).
    #[serde(rename = "credentials_changed")]
    CredentialsChanged,
    /// The same session signed out (in another tab or window): what a long-lived connection
    /// of it ends with (see [`SessionEnd`](crate::SessionEnd)).
    #[serde(rename = "logged_out")]
    LoggedOut,
}

impl ExpiryReason {
    /// Every reason, for tests that go through them all.
    #[cfg(test)]
    pub(crate) const EVERY: [Self; 7] = [
        Self::Idle,
        Self::Absolute,
        Self::Revoked,
        Self::Evicted,
        Self::Invalid,
        Self::CredentialsChanged,
        Self::LoggedOut,
    ];

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
            Self::CredentialsChanged => "credentials_changed",
            Self::LoggedOut => "logged_out",
        }
    }
}

impl ExpiryReason {
    /// An English sentence for a server-rendered log-in page that says why the user has to sign
    /// in again: the same text as the browser script's (`expiry.js`, `reason.*`), so that both
    /// pages say the same.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::ExpiryReason;
    /// assert_eq!(
    ///     ExpiryReason::Idle.message(),
    ///     "You were signed out after a period of inactivity."
    /// );
    /// // For `/login?reason=idle`:
    /// let notice = "idle".parse::<ExpiryReason>().map(|reason| reason.message());
    /// assert_eq!(notice, Ok("You were signed out after a period of inactivity."));
    /// ```
    #[must_use]
    pub const fn message(&self) -> &'static str {
        match self {
            Self::Idle => "You were signed out after a period of inactivity.",
            Self::Absolute => "Your session reached its maximum length. Please sign in again.",
            Self::Revoked => "Your session was ended, possibly from another device.",
            Self::Evicted => {
                "You were signed out because you are signed in on too many devices and this one \
                 had been used least recently."
            }
            Self::Invalid => "Your session could not be verified. Please sign in again.",
            Self::CredentialsChanged => "Your password was changed. Please sign in again.",
            Self::LoggedOut => "You signed out in another window.",
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
#[error("unknown expiry reason; expected one of: idle, absolute, revoked, evicted, invalid, credentials_changed, logged_out")]
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
            "credentials_changed" => Ok(Self::CredentialsChanged),
            "logged_out" => Ok(Self::LoggedOut),
            _ => Err(UnknownReason),
        }
    }
}

#[cfg(test)]
mod message_tests {
    use super::ExpiryReason;

    /// The script's English texts, joined as the script's own string concatenation reads.
    fn script_text(reason: ExpiryReason) -> String {
        let script = include_str!("../assets/expiry.js");
        let key = format!("\"reason.{}\": ", reason.as_str());
        let start = script
            .find(&key)
            .map(|at| at + key.len())
            .unwrap_or_default();
        let end = script[start..]
            .find("\",\n")
            .map_or(start, |at| start + at + 1);
        script[start..end].split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn the_messages_are_the_browser_scripts_english_texts() {
        for reason in ExpiryReason::EVERY {
            assert_eq!(reason.message(), script_text(reason), "{reason}");
        }
    }
}
