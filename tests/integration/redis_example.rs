//! The Redis example's routes, as a user of two instances of it sees them (the README's curl
//! scenario).

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
};
use session_expiry::MockClock;

use crate::{
    redis_support::{redis_demo_app, Target},
    support::{expiry, Client},
};

/// The app of `examples/redis.rs`, on `store`.
#[actix_web::test]
async fn log_in_on_one_instance_use_the_other_and_log_out_everywhere() {
    let target = Target::single();
    let clock = MockClock::new();
    let instance_a = redis_demo_app(target.store(&clock).await, expiry(&clock)).await;
    let instance_b = redis_demo_app(target.store(&clock).await, expiry(&clock)).await;
    let on_a = Client::new(&instance_a);
    let credentials = serde_json::json!({"username": "alice", "password": "password"});
    let login = on_a
        .json(TestRequest::post().uri("/login").set_json(credentials))
        .await;
    assert_eq!(login.json(), serde_json::json!({"user": "alice"}));

    let on_b = Client::new(&instance_b);
    on_b.set_cookie(on_a.cookie());
    let home = on_b.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.json(), serde_json::json!({"user": "alice"}));
    let listed = on_b.json(TestRequest::get().uri("/sessions")).await.json();
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{listed}");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(listed["next"], serde_json::Value::Null, "one page");

    let revoked = on_a
        .json(TestRequest::post().uri("/sessions/revoke-all"))
        .await;
    assert_eq!(revoked.json(), serde_json::json!({"revoked": 1}));

    let browser = Client::new(&instance_b);
    browser.set_cookie(on_b.cookie());
    let home = on_b.json(TestRequest::get().uri("/")).await;
    assert_eq!(home.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        home.json(),
        serde_json::json!({"error": "session_expired", "reason": "revoked"})
    );
    let page = browser
        .send(
            TestRequest::get()
                .uri("/")
                .insert_header((header::ACCEPT, "text/html")),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.header("location"),
        Some("/login?next=/&reason=revoked")
    );
    let form = browser
        .send(TestRequest::get().uri("/login?next=/&reason=revoked"))
        .await;
    assert!(
        form.body.contains("possibly from another device"),
        "{}",
        form.body
    );
}

#[actix_web::test]
async fn the_session_list_comes_a_page_at_a_time_each_with_a_readable_device() {
    let target = Target::single();
    let clock = MockClock::new();
    let app = redis_demo_app(target.store(&clock).await, expiry(&clock)).await;
    let credentials = serde_json::json!({"username": "alice", "password": "password"});
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                  (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    let devices: Vec<_> = (0..21).map(|_| Client::new(&app)).collect();
    for (n, device) in devices.iter().enumerate() {
        let agent = if n % 2 == 0 { firefox } else { iphone };
        let login = TestRequest::post()
            .uri("/login")
            .insert_header((header::USER_AGENT, agent))
            .set_json(&credentials);
        assert_eq!(device.json(login).await.status, StatusCode::OK);
        clock.advance(std::time::Duration::from_secs(1));
    }
    let newest = &devices[20];
    let first = newest
        .json(TestRequest::get().uri("/sessions"))
        .await
        .json();
    let sessions = first["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 20, "a page of 20");
    assert_eq!(sessions[0]["current"], true, "the newest first");
    assert_eq!(sessions[0]["device"], "Firefox 128 on Linux");
    assert_eq!(sessions[1]["device"], "Mobile Safari 17 on iOS");
    let cursor = first["next"].as_str().unwrap();
    let rest = newest
        .json(TestRequest::get().uri(&format!("/sessions?cursor={cursor}")))
        .await
        .json();
    let last = rest["sessions"].as_array().unwrap();
    assert_eq!(last.len(), 1, "{rest}");
    assert_eq!(last[0]["current"], false);
    assert_eq!(rest["next"], serde_json::Value::Null);
    let ids: std::collections::HashSet<_> = sessions.iter().chain(last).map(|s| &s["id"]).collect();
    assert_eq!(ids.len(), 21, "each session once");
}
