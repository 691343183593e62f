//! A user id longer than a session holds (1 KiB) is refused at log-in, where the app can hear
//! of it, rather than stored and then read back as invalid.

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{config::Adoption, MockClock};

use crate::support::{app, capture_logs, expiry, logs};

#[actix_web::test]
async fn a_log_in_with_a_user_id_over_1_kib_is_a_500_with_a_log_line_and_signs_nobody_in() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    let long = "a".repeat(1025);
    let (_guard, buffer) = capture_logs();
    let refused = client
        .json(TestRequest::post().uri(&format!("/login/{long}")))
        .await;
    assert_eq!(refused.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(refused.body, "", "the body says nothing of the cause");
    assert!(!refused.set_cookie, "no session was started");
    let lines = logs(&buffer);
    assert!(lines.contains("the user id is 1025 bytes long"), "{lines}");
    assert!(
        !lines.contains(&long),
        "the id itself is not logged: {lines}"
    );
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], serde_json::Value::Null);

    // 1 KiB is stored, and read back.
    let longest = "a".repeat(1024);
    let accepted = client
        .json(TestRequest::post().uri(&format!("/login/{longest}")))
        .await;
    assert_eq!(accepted.status, StatusCode::OK);
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], longest.as_str());
}

#[actix_web::test]
async fn a_session_signed_in_elsewhere_as_a_user_id_over_1_kib_is_not_adopted() {
    let clock = MockClock::new();
    let adoption = Adoption::adopt(|req| {
        let user = req.headers().get("x-user")?.to_str().ok()?;
        Some(user.to_owned())
    });
    let client = app(expiry(&clock).adoption(adoption)).await;
    for (user, adopted) in [("a".repeat(1025), false), ("a".repeat(1024), true)] {
        let whoami = client
            .json(
                TestRequest::get()
                    .uri("/whoami")
                    .insert_header(("x-user", user.as_str())),
            )
            .await;
        assert_eq!(whoami.status, StatusCode::OK);
        let expected = if adopted {
            serde_json::json!(user)
        } else {
            serde_json::Value::Null
        };
        assert_eq!(whoami.json()["user"], expected, "{} bytes", user.len());
    }
}
