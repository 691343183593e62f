//! Automatic log-out for [Actix Web]: end a session a fixed time after log-in (absolute
//! timeout), after a stretch of inactivity (idle timeout), or both.
//!
//! # Terms
//! - **Absolute timeout**: the longest a session may live after log-in, however busy.
//! - **Idle timeout**: the longest a session may go without activity.
//! - **Activity**: any request of a signed-in session, except those marked [`Passive`].
//! - **Refresh granularity**: last-seen is written at most once per this window, to save store
//!   writes; the error only ever ends a session early, never late.
//!
//! # Getting started
//! Register [`SessionExpiry`] inside actix-session's `SessionMiddleware` (that is, `.wrap` it
//! first), and sign users in and out through the [`Expiry`] extractor:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use actix_session::{storage::CookieSessionStore, SessionMiddleware};
//! use actix_web::{cookie::Key, get, post, App, HttpResponse, HttpServer, Responder};
//! use session_expiry::{Expiry, ExpiryError, SessionExpiry};
//!
//! #[post("/login")]
//! async fn login(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
//!     // Check the credentials first; then:
//!     expiry.login("alice")?;
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! #[get("/")]
//! async fn home(expiry: Expiry) -> impl Responder {
//!     match expiry.user() {
//!         Some(user) => HttpResponse::Ok().body(format!("hello {user}")),
//!         None => HttpResponse::Unauthorized().finish(),
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let key = Key::generate();
//!     HttpServer::new(move || {
//!         App::new()
//!             .service(login)
//!             .service(home)
//!             .service(session_expiry::web::scope("/session"))
//!             .wrap(
//!                 SessionExpiry::builder()
//!                     .idle_timeout(Duration::from_secs(30 * 60))
//!                     .absolute_timeout(Duration::from_secs(8 * 3600))
//!                     .login_path("/login")
//!                     .build(),
//!             )
//!             .wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! # Choosing a backend
//! - actix-session's cookie store: nothing to run, but a session lives in its cookie and cannot
//!   be revoked before its deadline, nor counted (no session limit per user).
//! - Redis (feature `redis`, module `session_expiry::redis`): sessions shared by any number of
//!   app instances, Redis keys that die at their session's deadline, and a registry to list and
//!   revoke each user's sessions ("log out everywhere") and limit how many each may hold; on a
//!   Redis Cluster with the `redis-cluster` feature.
//!
//! # Beyond the two timeouts
//! - Configuration: [`SessionExpiry::builder`] and the [`config`] module.
//! - Per user and per role: a [`PolicyResolver`] answers a role ([`ToPolicy`], or
//!   `#[derive(ExpiryPolicy)]` on an enum), once per log-in; "keep me signed in"
//!   ([`Expiry::login_remembered`]) stays within what the role allows.
//! - Per route: `#[idle_timeout]` and `#[absolute_timeout]` tighten the policy;
//!   `#[fresh_auth]` ([`FreshAuth`]) asks for the password again without ending the session.
//! - Forged requests: [`SameOrigin`](same_origin::SameOrigin) refuses state-changing requests from other origins.
//! - Cookies: [`RememberMeCookie`] makes a session's cookie end with the browser unless the user
//!   asked to be remembered.
//! - Long-lived connections: a WebSocket or event stream selects on
//!   [`SignedIn::ended`] (a [`SessionEnd`]) and closes when the session ends (module [`live`]).
//! - Observability: every log-in, log-out and expiry is a [`SessionEvent`], to a hook, to the
//!   log and (feature `metrics`) to counters.
//!
//! # Testing your own timeouts
//! With the `test-util` feature, `MockClock` moves time forward without sleeping: pass a
//! clone to [`SessionExpiryBuilder::clock`](config::SessionExpiryBuilder::clock) and call `MockClock::advance` in the test.
//!
//! # How it is built
//! The modules, a request's path through the middleware and the protocol between a store and
//! the middleware are described in the repository's `ARCHITECTURE.md`.
//!
//! [Actix Web]: https://docs.rs/actix-web

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod asset;
mod clock;
pub mod config;
mod context;
mod cookie_lifetime;
mod error;
mod event;
mod events;
mod extract;
mod fetch_metadata;
mod flow;
mod guard;
pub mod live;
mod login;
mod metrics;
mod middleware;
mod policy;
mod reason;
mod remember_me_cookie;
mod resolver;
mod response;
pub mod same_origin;
mod session_data;
mod signed_in;
mod signed_out;
mod stack_check;
mod stamp;
mod state;
mod status;
mod store;
mod unix_ms;
mod valid_from;
mod verdict;
pub mod web;

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(any(feature = "redis", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "redis", feature = "postgres"))))]
pub mod registry;

/// Not public API: entry points for this crate's benchmarks and generated code.
#[doc(hidden)]
pub mod __private {
    /// Decodes stored state exactly as the middleware does (30 s skew tolerance), for
    /// benchmarks; whether it is valid.
    #[must_use]
    pub fn decode_state(raw: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
        let now = crate::unix_ms::UnixMs::of(now);
        crate::state::ExpiryState::decode(raw, now, std::time::Duration::from_secs(30)).is_ok()
    }

    /// The PostgreSQL channel of ended sessions of `schema.table`, for tests that wait for its
    /// listeners.
    #[cfg(feature = "postgres")]
    #[must_use]
    pub fn postgres_ended_channel(schema: &str, table: &str) -> String {
        crate::postgres::notify_channel(schema, table)
    }
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "test-util")]
pub use self::clock::MockClock;
pub use self::{
    clock::{Clock, SystemClock},
    error::ExpiryError,
    event::{ExpiryEvent, SessionEvent},
    extract::{Expiry, Passive},
    guard::{AbsoluteWithin, FreshAuth, IdleWithin},
    live::{SessionActivity, SessionEnd},
    middleware::SessionExpiry,
    policy::{Policy, Setting, ToPolicy, DEFAULT_MAX_SESSIONS},
    reason::{ExpiryReason, UnknownReason},
    remember_me_cookie::RememberMeCookie,
    resolver::{PolicyResolver, ResolveFuture, ResolvedPolicy},
    signed_in::SignedIn,
    state::STATE_KEY,
    status::ExpiryStatus,
};
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use session_expiry_macros::{
    absolute_timeout, fresh_auth, idle_timeout, passive, ExpiryPolicy,
};
