//! [`Listed`]: the sessions of a user's index a script may touch, declared on a Redis Cluster.
//!
//! Saving a signed-in session, listing and revoking walk the user's index and touch the data key
//! of every session it lists. On one Redis a script builds those keys itself, in one round trip.
//! On a cluster every key a script touches must be in its `KEYS`: while the user's slot moves to
//! another node, Redis Cluster redirects (`ASK`) or retries (`TRYAGAIN`) a call whose keys it
//! knows as a whole, whereas it fails an undeclared key halfway through a script ("Script
//! attempted to access a non local key"), or reads it as missing on the node the slot moves to.
//! So on a cluster the index is read first (`HKEYS`, one more round trip) and its sessions'
//! keys are declared.

use ::redis::ScriptInvocation;

use super::{keys::UserTag, store::Backend, RedisStoreError};

/// The data keys of the sessions a user's index listed when it was read, on a cluster; nothing
/// on one Redis (and for a session without a user, which has no index).
#[derive(Debug, Default)]
pub(crate) struct Listed(Option<Vec<String>>);

impl Listed {
    /// Reads the index of `tag` if scripts must declare the keys they touch.
    pub(crate) async fn read(backend: &Backend, tag: &UserTag) -> Result<Self, RedisStoreError> {
        if !backend.connection.declares_keys() {
            return Ok(Self(None));
        }
        let mut cmd = ::redis::cmd("HKEYS");
        cmd.arg(backend.keys.index(tag));
        let ids: Vec<String> = backend.connection.query(&cmd).await?;
        let base = backend.keys.sessions_of(tag);
        Ok(Self(Some(
            ids.into_iter().map(|id| format!("{base}{id}")).collect(),
        )))
    }

    /// Adds the keys to `invocation`'s `KEYS`.
    pub(crate) fn declare(&self, invocation: &mut ScriptInvocation<'_>) {
        for key in self.0.iter().flatten() {
            invocation.key(key);
        }
    }

    /// The scripts' `declared` argument: `1` when only the declared keys may be touched.
    pub(crate) fn flag(&self) -> &'static str {
        if self.0.is_some() {
            "1"
        } else {
            ""
        }
    }
}
