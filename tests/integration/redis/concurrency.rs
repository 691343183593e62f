//! Concurrent requests and saves: a revoked or deleted session never comes back, last-seen never moves backwards.

use std::{
    cell::Cell,
    time::{Duration, Instant},
};

use actix_session::SessionExt as _;
use actix_session::{config::CookieContentSecurity, storage::SessionStore as _};
use actix_web::{test::TestRequest, web, HttpRequest, HttpResponse};
use futures_util::future::join_all;
use session_expiry::{redis::Page, Clock as _, MockClock, STATE_KEY};
use tokio::sync::Notify;

use super::{assert_tombstone, key, millis, saved, state, DAY};
use crate::{
    redis_support::{assert_ttl, redis_app, redis_app_with, Target},
    suite::suite,
    support::{assert_expired, expiry, whoami, Client, IDLE},
};

suite!(redis:
    an_update_never_brings_back_a_deleted_or_revoked_session,
    no_request_starting_after_a_revoke_succeeds_and_no_key_reappears,
    a_session_renewed_while_it_is_revoked_is_not_born_again,
    last_seen_never_moves_backwards_under_concurrent_saves,
);

pub async fn an_update_never_brings_back_a_deleted_or_revoked_session(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let now = millis(clock.now());
    let mut redis = target.inspect().await;

    let deleted = saved(&store, now).await;
    store.delete(&key(&deleted)).await.unwrap();
    let returned = store
        .update(key(&deleted), state("alice", now, now + 1000), &DAY)
        .await
        .unwrap();
    assert_eq!(String::from(returned), deleted, "no new key either");
    assert_eq!(store.load(&key(&deleted)).await.unwrap(), None);
    assert_eq!(redis.keys().await, Vec::<String>::new());

    let revoked = saved(&store, now).await;
    assert_eq!(store.registry().revoke_all("alice").await.unwrap(), 1);
    store
        .update(key(&revoked), state("alice", now, now + 1000), &DAY)
        .await
        .unwrap();
    store.delete(&key(&revoked)).await.unwrap();
    assert_tombstone(&store, &revoked).await;
    assert_eq!(
        store
            .registry()
            .list("alice", Page::default())
            .await
            .unwrap()
            .sessions,
        vec![]
    );
}

pub async fn no_request_starting_after_a_revoke_succeeds_and_no_key_reappears(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let client = Client::new(&app);
    client.login().await;
    let cookie = client.cookie().unwrap();
    let mut redis = target.inspect().await;

    let revoked = Cell::new(false);
    let requests = (0..200_u64).map(|n| {
        let (app, cookie, revoked) = (&app, cookie.clone(), &revoked);
        async move {
            actix_web::rt::time::sleep(Duration::from_millis(n)).await;
            let started_after_revoke = revoked.get();
            let one = Client::new(app);
            one.set_cookie(Some(cookie));
            // Half read, half write (keep-alive refreshes last-seen every time).
            let req = if n % 2 == 0 {
                whoami()
            } else {
                TestRequest::post().uri("/session/keepalive")
            };
            (started_after_revoke, one.json(req).await)
        }
    });
    let revoke = async {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        registry.revoke_all("alice").await.unwrap();
        revoked.set(true);
    };
    let (mut answers, ()) = futures_util::future::join(join_all(requests), revoke).await;
    // However slow the machine (the revoke may end after every request above started), these
    // start after it.
    for n in 0..10 {
        let one = Client::new(&app);
        one.set_cookie(Some(cookie.clone()));
        let req = if n % 2 == 0 {
            whoami()
        } else {
            TestRequest::post().uri("/session/keepalive")
        };
        answers.push((true, one.json(req).await));
    }

    let (mut before, mut after) = (0, 0);
    for (started_after_revoke, answer) in &answers {
        if *started_after_revoke {
            after += 1;
            assert_expired(answer, "revoked");
        } else if answer.status.is_success() {
            before += 1;
        } else {
            assert_expired(answer, "revoked");
        }
    }
    assert!(
        before > 0 && after > 0,
        "{before} succeeded before, {after} after"
    );
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1, "one session, no new key: {keys:?}");
    assert_eq!(redis.field(&keys[0], "t").await.as_deref(), Some("1"));
    assert_eq!(
        redis.entries(&keys[0]).await.as_deref(),
        Some(""),
        "no data written back"
    );
    assert_eq!(redis.keys().await, keys, "no index, no anonymous key");
    let late = Client::new(&app);
    late.set_cookie(Some(cookie));
    assert_expired(&late.json(whoami()).await, "revoked");
}

