//! What an ended session gets back, a JSON client and a browser: on every store.

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
};
use session_expiry::{MockClock, SessionExpiry};

use super::{client, suite, Backend};
use crate::support::{assert_expired, expiry, login_from, whoami, Answer, Client, ABSOLUTE, IDLE};

suite!(
    a_browser_is_sent_to_the_login_page_with_next_and_reason,
    json_or_redirect_follows_accept_and_x_requested_with,
    without_a_login_path_every_client_gets_json,
    an_unsafe_request_path_is_never_offered_as_next,
    each_ending_gives_its_reason_in_the_json_and_the_redirect,
);

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

pub async fn a_browser_is_sent_to_the_login_page_with_next_and_reason(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
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

pub async fn json_or_redirect_follows_accept_and_x_requested_with(backend: &impl Backend) {
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
        let client = client(backend, expiry(&clock)).await;
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

pub async fn without_a_login_path_every_client_gets_json(backend: &impl Backend) {
    let clock = MockClock::new();
    let builder = SessionExpiry::builder().clock(clock.clone());
    let client = client(backend, builder).await;
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

pub async fn an_unsafe_request_path_is_never_offered_as_next(backend: &impl Backend) {
    for (uri, location) in [
        ("//evil.example/x", "/login?reason=idle"),
        (
            "/%2F%2Fevil.example",
            "/login?next=/%252F%252Fevil.example&reason=idle",
        ),
        ("/login", "/login?reason=idle"),
    ] {
        let clock = MockClock::new();
        let client = client(backend, expiry(&clock)).await;
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

/// Each way a session ends (idle, absolute and, where the store can revoke, revoked) names its
/// reason in the JSON answer and in the redirect to the log-in page.
pub async fn each_ending_gives_its_reason_in_the_json_and_the_redirect<B: Backend>(backend: &B) {
    #[track_caller]
    fn assert_redirected(answer: &Answer, reason: &str) {
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
        assert_eq!(
            answer.header("location"),
            Some(format!("/login?next=/whoami&reason={reason}").as_str())
        );
    }
    let browser = || whoami().insert_header((header::ACCEPT, BROWSER));
    for (reason, after) in [("idle", IDLE), ("absolute", ABSOLUTE + IDLE)] {
        let clock = MockClock::new();
        let app = backend.app(expiry(&clock), |_| {}).await;
        let (json, html) = (Client::new(&app), Client::new(&app));
        json.login().await;
        html.login().await;
        clock.advance(after);
        assert_expired(&json.json(whoami()).await, reason);
        assert_redirected(&html.send(browser()).await, reason);
    }

    let clock = MockClock::new();
    let app = backend.app(expiry(&clock), |_| {}).await;
    let (json, html, revoker) = (Client::new(&app), Client::new(&app), Client::new(&app));
    for (client, agent) in [(&json, "json"), (&html, "html"), (&revoker, "revoker")] {
        client.json(login_from("alice", agent, "10.0.0.1")).await;
    }
    let revoke = revoker
        .json(TestRequest::post().uri("/sessions/revoke-others"))
        .await;
    if !B::REVOCATION {
        assert_eq!(revoke.status, StatusCode::NOT_FOUND, "{revoke:?}");
        assert_eq!(json.json(whoami()).await.json()["user"], "alice");
        return;
    }
    assert_eq!(revoke.json(), serde_json::json!({"revoked": 2}));
    assert_expired(&json.json(whoami()).await, "revoked");
    assert_redirected(&html.send(browser()).await, "revoked");
}
