//! Black-box tests of session-expiry through actix-web's full service stack: real
//! `SessionMiddleware` with the cookie store or with Redis (a `redis-server` the tests start),
//! real cookies carried between requests, time moved with `MockClock`.

// Test support panics on any surprise: that is how a test fails.
#![allow(clippy::unwrap_used)]

// Shared with the examples and the benchmarks (the `testkit` crate).
use testkit::{demo, metrics_page, redis_cluster, redis_plant, redis_server, roles, sessions};

mod support;

mod answers;
mod browser_script;
mod credentials;
mod events;
mod live;
mod live_postgres;
mod live_redis;
mod live_support;
mod metrics_access;
mod password_change;
mod policies;
mod policy_integrity;
mod postgres_example;
mod postgres_store;
mod postgres_support;
mod quickstart;
mod redis;
mod redis_costs;
mod redis_credentials;
mod redis_example;
mod redis_outage;
mod redis_resharding;
mod redis_support;
mod robustness;
mod routes;
mod same_origin;
mod signed_out_flood;
mod step_up;
mod suite;
mod user_id_bounds;
