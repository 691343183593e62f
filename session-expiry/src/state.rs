//! What the middleware stores in the session: one key holding a small versioned JSON record.
//!
//! `[1,"alice",1735689600000,1735689660000,1735691460000,[1800000,null]]`: a JSON array of the
//! format version, the user id, the log-in and last-seen instants in Unix milliseconds, the
//! earliest deadline under the policy in force when it was written (`null` without limits), and
//! the per-user policy snapshot taken at log-in as `[idle_ms, absolute_ms]` (`null` when the
//! global default applies). The deadline is a hint for server-side stores (a key's TTL); the
//! middleware never decides by it.
//!
//! An array rather than an object: with the cookie store this value travels JSON-escaped inside
//! an encrypted cookie on every request, so every quote and byte costs on the hot path.
//!
//! Decoding is strict and fails closed: anything unexpected is [`InvalidState`], which ends the
//! session.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Policy;

/// The session key under which the middleware keeps its state.
///
/// Applications should not write it: use [`Expiry`](crate::Expiry). It is public so tests can
/// check what is stored, or plant damaged state and watch it be refused.
///
/// # Examples
/// ```
/// assert_eq!(session_expiry::STATE_KEY, "session-expiry");
/// ```
pub const STATE_KEY: &str = "session-expiry";

const FORMAT_VERSION: u64 = 1;

/// The decoded, validated state of a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpiryState {
    pub(crate) user: String,
    pub(crate) login: DateTime<Utc>,
    pub(crate) seen: DateTime<Utc>,
    /// The user's own policy, fixed at log-in; `None` means the global default.
    pub(crate) policy: Option<Policy>,
}

/// Why stored state was rejected. Only logged (at debug level): the user sees reason `invalid`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidState {
    #[error("state is not a well-formed record: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("state has unknown format version {0}")]
    UnknownVersion(u64),
    #[error("state has an empty user id")]
    EmptyUser,
    #[error("state holds an instant out of range")]
    OutOfRange,
    #[error("state holds an instant in the future beyond the allowed clock skew")]
    FromTheFuture,
    #[error("state says the user was last seen before logging in")]
    SeenBeforeLogin,
}

/// The stored layout: `[version, user, login, seen, deadline, [idle, absolute]]`. A JSON array
/// of any other length or element type does not decode.
#[derive(Serialize, Deserialize)]
pub(crate) struct Wire(u64, String, u64, u64, Option<u64>, Option<PolicyMillis>);

/// A per-user policy snapshot as stored: `[idle_ms, absolute_ms]`, `null` for no limit.
pub(crate) type PolicyMillis = (Option<u64>, Option<u64>);

/// The policy a stored snapshot describes.
pub(crate) fn policy_from_millis((idle, absolute): PolicyMillis) -> Policy {
    let mut policy = Policy::new();
    if let Some(ms) = idle {
        policy = policy.with_idle(Duration::from_millis(ms));
    }
    if let Some(ms) = absolute {
        policy = policy.with_absolute(Duration::from_millis(ms));
    }
    policy
}

impl ExpiryState {
    /// A fresh state for a log-in at `now`.
    pub(crate) fn new(user: String, now: DateTime<Utc>, policy: Option<Policy>) -> Self {
        Self {
            user,
            login: now,
            seen: now,
            policy,
        }
    }

    /// What to store under [`STATE_KEY`], with the deadline the state has under `policy` (the
    /// policy in force for it).
    pub(crate) fn encode(&self, policy: &Policy) -> Wire {
        Wire(
            FORMAT_VERSION,
            self.user.clone(),
            unix_millis(self.login),
            unix_millis(self.seen),
            policy.deadline(self.login, self.seen).map(unix_millis),
            self.policy.map(|own| {
                (
                    own.idle().map(saturating_millis),
                    own.absolute().map(saturating_millis),
                )
            }),
        )
    }

    /// Decodes and validates stored state, as read at `now` with `skew` of tolerated clock drift
    /// between app instances.
    pub(crate) fn decode(
        raw: &str,
        now: DateTime<Utc>,
        skew: Duration,
    ) -> Result<Self, InvalidState> {
        let Wire(version, user, login, seen, deadline, own_policy) = serde_json::from_str(raw)?;
        if version != FORMAT_VERSION {
            return Err(InvalidState::UnknownVersion(version));
        }
        if user.is_empty() {
            return Err(InvalidState::EmptyUser);
        }
        if let Some(deadline) = deadline {
            instant(deadline)?;
        }
        let login = instant(login)?;
        let seen = instant(seen)?;
        if seen < login {
            return Err(InvalidState::SeenBeforeLogin);
        }
        let latest_credible = chrono::Duration::from_std(skew)
            .ok()
            .and_then(|skew| now.checked_add_signed(skew))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if seen > latest_credible {
            return Err(InvalidState::FromTheFuture);
        }
        let policy = own_policy.map(policy_from_millis);
        Ok(Self {
            user,
            login,
            seen,
            policy,
        })
    }
}

/// What a server-side store needs from stored state without judging it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Peek {
    pub(crate) user: String,
    pub(crate) login: DateTime<Utc>,
    /// Last seen: concurrent writes of one session keep the latest.
    pub(crate) seen: DateTime<Utc>,
    /// The deadline hint (a key's TTL), `None` without limits.
    pub(crate) deadline: Option<DateTime<Utc>>,
    /// The per-user policy snapshot as stored, `None` when the global default applies.
    pub(crate) policy: Option<PolicyMillis>,
}

