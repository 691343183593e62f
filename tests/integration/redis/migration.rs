//! A session an earlier release saved is read and rewritten in the new layout.

use std::collections::HashMap;

use actix_session::storage::SessionStore as _;
use session_expiry::{Clock as _, MockClock, STATE_KEY};

use super::{assert_tombstone, key, millis, saved, state, DAY};
use crate::{
    redis_support::{Inspector, Target},
    suite::suite,
};

suite!(redis:
    a_session_an_earlier_release_saved_is_read_and_rewritten_in_the_new_layout,
);

/// Puts the session at `data` back in layout 1, as the previous release saved it: the expiry
/// state and the other entries in fields of their own (`e`, `m`), no `r`.
async fn in_layout_1(redis: &mut Inspector, data: &str, state: &HashMap<String, String>) {
    let mut rest = state.clone();
    let expiry = rest.remove(STATE_KEY).unwrap();
    let rest = serde_json::to_string(&rest).unwrap();
    let mut cmd = redis::cmd("HDEL");
    redis.command::<()>(cmd.arg(data).arg("r")).await;
    let mut cmd = redis::cmd("HSET");
    redis
        .command::<()>(cmd.arg(data).arg(&["v", "1", "e", &expiry, "m", &rest]))
        .await;
}

pub async fn a_session_an_earlier_release_saved_is_read_and_rewritten_in_the_new_layout(
    target: &Target,
) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let now = millis(clock.now());
    let mut redis = target.inspect().await;

    let refreshed = saved(&store, now).await;
    let data = redis.session_keys().await.pop().unwrap();
    let loaded = store.load(&key(&refreshed)).await.unwrap().unwrap();
    in_layout_1(&mut redis, &data, &state("alice", now, now)).await;
    assert_eq!(redis.field(&data, "r").await, None);
    assert_eq!(
        store.load(&key(&refreshed)).await.unwrap().as_ref(),
        Some(&loaded),
        "read as it was"
    );
    // Its next write lays it out anew, and a later state is kept.
    let later = state("alice", now, now + 1000);
    store
        .update(key(&refreshed), later.clone(), &DAY)
        .await
        .unwrap();
    assert_eq!(redis.field(&data, "v").await.as_deref(), Some("2"));
    assert_eq!(redis.field(&data, "e").await, None);
    assert_eq!(redis.field(&data, "m").await, None);
    let reloaded = store.load(&key(&refreshed)).await.unwrap().unwrap();
    assert_eq!(reloaded[STATE_KEY], later[STATE_KEY]);
    assert_eq!(reloaded["cart"], later["cart"]);
    // An older state than the stored one keeps the stored one, from either layout.
    in_layout_1(&mut redis, &data, &later).await;
    store
        .update(key(&refreshed), state("alice", now, now + 500), &DAY)
        .await
        .unwrap();
    let kept = store.load(&key(&refreshed)).await.unwrap().unwrap();
    assert_eq!(kept[STATE_KEY], later[STATE_KEY], "the later state stays");
    assert_eq!(redis.field(&data, "e").await, None);

    // A revocation lays a layout-1 session out as a tombstone of the new layout.
    in_layout_1(&mut redis, &data, &later).await;
    assert_eq!(store.registry().revoke_all("alice").await.unwrap(), 1);
    assert_eq!(redis.field(&data, "t").await.as_deref(), Some("1"));
    assert_eq!(redis.field(&data, "e").await, None);
    assert_eq!(redis.entries(&data).await.as_deref(), Some(""));
    assert_tombstone(&store, &refreshed).await;
}
