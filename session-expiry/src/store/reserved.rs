//! The names of the reserved entries: put into a session's state map by a store's `load`, for
//! one request, and never persisted (a store drops every entry under [`RESERVED_PREFIX`] when it
//! saves).

/// Entries under this prefix are the store's, for this request only; the state itself is under
/// [`STATE_KEY`](crate::STATE_KEY), which does not match it.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) const RESERVED_PREFIX: &str = "session-expiry.";
/// The entry that holds a [`StoreMarker`](super::StoreMarker).
pub(crate) const MARKER_KEY: &str = "session-expiry.store";
/// With an `unavailable` marker: how many seconds the client should wait before retrying.
pub(crate) const RETRY_AFTER_KEY: &str = "session-expiry.retry-after";
/// With an `ended` marker: what the store still knew of the session, as a
/// [`LoginRecord`](super::LoginRecord)
/// (`{"l": login_ms, "u": user, "p": [idle_ms, absolute_ms] | null, …}`).
pub(crate) const ENDED_KEY: &str = "session-expiry.ended";
/// With a `revoked` or `evicted` marker: the session's expiry state, to name its user and age in
/// the event. Not under the state key, so that a request that finds the state key needs no
/// look for a marker.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) const ENDING_KEY: &str = "session-expiry.ending";
/// With a live session of a store that has a registry: the session's public id (a JSON string),
/// for [`SessionId`](crate::registry::SessionId) and the registry's `current` marking.
#[cfg_attr(not(any(feature = "redis", feature = "postgres")), allow(dead_code))]
pub(crate) const ID_KEY: &str = "session-expiry.id";
