//! What happens to the rest of a session (a cart, a language choice) when its user leaves or
//! another one arrives.
//!
//! The rules, which no combination of options may break:
//! - A log-out or an expiry keeps only the keys [`LogoutBehavior::keep`] names; the data then
//!   carries an owner tag (a keyed hash of the user id, never the id itself).
//! - A session that carries an owner tag was ended by this crate: it is never adopted again,
//!   whatever identity entries of another mechanism it still holds.
//! - A log-in of another user than the one signed in, or than the one who left the kept data,
//!   drops everything first, named keys included; the same user signing in again gets their
//!   data back, and data of an anonymous session (a cart filled before logging in) survives.

use crate::store::session_api::{self, Session};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::{config::configuration::Configuration, config::LogoutBehavior};

/// The entry that says whose kept data a session holds.
pub(crate) const OWNER_KEY: &str = "_se_owner";

/// What leaving did to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Left {
    /// Nothing is kept: the whole session is to be purged.
    Purge,
    /// The named keys stay, under a new session ID.
    Kept,
}

/// Leaves `session` as its user `user` (`None`: unknown, such as damaged state) ends it.
pub(crate) fn leave(session: &Session, config: &Configuration, user: Option<&str>) -> Left {
    let LogoutBehavior::Keep(keys) = &config.logout_behavior else {
        return Left::Purge;
    };
    // Data whose owner is unknown cannot be handed back to anyone: none is kept.
    let Some(user) = user else {
        return Left::Purge;
    };
    let dropped: Vec<String> = {
        let entries = session_api::entries(session);
        if !entries.keys().any(|key| keys.contains(key)) {
            return Left::Purge;
        }
        entries
            .keys()
            .filter(|key| !keys.contains(key))
            .cloned()
            .collect()
    };
    for key in dropped {
        session.remove(&key);
    }
    // A string always serializes.
    let _ = session.insert(OWNER_KEY, owner_tag(config, user));
    session.renew();
    Left::Kept
}

/// Whether `session` holds data a user left when this crate ended their session.
pub(crate) fn was_ended(session: &Session) -> bool {
    session_api::entries(session).contains_key(OWNER_KEY)
}

/// Prepares `session` for `user`'s log-in over `previous` (the user signed in now, if any).
pub(crate) fn hand_over(
    session: &Session,
    config: &Configuration,
    previous: Option<&str>,
    user: &str,
) {
    if previous.is_some_and(|previous| previous != user) {
        session.clear();
        return;
    }
    let owner =
        session_api::json_text(&session_api::entries(session), OWNER_KEY).map(str::to_owned);
    if let Some(owner) = owner {
        let mine = serde_json::to_string(&owner_tag(config, user)).ok();
        if mine.as_deref() == Some(owner.as_str()) {
            session.remove(OWNER_KEY);
        } else {
            session.clear();
        }
    }
}

/// A keyed hash of `user`: links kept data to its owner without naming them in the session
/// (readable by the client with a signed, not private, cookie).
fn owner_tag(config: &Configuration, user: &str) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(config.data_owner_key.master())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(b"session-expiry data owner\0");
    mac.update(user.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
