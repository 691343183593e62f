//! The one module that names actix-session's own API: what a store implements
//! (`SessionStore` and its errors), what the middleware reads (`Session` and its entries) and
//! the state map both pass around.
//!
//! Today an entry's value is its JSON text (`"\"alice\""` for the string `alice`). actix-session's
//! next release keeps `serde_json::Value`s instead (actix-extras #366, merged, unreleased): the
//! port changes [`SessionState`] and the accessors below, and the crate's other modules follow
//! through them.

use std::{cell::Ref, collections::HashMap};

#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError,
};
pub(crate) use actix_session::{Session, SessionExt, SessionInsertError};

/// A session's state as actix-session hands it to a store's `save` and back from its `load`,
/// and keeps it for a request: entry name to the entry's JSON text.
pub(crate) type SessionState = HashMap<String, String>;

/// The request's session state, borrowed in place: the per-request path reads it without a copy.
pub(crate) fn entries(session: &Session) -> Ref<'_, SessionState> {
    session.entries()
}

/// The JSON text of entry `key`, as the state's own decoder reads it.
pub(crate) fn json_text<'a>(state: &'a SessionState, key: &str) -> Option<&'a str> {
    state.get(key).map(String::as_str)
}

/// Sets entry `key` of a state a store hands to actix-session to the JSON string `value`.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) fn put_str(state: &mut SessionState, key: &str, value: &str) {
    let plain = value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    let text = if plain {
        // Ids and marker names, on every load: quoted without a serializer.
        let mut text = String::with_capacity(value.len() + 2);
        text.push('"');
        text.push_str(value);
        text.push('"');
        text
    } else {
        // Serializing a `&str` cannot fail; an empty string would be a bug, not a panic.
        serde_json::to_string(value).unwrap_or_else(|_| String::from("\"\""))
    };
    state.insert(key.to_owned(), text);
}

/// Whether actix-session has taken the request's state to save it. It takes the map with
/// `mem::take`, which leaves one that never allocated; a handler's `clear()` or `purge()` keeps
/// the allocation. The stack check tells "`SessionMiddleware` inside `SessionExpiry`" apart by
/// it (recheck when actix-session changes how it hands the state over).
pub(crate) fn taken_for_saving(session: &Session) -> bool {
    session.entries().capacity() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_entry_is_stored_as_its_json_text() {
        let mut state = SessionState::new();
        put_str(&mut state, "k", "a \"quoted\" value");
        assert_eq!(json_text(&state, "k"), Some(r#""a \"quoted\" value""#));
        put_str(&mut state, "plain", "revoked");
        assert_eq!(json_text(&state, "plain"), Some("\"revoked\""));
        put_str(&mut state, "control", "a\nb");
        assert_eq!(json_text(&state, "control"), Some("\"a\\nb\""));
        assert_eq!(json_text(&state, "missing"), None);
    }
}
