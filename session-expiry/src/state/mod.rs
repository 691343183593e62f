//! What the middleware stores in the session: one key holding a small versioned record.
//!
//! See [`STATE_KEY`] for the layout.
//!
//! One short string rather than a JSON object: with the cookie store this value travels inside
//! actix-session's own JSON map in an encrypted cookie on every request, and a string that needs
//! no escaping there costs two quotes instead of an escape per quote, and decodes with a split
//! instead of a JSON parser. Version 1, a JSON array
//! (`[1,"alice",login_ms,seen_ms,deadline_ms,[idle_ms,absolute_ms]]`), is still read.
//!
//! Decoding is strict and fails closed: anything unexpected is [`InvalidState`], which ends the
//! session.

use std::time::Duration;

pub(crate) mod codec;
mod legacy;

use crate::{stamp::StampHash, unix_ms::UnixMs, Policy};

/// The session key under which the middleware keeps its state, unless
/// [`state_key`](crate::config::SessionExpiryBuilder::state_key) names another.
///
/// Applications should not write it: use [`Expiry`](crate::Expiry). It is public so tests can
/// check what is stored, or plant damaged state and watch it be refused.
///
/// # What is stored
/// One short string, which needs no escaping inside actix-session's JSON map:
/// ```text
/// 2.alice.m5d4ruo0.1aao.13v6o.12kw0.h5a80.0.r.2s
/// │ │     │        │    │     │     │     │ │ └ session limit (a store hint): 100; `-` none
/// │ │     │        │    │     │     │     │ └ flags: `r` remembered, `x` refuse beyond the limit
/// │ │     │        │    │     │     │     └ last (re-)authentication, ms after log-in (`-` none yet: adopted)
/// │ │     │        │    │     │     └ the user's absolute timeout, ms (`-` none; empty: global)
/// │ │     │        │    │     └ the user's idle timeout, ms (`-` none; empty: global)
/// │ │     │        │    └ deadline (a store hint), ms after log-in; `-` none
/// │ │     │        └ last seen, ms after log-in
/// │ │     └ log-in instant, Unix ms (2025-01-01T00:00:00Z)
/// │ └ user id, with `.`, `%`, `"`, `\` and control characters percent-encoded
/// └ format version
/// ```
///
/// With a [security stamp](crate::config::SessionExpiryBuilder::security_stamp), one more field
/// follows: the stamp's 64-bit keyed hash, in base 36.
///
/// Numbers are base 36. The per-user policy snapshot is taken at log-in (both timeouts empty
/// when the global policy applies). The deadline and the session limit are hints for
/// server-side stores (a key's TTL, how many sessions the user may keep); the middleware never
/// decides by them.
///
/// The version-1 JSON array of earlier releases
/// (`[1,"alice",login_ms,seen_ms,deadline_ms,[idle_ms,absolute_ms]]`) is still read.
///
/// Short, as it rides in every cookie of the cookie store. Earlier releases used
/// `session-expiry`: a session found under that key is read and moved.
///
/// # Examples
/// ```
/// assert_eq!(session_expiry::STATE_KEY, "_se");
/// ```
pub const STATE_KEY: &str = "_se";

/// The default state key of earlier releases.
pub(crate) const LEGACY_STATE_KEY: &str = "session-expiry";

/// The longest user id a session holds, in bytes (UTF-8): a log-in with a longer one is refused
/// ([`ExpiryError::UserIdTooLong`](crate::ExpiryError::UserIdTooLong)), and stored state with one is invalid.
pub(crate) const MAX_USER_ID_BYTES: usize = 1024;

/// How many sessions the user may keep, as a hint for stores with a session registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionCap {
    pub(crate) max: u32,
    /// Refuse a log-in beyond `max` instead of evicting the least recently active session.
    pub(crate) refuse: bool,
}

