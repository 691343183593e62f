//! How one session is laid out in its Redis hash.
//!
//! | field | holds |
//! | --- | --- |
//! | `v` | the layout version, `1`; on every key this store writes |
//! | `e` | the expiry state, as the middleware stored it under its key (empty when none) |
//! | `s` | its last-seen instant, Unix ms: concurrent writes keep the latest |
//! | `d` | its deadline hint, Unix ms: the key's TTL (empty without limits) |
//! | `m` | every other session entry, one JSON object |
//! | `t` | present once the store ended the session: the key is a tombstone until its deadline; `1` revoked, `evicted` evicted (beyond its user's session limit) |
//!
//! Entries under the reserved `session-expiry.` prefix are the store's messages to the
//! middleware for one request and are never written.

use std::collections::HashMap;

use super::id::{SessionId, ID_ENTRY};
use crate::{
    state::{peek, Peek, PolicyMillis, SessionCap},
    store_marker::{StoreMarker, ENDING_KEY, RESERVED_PREFIX},
    unix_ms::UnixMs,
};

const LAYOUT_VERSION: &str = "1";

/// The tombstone of a revoked session (the value of `t`).
pub(crate) const REVOKED: &str = "1";
/// The tombstone of a session evicted to make room for a newer log-in of its user.
pub(crate) const EVICTED: &str = "evicted";

/// A session's state, split into the hash's fields.
#[derive(Debug)]
pub(crate) struct Record {
    /// The expiry state as stored, and what it says (`None` if it is not well-formed: it is
    /// kept as is for the middleware to refuse).
    expiry: Option<(String, Option<Peek>)>,
    /// The other entries, as one JSON object.
    rest: String,
    rest_is_empty: bool,
}

impl Record {
    /// Splits a session's state as actix-session hands it to the store.
    pub(crate) fn from_state(
        mut state: HashMap<String, String>,
        state_key: &str,
    ) -> serde_json::Result<Self> {
        let expiry = state.remove(state_key).map(|raw| {
            let peeked = peek(&raw);
            (raw, peeked)
        });
        state.retain(|key, _| !key.starts_with(RESERVED_PREFIX));
        Ok(Self {
            expiry,
            rest_is_empty: state.is_empty(),
            rest: serde_json::to_string(&state)?,
        })
    }

    /// Nothing worth storing.
    pub(crate) fn is_empty(&self) -> bool {
        self.expiry.is_none() && self.rest_is_empty
    }

    fn peeked(&self) -> Option<&Peek> {
        self.expiry.as_ref().and_then(|(_, peeked)| peeked.as_ref())
    }

    /// The signed-in user, if the state names one.
    pub(crate) fn user(&self) -> Option<&str> {
        self.peeked().map(|p| p.user.as_str())
    }

    /// Log-in instant, Unix ms.
    pub(crate) fn login_ms(&self) -> Option<u64> {
        self.peeked().map(|p| p.login.millis())
    }

    /// The user's policy snapshot as stored, `None` when the global default applies.
    pub(crate) fn policy(&self) -> Option<PolicyMillis> {
        self.peeked().and_then(|p| p.policy)
    }

    /// How many sessions the user may keep, as the state says it was at log-in.
    pub(crate) fn cap(&self) -> Option<SessionCap> {
        self.peeked().and_then(|p| p.cap)
    }

    /// The fields `e`, `s`, `d`, `m`, in that order, as the scripts take them.
    pub(crate) fn fields(&self) -> [String; 4] {
        let expiry = self.expiry.as_ref().map_or("", |(raw, _)| raw.as_str());
        let ms = |at: Option<UnixMs>| at.map_or(String::new(), |at| at.millis().to_string());
        [
            expiry.to_owned(),
            ms(self.peeked().map(|p| p.seen)),
            ms(self.peeked().and_then(|p| p.deadline)),
            self.rest.clone(),
        ]
    }
}

/// The fields `v`, `t`, `e`, `m` of a session's hash, as `load` reads them.
pub(crate) type StoredFields = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The field names `load` asks for, in the order of [`StoredFields`].
pub(crate) const LOADED_FIELDS: [&str; 4] = ["v", "t", "e", "m"];

/// Why stored fields could not be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("unknown layout version {0:?}")]
    Version(String),
    #[error("the session entries are not a JSON object of strings")]
    Entries(#[from] serde_json::Error),
}

