//! Step-up re-authentication (`#[fresh_auth]`), the `SignedIn` extractor, log-out that keeps
//! the rest of the session, and a state key of one's own.

use actix_session::SessionExt as _;
use actix_web::{
    get,
    http::{header, StatusCode},
    post,
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::ExpiredAction, config::LogoutBehavior, fresh_auth, Expiry, ExpiryError, MockClock,
    SignedIn, STATE_KEY,
};

use crate::{
    demo,
    support::{expiry, routes, session_middleware, Client, IDLE, MINUTE},
};

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

macro_rules! client {
    ($builder:expr) => {
        Client::new(
            test::init_service(
                App::new()
                    .configure(routes)
                    .service(settings_page)
                    .service(reauth)
                    .service(fresh_for)
                    .service(account)
                    .route("/cart", web::post().to(fill_cart))
                    .route("/cart", web::get().to(cart))
                    .wrap($builder.build())
                    .wrap(session_middleware()),
            )
            .await,
        )
    };
}

#[actix_web::test]
async fn a_stale_authentication_is_asked_for_again_and_the_session_lives_on() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock));
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

#[actix_web::test]
async fn a_browser_is_sent_to_confirm_its_password_and_back() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock).reauth_path("/confirm"));
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
    let client = client!(expiry(&clock));
    client.login().await;
    clock.advance(5 * MINUTE);
    let stale = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(stale.header("location"), Some("/login?next=/settings"));
}

#[actix_web::test]
async fn a_state_written_before_fresh_auth_counts_its_log_in() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock));
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

#[actix_web::test]
async fn fresh_auth_needs_a_signed_in_user() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock));
    let anonymous = client.json(TestRequest::get().uri("/settings")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"error": "unauthenticated"})
    );
}

#[actix_web::test]
async fn signed_in_gives_handlers_the_user_or_the_unauthenticated_answer() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock));
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

#[actix_web::test]
async fn keeping_session_data_at_log_out_keeps_the_cart_under_a_new_id() {
    let clock = MockClock::new();
    let client = client!(expiry(&clock).logout_behavior(LogoutBehavior::keep(["cart"])));
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
    let client = client!(expiry(&clock));
    client.login().await;
    client.json(TestRequest::post().uri("/cart")).await;
    client.json(TestRequest::post().uri("/logout")).await;
    assert!(client.cookie().is_none());
    let cart = client.json(TestRequest::get().uri("/cart")).await;
    assert_eq!(cart.json(), serde_json::Value::Null);
}

#[actix_web::test]
async fn an_expiry_that_continues_follows_the_log_out_behaviour() {
    for (behavior, kept) in [
        (LogoutBehavior::keep(["cart"]), true),
        (LogoutBehavior::PurgeSession, false),
    ] {
        let clock = MockClock::new();
        let client = client!(expiry(&clock)
            .expired_action(ExpiredAction::Continue)
            .logout_behavior(behavior.clone()));
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

async fn raw_state(req: HttpRequest, key: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(req.get_session().entries().get(key.as_str()).cloned())
}

#[actix_web::test]
async fn the_state_can_live_under_a_key_of_ones_own() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .route("/raw/{key}", web::get().to(raw_state))
                .wrap(expiry(&clock).state_key("auth").build())
                .wrap(session_middleware()),
        )
        .await,
    );
    client.login().await;
    let mine = client
        .json(TestRequest::get().uri("/raw/auth"))
        .await
        .json();
    assert!(mine.as_str().unwrap().starts_with("\"2.alice."), "{mine}");
    let default = client
        .json(TestRequest::get().uri(&format!("/raw/{STATE_KEY}")))
        .await;
    assert_eq!(default.json(), serde_json::Value::Null);
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], "alice");
    clock.advance(IDLE);
    let expired = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(expired.json()["reason"], "idle");
}

/// The quickstart's `/settings` and `/confirm`, as a browser user goes through them.
#[actix_web::test]
async fn the_quickstart_asks_for_the_password_again_before_its_settings() {
    let clock = MockClock::new();
    let settings = demo::Settings {
        host: "127.0.0.1".into(),
        port: 0,
        idle: IDLE,
        absolute: 8 * 60 * MINUTE,
        accounts: demo::Accounts::default(),
    };
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(settings.expiry().clock(clock.clone()).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    let credentials = [("username", "alice"), ("password", "password")];
    let login = client
        .send(TestRequest::post().uri("/login").set_form(credentials))
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let page = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Settings of alice"));

    clock.advance(6 * MINUTE);
    let stale = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(stale.header("location"), Some("/confirm?next=/settings"));
    let confirm = client
        .send(
            TestRequest::get()
                .uri("/confirm?next=/settings")
                .insert_header(BROWSER),
        )
        .await;
    assert!(confirm.body.contains("name=\"password\""));
    let wrong = client
        .send(
            TestRequest::post()
                .uri("/confirm")
                .set_form([("password", "nope"), ("next", "/settings")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = client
        .send(
            TestRequest::post()
                .uri("/confirm")
                .set_form([("password", "password"), ("next", "/settings")]),
        )
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    assert_eq!(right.header("location"), Some("/settings"));
    let page = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let saved = client
        .json(
            TestRequest::post()
                .uri("/settings")
                .set_form([("display_name", "Al")]),
        )
        .await;
    assert_eq!(
        saved.json(),
        serde_json::json!({"saved": true, "user": "alice"})
    );
}

#[actix_web::test]
async fn the_redis_store_finds_the_state_under_a_key_of_ones_own() {
    let target = crate::redis_support::Target::single();
    let clock = MockClock::new();
    let store = target
        .store_for(&expiry(&clock).state_key("auth").build())
        .await;
    let registry = store.registry();
    let app = crate::redis_support::redis_app(store, expiry(&clock).state_key("auth")).await;
    let client = Client::new(&app);
    client.login().await;
    // The store found the state: the session is listed, and Redis drops it at its deadline.
    let page = registry
        .list("alice", session_expiry::redis::Page::new(10))
        .await
        .unwrap();
    assert_eq!(page.sessions.len(), 1);
    let mut redis = target.inspect().await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1);
    clock.advance(IDLE);
    let expired = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(expired.json()["reason"], "idle");
}
