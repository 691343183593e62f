//! How one session is laid out in its Redis hash.
//!
//! | field | holds |
//! | --- | --- |
//! | `v` | the layout version, `2`; on every key this store writes |
//! | `r` | everything a request reads, in one string (one bulk reply to parse): `<t>:<n>:<e><m>`, the tombstone mark (empty for a live session), the length in bytes of the expiry state, the expiry state as the middleware stored it under its key (empty when none), and every other session entry as one JSON object (empty for a tombstone) |
//! | `s` | the expiry state's last-seen instant, Unix ms: concurrent writes keep the latest |
//! | `d` | its deadline hint, Unix ms: the key's TTL (empty without limits) |
//! | `t` | present once the store ended the session: the key is a tombstone until its deadline; `1` revoked, `evicted` evicted (beyond its user's session limit) |
//!
//! Layout `1`, from earlier releases, kept the expiry state and the other entries in fields of
//! their own, `e` and `m`, and had no `r`: such a key is still read (with a second round trip,
//! see [`LAYOUT_1_FIELDS`]) and is rewritten in layout `2` by its next write. The field names
//! the format of what it holds: a later layout that changes `r` would give it another name.
//!
//! Entries under the reserved `session-expiry.` prefix are the store's messages to the
//! middleware for one request and are never written.

use super::id::SessionId;
use crate::{
    state::{PolicyMillis, SessionCap},
    store::peek::{peek, Peek},
    store::{
        reserved::{ENDING_KEY, ID_KEY, RESERVED_PREFIX},
        session_api::{self, SessionState},
        StoreMarker,
    },
    unix_ms::UnixMs,
};

/// Why the store ended a session: its key's tombstone, marked in `t` (and at the head of `r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tombstone {
    /// Revoked through the registry.
    Revoked,
    /// Evicted to make room for a newer log-in of its user.
    Evicted,
}

