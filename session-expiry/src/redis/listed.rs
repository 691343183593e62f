//! [`Listed`]: the sessions of a user's index a script may touch, declared on a Redis Cluster.
//!
//! Saving a signed-in session (pruning ended sessions, evicting beyond the session limit),
//! listing a page and revoking all sessions touch the data keys of sessions the index names. On
//! one Redis a script builds those keys itself, in one round trip. On a cluster every key a
//! script touches must be in its `KEYS`: while the user's slot moves to another node, Redis
//! Cluster redirects (`ASK`) or retries (`TRYAGAIN`) a call whose keys it knows as a whole,
//! whereas it fails an undeclared key halfway through a script ("Script attempted to access a
//! non local key"), or reads it as missing on the node the slot moves to. So on a cluster the
//! ids are read first (one more round trip): the PLAN script names the few a save or a
//! listing will touch (O(log n)); the script then refuses to run, having written nothing, if the
//! index changed in between, and the caller asks again, a few milliseconds later ([`backoff`]).
//! Revoking all reads the index in batches (`HSCAN`) and declares each batch, on any Redis.

use super::{backend::Backend, id::SessionId, keys::UserTag};

/// The data keys of the sessions a script may touch, on a cluster; nothing on one Redis (and for
/// a session without a user, which has no index).
#[derive(Debug, Default)]
pub(crate) struct Listed(Option<Vec<String>>);

impl Listed {
    /// The data keys of the sessions `ids` of `tag`, declared.
    pub(crate) fn of(
        backend: &Backend,
        tag: &UserTag,
        ids: impl IntoIterator<Item = impl std::fmt::Display>,
    ) -> Self {
        let base = backend.keys.sessions_of(tag);
        Self(Some(
            ids.into_iter().map(|id| format!("{base}{id}")).collect(),
        ))
    }

    /// Declares the sessions `ids` of `tag` too (those a script met undeclared last time, so
    /// that log-ins of one user at the same moment do not keep sending one another back).
    pub(crate) fn and(mut self, backend: &Backend, tag: &UserTag, ids: &[SessionId]) -> Self {
        if let Some(keys) = &mut self.0 {
            let base = backend.keys.sessions_of(tag);
            keys.extend(ids.iter().map(|id| format!("{base}{id}")));
        }
        self
    }

    /// The data keys to declare; `None` when scripts may touch any (one Redis).
    pub(crate) fn keys(&self) -> Option<&[String]> {
        self.0.as_deref()
    }
}

/// Waits a few milliseconds (random, up to 8) before a script the index changed under is tried
/// again: log-ins of one user at the same moment then stop meeting one another.
pub(crate) async fn backoff() {
    let millis = rand::random_range(1..=8);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
