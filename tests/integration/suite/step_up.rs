//! Step-up re-authentication (`#[fresh_auth]` / `FreshAuth`), the `SignedIn` extractor, and
//! log-out that keeps the rest of the session: on every store.

use actix_session::SessionExt as _;
use actix_web::{
    get,
    http::{header, StatusCode},
    post,
    test::TestRequest,
    web, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::ExpiredAction, config::LogoutBehavior, fresh_auth, Expiry, ExpiryError, MockClock,
    SignedIn,
};

use super::{client_with, suite, Backend};
use crate::support::{expiry, IDLE, MINUTE};

suite!(
    a_stale_authentication_is_asked_for_again_and_the_session_lives_on,
    a_browser_is_sent_to_confirm_its_password_and_back,
    a_state_written_before_fresh_auth_counts_its_log_in,
    fresh_auth_needs_a_signed_in_user,
    signed_in_gives_handlers_the_user_or_the_unauthenticated_answer,
    keeping_session_data_at_log_out_keeps_the_cart_under_a_new_id,
    an_expiry_that_continues_follows_the_log_out_behaviour,
);

/// The routes of these bodies, besides the fixture's.
fn routes(config: &mut web::ServiceConfig) {
    config
        .service(settings_page)
        .service(reauth)
        .service(fresh_for)
        .service(account)
        .route("/cart", web::post().to(fill_cart))
        .route("/cart", web::get().to(cart));
}

const BROWSER: (header::HeaderName, &str) = (header::ACCEPT, "text/html");

#[get("/settings")]
#[fresh_auth(minutes = 5)]
async fn settings_page(who: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "user": who.user() }))
}

#[post("/reauth")]
async fn reauth(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    expiry.reauthenticated()?;
    Ok(HttpResponse::NoContent().finish())
}

/// How long `#[fresh_auth(minutes = 5)]` still lets the user through, from the status.
#[get("/fresh-for")]
async fn fresh_for(expiry: Expiry) -> HttpResponse {
    let left = expiry
        .status()
        .map(|status| status.fresh_auth_remaining(5 * MINUTE).as_secs());
    HttpResponse::Ok().json(left)
}

#[get("/account")]
async fn account(who: SignedIn) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "user": who.user() }))
}

async fn fill_cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("cart", "two books")?;
    Ok(HttpResponse::NoContent().finish())
}

async fn cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(req.get_session().get::<String>("cart")?))
}

pub async fn a_stale_authentication_is_asked_for_again_and_the_session_lives_on(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client_with(backend, expiry(&clock), routes).await;
    client.login().await;

    let fresh = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(fresh.json(), serde_json::json!({"user": "alice"}));
    clock.advance(4 * MINUTE);
    let left = client.json(TestRequest::get().uri("/fresh-for")).await;
    assert_eq!(left.json(), 60);

    clock.advance(MINUTE);
    let stale = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        stale.json(),
        serde_json::json!({"error": "reauthentication_required"})
    );
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], "alice", "the session lives on");

    let confirmed = client.json(TestRequest::post().uri("/reauth")).await;
    assert_eq!(confirmed.status, StatusCode::NO_CONTENT);
    let fresh = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(fresh.status, StatusCode::OK);
    clock.advance(5 * MINUTE);
    let stale = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    // The log-in instant did not move: the absolute timeout still counts from it.
    let state = client.stored_state().await.unwrap();
    assert_eq!(state.authenticated_after_login_ms(), 5 * 60_000);
}

pub async fn a_browser_is_sent_to_confirm_its_password_and_back(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, expiry(&clock).reauth_path("/confirm"), routes).await;
    client.login().await;
    clock.advance(5 * MINUTE);
    let stale = client
        .send(
            TestRequest::get()
                .uri("/settings?tab=email")
                .insert_header(BROWSER),
        )
        .await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
    assert_eq!(
        stale.header("location"),
        Some("/confirm?next=/settings%3Ftab%3Demail")
    );
    assert_eq!(stale.header("cache-control"), Some("no-store"));

    // Without a re-authentication path, the log-in page is asked.
    let client = client_with(backend, expiry(&clock), routes).await;
    client.login().await;
    clock.advance(5 * MINUTE);
    let stale = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(stale.header("location"), Some("/login?next=/settings"));
}

