//! Session keys (the cookie's value), the session ids derived from them, and the Redis key names
//! both lead to.
//!
//! - An anonymous session's key is `<random>`; a signed-in one's is `<tag>.<random>`, `tag`
//!   being a hash of the user id (never the id in clear). Log-in renews the session key, so a
//!   signed-in session is born under its user's tag and never has to move. Both parts are
//!   base64url (43 and 22 characters): the key rides, encrypted, in every request's cookie, and
//!   each character of it costs there. Keys of earlier releases, in hexadecimal, are still read.
//! - A session's [`SessionId`] is a hash of its key: shown in the registry, never reversible.
//! - Redis keys are named by id, never by session key, so whoever can list Redis keys still holds
//!   no session: `<prefix>a:<id>` (anonymous), `<prefix>{<tag>}:s:<id>` (signed in) and the
//!   user's index `<prefix>{<tag>}:i`, `:a`, `:d` and `:g` (see [`scripts`](super::scripts)).
//!   The braces are a Redis Cluster hash tag: all of one user's keys share a slot, so every
//!   script touches one slot only.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use sha2::{Digest as _, Sha256};

use super::id::{SessionId, ID_BYTES};
use crate::config::HashKey;

/// Random bytes in a session key: 256 bits.
const RANDOM_BYTES: usize = 32;
/// Bytes of hash a user tag keeps: 128 bits.
const TAG_BYTES: usize = 16;

/// What a user tag hashes before the user id (domain separation from other hashes).
const USER_DOMAIN: &[u8] = b"session-expiry/user\0";

/// The hash of a user id that names the user's slot and index (in hexadecimal there, in
/// base64url in session keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserTag {
    bytes: [u8; TAG_BYTES],
}

impl UserTag {
    /// The unkeyed tag (SHA-256): it groups a user's keys and keeps the id out of sight, not
    /// out of reach of a guess.
    pub(crate) fn of(user: &str) -> Self {
        Self::from_digest(&hash(USER_DOMAIN, user.as_bytes()))
    }

    /// The tag keyed by `key` (HMAC-SHA-256): without the key, a list of e-mail addresses
    /// cannot be tested against key names or session keys.
    pub(crate) fn keyed(key: &HashKey, user: &str) -> Self {
        Self::from_digest(&key.mac(USER_DOMAIN, user.as_bytes()))
    }

    fn from_digest(digest: &[u8; 32]) -> Self {
        let mut bytes = [0; TAG_BYTES];
        bytes.copy_from_slice(&digest[..TAG_BYTES]);
        Self { bytes }
    }

    /// The tag as a session key writes it: base64url, or hexadecimal in earlier releases.
    fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0; TAG_BYTES];
        if is_hex(text, TAG_BYTES * 2) {
            for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
                *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
            }
            return Some(Self { bytes });
        }
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(TAG_BYTES) if text.len() == base64_len(TAG_BYTES) => Some(Self { bytes }),
            _ => None,
        }
    }

    /// The tag in base64url, for a session key.
    fn short(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.bytes)
    }
}

/// The bytes of base64url's alphabet, looked up once a character: a session key's 43 random
/// characters are checked on every request.
const BASE64URL: [bool; 256] = {
    let mut alphabet = [false; 256];
    let mut byte = 0;
    while byte < alphabet.len() {
        let b = byte as u8; // `byte` < 256
        alphabet[byte] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        byte += 1;
    }
    alphabet
};

/// Characters of `bytes` bytes in unpadded base64.
const fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// What a session key says about where its session lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedKey {
    /// The user's tag for a signed-in session.
    pub(crate) tag: Option<UserTag>,
    pub(crate) id: SessionId,
}

/// A fresh, unguessable session key, under `tag` for a signed-in session.
pub(crate) fn new_session_key(tag: Option<&UserTag>) -> String {
    let random = URL_SAFE_NO_PAD.encode(rand::random::<[u8; RANDOM_BYTES]>());
    match tag {
        Some(tag) => format!("{}.{random}", tag.short()),
        None => random,
    }
}

/// Reads a session key this store made; `None` for anything else.
pub(crate) fn parse_session_key(key: &str) -> Option<ParsedKey> {
    let (tag, random) = match key.split_once('.') {
        Some((tag, random)) => (Some(UserTag::parse(tag)?), random),
        None => (None, key),
    };
    let random_is_base64 = random.len() == base64_len(RANDOM_BYTES)
        && random.bytes().all(|b| BASE64URL[usize::from(b)]);
    (random_is_base64 || is_hex(random, RANDOM_BYTES * 2)).then(|| ParsedKey {
        tag,
        id: id_of(key),
    })
}