/// Reads what a server-side store needs from stored state without judging it. `None` if the
/// state is not a well-formed record.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn peek(raw: &str) -> Option<Peek> {
    let Wire(_, user, login, seen, deadline, policy) = serde_json::from_str(raw).ok()?;
    let deadline = match deadline {
        Some(ms) => Some(instant(ms).ok()?),
        None => None,
    };
    Some(Peek {
        user,
        login: instant(login).ok()?,
        seen: instant(seen).ok()?,
        deadline,
        policy,
    })
}

/// The instant `ms` Unix milliseconds stand for, `None` out of range.
pub(crate) fn instant_of_millis(ms: u64) -> Option<DateTime<Utc>> {
    instant(ms).ok()
}

fn instant(ms: u64) -> Result<DateTime<Utc>, InvalidState> {
    i64::try_from(ms)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or(InvalidState::OutOfRange)
}

/// Milliseconds since the Unix epoch; instants before it (never produced by a sane clock) are 0.
pub(crate) fn unix_millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

fn saturating_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The elapsed time from `earlier` to `later`, zero if `later` is not after it.
pub(crate) fn elapsed(earlier: DateTime<Utc>, later: DateTime<Utc>) -> Duration {
    (later - earlier).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SKEW: Duration = Duration::from_secs(30);

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn decode(raw: &str) -> Result<ExpiryState, InvalidState> {
        ExpiryState::decode(raw, at(2_000_000), SKEW)
    }

    fn encoded(state: &ExpiryState, policy: &Policy) -> String {
        serde_json::to_string(&state.encode(policy)).unwrap()
    }

    #[test]
    fn a_state_survives_encoding_and_decoding() {
        let policy = Policy::new().with_idle(Duration::from_secs(600));
        let state = ExpiryState {
            user: "alice".into(),
            login: at(1_000_000),
            seen: at(1_500_000),
            policy: Some(policy),
        };
        let raw = encoded(&state, &policy);
        assert_eq!(raw, r#"[1,"alice",1000000,1500000,2100000,[600000,null]]"#);
        assert_eq!(decode(&raw).unwrap(), state);
        let peeked = peek(&raw).unwrap();
        assert_eq!(
            (peeked.user.as_str(), peeked.login, peeked.seen),
            ("alice", at(1_000_000), at(1_500_000))
        );
        assert_eq!(peeked.deadline, Some(at(2_100_000)));
        assert_eq!(peeked.policy, Some((Some(600_000), None)));
        assert_eq!(policy_from_millis((Some(600_000), None)), policy);
    }

    #[test]
    fn a_state_without_user_policy_or_limits_stores_nulls() {
        let state = ExpiryState::new("bob".into(), at(1_000), None);
        let raw = encoded(&state, &Policy::new());
        assert_eq!(raw, r#"[1,"bob",1000,1000,null,null]"#);
        assert_eq!(decode(&raw).unwrap(), state);
    }

    #[test]
    fn every_kind_of_bad_state_is_invalid() {
        let cases = [
            ("", "empty"),
            ("null", "null"),
            ("[]", "empty array"),
            (r#"[1,"a",1,1,null]"#, "missing element"),
            (r#"[1,"a",1,1,null,null,0]"#, "extra element"),
            (r#"[1,"a","1",1,null,null]"#, "wrong type"),
            (r#"{"v":1,"u":"a","l":1,"s":1}"#, "an object"),
            (r#"[2,"a",1,1,null,null]"#, "unknown version"),
            (r#"[1,"",1,1,null,null]"#, "empty user"),
            (r#"[1,7,1,1,null,null]"#, "user not a string"),
            (r#"[1,"a",-1,1,null,null]"#, "negative"),
            (r#"[1,"a",1.5,2,null,null]"#, "float"),
            (r#"[1,"a",1,18446744073709551616,null,null]"#, "overflow"),
            (
                r#"[1,"a",1,9223372036854775807,null,null]"#,
                "out of chrono range",
            ),
            (r#"[1,"a",5,4,null,null]"#, "seen before login"),
            (r#"[1,"a",1,2030001,null,null]"#, "future beyond skew"),
            (r#"[1,"a",1,1,null,[-1,null]]"#, "negative policy"),
            (r#"[1,"a",1,1,null,[1]]"#, "short policy"),
            (r#"[1,"a",1,1,null,null]trailing"#, "trailing bytes"),
            (r#"[1,"a",1,1,-1,null]"#, "negative deadline"),
        ];
        for (raw, what) in cases {
            assert!(decode(raw).is_err(), "{what} should be invalid: {raw}");
        }
    }

    #[test]
    fn an_instant_within_the_skew_tolerance_is_accepted() {
        assert!(decode(r#"[1,"a",1,2030000,null,null]"#).is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let raw = String::from_utf8_lossy(&bytes);
            prop_assert!(decode(&raw).is_err());
        }

        #[test]
        fn arbitrary_json_never_panics(
            v in any::<i64>(), l in any::<i64>(), s in any::<i64>(),
            u in ".{0,8}", d in proptest::option::of(any::<i64>()),
            idle in proptest::option::of(any::<u64>()),
        ) {
            let d = d.map_or("null".to_owned(), |d| d.to_string());
            let p = idle.map_or("null".to_owned(), |i| format!("[{i},null]"));
            let raw = format!(r#"[{v},{u:?},{l},{s},{d},{p}]"#);
            // Whatever is decoded must satisfy every invariant the middleware relies on.
            if let Ok(state) = decode(&raw) {
                prop_assert!(state.login <= state.seen);
                prop_assert!(state.seen <= at(2_000_000) + chrono::Duration::from_std(SKEW).unwrap());
                prop_assert!(!state.user.is_empty());
            }
        }
    }
}
