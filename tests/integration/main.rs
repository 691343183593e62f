//! Black-box tests of session-expiry through actix-web's full service stack: real
//! `SessionMiddleware` with the cookie store or with Redis (a `redis-server` the tests start),
//! real cookies carried between requests, time moved with `MockClock`.

// Test support panics on any surprise: that is how a test fails.
#![allow(clippy::unwrap_used)]

#[path = "../../examples/demo/mod.rs"]
#[allow(dead_code)]
mod demo;

#[path = "../../examples/sessions/mod.rs"]
mod sessions;

#[path = "../../examples/roles/mod.rs"]
mod roles;

#[path = "../../examples/metrics_page/mod.rs"]
mod metrics_page;

mod support;

mod answers;
mod browser_script;
mod ended_means_ended;
mod events;
mod metrics_access;
mod policies;
mod policy_integrity;
mod postgres_store;
mod postgres_support;
mod quickstart;
mod redis_cluster;
mod redis_costs;
mod redis_example;
mod redis_outage;
mod redis_plant;
mod redis_registry;
mod redis_resharding;
mod redis_server;
mod redis_store;
mod redis_support;
mod robustness;
mod routes;
mod same_origin;
mod signed_out_flood;
mod step_up;
mod timeouts;
mod user_id_bounds;