/// The decoded, validated state of a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpiryState {
    pub(crate) user: String,
    pub(crate) login: UnixMs,
    pub(crate) seen: UnixMs,
    /// The last time the user proved who they are: the log-in, or a later re-authentication;
    /// `None` for an adopted session that has not proved it yet (stored as `-`).
    pub(crate) authenticated: Option<UnixMs>,
    /// The user's own policy, fixed at log-in; `None` means the global default.
    pub(crate) policy: Option<Policy>,
    /// Signed in with "keep me signed in".
    pub(crate) remembered: bool,
    /// The session limit at log-in; `None` for none (or a state written before it was kept).
    pub(crate) cap: Option<SessionCap>,
    /// The keyed hash of the user's security stamp taken at log-in (see
    /// [`security_stamp`](crate::config::SessionExpiryBuilder::security_stamp)); `None` without
    /// one.
    pub(crate) stamp: Option<StampHash>,
}

/// Why stored state was rejected. Only logged (at debug level): the user sees reason `invalid`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidState {
    #[error("state is not a well-formed record")]
    Malformed,
    #[error("state is not a well-formed version-1 record: {0}")]
    MalformedLegacy(#[from] serde_json::Error),
    #[error("state has an unknown format version")]
    UnknownVersion,
    #[error("state has an empty user id")]
    EmptyUser,
    #[error("state holds an instant out of range")]
    OutOfRange,
    #[error("state holds an instant in the future beyond the allowed clock skew")]
    FromTheFuture,
    #[error("state says the user was last seen before logging in")]
    SeenBeforeLogin,
    #[error("state holds a field longer than any this crate writes")]
    Oversize,
}

/// A per-user policy snapshot as the stores keep it: `[idle_ms, absolute_ms]`, `None` for no
/// limit.
pub(crate) type PolicyMillis = (Option<u64>, Option<u64>);

/// The policy a stored snapshot describes: a complete one, each timeout set or dropped.
pub(crate) fn policy_from_millis((idle, absolute): PolicyMillis) -> Policy {
    let policy = match idle {
        Some(ms) => Policy::new().with_idle(Duration::from_millis(ms)),
        None => Policy::new().without_idle(),
    };
    match absolute {
        Some(ms) => policy.with_absolute(Duration::from_millis(ms)),
        None => policy.without_absolute(),
    }
}

/// The snapshot of `policy` as stored.
pub(crate) fn policy_millis(policy: &Policy) -> PolicyMillis {
    (
        policy.idle().map(saturating_millis),
        policy.absolute().map(saturating_millis),
    )
}

impl ExpiryState {
    /// A fresh state for a log-in at `now` under the global policy, `authenticated` then or
    /// not at all (adopted).
    pub(crate) fn new(user: String, now: UnixMs, authenticated: Option<UnixMs>) -> Self {
        Self {
            user,
            login: now,
            seen: now,
            authenticated,
            policy: None,
            remembered: false,
            cap: None,
            stamp: None,
        }
    }

    /// Decodes and validates stored state (the JSON text actix-session keeps under the state
    /// key), as read at `now` with `skew` of tolerated clock drift between app instances.
    pub(crate) fn decode(raw: &str, now: UnixMs, skew: Duration) -> Result<Self, InvalidState> {
        let state = Record::parse(raw)?.state;
        if state.user.is_empty() {
            return Err(InvalidState::EmptyUser);
        }
        let latest_credible = now.plus(skew);
        if state.seen > latest_credible
            || state.authenticated.is_some_and(|at| at > latest_credible)
        {
            return Err(InvalidState::FromTheFuture);
        }
        Ok(state)
    }
}

/// A record as stored: the state, and the hints for stores.
pub(crate) struct Record {
    pub(crate) state: ExpiryState,
    pub(crate) deadline: Option<UnixMs>,
}

pub(crate) fn instant(ms: u64) -> Result<UnixMs, InvalidState> {
    UnixMs::new(ms).ok_or(InvalidState::OutOfRange)
}

