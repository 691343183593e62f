//! Policy integrity: remember-me within a role's limits, partial policies that inherit, a
//! user switch in one request, a log-out that a request in flight cannot undo, cookies that end
//! with the browser unless remembered, and log lines that need not name the user.

use std::{rc::Rc, time::Duration};

use actix_http::Request;
use actix_session::SessionExt as _;
use actix_web::{
    body::MessageBody,
    cookie::Cookie,
    dev::{Service, ServiceResponse},
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{config::UserIdLogging, Expiry, MockClock, Policy};
use tokio::sync::Notify;

use crate::{
    demo, roles,
    support::{
        app, capture_logs, demo_app, expiry, logs, routes, session_middleware, Client, IDLE, MINUTE,
    },
};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn settings() -> demo::Settings {
    demo::Settings {
        host: "127.0.0.1".into(),
        port: 0,
        idle: IDLE,
        absolute: 5 * DAY,
        accounts: demo::Accounts::default(),
    }
}

/// The `per_user` example's app: its roles, resolver and ceiling, on the demo's routes.
async fn sign_in<S, B>(client: &Client<S>, user: &str, remember: bool)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let body =
        serde_json::json!({ "username": user, "password": "password", "remember": remember });
    let answer = client
        .json(TestRequest::post().uri("/login").set_json(body))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

#[actix_web::test]
async fn remember_me_keeps_an_admin_within_the_role() {
    let clock = MockClock::new();
    let alice = demo_app(roles::expiry(&settings()).clock(clock.clone())).await;
    sign_in(&alice, "alice", true).await;

    // The admin's 10 idle minutes hold with the box ticked ...
    clock.advance(10 * MINUTE);
    let idle = alice.json(TestRequest::get().uri("/")).await;
    assert_eq!(idle.json()["reason"], "idle", "{idle:?}");

    // ... and so do the 8 hours, however active.
    sign_in(&alice, "alice", true).await;
    for _ in 0..(8 * 60 / 9) {
        clock.advance(9 * MINUTE);
        let home = alice.json(TestRequest::get().uri("/")).await;
        assert_eq!(home.json()["user"], "alice");
    }
    clock.advance(9 * MINUTE);
    let absolute = alice.json(TestRequest::get().uri("/")).await;
    assert_eq!(absolute.json()["reason"], "absolute");
}

#[actix_web::test]
async fn remember_me_gives_a_member_thirty_days() {
    let clock = MockClock::new();
    let bob = demo_app(roles::expiry(&settings()).clock(clock.clone())).await;
    let plain = demo_app(roles::expiry(&settings()).clock(clock.clone())).await;
    sign_in(&bob, "bob", true).await;
    sign_in(&plain, "bob", false).await;

    clock.advance(2 * DAY);
    let home = bob.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.json()["user"], "bob", "no idle limit when remembered");
    let home = plain.json(TestRequest::get().uri("/")).await;
    assert_eq!(
        home.json()["reason"],
        "idle",
        "the member's 30 idle minutes"
    );

    clock.advance(28 * DAY);
    let home = bob.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.json()["reason"], "absolute");
}

#[actix_web::test]
async fn a_partial_user_policy_inherits_the_global_limit_it_leaves_unset() {
    let clock = MockClock::new();
    let resolved = |policy: Policy| {
        expiry(&clock)
            .idle_timeout(30 * MINUTE)
            .absolute_timeout(HOUR)
            .policy_resolver(move |_: String, _: HttpRequest| async move { Some(policy) })
    };
    // Only a shorter idle limit: the global hour still ends the session.
    let client = app(resolved(Policy::new().with_idle(10 * MINUTE))).await;
    client.login().await;
    for _ in 0..11 {
        clock.advance(5 * MINUTE);
        let whoami = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(whoami.json()["user"], "alice");
    }
    clock.advance(5 * MINUTE);
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["reason"], "absolute");

    // Dropping the absolute limit takes saying so.
    let client = app(resolved(Policy::new().without_absolute())).await;
    client.login().await;
    for _ in 0..30 {
        clock.advance(20 * MINUTE);
        let whoami = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(whoami.json()["user"], "alice");
    }
}

async fn switch_user(
    req: HttpRequest,
    expiry: Expiry,
    user: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    expiry.logout();
    expiry.login(user.into_inner())?;
    // Whatever the old user left in the session is gone with them.
    let leftover = req.get_session().get::<String>("cart")?;
    Ok(HttpResponse::Ok().json(leftover))
}

async fn fill_cart(req: HttpRequest) -> actix_web::Result<HttpResponse> {
    req.get_session().insert("cart", "alice's books")?;
    Ok(HttpResponse::NoContent().finish())
}

