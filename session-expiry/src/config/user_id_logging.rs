//! [`UserIdLogging`]: how log lines name a user.

use std::{fmt, sync::Arc};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// How this crate's log lines (expiries, adoptions; with the Redis store, revocations and
/// evictions) name the user. Hooks always get the id itself: they are the application's.
///
/// With the Redis store (given the middleware with `RedisStoreBuilder::for_middleware`), the key
/// of [`hashed`](Self::hashed) also keys the user tag in Redis key names and session keys.
///
/// # Examples
/// ```no_run
/// use session_expiry::{SessionExpiry, config::UserIdLogging};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // The same user gets the same pseudonym in every line, so lines can still be
///     // correlated, but the log alone does not say who it is. The key is a secret of at
///     // least 32 bytes (`openssl rand -base64 32` makes one): without it, or with a shorter
///     // one, the app does not start, rather than log pseudonyms that anyone can recompute
///     // from a list of e-mail addresses.
///     let key = std::env::var("LOG_PSEUDONYM_KEY")?;
///     let middleware = SessionExpiry::builder()
///         .log_user_ids(UserIdLogging::hashed(key)?)
///         .build();
///     // ... App::new().wrap(middleware) ...
///     # drop(middleware);
///     Ok(())
/// }
/// ```
#[derive(Clone, Default)]
pub struct UserIdLogging(Naming);

/// How [`UserIdLogging`] names a user (opaque, so that ways can be added).
#[derive(Clone, Default)]
enum Naming {
    /// The user id itself.
    #[default]
    Plain,
    /// A keyed hash of the user id (HMAC-SHA-256, the first 16 hex digits).
    Hashed(HashKey),
    /// No user at all.
    Omitted,
}

/// The secret key of [`UserIdLogging::hashed`], at least [`HashKey::MIN_LEN`] bytes; never
/// shown by `Debug`.
///
/// # Examples
/// ```
/// # fn main() -> Result<(), session_expiry::config::HashKeyTooShort> {
/// let logging = session_expiry::config::UserIdLogging::hashed("a secret of at least 32 bytes, not this one")?;
/// assert_eq!(format!("{logging:?}"), "Hashed(..)");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HashKey(Arc<[u8]>);

impl HashKey {
    /// HMAC-SHA-256 of `domain` then `input` under this key.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn mac(&self, domain: &[u8], input: &[u8]) -> [u8; 32] {
        // HMAC takes a key of any length: the error case cannot happen.
        Hmac::<Sha256>::new_from_slice(&self.0).map_or([0; 32], |mac| {
            mac.chain_update(domain)
                .chain_update(input)
                .finalize()
                .into_bytes()
                .into()
        })
    }

    /// The shortest key accepted, in bytes: 256 bits, as much as HMAC-SHA-256 makes use of.
    /// A shorter or guessable key lets whoever reads the log test guesses of user ids (e-mail
    /// addresses) against the pseudonyms.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(session_expiry::config::HashKey::MIN_LEN, 32);
    /// ```
    pub const MIN_LEN: usize = 32;

    /// `key`, if it is at least [`MIN_LEN`](Self::MIN_LEN) bytes long.
    ///
    /// # Errors
    /// [`HashKeyTooShort`] for a shorter key, the empty one included.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::config::HashKey;
    /// assert!(HashKey::new([7; 32]).is_ok());
    /// assert_eq!(HashKey::new("short").unwrap_err().key_len(), 5);
    /// ```
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, HashKeyTooShort> {
        let key = key.as_ref();
        if key.len() < Self::MIN_LEN {
            return Err(HashKeyTooShort { len: key.len() });
        }
        Ok(Self(Arc::from(key)))
    }
}

/// A key for [`UserIdLogging::hashed`] shorter than [`HashKey::MIN_LEN`] bytes (32).
///
/// # Examples
/// ```
/// let error = session_expiry::config::UserIdLogging::hashed("").unwrap_err();
/// assert_eq!(error.key_len(), 0);
/// assert!(error.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the key of UserIdLogging::hashed is {len} bytes long; it must be a secret of at least {} \
     bytes (`openssl rand -base64 32` makes one), the same on every instance",
    HashKey::MIN_LEN
)]
pub struct HashKeyTooShort {
    len: usize,
}

