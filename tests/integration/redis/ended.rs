//! A session Redis dropped at its deadline still ends with its reason.

use std::sync::{Arc, Mutex};

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{config::SessionExpiryBuilder, ExpiryEvent, ExpiryReason, MockClock};

use crate::{
    redis_support::{redis_app, Target},
    suite::suite,
    support::{
        assert_expired, assert_user, expiry, login_from, whoami, Answer, Client, IDLE, MINUTE,
    },
};

suite!(redis:
    a_session_redis_dropped_at_its_idle_deadline_ends_with_reason_idle,
    a_session_redis_dropped_at_its_absolute_deadline_ends_with_reason_absolute,
    a_session_logged_out_before_redis_dropped_it_is_just_anonymous,
    a_revoked_session_still_ends_as_revoked_and_never_as_idle,
);

/// The middleware of the tests, with every expiry event it reports.
fn recording(clock: &MockClock) -> (SessionExpiryBuilder, Arc<Mutex<Vec<ExpiryEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let reported = Arc::clone(&events);
    let middleware = expiry(clock).on_expired(move |event: &ExpiryEvent| {
        reported.lock().unwrap().push(event.clone());
    });
    (middleware, events)
}

#[track_caller]
fn assert_anonymous(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "{answer:?}");
    assert_eq!(
        answer.json()["expired_reason"],
        serde_json::Value::Null,
        "{answer:?}"
    );
}

pub async fn a_session_redis_dropped_at_its_idle_deadline_ends_with_reason_idle(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let client = Client::new(&app);
    client.login().await;
    let mut redis = target.inspect().await;
    let key = redis.session_keys().await[0].clone();
    let index = redis.index_keys().await[0].clone();
    let id = key.rsplit(':').next().unwrap().to_owned();

    clock.advance(IDLE);
    // Redis drops the key at the idle deadline (the mock clock does not move Redis's).
    redis.expire_now(&key).await;
    assert!(
        redis.index_lists(&index, &id).await,
        "the index outlives it"
    );
    let cookie = client.cookie();
    assert_expired(&client.json(whoami()).await, "idle");

    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].user.as_deref(), Some("alice"));
    assert_eq!(events[0].reason, ExpiryReason::Idle);
    assert_eq!(events[0].session_age, Some(IDLE));
    assert_eq!(events[0].idle_for, None, "last seen went with the data");
    assert!(!redis.index_lists(&index, &id).await, "purged");
    assert_eq!(redis.keys().await, Vec::<String>::new());

    // Said once: the same cookie again is just a visitor without a session.
    client.set_cookie(cookie);
    assert_anonymous(&client.json(whoami()).await);
}

pub async fn a_session_redis_dropped_at_its_absolute_deadline_ends_with_reason_absolute(
    target: &Target,
) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let mut redis = target.inspect().await;

    // Global policy: one absolute limit; this user's own snapshot: a shorter one, and a longer
    // idle one. Only the snapshot makes this hour `absolute` rather than `idle`.
    let remembered = Client::new(&app);
    let (idle, absolute) = (2 * 24 * 3600, 3600);
    let uri = format!("/login-with/alice/{idle}/{absolute}");
    assert_eq!(
        remembered.json(TestRequest::post().uri(&uri)).await.status,
        StatusCode::OK
    );
    let plain = Client::new(&app);
    plain.json(login_from("bob", "bob", "10.0.0.2")).await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 2, "{keys:?}");

    // Both active until their keys die: bob at his idle deadline, alice at her absolute one.
    for _ in 0..2 {
        clock.advance(20 * MINUTE);
        assert_user(&remembered.json(whoami()).await, "alice");
        assert_user(&plain.json(whoami()).await, "bob");
    }
    clock.advance(20 * MINUTE);
    for key in &keys {
        redis.expire_now(key).await;
    }
    assert_expired(&remembered.json(whoami()).await, "absolute");
    assert_expired(&plain.json(whoami()).await, "idle");

    let events = events.lock().unwrap().clone();
    let reasons: Vec<_> = events
        .iter()
        .map(|e| (e.user.as_deref(), e.reason, e.session_age))
        .collect();
    assert_eq!(
        reasons,
        [
            (Some("alice"), ExpiryReason::Absolute, Some(60 * MINUTE)),
            (Some("bob"), ExpiryReason::Idle, Some(60 * MINUTE)),
        ]
    );
    assert_eq!(redis.keys().await, Vec::<String>::new(), "indexes purged");
}

pub async fn a_session_logged_out_before_redis_dropped_it_is_just_anonymous(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (client, other) = (Client::new(&app), Client::new(&app));
    client.json(login_from("alice", "phone", "10.0.0.1")).await;
    other.json(login_from("alice", "laptop", "10.0.0.2")).await;
    let cookie = client.cookie();
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await[0].clone();

    client.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(redis.index_len(&index).await, 1, "log-out leaves the index");
    clock.advance(IDLE);
    client.set_cookie(cookie);
    assert_anonymous(&client.json(whoami()).await);
    assert!(events.lock().unwrap().is_empty());
}

pub async fn a_revoked_session_still_ends_as_revoked_and_never_as_idle(target: &Target) {
    let clock = MockClock::new();
    let (middleware, events) = recording(&clock);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let (phone, laptop) = (Client::new(&app), Client::new(&app));
    phone.json(login_from("alice", "phone", "10.0.0.1")).await;
    laptop.json(login_from("alice", "laptop", "10.0.0.2")).await;
    let laptop_cookie = laptop.cookie();
    let answer = phone
        .json(TestRequest::post().uri("/sessions/revoke-others"))
        .await;
    assert!(answer.status.is_success(), "{answer:?}");
    let mut redis = target.inspect().await;

    // Past the idle deadline, while the tombstone is still there: the tombstone wins.
    clock.advance(IDLE);
    assert_expired(&laptop.json(whoami()).await, "revoked");
    // Once Redis dropped the tombstone too, nothing names the session any more.
    laptop.set_cookie(laptop_cookie);
    let mut tombstones = Vec::new();
    for key in redis.session_keys().await {
        if redis.field(&key, "t").await.is_some() {
            tombstones.push(key);
        }
    }
    assert_eq!(tombstones.len(), 1, "{tombstones:?}");
    redis.expire_now(&tombstones[0]).await;
    assert_anonymous(&laptop.json(whoami()).await);
    let reasons: Vec<_> = events.lock().unwrap().iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [ExpiryReason::Revoked]);
}
