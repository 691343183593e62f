//! [`UserIdLogging`]: how log lines name a user.

use std::{fmt, sync::Arc};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// How this crate's log lines (expiries, adoptions; with the Redis store, revocations and
/// evictions) name the user. Hooks always get the id itself: they are the application's.
///
/// # Examples
/// ```
/// use session_expiry::{SessionExpiry, UserIdLogging};
///
/// // The same user gets the same pseudonym in every line, so lines can still be correlated,
/// // but the log alone does not say who it is.
/// let key = std::env::var("LOG_PSEUDONYM_KEY").unwrap_or_default();
/// let middleware = SessionExpiry::builder()
///     .log_user_ids(UserIdLogging::hashed(key))
///     .build();
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum UserIdLogging {
    /// The user id itself.
    #[default]
    Plain,
    /// A keyed hash of the user id (HMAC-SHA-256, the first 16 hex digits), made with
    /// [`UserIdLogging::hashed`].
    Hashed(HashKey),
    /// No user at all.
    Omitted,
}

/// The secret key of [`UserIdLogging::Hashed`]; never shown by `Debug`.
///
/// # Examples
/// ```
/// let logging = session_expiry::UserIdLogging::hashed("secret");
/// assert_eq!(format!("{logging:?}"), "Hashed(..)");
/// ```
#[derive(Clone)]
pub struct HashKey(Arc<[u8]>);

impl UserIdLogging {
    /// Names users by a keyed hash of their id. Keep `key` secret (and the same on every
    /// instance, so that their lines agree): whoever has it can test guesses of user ids.
    ///
    /// # Examples
    /// ```
    /// let logging = session_expiry::UserIdLogging::hashed(b"a long random secret");
    /// ```
    #[must_use]
    pub fn hashed(key: impl AsRef<[u8]>) -> Self {
        Self::Hashed(HashKey(Arc::from(key.as_ref())))
    }

    /// How a log line names `user`, `None` to leave it out.
    pub(crate) fn name(&self, user: &str) -> Option<String> {
        match self {
            Self::Plain => Some(user.to_owned()),
            Self::Hashed(HashKey(key)) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
                mac.update(user.as_bytes());
                let digest = mac.finalize().into_bytes();
                Some(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
            }
            Self::Omitted => None,
        }
    }
}

impl fmt::Debug for UserIdLogging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain => f.write_str("Plain"),
            Self::Hashed(_) => f.write_str("Hashed(..)"),
            Self::Omitted => f.write_str("Omitted"),
        }
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_id_is_stable_keyed_and_not_the_id() {
        let a = UserIdLogging::hashed("key one");
        let b = UserIdLogging::hashed("key two");
        let alice = a.name("alice").unwrap();
        assert_eq!(alice.len(), 16);
        assert!(!alice.contains("alice"));
        assert_eq!(a.name("alice"), Some(alice.clone()));
        assert_ne!(b.name("alice"), Some(alice));
        assert_ne!(a.name("bob"), a.name("alice"));
        assert_eq!(UserIdLogging::Plain.name("alice").as_deref(), Some("alice"));
        assert_eq!(UserIdLogging::Omitted.name("alice"), None);
    }
}
