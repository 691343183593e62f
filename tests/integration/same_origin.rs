//! Forged requests: another site's page cannot make a signed-in browser change state through the
//! crate's keep-alive or any state-changing route of the examples, nor keep its session alive.

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
};
use session_expiry::MockClock;

use crate::{
    redis_support::{redis_demo_app, Target},
    support::{app, demo_app, expiry, Client, IDLE, MINUTE},
};

/// How a form on another site's page (a sibling subdomain is still same-site) arrives.
fn from_sibling_site(req: TestRequest) -> TestRequest {
    req.insert_header(("Sec-Fetch-Site", "same-site"))
        .insert_header((header::ORIGIN, "https://evil.app.example"))
}

/// How an old browser without Fetch Metadata sends the same form.
fn from_other_origin(req: TestRequest) -> TestRequest {
    req.insert_header((header::HOST, "app.example"))
        .insert_header((header::ORIGIN, "https://evil.example"))
}

fn assert_refused(answer: &crate::support::Answer) {
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": "cross_site_request"})
    );
}

fn credentials() -> serde_json::Value {
    serde_json::json!({"username": "alice", "password": "password"})
}

#[actix_web::test]
async fn a_cross_site_keepalive_is_refused_and_is_not_activity() {
    let clock = MockClock::new();
    let client = app(expiry(&clock).refresh_granularity(MINUTE)).await;
    client.login().await;
    clock.advance(10 * MINUTE);

    for forged in [
        from_sibling_site(TestRequest::post().uri("/session/keepalive")),
        from_other_origin(TestRequest::post().uri("/session/keepalive")),
        TestRequest::post()
            .uri("/session/keepalive")
            .insert_header(("Sec-Fetch-Site", "cross-site")),
    ] {
        assert_refused(&client.json(forged).await);
    }
    let status = client
        .json(TestRequest::get().uri("/session/status"))
        .await
        .json();
    assert_eq!(
        status["idle_remaining_secs"],
        20 * 60,
        "a refused keep-alive must not count as activity"
    );

    let own = TestRequest::post()
        .uri("/session/keepalive")
        .insert_header(("Sec-Fetch-Site", "same-origin"));
    assert_eq!(client.json(own).await.status, StatusCode::NO_CONTENT);
    let status = client
        .json(TestRequest::get().uri("/session/status"))
        .await
        .json();
    assert_eq!(status["idle_remaining_secs"], 30 * 60);
}

