//! Misconfigurations that must fail loudly, and the crate's 403 and 503 answers (what an ended
//! session gets back is in `suite::answers`).

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_expiry::{Expiry, MockClock, RememberMeCookie};

use crate::support::{capture_logs, expiry, logs, routes, session_middleware, Client};

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

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
    assert!(!logs.contains("logged in"), "no false log-in event: {logs}");
}

#[actix_web::test]
async fn an_inside_out_stack_is_found_on_the_first_request_of_any_kind() {
    let clock = MockClock::new();
    let (events, hook) = event_names();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .wrap(session_middleware())
                .wrap(expiry(&clock).on_event(hook).build()),
        )
        .await,
    );
    let (_guard, buffer) = capture_logs();
    // An anonymous read, not a log-in: the mistake is reported all the same.
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    let found = logs(&buffer);
    assert_eq!(found.matches("ERROR").count(), 1, "{found}");
    assert!(
        found.contains("*before* `.wrap(SessionMiddleware::..)`"),
        "{found}"
    );
    // Every later request is refused; the line is not repeated.
    let answer = client.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(logs(&buffer).matches("ERROR").count(), 1);
    assert!(events.lock().unwrap().is_empty(), "no false logged_in");
}

#[actix_web::test]
async fn no_session_middleware_is_found_on_the_first_request_and_refused_from_then_on() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(App::new().configure(routes).wrap(expiry(&clock).build())).await,
    );
    let (_guard, buffer) = capture_logs();
    // The first request cannot be judged before its answer is gone; it is reported then.
    client.json(TestRequest::get().uri("/whoami")).await;
    let found = logs(&buffer);
    assert!(
        found.contains("found no actix-session SessionMiddleware"),
        "{found}"
    );
    let answer = client.json(TestRequest::post().uri("/login/alice")).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(logs(&buffer).matches("ERROR").count(), 1);
}

#[actix_web::test]
async fn a_right_stack_is_never_reported_even_when_the_first_handler_clears_the_session() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .route(
                    "/clear",
                    web::post().to(|session: actix_session::Session| async move {
                        session.clear();
                        HttpResponse::Ok().finish()
                    }),
                )
                .wrap(expiry(&clock).build())
                .wrap(session_middleware())
                .wrap(RememberMeCookie::new()),
        )
        .await,
    );
    let (_guard, buffer) = capture_logs();
    let answer = client.json(TestRequest::post().uri("/clear")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.set_cookie, "the probe is never saved");
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::OK);
    client.login().await;
    assert!(client
        .json(TestRequest::get().uri("/whoami"))
        .await
        .body
        .contains("alice"));
    let found = logs(&buffer);
    assert!(!found.contains("ERROR"), "{found}");
}

/// A hook that records the names of the events it gets.
fn event_names() -> (
    std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>,
    impl Fn(&session_expiry::SessionEvent) + Send + Sync + 'static,
) {
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&names);
    (names, move |event: &session_expiry::SessionEvent| {
        sink.lock().unwrap().push(event.name())
    })
}

/// Routes that answer with each of the crate's own `403` and `503` refusals.
fn refusing_routes(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/form")
                .wrap(session_expiry::same_origin::SameOrigin::new())
                .route(web::post().to(HttpResponse::NoContent)),
        )
        .route(
            "/checked",
            web::post().to(|req: actix_web::HttpRequest| async move {
                session_expiry::same_origin::check_same_origin(&req)?;
                Ok::<_, actix_web::Error>(HttpResponse::NoContent().finish())
            }),
        )
        .route(
            "/full",
            web::get().to(|| async {
                Err::<HttpResponse, _>(session_expiry::ExpiryError::TooManySessions { max: 2 })
            }),
        )
        .route(
            "/down",
            web::get().to(|| async {
                Err::<HttpResponse, _>(session_expiry::redis::RedisStoreError::TimedOut {
                    after: std::time::Duration::from_secs(2),
                    retry_after: std::time::Duration::from_secs(5),
                })
            }),
        );
}

#[actix_web::test]
async fn the_crates_403_and_503_give_a_browser_a_page_and_an_api_client_json() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .configure(refusing_routes)
                .wrap(expiry(&clock).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    client.login().await;
    let cases = [
        (
            TestRequest::post().uri("/form"),
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "cross_site_request"}),
        ),
        (
            TestRequest::post().uri("/checked"),
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "cross_site_request"}),
        ),
        (
            TestRequest::get().uri("/full"),
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": "too_many_sessions", "max_sessions": 2}),
        ),
        (
            TestRequest::get().uri("/down"),
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"error": "session_store_unavailable"}),
        ),
    ];
    for (req, status, json) in cases {
        let path = req.to_http_request().path().to_owned();
        let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then_some("5");
        let cross_site = |req: TestRequest| req.insert_header(("Sec-Fetch-Site", "cross-site"));
        let fresh = || {
            let method = if path == "/form" || path == "/checked" {
                TestRequest::post()
            } else {
                TestRequest::get()
            };
            cross_site(method.uri(&path))
        };

        // A browser's navigation (a form posted, a link followed): a small page.
        for browser in [
            fresh()
                .insert_header((header::ACCEPT, BROWSER))
                .insert_header(("Sec-Fetch-Mode", "navigate")),
            fresh().insert_header((header::ACCEPT, "text/html")),
        ] {
            let page = client.send(browser).await;
            assert_eq!(page.status, status, "{path}: {page:?}");
            assert_eq!(
                page.header("content-type"),
                Some("text/html; charset=utf-8"),
                "{path}"
            );
            assert!(page.body.starts_with("<!doctype html>"), "{path}: {page:?}");
            assert!(page.body.contains("<h1>"), "{path}: {page:?}");
            assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(page.header("retry-after"), retry_after, "{path}");
        }

        // A script or API client: JSON, as before.
        for api in [
            fresh()
                .insert_header((header::ACCEPT, "*/*"))
                .insert_header(("Sec-Fetch-Mode", "cors")),
            fresh().insert_header((header::ACCEPT, "application/json")),
            fresh()
                .insert_header((header::ACCEPT, BROWSER))
                .insert_header(("X-Requested-With", "XMLHttpRequest")),
            fresh(),
        ] {
            let answer = client.send(api).await;
            assert_eq!(answer.status, status, "{path}: {answer:?}");
            assert_eq!(answer.json(), json, "{path}");
            assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(answer.header("retry-after"), retry_after, "{path}");
        }
    }
}

#[actix_web::test]
async fn remember_me_cookie_inside_the_session_middleware_is_reported() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .wrap(expiry(&clock).build())
                .wrap(RememberMeCookie::new())
                .wrap(session_middleware()),
        )
        .await,
    );
    let (_guard, buffer) = capture_logs();
    client.login().await;
    let found = logs(&buffer);
    assert!(
        found.contains(
            "call `.wrap(RememberMeCookie::new())` *after* `.wrap(SessionMiddleware::..)`"
        ),
        "{found}"
    );
}