/// Lets a test revoke a session while a request on it is in its handler.
#[derive(Default)]
struct Gates {
    entered: Notify,
    open: Notify,
}

/// Waits for the test, then renews the session (as an app may on a privilege change).
async fn renew_later(req: HttpRequest, gates: web::Data<Gates>) -> actix_web::Result<HttpResponse> {
    gates.entered.notify_one();
    gates.open.notified().await;
    let session = req.get_session();
    session.renew();
    session.insert("renewed", true)?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn a_session_renewed_while_it_is_revoked_is_not_born_again(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let gates = web::Data::new(Gates::default());
    let routes = {
        let gates = gates.clone();
        move |config: &mut web::ServiceConfig| {
            config
                .app_data(gates)
                .route("/renew-later", web::post().to(renew_later));
        }
    };
    let private = CookieContentSecurity::Private;
    let app = redis_app_with(store, expiry(&clock), private, routes).await;
    let client = Client::new(&app);
    client.login().await;
    let mut redis = target.inspect().await;

    let renewing = client.json(TestRequest::post().uri("/renew-later"));
    let revoking = async {
        gates.entered.notified().await;
        assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
        gates.open.notify_one();
    };
    futures_util::future::join(renewing, revoking).await;

    assert_eq!(
        registry
            .list("alice", Page::default())
            .await
            .unwrap()
            .sessions,
        vec![]
    );
    let keys = redis.keys().await;
    assert_eq!(keys.len(), 1, "only the tombstone: {keys:?}");
    assert_eq!(redis.field(&keys[0], "t").await.as_deref(), Some("1"));
    let after = client.json(whoami()).await;
    assert_eq!(after.json()["user"], serde_json::Value::Null, "{after:?}");
}

pub async fn last_seen_never_moves_backwards_under_concurrent_saves(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let login = millis(clock.now());
    let mut redis = target.inspect().await;
    let saved = saved(&store, login).await;

    // 50 requests that saw the session at different times, their writes arriving in a shuffled
    // order (37 is coprime with 50).
    let seen: Vec<u64> = (0..50).map(|n| login + (n * 37 % 50 + 1) * 1000).collect();
    let latest = login + 50_000;
    let started = Instant::now();
    let updates = seen
        .iter()
        .map(|&s| store.update(key(&saved), state("alice", login, s), &DAY));
    for result in join_all(updates).await {
        result.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    // And one more, late and stale.
    store
        .update(key(&saved), state("alice", login, login + 1000), &DAY)
        .await
        .unwrap();

    let loaded = store.load(&key(&saved)).await.unwrap().unwrap();
    let stored: serde_json::Value = serde_json::from_str(&loaded[STATE_KEY]).unwrap();
    assert_eq!(stored[3], latest);
    let listed = store
        .registry()
        .list("alice", Page::default())
        .await
        .unwrap()
        .sessions;
    assert_eq!(millis(listed[0].last_seen), latest);
    let idle = u64::try_from(IDLE.as_millis()).unwrap();
    assert_eq!(listed[0].expires_at.map(millis), Some(latest + idle));
    let data_key = &redis.session_keys().await[0];
    assert_ttl(
        redis.pttl(data_key).await,
        Duration::from_millis(latest + idle - login),
    );
}
