//! What the examples, the integration and browser tests and the benchmarks of session-expiry
//! share (not published): the demo app and its parts, Redis servers and clusters of a test's
//! own, sessions planted straight into Redis, and a test client that keeps the session cookie.
//!
//! Before this crate, `examples/` and `tests/` included each other's files with `#[path]`.

// A crate of test support: it panics on any surprise, and its items are documented where they
// are not obvious (the examples and tests are their documentation).
#![allow(missing_docs, clippy::unwrap_used)]

pub mod client;
pub mod demo;
pub mod metrics_page;
pub mod redis_cluster;
pub mod redis_plant;
pub mod redis_server;
pub mod roles;
pub mod sessions;