/// Rebuilds the state actix-session hands to handlers from what `load` read: `None` for no
/// session, the `revoked` or `evicted` marker for a tombstone (the `unknown` one, which ends
/// the session as `invalid`, for a tombstone this version cannot read).
pub(crate) fn assemble(
    fields: StoredFields,
    id: &SessionId,
    state_key: &str,
) -> Result<Option<HashMap<String, String>>, Unreadable> {
    let (version, tombstone, expiry, rest) = fields;
    let Some(version) = version else {
        return Ok(None);
    };
    if version != LAYOUT_VERSION {
        return Err(Unreadable::Version(version));
    }
    let mut state = HashMap::new();
    let ended = tombstone.is_some();
    if let Some(why) = tombstone {
        // Only what the middleware needs to report the end of the session.
        let marker = match why.as_str() {
            REVOKED => StoreMarker::Revoked,
            EVICTED => StoreMarker::Evicted,
            _ => StoreMarker::Unknown,
        };
        marker.write(&mut state);
    } else {
        if let Some(rest) = rest.filter(|rest| !rest.is_empty()) {
            state = serde_json::from_str(&rest)?;
        }
        // As actix-session keeps a string: JSON, which a session id needs no escaping in.
        let id = id.as_str();
        let mut quoted = String::with_capacity(id.len() + 2);
        quoted.push('"');
        quoted.push_str(id);
        quoted.push('"');
        state.insert(ID_ENTRY.to_owned(), quoted);
    }
    if let Some(expiry) = expiry.filter(|expiry| !expiry.is_empty()) {
        // A tombstone's state only names what ended: where a live state never is.
        let key = if ended { ENDING_KEY } else { state_key };
        state.insert(key.to_owned(), expiry);
    }
    Ok(Some(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::STATE_KEY;

    /// alice, signed in at 1000 ms, seen at 2000 ms, deadline 9000 ms.
    const STATE: &str = r#""2.alice.rs.rs.668...0..-""#;

    fn id() -> SessionId {
        "0123456789abcdef0123456789abcdef".parse().unwrap()
    }

    #[test]
    fn a_state_is_split_into_fields_and_reserved_entries_are_dropped() {
        let state = HashMap::from([
            (STATE_KEY.to_owned(), STATE.to_owned()),
            ("cart".to_owned(), "[1,2]".to_owned()),
            (ID_ENTRY.to_owned(), "\"x\"".to_owned()),
            ("session-expiry.store".to_owned(), "\"revoked\"".to_owned()),
        ]);
        let record = Record::from_state(state, STATE_KEY).unwrap();
        assert_eq!(record.user(), Some("alice"));
        assert_eq!(record.login_ms(), Some(1000));
        let [e, s, d, m] = record.fields();
        assert_eq!(
            (e.as_str(), s.as_str(), d.as_str()),
            (STATE, "2000", "9000")
        );
        assert_eq!(m, r#"{"cart":"[1,2]"}"#);
    }

    #[test]
    fn stored_fields_come_back_as_the_same_state_with_the_id() {
        let fields = (
            Some("1".into()),
            None,
            Some(STATE.into()),
            Some(r#"{"cart":"[1,2]"}"#.into()),
        );
        let state = assemble(fields, &id(), STATE_KEY).unwrap().unwrap();
        assert_eq!(state[STATE_KEY], STATE);
        assert_eq!(state["cart"], "[1,2]");
        assert_eq!(state[ID_ENTRY], format!("\"{}\"", id()));
    }

    #[test]
    fn a_tombstone_comes_back_as_the_revoked_marker_without_the_data() {
        let fields = (Some("1".into()), Some("1".into()), Some(STATE.into()), None);
        let state = assemble(fields, &id(), STATE_KEY).unwrap().unwrap();
        assert_eq!(StoreMarker::read(&state), Some(StoreMarker::Revoked));
        // The state names what ended, away from the state key (no live state is there).
        assert_eq!(state[ENDING_KEY], STATE);
        assert!(!state.contains_key(STATE_KEY) && !state.contains_key(ID_ENTRY));
    }

    #[test]
    fn an_eviction_tombstone_comes_back_as_the_evicted_marker_and_a_strange_one_as_unknown() {
        let fields = |t: &str| (Some("1".into()), Some(t.into()), Some(STATE.into()), None);
        let evicted = assemble(fields("evicted"), &id(), STATE_KEY)
            .unwrap()
            .unwrap();
        assert_eq!(StoreMarker::read(&evicted), Some(StoreMarker::Evicted));
        assert!(!evicted.contains_key(ID_ENTRY));
        let strange = assemble(fields("why"), &id(), STATE_KEY).unwrap().unwrap();
        assert_eq!(StoreMarker::read(&strange), Some(StoreMarker::Unknown));
    }

    #[test]
    fn a_record_carries_the_session_limit_of_its_state() {
        let state = HashMap::from([(
            STATE_KEY.to_owned(),
            r#""2.alice.rs.rs.668...0.x.3""#.to_owned(),
        )]);
        let cap = Record::from_state(state, STATE_KEY).unwrap().cap();
        assert_eq!(
            cap,
            Some(SessionCap {
                max: 3,
                refuse: true
            })
        );
        let none = HashMap::from([(STATE_KEY.to_owned(), STATE.to_owned())]);
        assert_eq!(Record::from_state(none, STATE_KEY).unwrap().cap(), None);
    }

    #[test]
    fn no_key_is_no_session_and_foreign_data_is_unreadable() {
        assert!(assemble((None, None, None, None), &id(), STATE_KEY)
            .unwrap()
            .is_none());
        assert!(assemble((Some("2".into()), None, None, None), &id(), STATE_KEY).is_err());
        assert!(assemble(
            (Some("1".into()), None, None, Some("[]".into())),
            &id(),
            STATE_KEY
        )
        .is_err());
    }

    #[test]
    fn an_empty_state_is_empty_and_a_malformed_one_is_kept_without_a_user() {
        assert!(Record::from_state(HashMap::new(), STATE_KEY)
            .unwrap()
            .is_empty());
        let bad = HashMap::from([(STATE_KEY.to_owned(), "{".to_owned())]);
        let record = Record::from_state(bad, STATE_KEY).unwrap();
        assert!(!record.is_empty());
        assert_eq!(record.user(), None);
        assert_eq!(record.fields()[1], "");
    }
}