#[actix_web::test]
async fn another_site_cannot_sign_a_browser_in_as_the_attacker() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;
    for forged in [
        from_sibling_site(TestRequest::post().uri("/login")),
        from_other_origin(TestRequest::post().uri("/login")),
    ] {
        let answer = client.json(forged.set_json(credentials())).await;
        assert_refused(&answer);
        assert!(!answer.set_cookie, "no session may be started");
    }
    let home = client.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.status, StatusCode::UNAUTHORIZED);

    // The page's own form, and a client that sends neither header, sign in.
    let own = TestRequest::post()
        .uri("/login")
        .insert_header(("Sec-Fetch-Site", "same-origin"))
        .set_json(credentials());
    assert_eq!(client.json(own).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn another_site_can_neither_sign_the_user_out_nor_post_their_forms() {
    let clock = MockClock::new();
    let client = demo_app(expiry(&clock)).await;
    let login = TestRequest::post().uri("/login").set_json(credentials());
    assert_eq!(client.json(login).await.status, StatusCode::OK);

    for forged in [
        from_sibling_site(TestRequest::post().uri("/logout")),
        from_other_origin(TestRequest::post().uri("/logout")),
        from_sibling_site(TestRequest::post().uri("/report")).set_form([("title", "forged")]),
    ] {
        assert_refused(&client.json(forged).await);
    }
    let home = client.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.json(), serde_json::json!({"user": "alice"}));

    let own = TestRequest::post()
        .uri("/logout")
        .insert_header((header::HOST, "app.example"))
        .insert_header((header::ORIGIN, "http://app.example"));
    assert_eq!(client.json(own).await.status, StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn another_site_cannot_revoke_sessions() {
    let target = Target::single();
    let clock = MockClock::new();
    let instance = redis_demo_app(target.store(&clock).await, expiry(&clock)).await;
    let laptop = Client::new(&instance);
    let phone = Client::new(&instance);
    for device in [&laptop, &phone] {
        let login = TestRequest::post().uri("/login").set_json(credentials());
        assert_eq!(device.json(login).await.status, StatusCode::OK);
    }
    let listed = laptop
        .json(TestRequest::get().uri("/sessions"))
        .await
        .json();
    let phone_id = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for forged in [
        from_sibling_site(TestRequest::post().uri("/sessions/revoke-all")),
        from_other_origin(TestRequest::post().uri("/sessions/revoke-others")),
        from_sibling_site(TestRequest::delete().uri(&format!("/sessions/{phone_id}"))),
    ] {
        assert_refused(&laptop.json(forged).await);
    }
    for device in [&laptop, &phone] {
        let home = device.json(TestRequest::get().uri("/")).await;
        assert_eq!(home.json(), serde_json::json!({"user": "alice"}));
    }

    let own = TestRequest::post()
        .uri("/sessions/revoke-others")
        .insert_header(("Sec-Fetch-Site", "same-origin"));
    let revoked = laptop.json(own).await;
    assert_eq!(revoked.json(), serde_json::json!({"revoked": 1}));
}

/// The Fetch Metadata a browser sends, by who made it send the request and what for.
const REQUEST_KINDS: [(&str, &[(&str, &str)]); 8] = [
    (
        "same-origin fetch",
        &[
            ("Sec-Fetch-Site", "same-origin"),
            ("Sec-Fetch-Mode", "cors"),
        ],
    ),
    (
        "typed URL or bookmark",
        &[("Sec-Fetch-Site", "none"), ("Sec-Fetch-Mode", "navigate")],
    ),
    ("no Fetch Metadata", &[]),
    (
        "sibling subdomain navigation",
        &[
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
    ),
    (
        "sibling subdomain image",
        &[
            ("Sec-Fetch-Site", "same-site"),
            ("Sec-Fetch-Mode", "no-cors"),
            ("Sec-Fetch-Dest", "image"),
        ],
    ),
    (
        "cross-site navigation",
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
    ),
    (
        "cross-site image",
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "no-cors"),
            ("Sec-Fetch-Dest", "image"),
        ],
    ),
    (
        "cross-site frame",
        &[
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "navigate"),
            ("Sec-Fetch-Dest", "iframe"),
        ],
    ),
];

/// Whether a request of `kind` at 20 minutes keeps a session with a 30-minute idle timeout
/// alive at 40 minutes. The request itself is always served.
async fn keeps_alive(only_same_origin: Option<bool>, kind: &[(&str, &str)]) -> bool {
    let clock = MockClock::new();
    let builder = match only_same_origin {
        Some(only) => expiry(&clock).activity_from_same_origin_only(only),
        None => expiry(&clock),
    };
    let client = app(builder).await;
    client.login().await;
    clock.advance(IDLE - 10 * MINUTE);
    let mut req = TestRequest::get().uri("/whoami");
    for &(name, value) in kind {
        req = req.insert_header((name, value));
    }
    let served = client.json(req).await;
    assert_eq!(served.json()["user"], "alice", "{kind:?}: {served:?}");
    clock.advance(IDLE - 10 * MINUTE);
    let later = client.json(TestRequest::get().uri("/whoami")).await;
    match later.status {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => {
            assert_eq!(later.json()["reason"], "idle", "{kind:?}");
            false
        }
        other => panic!("{kind:?}: unexpected {other}: {later:?}"),
    }
}

#[actix_web::test]
async fn only_the_sites_own_requests_keep_a_session_alive() {
    for only_same_origin in [None, Some(true)] {
        for (name, kind) in REQUEST_KINDS {
            let own = !kind
                .iter()
                .any(|&(_, value)| value == "same-site" || value == "cross-site");
            assert_eq!(
                keeps_alive(only_same_origin, kind).await,
                own,
                "{name}, activity_from_same_origin_only: {only_same_origin:?}"
            );
        }
    }
}

#[actix_web::test]
async fn with_the_option_off_every_request_keeps_a_session_alive() {
    for (name, kind) in REQUEST_KINDS {
        assert!(keeps_alive(Some(false), kind).await, "{name}");
    }
}
