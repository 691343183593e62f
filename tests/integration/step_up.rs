//! A state key of one's own, and step-up in the quickstart (the store-agnostic step-up bodies
//! are in `suite::step_up`).

use actix_session::SessionExt as _;
use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{MockClock, STATE_KEY};

use crate::{
    demo,
    support::{expiry, routes, session_middleware, Client, IDLE, MINUTE},
};

const BROWSER: (header::HeaderName, &str) = (header::ACCEPT, "text/html");

async fn raw_state(req: HttpRequest, key: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(req.get_session().entries().get(key.as_str()).cloned())
}

#[actix_web::test]
async fn the_state_can_live_under_a_key_of_ones_own() {
    let clock = MockClock::new();
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .route("/raw/{key}", web::get().to(raw_state))
                .wrap(expiry(&clock).state_key("auth").build())
                .wrap(session_middleware()),
        )
        .await,
    );
    client.login().await;
    let mine = client
        .json(TestRequest::get().uri("/raw/auth"))
        .await
        .json();
    assert!(mine.as_str().unwrap().starts_with("\"2.alice."), "{mine}");
    let default = client
        .json(TestRequest::get().uri(&format!("/raw/{STATE_KEY}")))
        .await;
    assert_eq!(default.json(), serde_json::Value::Null);
    let whoami = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(whoami.json()["user"], "alice");
    clock.advance(IDLE);
    let expired = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(expired.json()["reason"], "idle");
}

/// The quickstart's `/settings` and `/confirm`, as a browser user goes through them.
#[actix_web::test]
async fn the_quickstart_asks_for_the_password_again_before_its_settings() {
    let clock = MockClock::new();
    let settings = demo::Settings {
        host: "127.0.0.1".into(),
        port: 0,
        idle: IDLE,
        absolute: 8 * 60 * MINUTE,
        accounts: demo::Accounts::default(),
    };
    let client = Client::new(
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(settings.expiry().clock(clock.clone()).build())
                .wrap(session_middleware()),
        )
        .await,
    );
    let credentials = [("username", "alice"), ("password", "password")];
    let login = client
        .send(TestRequest::post().uri("/login").set_form(credentials))
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let page = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Settings of alice"));

    clock.advance(6 * MINUTE);
    let stale = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(stale.header("location"), Some("/confirm?next=/settings"));
    let confirm = client
        .send(
            TestRequest::get()
                .uri("/confirm?next=/settings")
                .insert_header(BROWSER),
        )
        .await;
    assert!(confirm.body.contains("name=\"password\""));
    let wrong = client
        .send(
            TestRequest::post()
                .uri("/confirm")
                .set_form([("password", "nope"), ("next", "/settings")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = client
        .send(
            TestRequest::post()
                .uri("/confirm")
                .set_form([("password", "password"), ("next", "/settings")]),
        )
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    assert_eq!(right.header("location"), Some("/settings"));
    let page = client
        .send(TestRequest::get().uri("/settings").insert_header(BROWSER))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let saved = client
        .json(
            TestRequest::post()
                .uri("/settings")
                .set_form([("display_name", "Al")]),
        )
        .await;
    assert_eq!(
        saved.json(),
        serde_json::json!({"saved": true, "user": "alice"})
    );
}

#[actix_web::test]
async fn the_redis_store_finds_the_state_under_a_key_of_ones_own() {
    let target = crate::redis_support::Target::single();
    let clock = MockClock::new();
    let store = target
        .store_for(&expiry(&clock).state_key("auth").build())
        .await;
    let registry = store.registry();
    let app = crate::redis_support::redis_app(store, expiry(&clock).state_key("auth")).await;
    let client = Client::new(&app);
    client.login().await;
    // The store found the state: the session is listed, and Redis drops it at its deadline.
    let page = registry
        .list("alice", session_expiry::redis::Page::new(10))
        .await
        .unwrap();
    assert_eq!(page.sessions.len(), 1);
    let mut redis = target.inspect().await;
    let keys = redis.session_keys().await;
    assert_eq!(keys.len(), 1);
    clock.advance(IDLE);
    let expired = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(expired.json()["reason"], "idle");
}
