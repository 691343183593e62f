//! Sessions in Redis: a deadline-aware session store, and a registry of each user's sessions to
//! list and revoke them ("log out everywhere"). Any number of app instances share one Redis.
//!
//! # Pieces
//! - [`RedisStore`]: actix-session's `SessionStore`. Each key's TTL is its session's own earliest
//!   deadline, so Redis drops a session the moment it can no longer be used; its registry entry
//!   stays a day longer, so the session's next request still gets the expired answer with
//!   reason `idle` or `absolute`.
//! - [`SessionRegistry`]: `list`, `revoke`, `revoke_all`, `revoke_others`, one round trip each
//!   (two for all but `revoke` on a Redis Cluster).
//!   A revoked session's next request, on any instance, gets the expired answer with reason
//!   `revoked`.
//! - [`SessionId`]: the opaque id of a session in the registry (a hash of its key), and the
//!   extractor of the current request's.
//! - [`RequestScope`]: an outer middleware that records the user agent and client IP at log-in,
//!   turns a save that failed on an unavailable Redis into `503`, and keeps a renewal from
//!   bringing back a session revoked meanwhile.
//!
//! # Getting started
//! ```no_run
//! use actix_session::SessionMiddleware;
//! use actix_web::{cookie::Key, get, web, App, HttpResponse, HttpServer};
//! use session_expiry::{
//!     redis::{RedisStore, RequestScope, SessionId, SessionRegistry},
//!     Expiry, ExpiryError, SessionExpiry,
//! };
//!
//! /// The signed-in user's sessions, this one marked.
//! #[get("/sessions")]
//! async fn sessions(
//!     expiry: Expiry,
//!     current: Option<SessionId>,
//!     registry: web::Data<SessionRegistry>,
//! ) -> actix_web::Result<HttpResponse> {
//!     let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
//!     let sessions = registry.list(&user).await?;
//!     let marked: Vec<_> = sessions
//!         .into_iter()
//!         .map(|s| (current.as_ref() == Some(&s.id), s))
//!         .collect();
//!     Ok(HttpResponse::Ok().json(marked))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let store = RedisStore::builder("redis://127.0.0.1:6379").build().await?;
//!     let registry = store.registry();
//!     // Every instance must use the same key: load it from your secrets.
//!     let key = Key::generate();
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(web::Data::new(registry.clone()))
//!             .service(sessions)
//!             .wrap(SessionExpiry::builder().login_path("/login").build())
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
//! A signed-in session's key (the cookie's value) starts with a hash of its user's id; Redis keys
//! are named by a hash of the session key, never the key itself; and all of one user's keys share
//! a Redis Cluster hash tag: `<prefix>{<user hash>}:s:<session id>` for each session and
//! `<prefix>{<user hash>}:i` for the user's index. Sessions without a user live under
//! `<prefix>a:<session id>`. Log-in renews the session key, so a session is born in its user's
//! slot and never moves.
//!
//! # Redis Cluster
//! With the `redis-cluster` feature, [`RedisStore::cluster_builder`] takes the URLs of some of a
//! cluster's nodes; everything else is as on one Redis.
//! - Every operation touches the keys of one user, so of one hash slot: no `CROSSSLOT` error.
//!   A session without a user is a single key; signing in renews the session key, which
//!   actix-session does as a delete of the old key, then a save under the new one, in the
//!   user's slot: two operations of one slot each.
//! - While a slot moves to another node (resharding), the client follows `MOVED` and `ASK`
//!   redirections, and retries what the cluster answers `TRYAGAIN` (a call whose keys are split
//!   between the two nodes for a moment) every 10 to 100 ms, within the store's timeouts.
//! - For that, scripts declare every key they touch, so saving a signed-in session,
//!   [`SessionRegistry::list`], [`revoke_all`](SessionRegistry::revoke_all) and
//!   [`revoke_others`](SessionRegistry::revoke_others) first read the user's index (`HKEYS`):
//!   one round trip more than on one Redis. A request on an existing session costs the same.
//! - Failover (a replica promoted) is the `redis` client's to follow; this crate's tests do not
//!   cover it.
//!
//! # When Redis is unavailable
//! - A request that carries a session cookie gets `503` with `Retry-After` and
//!   `{"error":"session_store_unavailable"}`, and an error in the log; its handler does not run.
//! - A request without one runs; if it writes a session (a log-in), the save fails and
//!   [`RequestScope`] answers `503` the same way (without it: actix-session's empty `500`).
//! - Every wait is bounded by the connection and response timeouts of [`RedisStoreBuilder`]; the
//!   connection is re-established by itself once Redis is back, without restarting the app.
//! - Nothing outlives its deadline meanwhile: the middleware judges every session by its own
//!   deadlines once it can read it again, and Redis expires keys by their TTL.

mod builder;
mod connection;
mod error;
mod id;
mod keys;
mod listed;
mod record;
mod registry;
mod scope;
mod scripts;
mod store;

pub use self::{
    builder::RedisStoreBuilder,
    error::RedisStoreError,
    id::{InvalidSessionId, SessionId},
    registry::{SessionInfo, SessionRegistry},
    scope::{RequestScope, RequestScopeService},
    store::RedisStore,
};
