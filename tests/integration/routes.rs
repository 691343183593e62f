//! Per-route limits from `#[idle_timeout]`, `#[absolute_timeout]` and `#[passive]`, through HTTP.

use actix_web::{
    get,
    http::{header, StatusCode},
    post,
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_expiry::{absolute_timeout, idle_timeout, passive, Expiry, MockClock};

use crate::support::{capture_logs, expiry, logs, routes, session_middleware, Client, MINUTE};

#[get("/admin")]
#[idle_timeout(minutes = 5)]
async fn admin(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(expiry.user())
}

#[idle_timeout(minutes = 5)]
#[get("/admin-above")]
async fn admin_above() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// Reports need a log-in from the last hour.
#[absolute_timeout(hours = 1)]
#[post("/reports")]
async fn reports(body: String) -> HttpResponse {
    HttpResponse::Ok().body(body)
}

#[get("/both")]
#[idle_timeout(minutes = 10)]
#[absolute_timeout(hours = 1, minutes = 30)]
async fn both() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[passive]
#[get("/poll")]
async fn poll(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(expiry.user())
}

#[idle_timeout(minutes = 5)]
async fn by_resource() -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn app(
    clock: &MockClock,
) -> Client<
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
> {
    Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .service(admin)
                .service(admin_above)
                .service(reports)
                .service(both)
                .service(poll)
                .service(web::resource("/resource").to(by_resource))
                .route("/plain-get", web::get().to(by_resource))
                .wrap(expiry(clock).build())
                .wrap(session_middleware()),
        )
        .await,
    )
}

#[actix_web::test]
async fn a_route_idle_limit_ends_a_session_the_global_one_would_keep() {
    for path in ["/admin", "/admin-above", "/resource", "/plain-get"] {
        let clock = MockClock::new();
        let client = app(&clock).await;
        client.login().await;
        clock.advance(4 * MINUTE);
        let within = client.json(TestRequest::get().uri(path)).await;
        assert_eq!(within.status, StatusCode::OK, "{path} at 4 idle minutes");

        clock.advance(6 * MINUTE);
        let plain = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(
            plain.json()["user"],
            "alice",
            "a plain route keeps the session"
        );
        clock.advance(6 * MINUTE);
        let answer = client.json(TestRequest::get().uri(path)).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            answer.json(),
            serde_json::json!({"error": "session_expired", "reason": "idle"}),
            "{path}"
        );
        let after = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(
            after.json()["user"],
            serde_json::Value::Null,
            "{path}: the session ended"
        );
    }
}

#[actix_web::test]
async fn a_route_expiry_is_answered_like_a_global_one() {
    let clock = MockClock::new();
    let client = app(&clock).await;
    client.login().await;
    clock.advance(6 * MINUTE);
    let answer = client
        .send(
            TestRequest::get()
                .uri("/admin")
                .insert_header((header::ACCEPT, "text/html")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.header("location"),
        Some("/login?next=/admin&reason=idle")
    );
    assert!(client.cookie().is_none(), "purged");
}

#[actix_web::test]
async fn a_route_absolute_limit_applies_however_active_the_session() {
    let clock = MockClock::new();
    let client = app(&clock).await;
    client.login().await;
    for _ in 0..5 {
        clock.advance(10 * MINUTE);
        let answer = client
            .json(TestRequest::post().uri("/reports").set_payload("q"))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    clock.advance(10 * MINUTE);
    let answer = client
        .json(TestRequest::post().uri("/reports").set_payload("q"))
        .await;
    assert_eq!(answer.json()["reason"], "absolute");
}

#[actix_web::test]
async fn stacked_limits_on_one_handler_both_apply() {
    let clock = MockClock::new();
    let idle = app(&clock).await;
    idle.login().await;
    let absolute = app(&clock).await;
    absolute.login().await;

    clock.advance(9 * MINUTE);
    assert_eq!(
        absolute.json(TestRequest::get().uri("/both")).await.status,
        StatusCode::OK
    );
    clock.advance(MINUTE);
    assert_eq!(
        idle.json(TestRequest::get().uri("/both")).await.json()["reason"],
        "idle"
    );
    // Every 8 minutes (within the route's 10 idle minutes) until 82 minutes after log-in...
    for _ in 0..9 {
        clock.advance(8 * MINUTE);
        assert_eq!(
            absolute.json(TestRequest::get().uri("/both")).await.status,
            StatusCode::OK
        );
    }
    clock.advance(8 * MINUTE);
    let answer = absolute.json(TestRequest::get().uri("/both")).await;
    assert_eq!(
        answer.json()["reason"],
        "absolute",
        "90 minutes after log-in"
    );
}

#[actix_web::test]
async fn a_passive_route_does_not_refresh_last_seen_while_an_active_one_does() {
    let clock = MockClock::new();
    let client = app(&clock).await;
    client.login().await;
    clock.advance(10 * MINUTE);
    let polled = client.json(TestRequest::get().uri("/poll")).await;
    assert_eq!(polled.json(), "alice");
    assert!(!polled.set_cookie, "passive: nothing written");
    let active = client.json(TestRequest::get().uri("/resource")).await;
    assert!(active.set_cookie, "active: last-seen refreshed");
}

#[actix_web::test]
async fn a_guarded_route_without_the_middleware_fails_with_500_and_names_it() {
    let client =
        Client::new(test::init_service(App::new().service(admin).wrap(session_middleware())).await);
    let (_guard, buffer) = capture_logs();
    let answer = client.json(TestRequest::get().uri("/admin")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        logs(&buffer).contains("SessionExpiry middleware is not registered"),
        "{}",
        logs(&buffer)
    );
}

#[actix_web::test]
async fn a_route_idle_limit_shortens_the_refresh_granularity() {
    let clock = MockClock::new();
    let client = app(&clock).await;
    client.login().await;
    // Global granularity is 60 s; the 5-minute route refreshes every 15 s.
    clock.advance(std::time::Duration::from_secs(15));
    assert!(
        !client
            .json(TestRequest::get().uri("/whoami"))
            .await
            .set_cookie
    );
    assert!(
        client
            .json(TestRequest::get().uri("/admin"))
            .await
            .set_cookie
    );
}
