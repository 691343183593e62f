//! The store protocol: everything a server-side store and the middleware tell each other, and
//! the one seam to actix-session's own API.
//!
//! actix-session gives a store only a session's key and its state map, and gives the middleware
//! only the state map. What a store must say beyond plain session data (revoked, evicted, ended at
//! its deadline, unreachable), what the middleware must say to a store (the deadlines and the
//! user of a session), and what a store needs of the request (the client, for device labels)
//! goes through four channels, all here:
//!
//! - **The state** ([`STATE_KEY`](crate::STATE_KEY), `state/`): the record a store may read
//!   to learn a session's user, log-in instant and deadlines. The Redis store sets each key's TTL
//!   to the session's earliest deadline and files it in the user's index from it; a SQL store
//!   keeps the deadlines in columns its queries compare with `now()`.
//! - **Reserved entries** ([`reserved`]): under the prefix `session-expiry.`, put into the
//!   state map by a store's `load` for this request only and never persisted. [`StoreMarker`]
//!   (`revoked`, `evicted`, `ended`, `unavailable`) with its companions, and the session-id
//!   entry through which a registry's `current` marking and
//!   [`SessionId`](crate::registry::SessionId) learn which session a request holds.
//! - **The log-in record** ([`LoginRecord`]): what a store keeps of a log-in for its registry,
//!   and hands back in an `ended` marker once the session's data is gone.
//! - **The request scope** (`scope.rs`, [`RequestScope`](crate::redis::RequestScope)): a
//!   task-local around `SessionMiddleware` that carries the client's details in and what the
//!   store met out: a refused save is a `403`, a failed one a `503`, and a renewal must not bring
//!   back a session revoked meanwhile.
//!
//! [`session_api`] is the only module that names actix-session's types: `SessionStore` and its
//! errors, `Session` and its entries, the state map. actix-session's next release stores
//! entries as JSON values instead of JSON text (actix-extras #366); that port changes
//! `session_api` and the entry accessors it offers, not the middleware or the stores.

#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) mod failure;
pub(crate) mod login_record;
pub(crate) mod marker;
pub(crate) mod peek;
pub(crate) mod reserved;
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) mod scope;
pub(crate) mod session_api;

pub(crate) use self::{login_record::LoginRecord, marker::StoreMarker};
