//! [`StampHash`]: what a session keeps of its user's security stamp: a short keyed hash, never
//! the stamp itself (a stamp may be a password hash, and with signed cookies the state is
//! readable by the client).

use std::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Bytes of the HMAC kept: 96 bits tell a changed stamp from the old one with certainty for any
/// practical purpose, and keep the cookie short.
const LEN: usize = 12;

/// A keyed hash of a security stamp.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct StampHash([u8; LEN]);

impl StampHash {
    /// The hash of `stamp` under `key` (every instance of an app must share the key).
    pub(crate) fn of(key: &[u8], stamp: &[u8]) -> Self {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            // HMAC takes keys of any length: this cannot happen.
            return Self([0; LEN]);
        };
        mac.update(b"session-expiry security stamp\0");
        mac.update(stamp);
        let digest = mac.finalize().into_bytes();
        let mut out = [0; LEN];
        out.copy_from_slice(&digest[..LEN]);
        Self(out)
    }

    /// As stored: lowercase hex.
    pub(crate) fn push_hex(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for byte in self.0 {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
    }

    /// Reads the stored form; `None` unless it is exactly the hex this crate writes.
    pub(crate) fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 2 * LEN {
            return None;
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0; LEN];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Self(out))
    }

    /// The length of the stored form.
    pub(crate) const HEX_LEN: usize = 2 * LEN;
}

impl fmt::Debug for StampHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Short, and no help to anyone reading logs.
        f.write_str("StampHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_survives_its_stored_form_and_depends_on_key_and_stamp() {
        let hash = StampHash::of(b"key", b"stamp-1");
        let mut text = String::new();
        hash.push_hex(&mut text);
        assert_eq!(text.len(), StampHash::HEX_LEN);
        assert_eq!(StampHash::from_hex(&text), Some(hash));
        assert_ne!(StampHash::of(b"key", b"stamp-2"), hash);
        assert_ne!(StampHash::of(b"other key", b"stamp-1"), hash);
        for bad in [
            "",
            "zz",
            &text.to_uppercase(),
            &text[1..],
            &format!("{text}0"),
        ] {
            assert_eq!(StampHash::from_hex(bad), None, "{bad}");
        }
    }
}
