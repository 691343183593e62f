//! The registry lists a user's sessions and revokes one or all of them, on every instance at once.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{Clock as _, ExpiryEvent, ExpiryReason, MockClock};

use super::{after, instant};
use crate::{
    redis_support::{assert_ttl, redis_app, Target},
    suite::suite,
    support::{
        assert_expired, assert_user, expiry, login_from, sessions, whoami, Client, IDLE, MINUTE,
    },
};

suite!(redis:
    the_registry_lists_each_session_of_a_user_with_where_it_signed_in,
    revoking_one_session_ends_only_that_one_at_its_next_request,
    revoke_all_ends_every_session_of_the_user_on_every_instance_at_once,
    the_registry_forgets_sessions_that_ended,
);

pub async fn the_registry_lists_each_session_of_a_user_with_where_it_signed_in(target: &Target) {
    let clock = MockClock::new();
    let start = clock.now();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));

    phone
        .json(login_from("alice", "Phone/1.0", "10.0.0.1"))
        .await;
    clock.advance(5 * MINUTE);
    laptop
        .json(login_from("alice", "Laptop/2.0", "10.0.0.2"))
        .await;
    bob.json(login_from("bob", "Bob/1.0", "10.0.0.3")).await;
    clock.advance(2 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");

    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let (mine, other) = (&listed[0], &listed[1]);
    assert_eq!(mine["current"], true);
    assert_eq!(mine["user_agent"], "Phone/1.0");
    assert_eq!(mine["ip"], "10.0.0.1");
    assert_eq!(instant(&mine["logged_in_at"]), start);
    assert_eq!(instant(&mine["last_seen"]), after(start, 7 * MINUTE));
    assert_eq!(
        instant(&mine["expires_at"]),
        after(start, 7 * MINUTE + IDLE)
    );
    assert_eq!(other["current"], false);
    assert_eq!(other["user_agent"], "Laptop/2.0");
    assert_eq!(other["ip"], "10.0.0.2");
    assert_eq!(instant(&other["logged_in_at"]), after(start, 5 * MINUTE));
    assert_ne!(mine["id"], other["id"]);

    // Listed before this request's own activity is recorded: still second.
    let from_laptop = laptop.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(from_laptop[1]["id"], other["id"]);
    assert_eq!(from_laptop[1]["current"], true);
    assert_eq!(from_laptop[0]["current"], false);
    let bobs = bob.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["user_agent"], "Bob/1.0");

    let anonymous = Client::new(&app).json(sessions()).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

pub async fn revoking_one_session_ends_only_that_one_at_its_next_request(target: &Target) {
    let clock = MockClock::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&events);
    let middleware = expiry(&clock).on_expired(move |event: &ExpiryEvent| {
        reported.lock().unwrap().push(event.clone());
    });
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;
    let mut redis = target.inspect().await;

    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    let laptop_entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["user_agent"] == "laptop")
        .unwrap();
    let laptop_id = laptop_entry["id"].as_str().unwrap().to_owned();
    let delete = |id: &str| TestRequest::delete().uri(&format!("/sessions/{id}"));
    let answer = phone.json(delete(&laptop_id)).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{answer:?}");

    let laptop_cookie = laptop.cookie();
    assert_expired(&laptop.json(whoami()).await, "revoked");
    let event = events.lock().unwrap()[0].clone();
    assert_eq!(event.user.as_deref(), Some("alice"));
    assert_eq!(event.reason, ExpiryReason::Revoked);
    assert_eq!(event.session_age, Some(Duration::ZERO));
    laptop.set_cookie(laptop_cookie);
    assert_expired(&laptop.json(whoami()).await, "revoked");
    assert_user(&phone.json(whoami()).await, "alice");
    assert_user(&bob.json(whoami()).await, "bob");

    // The revoked session is a tombstone without its data, until its own deadline.
    let tombstone = redis
        .session_keys()
        .await
        .into_iter()
        .find(|key| key.ends_with(&laptop_id))
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

    assert_eq!(
        phone.json(delete(&laptop_id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        phone.json(delete("nonsense")).await.status,
        StatusCode::NOT_FOUND
    );
    let bobs_id = bob.json(sessions()).await.json()["sessions"].clone()[0]["id"].clone();
    let answer = phone.json(delete(bobs_id.as_str().unwrap())).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "ids are per user");
    assert_user(&bob.json(whoami()).await, "bob");
    assert_eq!(
        phone.json(sessions()).await.json()["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

pub async fn revoke_all_ends_every_session_of_the_user_on_every_instance_at_once(target: &Target) {
    let clock = MockClock::new();
    let instance_a = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let instance_b = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let mut redis = target.inspect().await;

    let on_a = Client::new(&instance_a);
    on_a.json(login_from("alice", "phone", "10.0.0.1")).await;
    let on_b = Client::new(&instance_b);
    on_b.set_cookie(on_a.cookie());
    assert_user(&on_b.json(whoami()).await, "alice");
    let tablet = Client::new(&instance_b);
    tablet.json(login_from("alice", "tablet", "10.0.0.2")).await;
    let bob = Client::new(&instance_a);
    bob.json(login_from("bob", "bob", "10.0.0.3")).await;

    let answer = on_a
        .json(TestRequest::post().uri("/sessions/revoke-all"))
        .await;
    assert_eq!(answer.json(), serde_json::json!({"revoked": 2}));

    assert_expired(&on_b.json(whoami()).await, "revoked");
    assert_expired(&tablet.json(whoami()).await, "revoked");
    assert_expired(&on_a.json(whoami()).await, "revoked");
    assert_user(&bob.json(whoami()).await, "bob");
    let keys = redis.session_keys().await;
    let mut tombstones = 0;
    for key in &keys {
        tombstones += usize::from(redis.field(key, "t").await.is_some());
    }
    assert_eq!((keys.len(), tombstones), (3, 2), "two tombstones and bob's");
}

pub async fn the_registry_forgets_sessions_that_ended(target: &Target) {
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
    assert_eq!(
        redis.index_len(&index).await,
        2,
        "log-out leaves the registry"
    );
    assert_eq!(redis.session_keys().await.len(), 2);

    clock.advance(20 * MINUTE);
    assert_user(&phone.json(whoami()).await, "alice");
    // The laptop passes its idle deadline; its key would expire in Redis at the same moment,
    // here the registry meets it first.
    clock.advance(15 * MINUTE);
    let listed = phone.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:?}");
    assert_eq!(listed[0]["user_agent"], "phone");
    assert_eq!(redis.index_len(&index).await, 1);
    assert_eq!(
        redis.session_keys().await.len(),
        1,
        "the ended session is deleted"
    );
    let answer = laptop.json(whoami()).await;
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "it is over");
}
