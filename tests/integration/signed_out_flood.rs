//! The cookie store's memory of recent log-outs (which keeps a request in flight from signing
//! its user back in) holds against one account replaying its own log-out: the replays are one
//! entry, in that account's own bucket.

use std::rc::Rc;

use actix_web::{
    http::StatusCode,
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_expiry::{Expiry, MockClock};
use tokio::sync::Notify;

use crate::support::{expiry, routes, session_middleware, Client, MINUTE};

/// More than the 4,096 log-outs that flushed the memory before it kept one entry per session.
const REPLAYS: usize = 10_000;

#[actix_web::test]
async fn ten_thousand_replayed_log_outs_of_one_account_leave_another_users_log_out_remembered() {
    let clock = MockClock::new();
    let release = Rc::new(Notify::new());
    let waiting = Rc::clone(&release);
    let app = test::init_service(
        App::new()
            .configure(routes)
            .route(
                "/slow",
                web::get().to(move |_: Expiry| {
                    let release = Rc::clone(&waiting);
                    async move {
                        release.notified().await;
                        HttpResponse::Ok().finish()
                    }
                }),
            )
            .wrap(expiry(&clock).build())
            .wrap(session_middleware()),
    )
    .await;
    let alice = Client::new(&app);
    alice.login().await;
    let alice_signed_in = alice.cookie();
    let mallory = Client::new(&app);
    let login = mallory
        .json(TestRequest::post().uri("/login/mallory"))
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let mallory_signed_in = mallory.cookie();
    clock.advance(5 * MINUTE); // a refresh is due

    // alice signs out in another tab while her slow request runs; then mallory replays her own
    // signed-in cookie to the log-out route, which the cookie store cannot refuse.
    let other_tab = Client::new(&app);
    let slow = alice.json(TestRequest::get().uri("/slow"));
    let log_out_then_flood = async {
        actix_web::rt::task::yield_now().await;
        other_tab.set_cookie(alice_signed_in.clone());
        let answer = other_tab.json(TestRequest::post().uri("/logout")).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        for _ in 0..REPLAYS {
            mallory.set_cookie(mallory_signed_in.clone());
            let answer = mallory.json(TestRequest::post().uri("/logout")).await;
            assert_eq!(answer.status, StatusCode::NO_CONTENT);
        }
        release.notify_one();
    };
    let (slow, ()) = tokio::join!(slow, log_out_then_flood);
    assert_eq!(slow.status, StatusCode::OK);

    // alice's browser keeps the last cookie it was given: the log-out's removal, then the slow
    // request's, if it set one.
    let browser = Client::new(&app);
    browser.set_cookie(if slow.set_cookie {
        alice.cookie()
    } else {
        other_tab.cookie()
    });
    let whoami = browser.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        whoami.json()["user"],
        serde_json::Value::Null,
        "signed back in"
    );
    assert!(
        !slow.set_cookie,
        "the slow request must not write the signed-out session back"
    );
}
