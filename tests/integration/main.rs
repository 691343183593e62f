//! Black-box tests of session-expiry through actix-web's full service stack: real
//! `SessionMiddleware` with the cookie store, real cookies carried between requests, time moved
//! with `MockClock`.

// Test support panics on any surprise: that is how a test fails.
#![allow(clippy::unwrap_used)]

#[path = "../../examples/demo/mod.rs"]
#[allow(dead_code)]
mod demo;

mod support;

mod answers;
mod browser_script;
mod policies;
mod quickstart;
mod robustness;
mod routes;
mod timeouts;