#[actix_web::test]
async fn logging_out_and_in_in_one_request_switches_the_user() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .route("/switch/{user}", web::post().to(switch_user))
                .route("/cart", web::post().to(fill_cart))
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    client.login().await;
    client.json(TestRequest::post().uri("/cart")).await;
    let before = client.cookie().unwrap();

    let switched = client.json(TestRequest::post().uri("/switch/bob")).await;
    assert_eq!(switched.status, StatusCode::OK);
    assert_eq!(switched.json(), serde_json::Value::Null, "the cart went");
    assert_ne!(client.cookie().unwrap().value(), before.value());
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], "bob");
}

#[actix_web::test]
async fn a_request_in_flight_does_not_sign_the_user_back_in_after_a_log_out() {
    let clock = MockClock::new();
    let release = Rc::new(Notify::new());
    let waiting = Rc::clone(&release);
    let app = test::init_service(
        App::new()
            .configure(routes)
            .route(
                "/slow",
                web::get().to(move |_: Expiry| {
                    let release = Rc::clone(&waiting);
                    async move {
                        release.notified().await;
                        HttpResponse::Ok().finish()
                    }
                }),
            )
            .wrap(expiry(&clock).build())
            .wrap(session_middleware()),
    )
    .await;
    let client = Client::new(&app);
    client.login().await;
    let signed_in = client.cookie();
    clock.advance(5 * MINUTE); // a refresh is due

    // Another tab signs out while the slow request runs.
    let other_tab = Client::new(&app);
    let slow = client.json(TestRequest::get().uri("/slow"));
    let logout = async {
        actix_web::rt::task::yield_now().await;
        other_tab.set_cookie(signed_in.clone());
        let answer = other_tab.json(TestRequest::post().uri("/logout")).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        release.notify_one();
    };
    let (slow, ()) = tokio::join!(slow, logout);
    assert_eq!(slow.status, StatusCode::OK);
    assert!(
        !slow.set_cookie,
        "the slow request must not write the signed-out session back"
    );
}

fn set_cookie(answer: &crate::support::Answer) -> Option<Cookie<'static>> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .filter_map(|v| Cookie::parse(v.to_str().ok()?.to_owned()).ok())
        .find(|cookie| cookie.name() == "id")
}

#[actix_web::test]
async fn the_demo_cookie_ends_with_the_browser_unless_remembered() {
    let clock = MockClock::new();
    let quickstart = || {
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(settings().expiry().clock(clock.clone()).build())
                .wrap(demo::sessions(
                    actix_session::storage::CookieSessionStore::default(),
                    actix_web::cookie::Key::from(&[3; 64]),
                ))
                .wrap(demo::remember_me_cookie()),
        )
    };
    let app = quickstart().await;
    let client = Client::new(&app);
    for remember in [false, true] {
        let body =
            serde_json::json!({"username": "alice", "password": "password", "remember": remember});
        let login = client
            .json(TestRequest::post().uri("/login").set_json(body))
            .await;
        let cookie = set_cookie(&login).expect("a session cookie");
        assert_eq!(cookie.expires(), None, "remember: {remember}");
        let max_age = cookie.max_age().map(|age| age.whole_days());
        assert_eq!(max_age, remember.then_some(30), "remember: {remember}");
    }
    // A refresh keeps the remembered cookie's lifetime to the absolute timeout.
    clock.advance(DAY);
    let home = client.json(TestRequest::get().uri("/")).await;
    let cookie = set_cookie(&home).expect("a refreshed cookie");
    assert_eq!(cookie.max_age().map(|age| age.whole_days()), Some(29));
    // Signing out still removes it.
    let logout = client.json(TestRequest::post().uri("/logout")).await;
    let removal = set_cookie(&logout).expect("a removal cookie");
    assert_eq!(removal.value(), "");
    assert_eq!(
        removal.max_age(),
        Some(actix_web::cookie::time::Duration::ZERO)
    );
}

#[actix_web::test]
async fn expiry_log_lines_can_name_users_by_a_keyed_hash_or_not_at_all() {
    for (logging, hashed) in [
        (
            UserIdLogging::hashed("a secret key of 32 bytes or more").unwrap(),
            true,
        ),
        (UserIdLogging::omitted(), false),
    ] {
        let clock = MockClock::new();
        let client = app(expiry(&clock).log_user_ids(logging)).await;
        client.login().await;
        clock.advance(IDLE);
        let (_guard, buffer) = capture_logs();
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let lines = logs(&buffer);
        assert!(lines.contains("session expired"), "{lines}");
        assert!(!lines.contains("alice"), "{lines}");
        assert_eq!(lines.contains("user="), hashed, "{lines}");
    }
}
