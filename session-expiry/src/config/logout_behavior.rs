//! [`LogoutBehavior`]: what a log-out or an expiry does to the rest of the session.

use std::sync::Arc;

/// What [`Expiry::logout`](crate::Expiry::logout) (and an expiry) does to the rest of the
/// session.
///
/// Whatever it keeps, a session this crate ended is never adopted again (see
/// [`Adoption`](crate::config::Adoption)), and a log-in of another user than the one who left the data drops it all;
/// the same user signing in again gets it back. Keeping data across an expiry means a shared
/// browser shows it to whoever uses it next while nobody is signed in: name only keys that
/// are safe to show (a language choice, a cart without an address).
///
/// # Examples
/// Keep the cart and the language choice across a log-out:
/// ```
/// use session_expiry::{config::LogoutBehavior, SessionExpiry};
/// let middleware = SessionExpiry::builder()
///     .logout_behavior(LogoutBehavior::keep(["cart", "lang"]))
///     .build();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogoutBehavior {
    /// Destroy the whole session, here and in the store, and remove its cookie.
    #[default]
    PurgeSession,
    /// Keep only the named entries, under a new session ID; build it with
    /// [`LogoutBehavior::keep`].
    Keep(KeptKeys),
}

impl LogoutBehavior {
    /// Keeps only the session entries named `keys` across a log-out or an expiry (a session
    /// with none of them is purged as a whole).
    ///
    /// # Examples
    /// ```
    /// let keep = session_expiry::config::LogoutBehavior::keep(["cart"]);
    /// ```
    #[must_use]
    pub fn keep<K: Into<String>>(keys: impl IntoIterator<Item = K>) -> Self {
        Self::Keep(KeptKeys(
            keys.into_iter()
                .map(|key| key.into().into_boxed_str())
                .collect(),
        ))
    }
}

/// The session entries a [`LogoutBehavior::Keep`] keeps.
///
/// # Examples
/// ```
/// use session_expiry::config::LogoutBehavior;
/// let LogoutBehavior::Keep(keys) = LogoutBehavior::keep(["cart", "lang"]) else { unreachable!() };
/// assert!(keys.contains("cart") && !keys.contains("address"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptKeys(Arc<[Box<str>]>);

impl KeptKeys {
    /// Whether the entry `key` is kept.
    ///
    /// # Examples
    /// See [`KeptKeys`].
    #[must_use]
    pub fn contains(&self, key: &str) -> bool {
        self.0.iter().any(|kept| &**kept == key)
    }
}
