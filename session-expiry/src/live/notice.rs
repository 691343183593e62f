//! [`Notice`]: which sessions of a user ended and why, as the hub hands it to the sessions it
//! watches and as a store carries it to the other instances (one small JSON text).

use serde::{Deserialize, Serialize};

use crate::ExpiryReason;

/// Which of a user's watched sessions a notice ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Target {
    /// Every session of the user.
    All,
    /// The one session.
    One(Which),
    /// Every session of the user but this one.
    Others(Which),
    /// Some of the user's sessions, unknown which (an eviction): each is looked up in the
    /// store once.
    Check,
    /// Every session of every user signed in before this instant (Unix ms): "sign out
    /// everyone" (the notice's user is then empty).
    Before(u64),
}

/// How a notice names one session: by the instant it signed in (every store, the cookie store
/// included: a log-in is the only thing that moves it), or by its registry id (server-side
/// stores).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Which {
    /// Signed in at this instant (Unix ms).
    Login(u64),
    /// The session of this [`SessionId`](crate::registry::SessionId).
    Id(String),
}

/// Sessions of `user` that ended: `target` says which, `reason` why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Notice {
    #[serde(rename = "u")]
    pub(crate) user: String,
    #[serde(rename = "r")]
    pub(crate) reason: ExpiryReason,
    #[serde(rename = "t")]
    pub(crate) target: Target,
}

impl Notice {
    /// The notice of a revocation through the registry.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn revoked(user: &str, which: crate::registry::Which<'_>) -> Self {
        use crate::registry::Which as Revoked;
        let id = |id: &crate::registry::SessionId| Which::Id(id.as_str().to_owned());
        Self {
            user: user.to_owned(),
            reason: ExpiryReason::Revoked,
            target: match which {
                Revoked::One(one) => Target::One(id(one)),
                Revoked::All => Target::All,
                Revoked::Others(kept) => Target::Others(id(kept)),
            },
        }
    }

    /// The notice that some of `user`'s sessions were evicted (the store does not say which).
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn evicted(user: &str) -> Self {
        Self {
            user: user.to_owned(),
            reason: ExpiryReason::Evicted,
            target: Target::Check,
        }
    }

    /// The notice of a "sign out everyone" of those signed in before `at` (Unix ms).
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn signed_in_before(at: u64) -> Self {
        Self {
            user: String::new(),
            reason: ExpiryReason::Revoked,
            target: Target::Before(at),
        }
    }

    /// The notice as other instances receive it.
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn encode(&self) -> String {
        // A struct of strings, numbers and unit variants always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A notice another instance sent; `None` for anything else (a newer release's, garbage).
    #[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
    pub(crate) fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// Whether this notice ends the session of its user signed in at `login` with `id`.
    pub(crate) fn ends(&self, login: u64, id: Option<&str>) -> bool {
        let names = |which: &Which| match which {
            Which::Login(at) => *at == login,
            Which::Id(named) => id == Some(named.as_str()),
        };
        match &self.target {
            Target::All => true,
            Target::One(which) => names(which),
            Target::Others(which) => !names(which),
            Target::Check => false,
            Target::Before(at) => login < *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(target: Target) -> Notice {
        Notice {
            user: "alice".to_owned(),
            reason: ExpiryReason::Revoked,
            target,
        }
    }

    #[test]
    fn a_notice_round_trips_and_garbage_is_none() {
        let sent = notice(Target::Others(Which::Id("ab".repeat(16))));
        assert_eq!(Notice::decode(&sent.encode()), Some(sent));
        assert_eq!(Notice::decode("{\"u\":1}"), None);
        assert_eq!(Notice::decode("not json"), None);
    }

    #[test]
    fn targets_name_sessions_by_login_or_id() {
        assert!(notice(Target::All).ends(1, None));
        assert!(notice(Target::One(Which::Login(7))).ends(7, None));
        assert!(!notice(Target::One(Which::Login(7))).ends(8, None));
        assert!(notice(Target::One(Which::Id("x".into()))).ends(1, Some("x")));
        assert!(!notice(Target::One(Which::Id("x".into()))).ends(1, None));
        assert!(!notice(Target::Others(Which::Login(7))).ends(7, None));
        assert!(notice(Target::Others(Which::Login(7))).ends(8, None));
        assert!(notice(Target::Before(7)).ends(6, None));
        assert!(!notice(Target::Before(7)).ends(7, None));
    }
}