/// The id of the session whose key is `key`.
pub(crate) fn id_of(key: &str) -> SessionId {
    SessionId::from_trusted(hex(
        &hash(b"session-expiry/id\0", key.as_bytes())[..ID_BYTES]
    ))
}

/// The Redis key names under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct KeySpace {
    prefix: String,
    /// Keys the user tags when the middleware hashes user ids in its log lines.
    tag_key: Option<HashKey>,
}

impl KeySpace {
    pub(crate) fn new(prefix: String, tag_key: Option<HashKey>) -> Self {
        Self { prefix, tag_key }
    }

    /// The prefix of every key name.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The tag of `user`'s keys: keyed when a key is configured.
    pub(crate) fn tag_of(&self, user: &str) -> UserTag {
        match &self.tag_key {
            Some(key) => UserTag::keyed(key, user),
            None => UserTag::of(user),
        }
    }

    /// The instant before which every session ends (a sorted set of one member, so that
    /// `ZADD GT` moves it only forward).
    pub(crate) fn valid_from(&self) -> String {
        format!("{}valid-from", self.prefix)
    }

    /// Where a session's data lives.
    pub(crate) fn data(&self, tag: Option<&UserTag>, id: &SessionId) -> String {
        let mut key = match tag {
            Some(tag) => self.sessions_of_with_room(tag, 2 * ID_BYTES),
            None => {
                let mut key = String::with_capacity(self.prefix.len() + 2 + 2 * ID_BYTES);
                key.push_str(&self.prefix);
                key.push_str("a:");
                key
            }
        };
        key.push_str(id.as_str());
        key
    }

    /// The start of every data key of a signed-in user (scripts append an id).
    pub(crate) fn sessions_of(&self, tag: &UserTag) -> String {
        self.sessions_of_with_room(tag, 0)
    }

    fn sessions_of_with_room(&self, tag: &UserTag, room: usize) -> String {
        let mut key = self.user_part(tag, 2 + room);
        key.push_str("s:");
        key
    }

    /// The user's log-in records, the first key of the user's index.
    pub(crate) fn index(&self, tag: &UserTag) -> String {
        self.user_key(tag, 'i')
    }

    /// The user's index: log-in records and the three sorted sets (see
    /// [`scripts`](super::scripts)).
    pub(crate) fn user(&self, tag: &UserTag) -> UserKeys {
        UserKeys {
            info: self.index(tag),
            activity: self.user_key(tag, 'a'),
            expiries: self.user_key(tag, 'd'),
            ended: self.user_key(tag, 'g'),
        }
    }

    fn user_key(&self, tag: &UserTag, kind: char) -> String {
        let mut key = self.user_part(tag, 1);
        key.push(kind);
        key
    }

    /// `<prefix>{<tag in hexadecimal>}:`, with `room` for what follows: one allocation of the
    /// right size, as a data key is named on every request.
    fn user_part(&self, tag: &UserTag, room: usize) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 2 * TAG_BYTES + 3 + room);
        key.push_str(&self.prefix);
        key.push('{');
        push_hex(&tag.bytes, &mut key);
        key.push_str("}:");
        key
    }
}

/// The keys of one user's index, in the order scripts take them in `KEYS`.
#[derive(Debug, Clone)]
pub(crate) struct UserKeys {
    /// `:i`, id → log-in record.
    pub(crate) info: String,
    /// `:a`, live sessions by last activity.
    pub(crate) activity: String,
    /// `:d`, live sessions by the instant their data expires.
    pub(crate) expiries: String,
    /// `:g`, ended sessions by the instant to forget their log-in record.
    pub(crate) ended: String,
}

fn hash(domain: &[u8], input: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(domain)
        .chain_update(input)
        .finalize()
        .into()
}

/// Lowercase hexadecimal, in one allocation of the right size (this runs on every request).
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut out);
    out
}

/// Appends `bytes` to `out` in lowercase hexadecimal.
fn push_hex(bytes: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Through a buffer of bytes: a `String` checks and encodes each `char` pushed.
    for chunk in bytes.chunks(32) {
        let mut digits = [0; 64];
        for (pair, byte) in digits.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0xf)];
        }
        let digits = digits.get(..2 * chunk.len()).unwrap_or_default();
        out.push_str(std::str::from_utf8(digits).expect("hexadecimal digits are ASCII"));
    }
}