fn saturating_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{
        codec::{base36, Fields, MAX_RECORD_BYTES, U32_DIGITS, U64_DIGITS},
        legacy::MAX_LEGACY_RECORD_BYTES,
        *,
    };
    use crate::store::peek::{login_millis, peek};

    const SKEW: Duration = Duration::from_secs(30);

    fn at(ms: u64) -> UnixMs {
        UnixMs::new(ms).unwrap()
    }

    fn decode(raw: &str) -> Result<ExpiryState, InvalidState> {
        ExpiryState::decode(raw, at(2_000_000), SKEW)
    }

    /// What actix-session keeps: the record as a JSON string.
    fn stored(state: &ExpiryState, policy: &Policy) -> String {
        serde_json::to_string(&state.encode(policy)).unwrap()
    }

    fn alice() -> ExpiryState {
        ExpiryState {
            user: "alice".into(),
            login: at(1_000_000),
            seen: at(1_500_000),
            authenticated: Some(at(1_200_000)),
            policy: Some(
                Policy::new()
                    .with_idle(Duration::from_secs(600))
                    .without_absolute(),
            ),
            remembered: true,
            cap: Some(SessionCap {
                max: 100,
                refuse: false,
            }),
            stamp: None,
        }
    }

    #[test]
    fn a_state_survives_encoding_and_decoding() {
        let state = alice();
        let policy = state.policy.unwrap();
        let raw = stored(&state, &policy);
        assert_eq!(raw, r#""2.alice.lfls.apsw.nkrk.cuyo.-.4abk.r.2s""#);
        assert_eq!(decode(&raw).unwrap(), state);
        let peeked = peek(&raw).unwrap();
        assert_eq!(login_millis(&raw), Some(1_000_000));
        assert_eq!(
            (peeked.user.as_str(), peeked.login, peeked.seen),
            ("alice", at(1_000_000), at(1_500_000))
        );
        assert_eq!(peeked.deadline, Some(at(2_100_000)));
        assert_eq!(peeked.policy, Some((Some(600_000), None)));
        assert_eq!(peeked.cap, state.cap);
    }

    #[test]
    fn a_state_without_user_policy_or_limits_stores_dashes_and_blanks() {
        let state = ExpiryState::new("bob".into(), at(1_000), Some(at(1_000)));
        let raw = stored(&state, &Policy::new());
        assert_eq!(raw, r#""2.bob.rs.0.-...0..-""#);
        assert_eq!(decode(&raw).unwrap(), state);
        // Adopted, not authenticated yet: a dash.
        let adopted = ExpiryState::new("bob".into(), at(1_000), None);
        let raw = stored(&adopted, &Policy::new());
        assert_eq!(raw, r#""2.bob.rs.0.-...-..-""#);
        assert_eq!(decode(&raw).unwrap(), adopted);
        let refusing = ExpiryState {
            cap: Some(SessionCap {
                max: 3,
                refuse: true,
            }),
            ..state
        };
        assert_eq!(
            decode(&stored(&refusing, &Policy::new())).unwrap(),
            refusing
        );
    }

    #[test]
    fn any_user_id_survives_and_needs_no_json_escape() {
        for user in [
            "a.b",
            "100%",
            "quote\"back\\slash",
            "tab\there",
            "ünï.cödé ✓",
            "%41",
        ] {
            let state = ExpiryState::new(user.into(), at(1_000), Some(at(1_000)));
            let encoded = state.encode(&Policy::new());
            assert!(!encoded.contains(['"', '\\']) && !encoded.chars().any(char::is_control));
            let raw = serde_json::to_string(&encoded).unwrap();
            assert_eq!(raw.len(), encoded.len() + 2, "only the quotes: {raw}");
            assert_eq!(decode(&raw).unwrap().user, user);
        }
    }

    #[test]
    fn a_version_1_state_is_still_read_and_counts_its_log_in_as_authentication() {
        let raw = r#"[1,"alice",1000000,1500000,2100000,[600000,null]]"#;
        let state = decode(raw).unwrap();
        assert_eq!(login_millis(raw), Some(1_000_000));
        assert_eq!(state.authenticated, Some(state.login));
        assert_eq!(state.policy, alice().policy);
        assert_eq!(peek(raw).unwrap().deadline, Some(at(2_100_000)));
        assert!(decode(r#"[1,"bob",1000,1000,null,null]"#)
            .unwrap()
            .policy
            .is_none());
    }

    #[test]
    fn every_kind_of_bad_state_is_invalid() {
        let cases = [
            ("", "empty"),
            ("null", "null"),
            ("\"\"", "empty string"),
            ("[]", "empty array"),
            (r#""2.a.rs.0.-...0.""#, "missing field"),
            (r#""2.a.rs.0.-...0..-.-""#, "extra field"),
            (r#""2.a.rs.0.-...0..-"#, "unterminated string"),
            (r#""2.a.rs.0.-...0..-"x"#, "trailing bytes"),
            (r#""2.a.rs.0.-...0..-.""#, "a trailing separator"),
            (r#""2.a.-.0.-...0..-""#, "no log-in instant"),
            (r#""2.a.rs.0.-5...0..-""#, "a dash before digits"),
            (r#""2.a.rs.0.--...0..-""#, "two dashes"),
            (r#""2.a.rs.0.-...0..""#, "no session limit"),
            (r#""2.a\u002e.rs.0.-...0..-""#, "an escape"),
            (r#""3.a.rs.0.-...0..-""#, "unknown version"),
            (r#""2..rs.0.-...0..-""#, "empty user"),
            (r#""2.a%2.rs.0.-...0..-""#, "truncated escape"),
            (r#""2.a%zz.rs.0.-...0..-""#, "bad escape"),
            (r#""2.a%ff.rs.0.-...0..-""#, "not UTF-8"),
            (r#""2.a.RS.0.-...0..-""#, "upper case"),
            (r#""2.a.+rs.0.-...0..-""#, "a sign"),
            (r#""2.a.rs.-1.-...0..-""#, "negative"),
            (r#""2.a.rs.0.-.5..0..-""#, "half a policy"),
            (r#""2.a.rs.0.-.x!.-.0..-""#, "bad policy"),
            (r#""2.a.rs.0.-...0.q.-""#, "unknown flag"),
            (r#""2.a.rs.0.-...0..zzzzzzz""#, "cap too large"),
            (r#""2.a.zzzzzzzzzzzzzz.0.-...0..-""#, "overflow"),
            (r#""2.a.3w5e11264sgsf.0.-...0..-""#, "out of chrono range"),
            (r#""2.a.rs.1ekg0.-...0..-""#, "seen from the future"),
            (r#""2.a.rs.0.-...1ekg0..-""#, "authenticated in the future"),
            (r#"[1,"a",1,1,null]"#, "legacy: missing element"),
            (r#"[1,"a",1,1,null,null,0]"#, "legacy: extra element"),
            (r#"[2,"a",1,1,null,null]"#, "legacy: unknown version"),
            (r#"[1,"",1,1,null,null]"#, "legacy: empty user"),
            (r#"[1,"a",5,4,null,null]"#, "legacy: seen before login"),
            (
                r#"[1,"a",1,2030001,null,null]"#,
                "legacy: future beyond skew",
            ),
            (r#"[1,"a",1,1,-1,null]"#, "legacy: negative deadline"),
        ];
        for (raw, what) in cases {
            assert!(decode(raw).is_err(), "{what} should be invalid: {raw}");
        }
        let long_user = "u".repeat(MAX_USER_ID_BYTES + 1);
        let escaped_user = "%2E".repeat(MAX_USER_ID_BYTES + 1);
        let zeros = "0".repeat(U64_DIGITS);
        let oversize = [
            (
                format!(r#""2.{long_user}.rs.0.-...0..-""#),
                "a user id over 1 KiB",
            ),
            (
                format!(r#""2.{escaped_user}.rs.0.-...0..-""#),
                "escaped, over 1 KiB",
            ),
            (format!(r#""2.a.{zeros}rs.0.-...0..-""#), "leading zeros"),
            (
                format!(r#""2.a.rs.{zeros}0.-...0..-""#),
                "a 14-digit offset",
            ),
            (
                format!(r#""2.a.rs.0.-.{zeros}1.-.0..-""#),
                "a 14-digit policy",
            ),
            (
                r#""2.a.rs.0.-...0..00000001""#.to_owned(),
                "an 8-digit limit",
            ),
            (
                format!(r#""2.a.rs.0.-...0..-{}""#, " ".repeat(MAX_RECORD_BYTES)),
                "a long record",
            ),
            (
                format!(r#"[1,"{long_user}",1,1,null,null]"#),
                "legacy: a user id over 1 KiB",
            ),
            (
                format!(
                    r#"[1,"a",1,1,null,null{}]"#,
                    " ".repeat(MAX_LEGACY_RECORD_BYTES)
                ),
                "legacy: a long record",
            ),
        ];
        for (raw, what) in &oversize {
            assert!(
                matches!(decode(raw), Err(InvalidState::Oversize)),
                "{what} should be oversize: {:?}",
                decode(raw)
            );
            assert!(peek(raw).is_none(), "{what}: not even peeked");
        }
    }

    #[test]
    fn the_longest_fields_this_crate_writes_are_still_read() {
        // A user id of 1 KiB, all of it escaped, and every number as long as its type allows.
        let user = ".".repeat(MAX_USER_ID_BYTES);
        let login = at(1_000);
        let state = ExpiryState {
            user: user.clone(),
            login,
            seen: login,
            authenticated: Some(login),
            policy: Some(
                Policy::new()
                    .with_idle(Duration::from_millis(u64::MAX))
                    .with_absolute(Duration::from_millis(u64::MAX)),
            ),
            remembered: true,
            cap: Some(SessionCap {
                max: u32::MAX,
                refuse: true,
            }),
            stamp: None,
        };
        let raw = stored(&state, &Policy::new());
        assert!(raw.len() <= MAX_RECORD_BYTES, "{}", raw.len());
        assert_eq!(decode(&raw).unwrap(), state);
        let padded = format!(
            r#""2.a.{}rs.0.-...0..{}1""#,
            "0".repeat(U64_DIGITS - 2),
            "0".repeat(U32_DIGITS - 1)
        );
        assert!(decode(&padded).is_ok(), "{padded}");
        let controls = "\u{1f}".repeat(MAX_USER_ID_BYTES);
        let legacy = (1, &controls, 1, 1, u64::MAX / 4096, (u64::MAX, u64::MAX));
        let legacy = serde_json::to_string(&legacy).unwrap();
        assert!(legacy.len() <= MAX_LEGACY_RECORD_BYTES, "{}", legacy.len());
        assert_eq!(decode(&legacy).unwrap().user, controls);
    }

    #[test]
    fn an_instant_within_the_skew_tolerance_is_accepted() {
        // 2_030_000 ms is exactly 30 s after "now".
        let state = ExpiryState::new("a".into(), at(2_030_000), None);
        assert!(decode(&stored(&state, &Policy::new())).is_ok());
        assert!(decode(r#"[1,"a",1,2030000,null,null]"#).is_ok());
    }

    #[test]
    fn base36_round_trips() {
        for n in [0, 1, 35, 36, 1_735_689_600_000, u64::MAX] {
            let digits = base36(n);
            let mut fields = Fields::new(&digits);
            assert_eq!(fields.numeric().unwrap().required().unwrap(), n);
            fields.finish().unwrap();
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let raw = String::from_utf8_lossy(&bytes);
            let _ = decode(&raw);
            let _ = peek(&raw);
        }

        #[test]
        fn arbitrary_records_never_panic_and_keep_the_invariants(
            fields in proptest::collection::vec("[-0-9a-z%.rx]{0,14}", 10),
        ) {
            let raw = format!("\"2.{}\"", fields.join("."));
            if let Ok(state) = decode(&raw) {
                prop_assert!(state.login <= state.seen);
                prop_assert!(state.authenticated.is_none_or(|auth| state.login <= auth));
                prop_assert!(state.seen <= at(2_000_000).plus(SKEW));
                prop_assert!(!state.user.is_empty());
            }
        }

        #[test]
        fn any_state_survives_encoding(
            user in "\\PC{1,12}", login in 0u64..4_000_000_000_000, seen in 0u64..1_000_000,
            auth in proptest::option::of(0u64..1_000_000), idle in proptest::option::of(1u64..10_000_000),
            remembered in any::<bool>(), cap in proptest::option::of((1u32.., any::<bool>())),
            stamp in proptest::option::of(any::<[u8; 4]>()),
        ) {
            let login = at(login);
            let later = |ms: u64| login.plus(Duration::from_millis(ms));
            let state = ExpiryState {
                user,
                login,
                seen: later(seen),
                authenticated: auth.map(later),
                policy: idle.map(|ms| Policy::new().with_idle(Duration::from_millis(ms)).without_absolute()),
                remembered,
                cap: cap.map(|(max, refuse)| SessionCap { max, refuse }),
                stamp: stamp.map(|stamp| StampHash::of(b"key", &stamp)),
            };
            let raw = stored(&state, &state.policy.unwrap_or_default());
            prop_assert_eq!(ExpiryState::decode(&raw, later(2_000_000), SKEW).unwrap(), state);
        }
    }
}
