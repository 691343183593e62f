//! What revoking leaves in Redis: a tombstone without the session's data until its deadline, and
//! an index that forgets what ended. The registry's behaviour on every store is the suite's
//! (`suite/registry.rs`).

use actix_web::test::TestRequest;
use session_expiry::{registry::Page, MockClock};

use crate::{
    redis_support::{assert_ttl, redis_app, Target},
    suite::suite,
    support::{assert_user, expiry, login_from, whoami, Client, IDLE, MINUTE},
};

suite!(redis:
    a_revoked_session_is_a_tombstone_without_its_data_until_its_deadline,
    a_session_that_ended_leaves_the_index_and_its_key_goes,
);

pub async fn a_revoked_session_is_a_tombstone_without_its_data_until_its_deadline(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;
    let mut redis = target.inspect().await;
    let page = registry.list("alice", Page::default()).await.unwrap();
    let laptop_id = page
        .sessions
        .iter()
        .find(|s| s.user_agent.as_deref() == Some("laptop"))
        .unwrap()
        .id
        .clone();
    assert!(registry.revoke("alice", &laptop_id).await.unwrap());

    let tombstone = redis
        .session_keys()
        .await
        .into_iter()
        .find(|key| key.ends_with(laptop_id.as_str()))
        .unwrap();
    assert_eq!(redis.field(&tombstone, "t").await.as_deref(), Some("1"));
    assert_eq!(
        redis
            .field(&tombstone, "r")
            .await
            .unwrap()
            .split(':')
            .next(),
        Some("1")
    );
    assert_eq!(redis.entries(&tombstone).await.as_deref(), Some(""));
    assert_ttl(redis.pttl(&tombstone).await, IDLE);

    // Revoking all of alice's leaves two tombstones and bob's session.
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    let keys = redis.session_keys().await;
    let mut tombstones = 0;
    for key in &keys {
        tombstones += usize::from(redis.field(key, "t").await.is_some());
    }
    assert_eq!((keys.len(), tombstones), (3, 2), "two tombstones and bob's");
}

pub async fn a_session_that_ended_leaves_the_index_and_its_key_goes(target: &Target) {
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let (phone, laptop, tablet) = (Client::new(&app), Client::new(&app), Client::new(&app));
    for (client, agent) in [(&phone, "phone"), (&laptop, "laptop"), (&tablet, "tablet")] {
        client.json(login_from("alice", agent, "10.0.0.1")).await;
    }
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await[0].clone();
    assert_eq!(redis.index_len(&index).await, 3);
    tablet.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(redis.index_len(&index).await, 2);
    assert_eq!(redis.session_keys().await.len(), 2);

    clock.advance(20 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");
    // The laptop passes its idle deadline; its key would expire in Redis at the same moment,
    // here a listing meets it first and deletes it.
    clock.advance(15 * MINUTE);
    let listed = phone.json(TestRequest::get().uri("/sessions")).await.json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(redis.index_len(&index).await, 1);
    assert_eq!(
        redis.session_keys().await.len(),
        1,
        "the ended session is deleted"
    );
}
