//! Each Redis key lives exactly until its session's earliest deadline, and moves to its user's slot at log-in.

use std::time::Duration;

use actix_session::config::CookieContentSecurity;
use actix_session::SessionExt as _;
use actix_web::{http::StatusCode, test::TestRequest, web, HttpRequest, HttpResponse};
use session_expiry::{config::Adoption, Clock as _, MockClock, Policy};

use super::{after, instant, GRACE};
use crate::{
    redis_support::{assert_ttl, redis_app, redis_app_with, Target},
    suite::suite,
    support::{
        assert_expired, assert_user, expiry, login_from, sessions, whoami, Client, ABSOLUTE, IDLE,
        MINUTE,
    },
};

suite!(redis:
    each_key_lives_exactly_until_its_sessions_earliest_deadline,
    a_users_own_policy_sets_the_ttl_of_their_keys,
    a_session_without_a_user_gets_actix_sessions_ttl_and_log_in_moves_it_to_the_users_slot,
    a_session_adopted_from_another_sign_in_moves_to_its_users_slot,
);

pub async fn each_key_lives_exactly_until_its_sessions_earliest_deadline(target: &Target) {
    let clock = MockClock::new();
    let start = clock.now();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    client.login().await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert_ttl(redis.pttl(key).await, IDLE);
    let index = &redis.index_keys().await[0];
    assert_ttl(redis.pttl(index).await, IDLE + GRACE);

    // Activity moves the idle deadline, until the absolute one is nearer: then the TTL shrinks.
    let mut elapsed = Duration::ZERO;
    for step in std::iter::repeat_n(20 * MINUTE, 23).chain([19 * MINUTE]) {
        clock.advance(step);
        elapsed += step;
        assert_user(&client.json(whoami()).await, "alice");
        let left = IDLE.min(ABSOLUTE - elapsed);
        assert_ttl(redis.pttl(key).await, left);
        assert!(redis.pttl(index).await >= redis.pttl(key).await);
    }
    assert_ttl(redis.pttl(key).await, MINUTE);
    let listed = client.json(sessions()).await.json()["sessions"].clone();
    assert_eq!(instant(&listed[0]["expires_at"]), after(start, ABSOLUTE));

    clock.advance(MINUTE);
    let answer = client.json(whoami()).await;
    assert_eq!(answer.json()["reason"], "absolute");
    assert_eq!(redis.pttl(key).await, -2, "the ended session is deleted");
    assert_eq!(redis.keys().await, Vec::<String>::new());
}

pub async fn a_users_own_policy_sets_the_ttl_of_their_keys(target: &Target) {
    let clock = MockClock::new();
    // Admins get ten idle minutes, whatever the global policy says.
    let resolver = |user: String, _: HttpRequest| async move {
        (user == "admin").then(|| Policy::new().with_idle(10 * MINUTE))
    };
    let middleware = expiry(&clock).policy_resolver(resolver);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let mut redis = target.inspect().await;

    let admin = Client::new(&app);
    admin.json(login_from("admin", "admin", "10.0.0.1")).await;
    let keys = redis.session_keys().await;
    assert_ttl(redis.pttl(&keys[0]).await, 10 * MINUTE);

    // "Keep me signed in" for two days, however idle.
    let remembered = Client::new(&app);
    let two_days = 2 * 24 * 3600;
    let uri = format!("/login-with/alice/{two_days}/{two_days}");
    remembered.json(TestRequest::post().uri(&uri)).await;
    let alices = redis.session_keys().await;
    let alices: Vec<_> = alices.iter().filter(|key| !keys.contains(key)).collect();
    assert_ttl(redis.pttl(alices[0]).await, Duration::from_secs(two_days));
    assert_user(&remembered.json(whoami()).await, "alice");
}

pub async fn a_session_without_a_user_gets_actix_sessions_ttl_and_log_in_moves_it_to_the_users_slot(
    target: &Target,
) {
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    let filled = client.send(TestRequest::post().uri("/cart")).await;
    assert_eq!(filled.status, StatusCode::NO_CONTENT);
    let anonymous = redis.anonymous_keys().await;
    assert_eq!(anonymous.len(), 1, "{:?}", redis.keys().await);
    // actix-session's default state TTL: a day.
    assert_ttl(redis.pttl(&anonymous[0]).await, 24 * 60 * MINUTE);

    client.login().await;
    assert_eq!(redis.anonymous_keys().await, Vec::<String>::new());
    assert_eq!(redis.session_keys().await.len(), 1);
    let cart = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(cart.json(), serde_json::json!(["apple", "pear"]), "kept");
}

/// Another mechanism's sign-in, as an app had it before adopting session-expiry.
async fn legacy_login(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("legacy_user", "alice")?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn a_session_adopted_from_another_sign_in_moves_to_its_users_slot(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let middleware = expiry(&clock).adoption(Adoption::adopt(|req| {
        req.get_session()
            .get::<String>("legacy_user")
            .ok()
            .flatten()
    }));
    let private = CookieContentSecurity::Private;
    let routes = |config: &mut web::ServiceConfig| {
        config.route("/legacy-login", web::post().to(legacy_login));
    };
    let app = redis_app_with(store, middleware, private, routes).await;
    let client = Client::new(&app);
    let mut redis = target.inspect().await;

    client.send(TestRequest::post().uri("/legacy-login")).await;
    assert_eq!(redis.anonymous_keys().await.len(), 1);
    // The next request adopts it: the state now names a user, so the session moves to the
    // user's slot under a new key, and joins the registry.
    let adopted = client.json(whoami()).await;
    assert_user(&adopted, "alice");
    assert!(adopted.set_cookie, "a new session key");
    assert_eq!(redis.anonymous_keys().await, Vec::<String>::new());
    assert_eq!(redis.session_keys().await.len(), 1);
    assert_eq!(registry.count("alice").await.unwrap(), 1);
    assert_user(&client.json(whoami()).await, "alice");
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    assert_expired(&client.json(whoami()).await, "revoked");
}
