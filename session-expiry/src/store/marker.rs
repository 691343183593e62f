//! [`StoreMarker`]: the reserved entry through which a server-side store tells the middleware
//! what plain session data cannot: that the session was revoked, evicted or dropped at its
//! deadline, or that the store could not be reached.
//!
//! actix-session gives a store no way to answer a request itself: a failed `load` becomes an
//! opaque `500` before any middleware inside `SessionMiddleware` runs, and a missing session
//! becomes a silent anonymous one. So the store returns a state holding a marker entry instead,
//! and the middleware's `judge` turns it into the answer: `revoked` and `ended` into the
//! ordinary expired answer, `unavailable` into a `503`. Stores never persist entries under
//! [`RESERVED_PREFIX`](super::reserved::RESERVED_PREFIX).

use std::time::Duration;

use super::{
    reserved::{ENDED_KEY, MARKER_KEY, RETRY_AFTER_KEY},
    session_api::{json_text, put_str, SessionState},
    LoginRecord,
};
use crate::state::PolicyMillis;

/// Without a usable hint, clients are asked to retry after this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What a store says about a session through [`MARKER_KEY`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreMarker {
    /// The session was revoked: it ends with reason `revoked`.
    Revoked,
    /// The session was evicted to make room for a newer one of its user: it ends with reason
    /// `evicted`.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    Evicted,
    /// The store dropped the session at its deadline (the session's data is gone) but still
    /// knows whose it was: it ends with the reason its deadline had (`idle` or `absolute`).
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    Ended {
        /// Log-in instant, Unix ms.
        login_ms: u64,
        user: String,
        /// The user's policy snapshot; `None` when the global default applied.
        policy: Option<PolicyMillis>,
    },
    /// The store could not be reached, so the session cannot be checked: answer `503`.
    Unavailable { retry_after: Duration },
    /// A marker this version does not know: the session is not trusted.
    Unknown,
}

impl StoreMarker {
    /// The marker in a session's entries, if any. Entry values are JSON, as actix-session
    /// stores them.
    pub(crate) fn read(entries: &SessionState) -> Option<Self> {
        let raw = json_text(entries, MARKER_KEY)?;
        Some(match serde_json::from_str::<String>(raw).as_deref() {
            Ok("revoked") => Self::Revoked,
            Ok("evicted") => Self::Evicted,
            Ok("ended") => json_text(entries, ENDED_KEY)
                .and_then(|raw| LoginRecord::parse(raw)?.ended())
                .map_or(Self::Unknown, |(login_ms, user, policy)| Self::Ended {
                    login_ms,
                    user,
                    policy,
                }),
            Ok("unavailable") => Self::Unavailable {
                retry_after: json_text(entries, RETRY_AFTER_KEY)
                    .and_then(|raw| serde_json::from_str::<u64>(raw).ok())
                    .map_or(DEFAULT_RETRY_AFTER, Duration::from_secs),
            },
            _ => Self::Unknown,
        })
    }

    /// Writes the marker into `entries`, as a store's `load` returns it.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn write(self, entries: &mut SessionState) {
        let value = match self {
            Self::Revoked => "revoked",
            Self::Evicted => "evicted",
            Self::Ended {
                login_ms,
                user,
                policy,
            } => {
                let ended = LoginRecord {
                    login_ms: Some(login_ms),
                    user: Some(user),
                    policy,
                    ..LoginRecord::default()
                };
                entries.insert(ENDED_KEY.to_owned(), ended.to_json());
                "ended"
            }
            Self::Unavailable { retry_after } => {
                let secs = retry_after.as_secs().max(1);
                entries.insert(RETRY_AFTER_KEY.to_owned(), secs.to_string());
                "unavailable"
            }
            Self::Unknown => "unknown",
        };
        put_str(entries, MARKER_KEY, value);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::reserved::RESERVED_PREFIX;

    #[test]
    fn a_marker_survives_writing_and_reading() {
        for marker in [
            StoreMarker::Revoked,
            StoreMarker::Evicted,
            StoreMarker::Unavailable {
                retry_after: Duration::from_secs(7),
            },
            StoreMarker::Ended {
                login_ms: 1_000,
                user: "alice".into(),
                policy: Some((Some(60_000), None)),
            },
            StoreMarker::Ended {
                login_ms: 1_000,
                user: "bob".into(),
                policy: None,
            },
        ] {
            let mut entries = HashMap::new();
            marker.clone().write(&mut entries);
            assert_eq!(StoreMarker::read(&entries), Some(marker));
            assert!(entries.keys().all(|k| k.starts_with(RESERVED_PREFIX)));
        }
    }

    #[test]
    fn no_marker_is_none_and_a_strange_one_is_unknown() {
        assert_eq!(StoreMarker::read(&HashMap::new()), None);
        let strange = HashMap::from([(MARKER_KEY.to_owned(), "42".to_owned())]);
        assert_eq!(StoreMarker::read(&strange), Some(StoreMarker::Unknown));
        let ended_without_details =
            HashMap::from([(MARKER_KEY.to_owned(), "\"ended\"".to_owned())]);
        assert_eq!(
            StoreMarker::read(&ended_without_details),
            Some(StoreMarker::Unknown)
        );
        let bad_hint = HashMap::from([
            (MARKER_KEY.to_owned(), "\"unavailable\"".to_owned()),
            (RETRY_AFTER_KEY.to_owned(), "soon".to_owned()),
        ]);
        assert_eq!(
            StoreMarker::read(&bad_hint),
            Some(StoreMarker::Unavailable {
                retry_after: DEFAULT_RETRY_AFTER
            })
        );
    }
}
