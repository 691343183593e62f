//! The quickstart's routes, as a user of the example sees them.

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
};
use session_expiry::MockClock;

use crate::support::{demo_app, expiry, ABSOLUTE, IDLE};

const BROWSER: (header::HeaderName, &str) = (header::ACCEPT, "text/html");

fn credentials(user: &str, password: &str) -> serde_json::Value {
    serde_json::json!({ "username": user, "password": password })
}

#[actix_web::test]
async fn a_json_client_signs_in_and_is_recognised() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;

    let anonymous = client.json(TestRequest::get().uri("/")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"error": "unauthenticated"})
    );

    let login = client
        .json(
            TestRequest::post()
                .uri("/login")
                .set_json(credentials("alice", "password")),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.json(), serde_json::json!({"user": "alice"}));

    let home = client.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.json(), serde_json::json!({"user": "alice"}));

    let logout = client.json(TestRequest::post().uri("/logout")).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_eq!(logout.header("clear-site-data"), Some("\"cookies\""));
    assert!(client.cookie().is_none());
}

#[actix_web::test]
async fn bad_credentials_are_refused_in_both_forms() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;
    let json = client
        .json(
            TestRequest::post()
                .uri("/login")
                .set_json(credentials("alice", "nope")),
        )
        .await;
    assert_eq!(json.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        json.json(),
        serde_json::json!({"error": "invalid_credentials"})
    );

    let form = client
        .send(
            TestRequest::post()
                .uri("/login")
                .set_form([("username", "mallory"), ("password", "password")]),
        )
        .await;
    assert_eq!(form.status, StatusCode::UNAUTHORIZED);
    assert!(form.body.contains("Unknown user or wrong password") && form.body.contains("<form"));
    assert!(client.cookie().is_none(), "no session for a failed log-in");
}

#[actix_web::test]
async fn a_browser_signs_in_with_the_form_and_goes_to_next() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;
    let home = client
        .send(TestRequest::get().uri("/").insert_header(BROWSER))
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.header("location"), Some("/login?next=/"));

    let form = client
        .send(TestRequest::get().uri("/login?next=/session/status"))
        .await;
    assert!(
        form.body.contains("value=\"/session/status\""),
        "{}",
        form.body
    );

    let login = client
        .send(TestRequest::post().uri("/login").set_form([
            ("username", "bob"),
            ("password", "password"),
            ("next", "/session/status"),
        ]))
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.header("location"), Some("/session/status"));

    let logout = client
        .send(TestRequest::post().uri("/logout").insert_header(BROWSER))
        .await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(logout.header("location"), Some("/login"));
    assert_eq!(logout.header("clear-site-data"), Some("\"cookies\""));
}

#[actix_web::test]
async fn the_login_form_never_redirects_off_site() {
    let payloads = [
        "//evil.example",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "evil.example",
    ];
    for next in payloads {
        let clock = MockClock::new();
        let client = demo_app(expiry(&clock)).await;
        let login = client
            .send(TestRequest::post().uri("/login").set_form([
                ("username", "alice"),
                ("password", "password"),
                ("next", next),
            ]))
            .await;
        assert_eq!(login.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(login.header("location"), Some("/"), "{next:?}");

        let form = client
            .send(TestRequest::get().uri(&format!("/login?next={}", percent_encode(next))))
            .await;
        assert!(
            form.body.contains("name=\"next\" value=\"/\""),
            "{next:?}: {}",
            form.body
        );
    }
}

#[actix_web::test]
async fn after_an_expiry_the_login_page_says_why() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;
    client
        .json(
            TestRequest::post()
                .uri("/login")
                .set_json(credentials("alice", "password")),
        )
        .await;
    clock.advance(ABSOLUTE.min(IDLE));
    let home = client
        .send(TestRequest::get().uri("/").insert_header(BROWSER))
        .await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    let location = home.header("location").unwrap().to_owned();
    assert_eq!(location, "/login?next=/&reason=idle");

    let page = client.send(TestRequest::get().uri(&location)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("signed out after a period of inactivity"),
        "{}",
        page.body
    );
}

fn percent_encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}
