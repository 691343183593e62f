//! Sessions in Redis: a deadline-aware session store, and a registry of each user's sessions to
//! list and revoke them ("log out everywhere"). Any number of app instances share one Redis.
//!
//! # Pieces
//! - [`RedisStore`]: actix-session's `SessionStore`. Each key's TTL is its session's own earliest
//!   deadline, so Redis drops a session the moment it can no longer be used; its registry entry
//!   stays a day longer, so the session's next request still gets the expired answer with
//!   reason `idle` or `absolute`.
//! - [`SessionRegistry`]: `list` (a [`Page`] at a time), `count`, `revoke`, `revoke_all`,
//!   `revoke_others`, one round trip each (two for `list`, `revoke_all` and `revoke_others` on a
//!   Redis Cluster), and `login`, which checks the session limit first. A revoked session's next
//!   request, on any instance, gets the expired answer with reason `revoked`.
//! - A session limit per user (100 unless set, see [below](#session-limit)): a log-in beyond it
//!   evicts the user's least recently active session, whose next request gets reason
//!   `evicted`, or is refused.
//! - [`SessionId`]: the opaque id of a session in the registry (a hash of its key), and the
//!   extractor of the current request's.
//! - [`RequestScope`]: an outer middleware that records the user agent and client IP at log-in,
//!   turns a save that failed on an unavailable Redis into `503`, and keeps a renewal from
//!   bringing back a session revoked meanwhile.
//!
//! # Getting started
//! ```no_run
//! use std::collections::HashMap;
//!
//! use actix_session::SessionMiddleware;
//! use actix_web::{cookie::Key, error::ErrorBadRequest, get, web, App, HttpResponse, HttpServer};
//! use session_expiry::{
//!     redis::{Page, PageCursor, RedisStore, RequestScope, SessionId, SessionRegistry},
//!     Expiry, ExpiryError, SessionExpiry,
//! };
//!
//! /// The signed-in user's sessions, this one marked, a page at a time (`?cursor=`).
//! #[get("/sessions")]
//! async fn sessions(
//!     expiry: Expiry,
//!     current: Option<SessionId>,
//!     query: web::Query<HashMap<String, String>>,
//!     registry: web::Data<SessionRegistry>,
//! ) -> actix_web::Result<HttpResponse> {
//!     let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
//!     let after = match query.get("cursor") {
//!         Some(cursor) => Some(cursor.parse::<PageCursor>().map_err(ErrorBadRequest)?),
//!         None => None,
//!     };
//!     let page = registry
//!         .list(&user, Page::new(20).after(after).current(current))
//!         .await?;
//!     // {"sessions": [{"device": "Firefox 128 on Linux", "current": true, ...}], "next": ...}
//!     Ok(HttpResponse::Ok().json(page))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let expiry = SessionExpiry::builder().login_path("/login").build();
//!     // The store takes the middleware's clock, state key, log settings and hooks.
//!     let store = RedisStore::builder("redis://127.0.0.1:6379")
//!         .for_middleware(&expiry)
//!         .build()
//!         .await?;
//!     let registry = store.registry();
//!     // Every instance must use the same key: load it from your secrets.
//!     let key = Key::generate();
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(web::Data::new(registry.clone()))
//!             .service(sessions)
//!             .wrap(expiry.clone())
//!             .wrap(SessionMiddleware::new(store.clone(), key.clone()))
//!             .wrap(RequestScope::new())
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Keys
//! A signed-in session's key (the cookie's value) starts with a hash of its user's id (keyed,
//! HMAC-SHA-256, when the middleware's [`UserIdLogging::hashed`](crate::config::UserIdLogging::hashed)
//! sets a secret, so that a list of e-mail addresses cannot be tested against key names;
//! changing or adding that secret leaves earlier sessions out of their user's list until they
//! end, so set it before going live); Redis keys
//! are named by a hash of the session key, never the key itself; and all of one user's keys share
//! a Redis Cluster hash tag: `<prefix>{<user hash>}:s:<session id>` for each session and, for the
//! user's index, `<prefix>{<user hash>}:i` (a hash: each session's log-in record), `:a` (a
//! sorted set: the live sessions by last activity), `:d` (the same by the instant their data
//! expires) and `:g` (the sessions that ended by their deadline, by the instant their log-in
//! record is forgotten, a day later). Sessions without a user live under
//! `<prefix>a:<session id>`. Log-in renews the session key, so a session is born in its user's
//! slot and never moves. One more key, `<prefix>valid-from` (a sorted set of one member),
//! keeps the instant of [`SessionRegistry::set_sessions_valid_from`].
//!
//! # Costs
//! What one user's many sessions cost never grows with their number, except where asked to
//! (revoking them all), so that one account cannot slow Redis down for everyone (a Lua script
//! holds Redis while it runs):
//!
//! | operation | Redis work, for a user with n sessions |
//! | --- | --- |
//! | a request on a session | one `HGET` of one field, O(1) |
//! | a refresh of last-seen (at most once per granularity), log-out | one script, O(log n) |
//! | a log-in, its eviction included | one script, O(log n) |
//! | a page of [`SessionRegistry::list`], [`count`](SessionRegistry::count), [`revoke`](SessionRegistry::revoke) | one script or command, O(log n + page size) |
//! | [`revoke_all`](SessionRegistry::revoke_all), [`revoke_others`](SessionRegistry::revoke_others) | O(n) in steps of 64 records (an `HSCAN` and a short script each), so others are served in between |
//!
//! Sessions that end are cleared from the index a few at a time by later log-ins and listings
//! (at most 16 each), never all at once. Measured figures: `BENCHMARKS.md` ("Many sessions of
//! one user").
//!
//! # Session limit
//! Each user may hold at most their session limit of live sessions:
//! [`DEFAULT_MAX_SESSIONS`](crate::DEFAULT_MAX_SESSIONS) (100) unless
//! [`SessionExpiryBuilder::max_sessions`](crate::config::SessionExpiryBuilder::max_sessions) or the
//! user's own policy ([`Policy::with_max_sessions`](crate::Policy::with_max_sessions),
//! `#[expiry(max_sessions = 3)]` in the derive, a resolver's answer) says otherwise. 100 is more
//! devices than anyone signs in from, so only runaway scripts and shared or stolen credentials
//! meet it, while it bounds what one account can make Redis keep (and a session list to a few
//! pages). The limit is the one the session's state carries from its log-in; the save script
//! enforces it atomically, so concurrent log-ins cannot exceed it:
//! - by default ([`OnMaxSessions::EvictLeastRecentlyActive`](crate::config::OnMaxSessions)), the user's
//!   least recently active session becomes a tombstone, and its next request, on any instance,
//!   gets the expired answer with reason `evicted` (browsers: `/login?…&reason=evicted`). A
//!   limit lowered below what a user holds is reached over the following log-ins, at most 16
//!   sessions evicted by each;
//! - with [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse), the log-in is not saved:
//!   [`RequestScope`] answers `403` `{"error":"too_many_sessions","max_sessions":n}`. A handler
//!   that signs users in with [`SessionRegistry::login`] learns it before, as
//!   [`ExpiryError::TooManySessions`](crate::ExpiryError::TooManySessions), and can say it in
//!   its own words.
//!
//! The cookie store keeps no registry, so it can enforce no limit (as it can revoke nothing):
//! limits need a server-side store such as this one.
//!
//! # Device labels
//! [`SessionInfo::device`] names the browser and operating system of the log-in ("Firefox 128
//! on Linux"), read from its user agent with the `ua-parser` crate: the ua-parser project's own
//! Rust implementation, maintained with uap-core, the regexes most user-agent parsers in other
//! languages share. That crate ships no data, so this one carries uap-core's browser and OS
//! regexes (not its device regexes, which would triple them for a label that says no more);
//! beyond `regex`, it brings two small crates. Of the others on crates.io, `woothee` carries
//! its own data and is lighter, but has had no release since 2021; `uaparser` and
//! `fast_uaparser` implement the same data with heavier trees; `user-agent-parser` needs the
//! Oniguruma C library. The cost: the regexes are compiled the first time a label is asked
//! for, about 0.1 s and 11 MB once per process (release build); a label then takes
//! microseconds, and nothing of it runs unless sessions are listed.
//!
//! # Redis Cluster
//! With the `redis-cluster` feature, `RedisStore::cluster_builder` takes the URLs of some of a
//! cluster's nodes; everything else is as on one Redis.
//! - Every operation touches the keys of one user, so of one hash slot: no `CROSSSLOT` error.
//!   A session without a user is a single key; signing in renews the session key, which
//!   actix-session does as a delete of the old key, then a save under the new one, in the
//!   user's slot: two operations of one slot each.
//! - While a slot moves to another node (resharding), the client follows `MOVED` and `ASK`
//!   redirections, and retries what the cluster answers `TRYAGAIN` (a call whose keys are split
//!   between the two nodes for a moment) every 10 to 100 ms, within the store's timeouts.
//! - For that, scripts declare every key they touch, so saving a signed-in session and
//!   [`SessionRegistry::list`] first ask which sessions they will touch (a script on the user's
//!   sorted sets, O(log n)), and [`revoke_all`](SessionRegistry::revoke_all) and
//!   [`revoke_others`](SessionRegistry::revoke_others) first read the user's log-in records
//!   (`HKEYS`): one round trip more than on one Redis. If the index changed in between, the
//!   script writes nothing and the store asks again. A request on an existing session costs
//!   the same.
//! - Failover (a replica promoted) is the `redis` client's to follow; this crate's tests do not
//!   cover it.
//!
//! # When Redis is unavailable
//! - A request that carries a session cookie gets `503` with `Retry-After` and
//!   `{"error":"session_store_unavailable"}` (a small HTML page for a browser's navigation), and
//!   an error in the log; its handler does not run.
//! - A request without one runs; if it writes a session (a log-in), the save fails and
//!   [`RequestScope`] answers `503` the same way (without it: actix-session's empty `500`).
//! - Every wait is bounded by the connection and response timeouts of [`RedisStoreBuilder`]; the
//!   connection is re-established by itself once Redis is back, without restarting the app.
//! - Nothing outlives its deadline meanwhile: the middleware judges every session by its own
//!   deadlines once it can read it again, and Redis expires keys by their TTL.

mod backend;
mod builder;
mod connection;
mod error;
mod keys;
mod listed;
mod live;
mod notify;
mod record;
mod registry;
mod scripts;
mod store;
mod valid_from;

// The registry's store-neutral pieces live in `crate::registry`; the Redis modules reach them
// under their old names.
use crate::registry::{id, page};

pub(crate) use self::backend::Backend;
pub use self::{builder::RedisStoreBuilder, error::RedisStoreError, store::RedisStore};
// Moved to `session_expiry::registry`, and still named here for now.
pub use crate::registry::{
    InvalidPageCursor, InvalidSessionId, Page, PageCursor, SessionId, SessionInfo, SessionPage,
    SessionRegistry, MAX_PAGE_SIZE,
};
pub use crate::store::scope::RequestScope;