pub async fn a_state_written_before_fresh_auth_counts_its_log_in(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, expiry(&clock), routes).await;
    client.login().await; // any session, to plant into
    let now_ms = u64::try_from(clock_now_ms(&clock)).unwrap();
    for (login_ms, fresh) in [(now_ms - 60_000, true), (now_ms - 10 * 60_000, false)] {
        let legacy = format!(r#"[1,"alice",{login_ms},{now_ms},null,null]"#);
        let planted = client
            .json(
                TestRequest::post()
                    .uri("/plant")
                    .set_json(serde_json::from_str::<serde_json::Value>(&legacy).unwrap()),
            )
            .await;
        assert_eq!(planted.status, StatusCode::NO_CONTENT);
        let page = client.json(TestRequest::get().uri("/settings")).await;
        assert_eq!(page.status.is_success(), fresh, "{page:?}");
    }
}

fn clock_now_ms(clock: &MockClock) -> i64 {
    use session_expiry::Clock as _;
    clock.now().timestamp_millis()
}

pub async fn fresh_auth_needs_a_signed_in_user(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(backend, expiry(&clock), routes).await;
    let anonymous = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"error": "unauthenticated"})
    );
}

pub async fn signed_in_gives_handlers_the_user_or_the_unauthenticated_answer(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client_with(backend, expiry(&clock), routes).await;
    let json = client.json(TestRequest::get().uri("/account")).await;
    assert_eq!(json.status, StatusCode::UNAUTHORIZED);
    assert_eq!(json.json(), serde_json::json!({"error": "unauthenticated"}));
    let browser = client
        .send(TestRequest::get().uri("/account").insert_header(BROWSER))
        .await;
    assert_eq!(browser.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.header("location"), Some("/login?next=/account"));

    client.login().await;
    let signed_in = client.json(TestRequest::get().uri("/account")).await;
    assert_eq!(signed_in.json(), serde_json::json!({"user": "alice"}));
    clock.advance(IDLE);
    let expired = client.json(TestRequest::get().uri("/account")).await;
    assert_eq!(expired.json()["reason"], "idle");
}

pub async fn keeping_session_data_at_log_out_keeps_the_cart_under_a_new_id(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client_with(
        backend,
        expiry(&clock).logout_behavior(LogoutBehavior::keep(["cart"])),
        routes,
    )
    .await;
    client.login().await;
    client.json(TestRequest::post().uri("/cart")).await;
    let before = client.cookie().unwrap();

    let logout = client.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_ne!(client.cookie().unwrap().value(), before.value(), "a new id");
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], serde_json::Value::Null);
    let cart = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(cart.json(), "two books");
    assert!(client.stored_state().await.is_none());

    // The default purges everything.
    let client = client_with(backend, expiry(&clock), routes).await;
    client.login().await;
    client.json(TestRequest::post().uri("/cart")).await;
    client.json(TestRequest::post().uri("/logout")).await;
    assert!(client.cookie().is_none());
    let cart = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(cart.json(), serde_json::Value::Null);
}

pub async fn an_expiry_that_continues_follows_the_log_out_behaviour(backend: &impl Backend) {
    for (behavior, kept) in [
        (LogoutBehavior::keep(["cart"]), true),
        (LogoutBehavior::PurgeSession, false),
    ] {
        let clock = MockClock::new();
        let client = client_with(
            backend,
            expiry(&clock)
                .expired_action(ExpiredAction::Continue)
                .logout_behavior(behavior.clone()),
            routes,
        )
        .await;
        client.login().await;
        client.json(TestRequest::post().uri("/cart")).await;
        clock.advance(IDLE);
        let whoami = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(whoami.json()["expired_reason"], "idle");
        let cart = client.json(TestRequest::get().uri("/cart")).await;
        let expected = if kept {
            serde_json::json!("two books")
        } else {
            serde_json::Value::Null
        };
        assert_eq!(cart.json(), expected, "{behavior:?}");
    }
}
