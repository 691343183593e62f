//! What the middleware stores in the session: one key holding a small versioned JSON record.
//!
//! `{"v":1,"u":"alice","l":1735689600000,"s":1735689660000,"p":{"i":1800000,"a":null},"d":1735691460000}`:
//! version, user id, log-in and last-seen instants in Unix milliseconds, the per-user policy
//! snapshot taken at log-in (`p` absent when the global default applies), and the earliest
//! deadline under the policy in force when it was written (`d`, absent without limits). `d` is a
//! hint for server-side stores (a key's TTL); the middleware never decides by it. Decoding is strict and
//! fails closed: anything unexpected is [`InvalidState`], which ends the session.

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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u64,
    u: String,
    l: u64,
    s: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<WirePolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePolicy {
    i: Option<u64>,
    a: Option<u64>,
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

    /// Encodes the state as the JSON value stored under [`STATE_KEY`], with the deadline it
    /// has under `policy` (the policy in force for it).
    pub(crate) fn encode(&self, policy: &Policy) -> serde_json::Value {
        let wire = Wire {
            v: FORMAT_VERSION,
            u: self.user.clone(),
            l: unix_millis(self.login),
            s: unix_millis(self.seen),
            p: self.policy.map(|policy| WirePolicy {
                i: policy.idle().map(saturating_millis),
                a: policy.absolute().map(saturating_millis),
            }),
            d: policy.deadline(self.login, self.seen).map(unix_millis),
        };
        serde_json::json!(wire)
    }

    /// Decodes and validates stored state, as read at `now` with `skew` of tolerated clock drift
    /// between app instances.
    pub(crate) fn decode(
        raw: &str,
        now: DateTime<Utc>,
        skew: Duration,
    ) -> Result<Self, InvalidState> {
        let wire: Wire = serde_json::from_str(raw)?;
        if wire.v != FORMAT_VERSION {
            return Err(InvalidState::UnknownVersion(wire.v));
        }
        if wire.u.is_empty() {
            return Err(InvalidState::EmptyUser);
        }
        if let Some(deadline) = wire.d {
            instant(deadline)?;
        }
        let login = instant(wire.l)?;
        let seen = instant(wire.s)?;
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
        let policy = wire.p.map(|p| {
            let mut policy = Policy::new();
            if let Some(ms) = p.i {
                policy = policy.with_idle(Duration::from_millis(ms));
            }
            if let Some(ms) = p.a {
                policy = policy.with_absolute(Duration::from_millis(ms));
            }
            policy
        });
        Ok(Self {
            user: wire.u,
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
}

/// Reads what a server-side store needs from stored state without judging it. `None` if the
/// state is not a well-formed record.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn peek(raw: &str) -> Option<Peek> {
    let wire: Wire = serde_json::from_str(raw).ok()?;
    let deadline = match wire.d {
        Some(ms) => Some(instant(ms).ok()?),
        None => None,
    };
    Some(Peek {
        user: wire.u,
        login: instant(wire.l).ok()?,
        seen: instant(wire.s).ok()?,
        deadline,
    })
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

    #[test]
    fn a_state_survives_encoding_and_decoding() {
        let policy = Policy::new().with_idle(Duration::from_secs(600));
        let state = ExpiryState {
            user: "alice".into(),
            login: at(1_000_000),
            seen: at(1_500_000),
            policy: Some(policy),
        };
        let raw = state.encode(&policy).to_string();
        assert_eq!(
            raw,
            r#"{"d":2100000,"l":1000000,"p":{"a":null,"i":600000},"s":1500000,"u":"alice","v":1}"#
        );
        assert_eq!(decode(&raw).unwrap(), state);
        let peeked = peek(&raw).unwrap();
        assert_eq!(
            (peeked.user.as_str(), peeked.login, peeked.seen),
            ("alice", at(1_000_000), at(1_500_000))
        );
        assert_eq!(peeked.deadline, Some(at(2_100_000)));
    }

    #[test]
    fn a_state_without_user_policy_omits_it() {
        let state = ExpiryState::new("bob".into(), at(1_000), None);
        let raw = state.encode(&Policy::new()).to_string();
        assert!(!raw.contains("\"p\"") && !raw.contains("\"d\""), "{raw}");
        assert_eq!(decode(&raw).unwrap(), state);
    }

    #[test]
    fn every_kind_of_bad_state_is_invalid() {
        let cases = [
            ("", "empty"),
            ("null", "null"),
            (r#"{"v":1,"u":"a","l":1}"#, "missing field"),
            (r#"{"v":1,"u":"a","l":"1","s":1}"#, "wrong type"),
            (r#"{"v":1,"u":"a","l":1,"s":1,"x":0}"#, "unknown field"),
            (r#"{"v":2,"u":"a","l":1,"s":1}"#, "unknown version"),
            (r#"{"v":1,"u":"","l":1,"s":1}"#, "empty user"),
            (r#"{"v":1,"u":"a","l":-1,"s":1}"#, "negative"),
            (r#"{"v":1,"u":"a","l":1.5,"s":2}"#, "float"),
            (
                r#"{"v":1,"u":"a","l":1,"s":18446744073709551616}"#,
                "overflow",
            ),
            (
                r#"{"v":1,"u":"a","l":1,"s":9223372036854775807}"#,
                "out of chrono range",
            ),
            (r#"{"v":1,"u":"a","l":5,"s":4}"#, "seen before login"),
            (r#"{"v":1,"u":"a","l":1,"s":2030001}"#, "future beyond skew"),
            (r#"{"v":1,"u":"a","l":1,"s":1,"p":{"i":-1}}"#, "bad policy"),
            (r#"{"v":1,"u":"a","l":1,"s":1}trailing"#, "trailing bytes"),
            (r#"{"v":1,"u":"a","l":1,"s":1,"d":-1}"#, "negative deadline"),
        ];
        for (raw, what) in cases {
            assert!(decode(raw).is_err(), "{what} should be invalid: {raw}");
        }
    }

    #[test]
    fn an_instant_within_the_skew_tolerance_is_accepted() {
        assert!(decode(r#"{"v":1,"u":"a","l":1,"s":2030000}"#).is_ok());
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
            u in ".{0,8}", extra in proptest::option::of(any::<u64>()),
        ) {
            let mut raw = format!(r#"{{"v":{v},"u":{u:?},"l":{l},"s":{s}"#);
            if let Some(extra) = extra {
                raw.push_str(&format!(r#","p":{{"i":{extra},"a":"x"}}"#));
            }
            raw.push('}');
            // Whatever is decoded must satisfy every invariant the middleware relies on.
            if let Ok(state) = decode(&raw) {
                prop_assert!(state.login <= state.seen);
                prop_assert!(state.seen <= at(2_000_000) + chrono::Duration::from_std(SKEW).unwrap());
                prop_assert!(!state.user.is_empty());
            }
        }
    }
}
