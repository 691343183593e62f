//! An ended session stays ended and takes its data with it, whatever the options: adoption,
//! kept data, switching users, remember-me on a role without it (security review 2026-12,
//! findings 1-4 and 9): on every store.

use actix_session::SessionExt as _;
use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
    web, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::Adoption, config::ExpiredAction, config::LogoutBehavior, config::SessionExpiryBuilder,
    fresh_auth, Expiry, ExpiryError, MockClock, Policy,
};

use super::{client_with, suite, Backend};
use crate::support::{expiry, Client, IDLE, MINUTE};

suite!(
    a_session_ended_with_its_identity_kept_is_never_adopted_again,
    an_adopted_session_must_confirm_its_password_before_a_fresh_auth_route,
    only_the_named_keys_survive_and_only_for_the_user_who_left_them,
    another_users_log_in_over_a_live_session_drops_the_first_users_data,
    ticking_remember_me_changes_nothing_for_a_role_without_a_remember_me_policy,
);

/// Where the "other mechanism" of an adoption keeps its user (as actix-identity would).
const LEGACY_USER: &str = "legacy.user";

async fn legacy_login(
    req: HttpRequest,
    user: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    req.get_session().insert(LEGACY_USER, user.into_inner())?;
    Ok(HttpResponse::NoContent().finish())
}

async fn fill_cart(req: HttpRequest, item: web::Path<String>) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("cart", item.into_inner())?;
    req.get_session().insert("address", "Hauptstr. 1")?;
    Ok(HttpResponse::NoContent().finish())
}

async fn cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    let session = req.get_session();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "cart": session.get::<String>("cart")?,
        "address": session.get::<String>("address")?,
    })))
}

#[fresh_auth(minutes = 5)]
async fn sudo(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "sudo": expiry.user() }))
}

async fn reauth(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    expiry.reauthenticated()?;
    Ok(HttpResponse::NoContent().finish())
}

async fn login_remembered(
    expiry: Expiry,
    user: web::Path<String>,
) -> Result<HttpResponse, ExpiryError> {
    expiry.login_remembered(user.into_inner())?;
    Ok(HttpResponse::NoContent().finish())
}

fn adopting(builder: SessionExpiryBuilder) -> SessionExpiryBuilder {
    builder.adoption(Adoption::adopt(|req| {
        req.get_session().get::<String>(LEGACY_USER).ok().flatten()
    }))
}

/// The routes of these bodies, besides the fixture's.
fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/legacy-login/{user}", web::post().to(legacy_login))
        .route("/cart/{item}", web::post().to(fill_cart))
        .route("/cart", web::get().to(cart))
        .route("/sudo", web::get().to(sudo))
        .route("/reauth", web::post().to(reauth))
        .route("/remember/{user}", web::post().to(login_remembered));
}

async fn user_of<S, B>(client: &Client<S>) -> serde_json::Value
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    client.json(TestRequest::get().uri("/whoami")).await.json()["user"].clone()
}

pub async fn a_session_ended_with_its_identity_kept_is_never_adopted_again(backend: &impl Backend) {
    // The worst combination: the identity entry the adoption reads is one of the kept keys.
    for expired_action in [ExpiredAction::Respond, ExpiredAction::Continue] {
        let clock = MockClock::new();
        let client = client_with(
            backend,
            adopting(expiry(&clock))
                .logout_behavior(LogoutBehavior::keep(["cart", LEGACY_USER]))
                .expired_action(expired_action),
            routes,
        )
        .await;

        // Log-out.
        client
            .json(TestRequest::post().uri("/legacy-login/carol"))
            .await;
        assert_eq!(user_of(&client).await, "carol", "adopted");
        client.json(TestRequest::post().uri("/cart/books")).await;
        client.json(TestRequest::post().uri("/logout")).await;
        for _ in 0..2 {
            assert_eq!(user_of(&client).await, serde_json::Value::Null);
            let sudo = client.json(TestRequest::get().uri("/sudo")).await;
            assert_ne!(sudo.status, StatusCode::OK, "{sudo:?}");
        }

        // Idle expiry: one answer says why, and the next request is not adopted again.
        let client = client_with(
            backend,
            adopting(expiry(&clock))
                .logout_behavior(LogoutBehavior::keep(["cart", LEGACY_USER]))
                .expired_action(expired_action),
            routes,
        )
        .await;
        client
            .json(TestRequest::post().uri("/legacy-login/carol"))
            .await;
        assert_eq!(user_of(&client).await, "carol");
        client.json(TestRequest::post().uri("/cart/books")).await;
        clock.advance(IDLE);
        let ended = client.json(TestRequest::get().uri("/whoami")).await;
        match expired_action {
            ExpiredAction::Respond => assert_eq!(ended.json()["reason"], "idle"),
            _ => assert_eq!(ended.json()["expired_reason"], "idle"),
        }
        for _ in 0..2 {
            let again = client.json(TestRequest::get().uri("/whoami")).await;
            assert_eq!(again.json()["user"], serde_json::Value::Null, "{again:?}");
        }
        let status = client.json(TestRequest::get().uri("/session/status")).await;
        assert_eq!(status.status, StatusCode::UNAUTHORIZED);
    }
}

