//! The Redis example's routes, as a user of two instances of it sees them (the README's curl
//! scenario).

use actix_session::SessionMiddleware;
use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App,
};
use session_expiry::{redis::RequestScope, MockClock};

use crate::{
    demo,
    redis_support::cookie_key,
    redis_support::Target,
    sessions,
    support::{expiry, Client},
};

/// The app of `examples/redis.rs`, on `store`.
macro_rules! redis_demo {
    ($store:expr, $clock:expr) => {{
        let store = $store;
        test::init_service(
            App::new()
                .app_data(web::Data::new(store.registry()))
                .configure(demo::routes)
                .configure(sessions::routes)
                .wrap(expiry(&$clock).build())
                .wrap(
                    SessionMiddleware::builder(store, cookie_key())
                        .cookie_secure(false)
                        .build(),
                )
                .wrap(RequestScope::new()),
        )
        .await
    }};
}

#[actix_web::test]
async fn log_in_on_one_instance_use_the_other_and_log_out_everywhere() {
    let target = Target::single();
    let clock = MockClock::new();
    let instance_a = redis_demo!(target.store(&clock).await, clock);
    let instance_b = redis_demo!(target.store(&clock).await, clock);
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
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["current"], true);

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
