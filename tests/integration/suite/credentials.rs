//! Sessions end when credentials change, on every store (#26): the security stamp seen at
//! once on the instance that changed it, after the check interval for a change made outside the
//! app, `revoked` for a disabled user, and a failed lookup that ends nothing.
//!
//! The stamps live in one map for the whole test binary, and each body signs in a user of its
//! own, so bodies running at once never see each other's changes.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        LazyLock, Mutex,
    },
    time::Duration,
};

use actix_web::{http::StatusCode, test::TestRequest, web, HttpRequest, HttpResponse};
use session_expiry::{config::SessionExpiryBuilder, Expiry, ExpiryError, MockClock};

use super::{client_with, suite, Backend};
use crate::support::{assert_expired, assert_user, expiry, whoami};

suite!(
    a_password_change_ends_the_other_sessions_at_once_and_keeps_this_one,
    a_change_made_outside_the_app_ends_the_sessions_after_the_check_interval,
    a_disabled_user_is_signed_out_as_revoked,
    a_failed_lookup_answers_503_and_ends_nothing,
);

const INTERVAL: Duration = Duration::from_secs(60);

/// Each user's stamp, and the users whose lookups fail.
static STAMPS: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Mutex::default);
static FAILING: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

/// A user no other body uses, with a stamp.
fn new_user() -> String {
    static USERS: AtomicUsize = AtomicUsize::new(0);
    let user = format!("stamped-{}", USERS.fetch_add(1, Ordering::Relaxed));
    STAMPS.lock().unwrap().insert(user.clone(), 1);
    user
}

fn bump(user: &str) {
    *STAMPS.lock().unwrap().get_mut(user).unwrap() += 1;
}

fn stamped(builder: SessionExpiryBuilder) -> SessionExpiryBuilder {
    builder.security_stamp(|user: String, _: HttpRequest| async move {
        if FAILING.lock().unwrap().contains(&user) {
            return Err(std::io::Error::other("the user database is down"));
        }
        let stamp = STAMPS.lock().unwrap().get(&user).copied();
        Ok(stamp.map(u64::to_be_bytes))
    })
}

fn password_route(config: &mut web::ServiceConfig) {
    config.route("/password", web::post().to(change_password));
}

async fn change_password(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    bump(&user);
    expiry.credentials_changed()?;
    Ok(HttpResponse::NoContent().finish())
}

fn log_in(user: &str) -> TestRequest {
    TestRequest::post().uri(&format!("/login/{user}"))
}

pub async fn a_password_change_ends_the_other_sessions_at_once_and_keeps_this_one(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client_with(backend, stamped(expiry(&clock)), password_route).await;
    let user = new_user();
    assert_eq!(client.json(log_in(&user)).await.status, StatusCode::OK);
    let other = client.cookie();
    client.set_cookie(None);
    assert_eq!(client.json(log_in(&user)).await.status, StatusCode::OK);
    let this = client.cookie();

    let changed = client.json(TestRequest::post().uri("/password")).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert_ne!(client.cookie(), this, "the session ID is renewed");
    assert_user(&client.json(whoami()).await, &user);
    client.set_cookie(other);
    assert_expired(&client.json(whoami()).await, "credentials_changed");
}

pub async fn a_change_made_outside_the_app_ends_the_sessions_after_the_check_interval(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client_with(backend, stamped(expiry(&clock)), password_route).await;
    let user = new_user();
    assert_eq!(client.json(log_in(&user)).await.status, StatusCode::OK);
    bump(&user);
    clock.advance(INTERVAL - Duration::from_secs(1));
    assert_user(&client.json(whoami()).await, &user);
    clock.advance(Duration::from_secs(1));
    assert_expired(&client.json(whoami()).await, "credentials_changed");
}

pub async fn a_disabled_user_is_signed_out_as_revoked(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, stamped(expiry(&clock)), password_route).await;
    let user = new_user();
    assert_eq!(client.json(log_in(&user)).await.status, StatusCode::OK);
    STAMPS.lock().unwrap().remove(&user);
    clock.advance(INTERVAL);
    assert_expired(&client.json(whoami()).await, "revoked");
}

pub async fn a_failed_lookup_answers_503_and_ends_nothing(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, stamped(expiry(&clock)), password_route).await;
    let user = new_user();
    assert_eq!(client.json(log_in(&user)).await.status, StatusCode::OK);
    FAILING.lock().unwrap().insert(user.clone());
    clock.advance(INTERVAL);
    let answer = client.json(whoami()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert!(answer.header("retry-after").is_some(), "{answer:?}");
    FAILING.lock().unwrap().remove(&user);
    assert_user(&client.json(whoami()).await, &user);
}