pub async fn an_adopted_session_must_confirm_its_password_before_a_fresh_auth_route(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client_with(backend, adopting(expiry(&clock)), routes).await;
    client
        .json(TestRequest::post().uri("/legacy-login/carol"))
        .await;

    let sudo = client.json(TestRequest::get().uri("/sudo")).await;
    assert_eq!(sudo.status, StatusCode::UNAUTHORIZED, "{sudo:?}");
    assert_eq!(sudo.json()["error"], "reauthentication_required");
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.json()["user"], "carol");
    assert_eq!(status.json()["authenticated_at"], serde_json::Value::Null);

    clock.advance(MINUTE);
    let confirmed = client.json(TestRequest::post().uri("/reauth")).await;
    assert_eq!(confirmed.status, StatusCode::NO_CONTENT);
    let sudo = client.json(TestRequest::get().uri("/sudo")).await;
    assert_eq!(sudo.json(), serde_json::json!({"sudo": "carol"}));
}

pub async fn only_the_named_keys_survive_and_only_for_the_user_who_left_them(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let keep = || expiry(&clock).logout_behavior(LogoutBehavior::keep(["cart"]));
    let cart_of = |answer: crate::support::Answer| answer.json()["cart"].clone();

    // alice leaves a cart; the address (not named) goes at once.
    let client = client_with(backend, keep(), routes).await;
    client.json(TestRequest::post().uri("/login/alice")).await;
    client
        .json(TestRequest::post().uri("/cart/alice-books"))
        .await;
    client.json(TestRequest::post().uri("/logout")).await;
    let left = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(
        left.json(),
        serde_json::json!({"cart": "alice-books", "address": null})
    );
    // The same user signing in again gets it back.
    client.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(
        cart_of(client.json(TestRequest::get().uri("/cart")).await),
        "alice-books"
    );

    // bob signing in after alice left gets nothing of hers, named keys included.
    client.json(TestRequest::post().uri("/logout")).await;
    client.json(TestRequest::post().uri("/login/bob")).await;
    assert_eq!(user_of(&client).await, "bob");
    assert_eq!(
        cart_of(client.json(TestRequest::get().uri("/cart")).await),
        serde_json::Value::Null
    );

    // The same after an expiry.
    let client = client_with(
        backend,
        keep().expired_action(ExpiredAction::Continue),
        routes,
    )
    .await;
    client.json(TestRequest::post().uri("/login/alice")).await;
    client
        .json(TestRequest::post().uri("/cart/alice-books"))
        .await;
    clock.advance(IDLE);
    assert_eq!(
        client.json(TestRequest::get().uri("/whoami")).await.json()["expired_reason"],
        "idle"
    );
    client.json(TestRequest::post().uri("/login/bob")).await;
    assert_eq!(
        cart_of(client.json(TestRequest::get().uri("/cart")).await),
        serde_json::Value::Null
    );

    // A cart filled anonymously survives the log-in, under either behaviour.
    for client in [
        client_with(backend, keep(), routes).await,
        client_with(backend, expiry(&clock), routes).await,
    ] {
        client
            .json(TestRequest::post().uri("/cart/before-login"))
            .await;
        client.json(TestRequest::post().uri("/login/alice")).await;
        assert_eq!(
            cart_of(client.json(TestRequest::get().uri("/cart")).await),
            "before-login"
        );
    }
}

pub async fn another_users_log_in_over_a_live_session_drops_the_first_users_data(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    for builder in [
        expiry(&clock),
        expiry(&clock).logout_behavior(LogoutBehavior::keep(["cart"])),
    ] {
        let client = client_with(backend, builder, routes).await;
        client.json(TestRequest::post().uri("/login/alice")).await;
        client
            .json(TestRequest::post().uri("/cart/alice-private"))
            .await;
        // The same user signing in again keeps her session's data.
        client.json(TestRequest::post().uri("/login/alice")).await;
        let own = client.json(TestRequest::get().uri("/cart")).await;
        assert_eq!(own.json()["cart"], "alice-private");

        client.json(TestRequest::post().uri("/login/bob")).await;
        assert_eq!(user_of(&client).await, "bob");
        let cart = client.json(TestRequest::get().uri("/cart")).await;
        assert_eq!(
            cart.json(),
            serde_json::json!({"cart": null, "address": null})
        );
    }
}

pub async fn ticking_remember_me_changes_nothing_for_a_role_without_a_remember_me_policy(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let member = Policy::new().with_idle(30 * MINUTE);
    let resolver = move |user: String, _req: HttpRequest| async move {
        // admin: no remember-me policy; member: 30 days when remembered.
        Some(match user.as_str() {
            "admin" => session_expiry::ResolvedPolicy::of(&Policy::new().with_idle(10 * MINUTE)),
            _ => session_expiry::ResolvedPolicy::of(&Remembering(member)),
        })
    };
    let client = client_with(backend, expiry(&clock).policy_resolver(resolver), routes).await;

    let admin = client
        .json(TestRequest::post().uri("/remember/admin"))
        .await;
    let cookie = set_cookie(&admin);
    assert!(
        !cookie.contains("Max-Age"),
        "a browser-session cookie: {cookie}"
    );
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.json()["remembered"], false);
    assert_eq!(status.json()["idle_remaining_secs"], 600);

    client.json(TestRequest::post().uri("/logout")).await;
    let member = client
        .json(TestRequest::post().uri("/remember/member"))
        .await;
    let cookie = set_cookie(&member);
    assert!(cookie.contains("Max-Age"), "outlives the browser: {cookie}");
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.json()["remembered"], true);
}

/// A role with a remember-me policy.
struct Remembering(Policy);

impl session_expiry::ToPolicy for Remembering {
    fn to_policy(&self) -> Policy {
        self.0
    }

    fn remember_me_policy(&self) -> Option<Policy> {
        Some(Policy::new().with_absolute(30 * 24 * 60 * MINUTE))
    }
}

fn set_cookie(answer: &crate::support::Answer) -> String {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("id="))
        .unwrap_or_default()
        .to_owned()
}