impl Tombstone {
    /// The stored mark. Kept as earlier releases wrote them, so that their tombstones read.
    pub(crate) fn mark(self) -> &'static str {
        match self {
            Self::Revoked => "1",
            Self::Evicted => "evicted",
        }
    }

    /// The tombstone a stored mark names; `None` for one this version does not know.
    pub(crate) fn of_mark(mark: &str) -> Option<Self> {
        [Self::Revoked, Self::Evicted]
            .into_iter()
            .find(|tombstone| tombstone.mark() == mark)
    }

    /// What the middleware is told about a session ended this way.
    fn marker(self) -> StoreMarker {
        match self {
            Self::Revoked => StoreMarker::Revoked,
            Self::Evicted => StoreMarker::Evicted,
        }
    }
}

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
    pub(crate) fn from_state(mut state: SessionState, state_key: &str) -> serde_json::Result<Self> {
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

    /// The expiry state, its last-seen instant, its deadline and the other entries, in that
    /// order, as the scripts take them (they compose the key's fields).
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

/// The field `load` reads: the whole of a request's needs (see the layout above).
pub(crate) const VIEW_FIELD: &str = "r";

/// The fields `v`, `t`, `e`, `m` of a session's hash in layout 1, as `load` reads them when the
/// key has no [`VIEW_FIELD`].
pub(crate) type Layout1Fields = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The field names `load` asks for in layout 1, in the order of [`Layout1Fields`].
pub(crate) const LAYOUT_1_FIELDS: [&str; 4] = ["v", "t", "e", "m"];

/// Why stored fields could not be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("unknown layout version {0:?}")]
    Version(String),
    #[error("the session's `r` field is missing or not `<mark>:<length>:<state><entries>`")]
    View,
    #[error("the session entries are not a JSON object of strings")]
    Entries(#[from] serde_json::Error),
}

/// Rebuilds the state actix-session hands to handlers from a session's [`VIEW_FIELD`]: the
/// `revoked` or `evicted` marker for a tombstone (the `unknown` one, which ends the session as
/// `invalid`, for a tombstone this version cannot read).
pub(crate) fn assemble(
    view: &str,
    id: &SessionId,
    state_key: &str,
) -> Result<SessionState, Unreadable> {
    let (mark, expiry, rest) = split_view(view).ok_or(Unreadable::View)?;
    rebuild(
        (!mark.is_empty()).then_some(mark),
        expiry,
        rest,
        id,
        state_key,
    )
}

/// [`assemble`] for a key of layout 1: `None` for no session.
pub(crate) fn assemble_layout_1(
    fields: Layout1Fields,
    id: &SessionId,
    state_key: &str,
) -> Result<Option<SessionState>, Unreadable> {
    let (version, tombstone, expiry, rest) = fields;
    match version.as_deref() {
        None => Ok(None),
        Some("1") => rebuild(
            tombstone.as_deref(),
            expiry.as_deref().unwrap_or_default(),
            rest.as_deref().unwrap_or_default(),
            id,
            state_key,
        )
        .map(Some),
        // Layout 2 always has its view.
        Some("2") => Err(Unreadable::View),
        Some(_) => Err(Unreadable::Version(version.unwrap_or_default())),
    }
}

/// `<mark>:<n>:<e><m>` into the mark, the expiry state (its first `n` bytes) and the entries.
fn split_view(view: &str) -> Option<(&str, &str, &str)> {
    let (mark, rest) = view.split_once(':')?;
    let (length, rest) = rest.split_once(':')?;
    let length = length.parse().ok()?;
    Some((mark, rest.get(..length)?, rest.get(length..)?))
}

fn rebuild(
    tombstone: Option<&str>,
    expiry: &str,
    rest: &str,
    id: &SessionId,
    state_key: &str,
) -> Result<SessionState, Unreadable> {
    let mut state = SessionState::new();
    if let Some(why) = tombstone {
        // Only what the middleware needs to report the end of the session.
        let marker = Tombstone::of_mark(why).map_or(StoreMarker::Unknown, Tombstone::marker);
        marker.write(&mut state);
    } else {
        if !rest.is_empty() {
            state = serde_json::from_str(rest)?;
        }
        session_api::put_str(&mut state, ID_KEY, id.as_str());
    }
    if !expiry.is_empty() {
        // A tombstone's state only names what ended: where a live state never is.
        let key = if tombstone.is_some() {
            ENDING_KEY
        } else {
            state_key
        };
        state.insert(key.to_owned(), expiry.to_owned());
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

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
            (ID_KEY.to_owned(), "\"x\"".to_owned()),
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

    /// `STATE` with the other entries `{"cart":"[1,2]"}`, as the save script writes `r`.
    fn live_view() -> String {
        format!(r#":{}:{STATE}{{"cart":"[1,2]"}}"#, STATE.len())
    }

    #[test]
    fn a_stored_view_comes_back_as_the_same_state_with_the_id() {
        let state = assemble(&live_view(), &id(), STATE_KEY).unwrap();
        assert_eq!(state[STATE_KEY], STATE);
        assert_eq!(state["cart"], "[1,2]");
        assert_eq!(state[ID_KEY], format!("\"{}\"", id()));
        assert_eq!(state.len(), 3);
    }

    #[test]
    fn a_view_without_a_state_or_entries_is_a_session_with_only_its_id() {
        let state = assemble("::", &id(), STATE_KEY);
        assert!(state.is_err(), "no length is malformed");
        let state = assemble(":0:", &id(), STATE_KEY).unwrap();
        assert_eq!(state.keys().collect::<Vec<_>>(), [ID_KEY]);
    }

    #[test]
    fn a_layout_1_key_reads_as_the_same_state() {
        let fields = (
            Some("1".into()),
            None,
            Some(STATE.into()),
            Some(r#"{"cart":"[1,2]"}"#.into()),
        );
        let old = assemble_layout_1(fields, &id(), STATE_KEY)
            .unwrap()
            .unwrap();
        assert_eq!(old, assemble(&live_view(), &id(), STATE_KEY).unwrap());
        let tombstone = (Some("1".into()), Some("1".into()), Some(STATE.into()), None);
        let old = assemble_layout_1(tombstone, &id(), STATE_KEY)
            .unwrap()
            .unwrap();
        let view = format!("1:{}:{STATE}", STATE.len());
        assert_eq!(old, assemble(&view, &id(), STATE_KEY).unwrap());
    }

    #[test]
    fn a_tombstone_comes_back_as_the_revoked_marker_without_the_data() {
        let view = format!("1:{}:{STATE}", STATE.len());
        let state = assemble(&view, &id(), STATE_KEY).unwrap();
        assert_eq!(StoreMarker::read(&state), Some(StoreMarker::Revoked));
        // The state names what ended, away from the state key (no live state is there).
        assert_eq!(state[ENDING_KEY], STATE);
        assert!(!state.contains_key(STATE_KEY) && !state.contains_key(ID_KEY));
    }

    #[test]
    fn an_eviction_tombstone_comes_back_as_the_evicted_marker_and_a_strange_one_as_unknown() {
        let view = |t: &str| format!("{t}:{}:{STATE}", STATE.len());
        let evicted = assemble(&view("evicted"), &id(), STATE_KEY).unwrap();
        assert_eq!(StoreMarker::read(&evicted), Some(StoreMarker::Evicted));
        assert!(!evicted.contains_key(ID_KEY));
        let strange = assemble(&view("why"), &id(), STATE_KEY).unwrap();
        assert_eq!(StoreMarker::read(&strange), Some(StoreMarker::Unknown));
    }

    #[test]
    fn a_tombstone_is_marked_as_earlier_releases_marked_it() {
        assert_eq!(Tombstone::Revoked.mark(), "1");
        assert_eq!(Tombstone::Evicted.mark(), "evicted");
        for tombstone in [Tombstone::Revoked, Tombstone::Evicted] {
            assert_eq!(Tombstone::of_mark(tombstone.mark()), Some(tombstone));
        }
        assert_eq!(Tombstone::of_mark("why"), None);
        assert_eq!(Tombstone::of_mark(""), None);
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
        assert!(
            assemble_layout_1((None, None, None, None), &id(), STATE_KEY)
                .unwrap()
                .is_none()
        );
        for version in ["2", "3"] {
            let fields = (Some(version.into()), None, None, None);
            assert!(assemble_layout_1(fields, &id(), STATE_KEY).is_err());
        }
        let fields = (Some("1".into()), None, None, Some("[]".into()));
        assert!(assemble_layout_1(fields, &id(), STATE_KEY).is_err());
        let long = format!(":{}:{STATE}", STATE.len() + 1);
        let split = format!(":{}:{STATE}", STATE.len() - 1);
        for view in [
            "",
            ":",
            "1",
            ":x:",
            ":-1:",
            &long,
            ":1:é",
            &format!(":{}:{STATE}[]", STATE.len()),
        ] {
            assert!(assemble(view, &id(), STATE_KEY).is_err(), "{view:?}");
        }
        // A length that cuts the state short leaves JSON that is no object: refused too.
        assert!(assemble(&split, &id(), STATE_KEY).is_err());
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
