//! Damaged input never panics, never leaks, and never keeps a session it cannot trust.

use std::{rc::Rc, time::Duration};

use actix_web::{
    cookie::Cookie,
    http::StatusCode,
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use proptest::prelude::*;
use session_expiry::{Expiry, MockClock};
use tokio::sync::Notify;

use crate::support::{app, expiry, routes, session_middleware, Client, MINUTE};

#[actix_web::test]
async fn a_garbage_cookie_is_simply_an_anonymous_session() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    for garbage in ["garbage", "", "%%%", "eyJ2IjoxfQ==", &"A".repeat(4000)] {
        client.set_cookie(Some(Cookie::new("id", garbage.to_owned())));
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::OK, "{garbage:?}");
        assert_eq!(answer.json()["user"], serde_json::Value::Null);
    }
}

#[actix_web::test]
async fn a_tampered_or_truncated_cookie_is_simply_an_anonymous_session() {
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;
    client.login().await;
    let genuine = client.cookie().unwrap();
    let value = genuine.value().to_owned();

    let mut flipped = value.clone().into_bytes();
    let middle = flipped.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    let tampered = [
        String::from_utf8(flipped).unwrap(),
        value[..value.len() - 4].to_owned(),
        format!("{value}AAAA"),
    ];
    for bad in tampered {
        client.set_cookie(Some(Cookie::new("id", bad.clone())));
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::OK, "{bad}");
        assert_eq!(answer.json()["user"], serde_json::Value::Null);
    }
    client.set_cookie(Some(genuine));
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        answer.json()["user"],
        "alice",
        "the genuine cookie still works"
    );
}

#[actix_web::test]
async fn untrustworthy_state_ends_the_session_with_reason_invalid() {
    let clock = MockClock::new();
    let now_ms = 1_735_689_600_000_u64;
    let cases = [
        serde_json::json!([2, "alice", now_ms, now_ms, null, null]),
        serde_json::json!([1, "alice", now_ms, now_ms + 3_600_000, null, null]),
        serde_json::json!([1, "alice", now_ms, now_ms - 1, null, null]),
        serde_json::json!([1, "alice", -5, now_ms, null, null]),
        serde_json::json!([1, "alice", now_ms, null, null]),
        serde_json::json!({"v": 1, "u": "alice", "l": now_ms, "s": now_ms}),
        serde_json::json!("alice"),
    ];
    for planted in cases {
        let client = app(expiry(&clock)).await;
        let plant = client
            .json(TestRequest::post().uri("/plant").set_json(&planted))
            .await;
        assert_eq!(plant.status, StatusCode::NO_CONTENT);

        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{planted}");
        assert_eq!(answer.json()["reason"], "invalid", "{planted}");
        assert!(client.cookie().is_none(), "{planted}: purged");
    }
}

#[actix_web::test]
async fn state_within_the_clock_skew_tolerance_is_accepted() {
    let clock = MockClock::new();
    let now_ms = 1_735_689_600_000_u64;
    let client = app(expiry(&clock).clock_skew_tolerance(Duration::from_secs(5))).await;
    let planted = serde_json::json!([1, "alice", now_ms, now_ms + 5_000, null, null]);
    client
        .json(TestRequest::post().uri("/plant").set_json(&planted))
        .await;
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["user"], "alice");
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("v".to_owned()),
                    Just("u".to_owned()),
                    Just("l".to_owned()),
                    Just("s".to_owned()),
                    Just("p".to_owned()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arbitrary_json_in_the_state_key_never_panics_and_is_invalid(planted in arbitrary_json()) {
        actix_web::rt::System::new().block_on(async {
            let clock = MockClock::new();
            let client = app(expiry(&clock)).await;
            client.json(TestRequest::post().uri("/plant").set_json(&planted)).await;
            let answer = client.json(TestRequest::get().uri("/whoami")).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{planted}");
            assert_eq!(answer.json()["reason"], "invalid", "{planted}");
        });
    }
}

#[actix_web::test]
async fn concurrent_requests_never_move_last_seen_backwards() {
    let clock = MockClock::new();
    let release = Rc::new(Notify::new());
    let waiting = Rc::clone(&release);
    let client = Client::new(
        test::init_service(
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
        .await,
    );
    client.login().await;

    clock.advance(2 * MINUTE);
    let slow = client.json(TestRequest::get().uri("/slow"));
    let fast = async {
        actix_web::rt::task::yield_now().await;
        clock.advance(MINUTE);
        let fast = client.json(TestRequest::get().uri("/whoami")).await;
        assert!(fast.set_cookie, "the fast request refreshes at +3 min");
        clock.advance(MINUTE);
        release.notify_one();
    };
    let (slow, ()) = tokio::join!(slow, fast);
    assert!(slow.set_cookie);

    // The client holds what the slow request wrote last: the time it *finished*, +4 min.
    let state = client.stored_state().await.unwrap();
    assert_eq!(state.seen_after_login_ms(), 4 * 60_000);
}