impl HashKeyTooShort {
    /// The length of the key refused, in bytes.
    ///
    /// # Examples
    /// ```
    /// let error = session_expiry::config::HashKey::new([0; 31]).unwrap_err();
    /// assert_eq!(error.key_len(), 31);
    /// ```
    #[must_use]
    pub fn key_len(&self) -> usize {
        self.len
    }
}

impl UserIdLogging {
    /// Names users by their id itself (the default).
    ///
    /// # Examples
    /// ```
    /// let logging = session_expiry::config::UserIdLogging::plain();
    /// assert_eq!(format!("{logging:?}"), "Plain");
    /// ```
    #[must_use]
    pub const fn plain() -> Self {
        Self(Naming::Plain)
    }

    /// Leaves users out of log lines.
    ///
    /// # Examples
    /// ```
    /// let logging = session_expiry::config::UserIdLogging::omitted();
    /// assert_eq!(format!("{logging:?}"), "Omitted");
    /// ```
    #[must_use]
    pub const fn omitted() -> Self {
        Self(Naming::Omitted)
    }

    /// Names users by a keyed hash of their id (HMAC-SHA-256, the first 16 hex digits). `key` is a secret of at least
    /// [`HashKey::MIN_LEN`] (32) random bytes; keep it secret (and the same on every
    /// instance, so that their lines agree): whoever has it can test guesses of user ids.
    ///
    /// A `Result`, as actix-web's `Key::try_from` for cookie keys: check it where the app
    /// starts (`?` in `main`), so that a missing or short key stops the start-up and never a
    /// request.
    ///
    /// # Errors
    /// [`HashKeyTooShort`] for a key shorter than 32 bytes, the empty one included.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::config::UserIdLogging;
    /// # fn main() -> Result<(), session_expiry::config::HashKeyTooShort> {
    /// let logging = UserIdLogging::hashed(b"a long random secret, 32 bytes or more")?;
    /// assert!(UserIdLogging::hashed(b"too short").is_err());
    /// # Ok(()) }
    /// ```
    pub fn hashed(key: impl AsRef<[u8]>) -> Result<Self, HashKeyTooShort> {
        HashKey::new(key).map(|key| Self(Naming::Hashed(key)))
    }

    /// How a log line names `user`, `None` to leave it out.
    /// The secret key, if any: with the Redis store it also keys the user tag in Redis key
    /// names and session keys.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn key(&self) -> Option<&HashKey> {
        match &self.0 {
            Naming::Hashed(key) => Some(key),
            Naming::Plain | Naming::Omitted => None,
        }
    }

    pub(crate) fn name(&self, user: &str) -> Option<String> {
        match &self.0 {
            Naming::Plain => Some(user.to_owned()),
            Naming::Hashed(HashKey(key)) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
                mac.update(user.as_bytes());
                let digest = mac.finalize().into_bytes();
                Some(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
            }
            Naming::Omitted => None,
        }
    }
}

impl fmt::Debug for UserIdLogging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Naming::Plain => f.write_str("Plain"),
            Naming::Hashed(_) => f.write_str("Hashed(..)"),
            Naming::Omitted => f.write_str("Omitted"),
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
        let a = UserIdLogging::hashed("key one, thirty-two bytes or more").unwrap();
        let b = UserIdLogging::hashed("key two, thirty-two bytes or more").unwrap();
        let alice = a.name("alice").unwrap();
        assert_eq!(alice.len(), 16);
        assert!(!alice.contains("alice"));
        assert_eq!(a.name("alice"), Some(alice.clone()));
        assert_ne!(b.name("alice"), Some(alice));
        assert_ne!(a.name("bob"), a.name("alice"));
        assert_eq!(
            UserIdLogging::plain().name("alice").as_deref(),
            Some("alice")
        );
        assert_eq!(UserIdLogging::omitted().name("alice"), None);
    }

    #[test]
    fn a_key_shorter_than_32_bytes_is_refused_with_its_length() {
        for len in [0, 1, 16, 31] {
            let error = UserIdLogging::hashed(vec![b'k'; len]).unwrap_err();
            assert_eq!(error.key_len(), len);
            assert!(error.to_string().contains("at least 32 bytes"), "{error}");
        }
        for len in [32, 64] {
            assert!(UserIdLogging::hashed(vec![b'k'; len]).is_ok());
        }
    }
}
