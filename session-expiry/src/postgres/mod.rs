//! Sessions in PostgreSQL: an actix-session store with the same per-user
//! [`SessionRegistry`](crate::registry::SessionRegistry) as the Redis store, expiry enforced in
//! its queries, no write in steady use, and one batched reaper per deployment.
//!
//! # Pieces
//! - [`PostgresStore`]: actix-session's `SessionStore`, on one table (see below) that the
//!   store creates and upgrades itself ([`PostgresStore::migrate`], run by
//!   [`build`](PostgresStoreBuilder::build)): versioned, idempotent, in one transaction under
//!   an advisory lock, so that any number of instances may start at once.
//! - [`PostgresStore::registry`]: the [`SessionRegistry`](crate::registry::SessionRegistry)
//!   both server-side stores hand out: list, count, revoke one, all or all others, and the
//!   per-user session limit (evict the least recently active, or refuse), taken under the
//!   user's advisory transaction lock so that concurrent log-ins never exceed it.
//! - [`PostgresStore::reap`] and [`spawn_reaper`](PostgresStore::spawn_reaper): delete rows a
//!   day past their session's end, one instance at a time (`pg_try_advisory_lock`), in
//!   bounded batches of heap pages.
//! - [`RequestScope`]: the same outer middleware as the Redis store's (device labels, `503` for
//!   a failed save, `403` for a refused log-in).
//!
//! # Costs
//! | operation | statements |
//! | --- | --- |
//! | a request on a session | one `SELECT` by primary key |
//! | a refresh of last-seen (at most once per granularity) | one `UPDATE` by primary key, HOT (it changes no indexed column) |
//! | a log-in of a signed-in user | a transaction: the user's advisory lock, a count of the user's live sessions, an eviction when over the limit, an `INSERT` |
//! | a log-out | one `DELETE` by primary key |
//! | [`list`](crate::registry::SessionRegistry::list) a page, [`count`](crate::registry::SessionRegistry::count), [`revoke`](crate::registry::SessionRegistry::revoke) | one statement |
//! | [`revoke_all`](crate::registry::SessionRegistry::revoke_all), [`revoke_others`](crate::registry::SessionRegistry::revoke_others) | one statement per 64 sessions |
//!
//! The statements per operation never grow with a user's session count. The rows they visit
//! do for `count`, `list` and the log-in's count and eviction (the user's rows through the
//! `(user_tag, login_ms)` index, sorted by activity): ordering by last activity through an
//! index would index a column every refresh changes and cost every refresh its HOT update.
//! The session limit (100 unless set) bounds those rows.
//!
//! # Expiry in the query
//! Every statement compares the session's deadline (`expires_ms`, from the expiry state) with
//! the app's clock (the middleware's, so `MockClock` works in tests): a row
//! past its deadline gives back no data, whatever the reaper has or has not done (only its
//! expiry state, and the entries the middleware's
//! [`logout_behavior`](crate::config::SessionExpiryBuilder::logout_behavior) keeps past a
//! session's end). Its log-in record stays a day more, so that its next request gets the
//! expired answer with reason `idle` or `absolute`; a revoked or evicted row keeps its reason
//! the same way. actix-session's state TTL, the deadline of a session without one of its own,
//! is counted by the same clock. App
//! instances sharing a database need synchronized clocks, as they do for the middleware.
//!
//! # When PostgreSQL is unavailable or slow
//! Every operation is bounded by [`PostgresStoreBuilder::timeout`] (the wait for a pooled
//! connection included; built from a URL, the server's `statement_timeout` too). Past it, or
//! with the server down, a request carrying a session gets `503` with `Retry-After` (through
//! the middleware, negotiated like the other answers) and a failed save `503` through
//! [`RequestScope`]. The pool replaces broken connections by itself once the server is back.
//!
//! # Why tokio-postgres and deadpool-postgres, not sqlx
//! They are the stack of Actix's own PostgreSQL example (`actix/examples`,
//! `databases/postgres`), their MSRV (1.85) fits this crate's 1.89 while sqlx 0.9 needs 1.94,
//! they bring the fewest dependencies, and the store owns its SQL (a handful of fixed
//! statements, prepared once per connection), which needs no query builder or compile-time
//! checked queries.
//!
//! # TLS
//! [`PostgresStore::builder`] connects without TLS (`tokio_postgres::NoTls`): for a database on
//! the same host or a private network. For TLS, build the pool yourself with the connector of
//! your choice (`postgres-rustls`' or `tokio-postgres-rustls`' `MakeRustlsConnect`, or
//! `postgres-native-tls`' `MakeTlsConnector`) and hand it to [`PostgresStore::from_pool`]:
//!
//! ```ignore
//! let config: tokio_postgres::Config = url.parse()?;
//! let manager = deadpool_postgres::Manager::new(config, MakeRustlsConnect::new(tls_config));
//! let pool = deadpool_postgres::Pool::builder(manager).max_size(16).build()?;
//! let store = PostgresStore::from_pool(pool).for_middleware(&expiry).build().await?;
//! ```

mod backend;
mod builder;
mod error;
mod live;
mod notify;
pub(crate) use self::notify::channel as notify_channel;
mod reaper;
mod registry;
mod schema;
mod store;
mod valid_from;

pub(crate) use self::backend::Backend;
pub use self::{
    builder::PostgresStoreBuilder, error::PostgresStoreError, reaper::Reaped, store::PostgresStore,
};
pub use crate::store::scope::RequestScope;
