//! [`StampHash`]: what a session keeps of its user's security stamp: a short keyed hash, never
//! the stamp itself (a stamp may be a password hash, and with signed cookies the state is
//! readable by the client).

use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// A keyed hash of a security stamp: the first 64 bits of an HMAC-SHA-256. That tells a changed
/// stamp from the old one with certainty for any practical purpose (the cookie's own integrity
/// protection keeps it from being forged), and costs the cookie at most 14 bytes, which every
/// request carries and the cookie store encrypts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct StampHash(u64);

impl StampHash {
    /// The hash of `stamp` under `key` (every instance of an app must share the key).
    pub(crate) fn of(key: &[u8], stamp: &[u8]) -> Self {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            // HMAC takes keys of any length: this cannot happen.
            return Self(0);
        };
        mac.update(b"session-expiry security stamp\0");
        mac.update(stamp);
        let digest = mac.finalize().into_bytes();
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        Self(u64::from_be_bytes(first))
    }

    /// The stored number.
    pub(crate) const fn bits(self) -> u64 {
        self.0
    }

    /// From the stored number.
    pub(crate) const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }
}

impl fmt::Debug for StampHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No help to anyone reading logs.
        f.write_str("StampHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_depends_on_key_and_stamp() {
        let hash = StampHash::of(b"key", b"stamp-1");
        assert_eq!(StampHash::from_bits(hash.bits()), hash);
        assert_eq!(StampHash::of(b"key", b"stamp-1"), hash);
        assert_ne!(StampHash::of(b"key", b"stamp-2"), hash);
        assert_ne!(StampHash::of(b"other key", b"stamp-1"), hash);
    }
}
