//! [`SessionId`]: how the registry names a session without revealing its key.

use std::{fmt, str::FromStr};

/// The opaque id of one session in a user's [registry](super::SessionRegistry).
///
/// It is a hash of the session key (the secret the cookie carries), so it can be shown to the
/// user, put in URLs and logged, and still gives nobody the session. The id of the request's
/// own session is extracted with `Option<SessionId>` in a handler (it is `None` for a request
/// without a stored session, and on the request that signs in, before the session is saved).
///
/// # Examples
/// ```
/// use session_expiry::registry::SessionId;
///
/// let id: SessionId = "0123456789abcdef0123456789abcdef".parse()?;
/// assert_eq!(id.as_str(), "0123456789abcdef0123456789abcdef");
/// assert!("not-an-id".parse::<SessionId>().is_err());
/// # Ok::<(), session_expiry::registry::InvalidSessionId>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

/// Bytes of hash an id keeps: 128 bits, twice as hex.
pub(crate) const ID_BYTES: usize = 16;

impl SessionId {
    /// The id as text: 32 lowercase hexadecimal digits.
    ///
    /// # Examples
    /// ```
    /// # use session_expiry::registry::SessionId;
    /// let id: SessionId = "ffffffffffffffffffffffffffffffff".parse().unwrap();
    /// assert_eq!(id.as_str().len(), 32);
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of a session whose key hashes to `digest` (its first [`ID_BYTES`], in lowercase
    /// hexadecimal).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn of_digest(digest: &[u8]) -> Self {
        use std::fmt::Write as _;
        let mut hex = String::with_capacity(ID_BYTES * 2);
        for byte in digest.iter().take(ID_BYTES) {
            let _infallible = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// The id's bytes, for a store that keeps them as such; `None` for none (never, for an id
    /// this crate made or parsed).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn bytes(&self) -> Option<[u8; ID_BYTES]> {
        let mut bytes = [0; ID_BYTES];
        for (byte, pair) in bytes.iter_mut().zip(self.0.as_bytes().chunks_exact(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(bytes)
    }

    /// Wraps text this crate produced (a hash it just computed or read back from its index).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn from_trusted(hex: String) -> Self {
        Self(hex)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The error of parsing text that is not a [`SessionId`].
///
/// # Examples
/// ```
/// use session_expiry::registry::SessionId;
/// let error = "xyz".parse::<SessionId>().unwrap_err();
/// assert_eq!(error.to_string(), "a session id is 32 lowercase hexadecimal digits");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a session id is 32 lowercase hexadecimal digits")]
pub struct InvalidSessionId;

impl FromStr for SessionId {
    type Err = InvalidSessionId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        is_lower_hex(s, ID_BYTES * 2)
            .then(|| Self(s.to_owned()))
            .ok_or(InvalidSessionId)
    }
}

/// Whether `text` is `len` lowercase hexadecimal digits.
fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl actix_web::FromRequest for SessionId {
    type Error = crate::ExpiryError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use crate::store::{reserved::ID_KEY, session_api::SessionExt as _};
        let id = req
            .get_session()
            .get::<String>(ID_KEY)
            .ok()
            .flatten()
            .and_then(|raw| raw.parse().ok());
        std::future::ready(id.ok_or(crate::ExpiryError::NotSignedIn))
    }
}
