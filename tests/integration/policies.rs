//! Remember-me on the quickstart's log-in form (the store-agnostic policy bodies are in
//! `suite::policies`).

use actix_web::{
    http::StatusCode,
    test::{self, TestRequest},
    App,
};
use session_expiry::{config::SessionExpiryBuilder, MockClock, Policy, SessionExpiry};

use crate::{
    demo,
    support::{session_middleware, Client, MINUTE},
};

fn builder(clock: &MockClock) -> SessionExpiryBuilder {
    SessionExpiry::builder().clock(clock.clone())
}

#[actix_web::test]
async fn remember_me_on_the_quickstart_form_picks_the_longer_policy() {
    let clock = MockClock::new();
    let quickstart = || {
        test::init_service(
            App::new()
                .configure(demo::routes)
                .wrap(
                    builder(&clock)
                        .idle_timeout(30 * MINUTE)
                        .remember_me_policy(Policy::nist_aal1())
                        .login_path("/login")
                        .build(),
                )
                .wrap(session_middleware()),
        )
    };
    let remembered = Client::new(quickstart().await);
    let plain = Client::new(quickstart().await);
    for (client, remember) in [(&remembered, "on"), (&plain, "")] {
        let mut form = vec![("username", "alice"), ("password", "password")];
        if !remember.is_empty() {
            form.push(("remember", remember));
        }
        let login = client
            .send(TestRequest::post().uri("/login").set_form(form))
            .await;
        assert_eq!(login.status, StatusCode::SEE_OTHER);
    }
    clock.advance(2 * 24 * 60 * MINUTE);
    assert_eq!(
        plain.json(TestRequest::get().uri("/")).await.json()["reason"],
        "idle"
    );
    assert_eq!(
        remembered.json(TestRequest::get().uri("/")).await.json()["user"],
        "alice"
    );
    clock.advance(28 * 24 * 60 * MINUTE);
    assert_eq!(
        remembered.json(TestRequest::get().uri("/")).await.json()["reason"],
        "absolute"
    );
}