/// Whether `text` is `len` lowercase hexadecimal digits.
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_follow_the_layout_in_one_allocation_each() {
        let keys = KeySpace::new("se:".to_owned(), None);
        let tag = UserTag::of("alice");
        let id = id_of(&new_session_key(Some(&tag)));
        let user = format!("se:{{{}}}:", hex(&tag.bytes));
        let data = keys.data(Some(&tag), &id);
        assert_eq!(data, format!("{user}s:{}", id.as_str()));
        assert_eq!(data.capacity(), data.len(), "sized up front");
        assert_eq!(keys.sessions_of(&tag), format!("{user}s:"));
        assert_eq!(keys.data(None, &id), format!("se:a:{}", id.as_str()));
        let index = keys.user(&tag);
        assert_eq!(
            [index.info, index.activity, index.expiries, index.ended],
            ["i", "a", "d", "g"].map(|kind| format!("{user}{kind}"))
        );
    }

    #[test]
    fn a_signed_in_key_carries_its_users_tag_and_never_the_user() {
        let tag = UserTag::of("alice@example.com");
        let key = new_session_key(Some(&tag));
        assert!(!key.contains("alice"), "{key}");
        let parsed = parse_session_key(&key).unwrap();
        assert_eq!(parsed.tag, Some(tag.clone()));
        assert_eq!(parsed.id, id_of(&key));
        assert_eq!(UserTag::of("alice@example.com"), tag, "stable across calls");
        assert_ne!(UserTag::of("bob@example.com"), tag);
    }

    #[test]
    fn a_configured_key_keys_the_tag() {
        let key = HashKey::new([7; 32]).unwrap();
        let other = HashKey::new([8; 32]).unwrap();
        let keyed = KeySpace::new("se:".into(), Some(key.clone())).tag_of("alice");
        assert_eq!(keyed, UserTag::keyed(&key, "alice"), "stable across calls");
        assert_ne!(keyed, UserTag::of("alice"), "not the unkeyed tag");
        assert_ne!(keyed, UserTag::keyed(&other, "alice"), "depends on the key");
        assert_ne!(keyed, UserTag::keyed(&key, "bob"));
        assert_eq!(
            KeySpace::new("se:".into(), None).tag_of("alice"),
            UserTag::of("alice")
        );
    }

    #[test]
    fn an_anonymous_key_has_no_tag_and_keys_never_repeat() {
        let key = new_session_key(None);
        assert_eq!(parse_session_key(&key).unwrap().tag, None);
        assert_ne!(new_session_key(None), key);
    }

    #[test]
    fn an_id_reveals_nothing_of_its_key() {
        let key = new_session_key(None);
        let id = id_of(&key);
        assert_eq!(id.as_str().len(), 32);
        assert!(!key.contains(id.as_str()) && !id.as_str().contains(&key[..8]));
        assert_eq!(id.as_str().parse::<SessionId>(), Ok(id.clone()));
        assert!("0123456789ABCDEF0123456789ABCDEF"
            .parse::<SessionId>()
            .is_err());
        assert!(id.as_str()[1..].parse::<SessionId>().is_err());
    }

    #[test]
    fn keys_are_short_and_those_of_earlier_releases_still_read() {
        let tag = UserTag::of("alice");
        let key = new_session_key(Some(&tag));
        assert_eq!(key.len(), 22 + 1 + 43, "{key}");
        // Earlier releases wrote both parts in hexadecimal: same user, same tag.
        let old = format!("{}.{}", hex(&tag.bytes), hex(&[7; RANDOM_BYTES]));
        let parsed = parse_session_key(&old).unwrap();
        assert_eq!(parsed.tag, Some(tag));
        assert_eq!(parsed.id, id_of(&old));
        assert!(parse_session_key(&hex(&[7; RANDOM_BYTES])).is_some());
    }

    #[test]
    fn foreign_keys_are_refused() {
        let good = new_session_key(Some(&UserTag::of("a")));
        for bad in [
            "",
            "abc",
            &good[..good.len() - 1],
            &good.replace(|c: char| c.is_ascii_digit(), "+"),
            &format!("{good}="),
            &format!("x{good}"),
            &format!("{good}.00"),
            &format!(".{}", new_session_key(None)),
        ] {
            assert_eq!(parse_session_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn all_keys_of_a_user_share_one_hash_tag() {
        let space = KeySpace::new("app:".into(), None);
        let tag = UserTag::of("alice");
        let id = id_of(&new_session_key(Some(&tag)));
        let data = space.data(Some(&tag), &id);
        let index = space.user(&tag);
        let hash_tag = |key: &str| key[key.find('{').unwrap()..=key.find('}').unwrap()].to_owned();
        for key in [&index.info, &index.activity, &index.expiries, &index.ended] {
            assert_eq!(hash_tag(&data), hash_tag(key), "{key}");
        }
        assert_eq!(index.info, space.index(&tag));
        assert!(data.starts_with(&space.sessions_of(&tag)) && data.starts_with("app:{"));
        assert_eq!(space.data(None, &id), format!("app:a:{id}"));
    }
}
