//! The quickstart's change-password page: `POST /password` ends the user's other sessions
//! unless the box is unticked, keeps this one, and is same-origin checked (#26).

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App,
};
use session_expiry::MockClock;

use crate::{
    demo,
    support::{session_middleware, Client},
};

macro_rules! quickstart {
    ($clock:expr) => {{
        let settings = demo::Settings::from_env().unwrap();
        Client::new(
            test::init_service(
                App::new()
                    .configure(demo::routes)
                    .app_data(web::Data::new(settings.accounts.clone()))
                    .wrap(settings.expiry().clock($clock.clone()).build())
                    .wrap(session_middleware()),
            )
            .await,
        )
    }};
}

fn log_in(password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/login")
        .set_json(serde_json::json!({ "username": "alice", "password": password }))
}

fn home() -> TestRequest {
    TestRequest::get().uri("/")
}

#[actix_web::test]
async fn a_new_password_signs_out_the_other_devices_and_keeps_this_one() {
    let clock = MockClock::new();
    let client = quickstart!(clock);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);
    let other = client.cookie();
    client.set_cookie(None);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);

    let changed = client
        .json(
            TestRequest::post()
                .uri("/password")
                .set_json(serde_json::json!({ "password": "correct horse" })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.json()["signed_out_others"], true);
    assert_eq!(client.json(home()).await.json()["user"], "alice");

    let this = client.cookie();
    client.set_cookie(other);
    let ended = client.json(home()).await;
    assert_eq!(ended.status, StatusCode::UNAUTHORIZED, "{ended:?}");
    assert_eq!(ended.json()["reason"], "credentials_changed");

    client.set_cookie(None);
    let old = client.json(log_in("password")).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{old:?}");
    assert_eq!(
        client.json(log_in("correct horse")).await.status,
        StatusCode::OK
    );
    client.set_cookie(this);
    assert_eq!(client.json(home()).await.json()["user"], "alice");
}

#[actix_web::test]
async fn with_the_box_unticked_the_other_devices_stay_signed_in() {
    let clock = MockClock::new();
    let client = quickstart!(clock);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);
    let other = client.cookie();
    client.set_cookie(None);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);
    let changed = client
        .send(
            TestRequest::post()
                .uri("/password")
                .insert_header((header::ACCEPT, "text/html"))
                .set_form([
                    ("password", "correct horse"),
                    ("sign_out_others_shown", "1"),
                ]),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    client.set_cookie(other);
    clock.advance(std::time::Duration::from_secs(120));
    assert_eq!(client.json(home()).await.json()["user"], "alice");
}

#[actix_web::test]
async fn the_page_ticks_the_box_and_another_site_cannot_post_it() {
    let clock = MockClock::new();
    let client = quickstart!(clock);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);
    let page = client
        .send(
            TestRequest::get()
                .uri("/password")
                .insert_header((header::ACCEPT, "text/html")),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(
        page.body.contains("name=\"sign_out_others\" checked"),
        "{}",
        page.body
    );

    let forged = client
        .json(
            TestRequest::post()
                .uri("/password")
                .insert_header(("Sec-Fetch-Site", "cross-site"))
                .set_json(serde_json::json!({ "password": "owned" })),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{forged:?}");
    client.set_cookie(None);
    assert_eq!(client.json(log_in("password")).await.status, StatusCode::OK);
}
