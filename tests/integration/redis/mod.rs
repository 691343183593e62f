//! What the Redis store does beyond the store-agnostic suite, one file per behaviour, each body
//! taking a [`Target`](crate::redis_support::Target) and registered with `suite!(redis: …)` so
//! it runs on a single node and on a Redis Cluster of three masters.

use std::{collections::HashMap, time::Duration};

use actix_session::storage::{SessionKey, SessionStore as _};
use actix_web::cookie::time::Duration as CookieDuration;
use chrono::{DateTime, Utc};
use session_expiry::{redis::RedisStore, STATE_KEY};

use crate::support::IDLE;

mod concurrency;
mod ended;
mod keys;
mod migration;
mod registry;
mod revoke;
mod ttl;

pub use crate::support::{after, instant};

/// A state as the middleware writes it (README: "what is stored").
pub fn state(user: &str, login: u64, seen: u64) -> HashMap<String, String> {
    let idle = u64::try_from(IDLE.as_millis()).unwrap();
    let raw = serde_json::json!([1, user, login, seen, seen + idle, null]);
    HashMap::from([
        (STATE_KEY.to_owned(), raw.to_string()),
        ("cart".to_owned(), "[\"apple\"]".to_owned()),
    ])
}

pub fn millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap()
}

pub const DAY: CookieDuration = CookieDuration::days(1);

pub fn key(raw: &str) -> SessionKey {
    SessionKey::try_from(raw.to_owned()).unwrap()
}

/// The key of a session alice signed in to at `login` (Unix ms), saved through the store.
pub async fn saved(store: &RedisStore, login: u64) -> String {
    let key = store.save(state("alice", login, login), &DAY).await;
    key.unwrap().into()
}

/// The session under `raw` loads as the revoked marker, without its data.
pub async fn assert_tombstone(store: &RedisStore, raw: &str) {
    let loaded = store.load(&key(raw)).await.unwrap().unwrap();
    assert_eq!(
        loaded.get("session-expiry.store").map(String::as_str),
        Some("\"revoked\""),
        "a tombstone: {loaded:?}"
    );
    assert!(!loaded.contains_key("cart"), "its data is gone");
}

/// How long a user's index outlives its sessions (the store's `INDEX_GRACE`).
pub const GRACE: Duration = Duration::from_secs(24 * 3600);
