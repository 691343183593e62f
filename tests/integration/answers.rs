//! What an expired request gets back, and misconfigurations that must fail loudly.

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_expiry::{Expiry, MockClock, SessionExpiry};

use crate::support::{app, capture_logs, expiry, logs, routes, session_middleware, Client, IDLE};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[actix_web::test]
async fn a_browser_is_sent_to_the_login_page_with_next_and_reason() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    client.login().await;
    clock.advance(IDLE);

    let answer = client
        .send(
            TestRequest::get()
                .uri("/whoami?tab=2")
                .insert_header((header::ACCEPT, BROWSER)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.header("location"),
        Some("/login?next=/whoami%3Ftab%3D2&reason=idle")
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[actix_web::test]
async fn json_or_redirect_follows_accept_and_x_requested_with() {
    let cases: [(&[(&str, &str)], StatusCode); 6] = [
        (&[("accept", "application/json")], StatusCode::UNAUTHORIZED),
        (
            &[("accept", "application/json, text/html")],
            StatusCode::SEE_OTHER,
        ),
        (&[("accept", BROWSER)], StatusCode::SEE_OTHER),
        (&[("accept", "*/*")], StatusCode::SEE_OTHER),
        (&[], StatusCode::SEE_OTHER),
        (
            &[("accept", BROWSER), ("x-requested-with", "XMLHttpRequest")],
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (headers, expected) in cases {
        let clock = MockClock::new();
        let client = app(expiry(&clock)).await;
        client.login().await;
        clock.advance(IDLE);
        let mut req = TestRequest::get().uri("/whoami");
        for &header in headers {
            req = req.insert_header(header);
        }
        let answer = client.send(req).await;
        assert_eq!(answer.status, expected, "{headers:?}");
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        if expected == StatusCode::UNAUTHORIZED {
            assert_eq!(
                answer.json(),
                serde_json::json!({"error": "session_expired", "reason": "idle"})
            );
        }
    }
}

#[actix_web::test]
async fn without_a_login_path_every_client_gets_json() {
    let clock = MockClock::new();
    let builder = SessionExpiry::builder().clock(clock.clone());
    let client = app(builder).await;
    client.login().await;
    clock.advance(IDLE);
    let answer = client
        .send(
            TestRequest::get()
                .uri("/whoami")
                .insert_header((header::ACCEPT, BROWSER)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["reason"], "idle");
}

#[actix_web::test]
async fn an_unsafe_request_path_is_never_offered_as_next() {
    for (uri, location) in [
        ("//evil.example/x", "/login?reason=idle"),
        (
            "/%2F%2Fevil.example",
            "/login?next=/%252F%252Fevil.example&reason=idle",
        ),
        ("/login", "/login?reason=idle"),
    ] {
        let clock = MockClock::new();
        let client = app(expiry(&clock)).await;
        client.login().await;
        clock.advance(IDLE);
        let answer = client
            .send(
                TestRequest::get()
                    .uri(uri)
                    .insert_header((header::ACCEPT, BROWSER)),
            )
            .await;
        assert_eq!(answer.header("location"), Some(location), "{uri}");
    }
}

#[actix_web::test]
async fn a_route_outside_the_middleware_fails_with_500_and_says_why() {
    let client = Client::new(
        test::init_service(
            App::new()
                .route(
                    "/whoami",
                    web::get().to(|e: Expiry| async move { HttpResponse::Ok().json(e.user()) }),
                )
                .wrap(session_middleware()),
        )
        .await,
    );
    let (_guard, buffer) = capture_logs();
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.body, "", "the 500 body stays opaque");
    assert!(
        logs(&buffer).contains("SessionExpiry middleware is not registered"),
        "{}",
        logs(&buffer)
    );
}

#[actix_web::test]
async fn registering_the_middleware_outside_the_session_middleware_fails_loudly() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .wrap(session_middleware())
                .wrap(expiry(&clock).build()),
        )
        .await,
    );
    let (_guard, buffer) = capture_logs();
    let answer = client.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let logs = logs(&buffer);
    assert!(
        logs.contains("*before* `.wrap(SessionMiddleware::..)`"),
        "{logs}"
    );
}
