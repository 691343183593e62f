//! WebSockets and event streams end with the session (#28), on the cookie store over real
//! HTTP: the idle and absolute deadlines (`MockClock`), a log-out in another tab, a credentials
//! change by another session; each closes with 4401 and the 401's JSON, or ends the stream with
//! `event: session-expired`.

use std::time::Duration;

use actix_web::{web, App};
use session_expiry::{MockClock, SessionEnd};

use crate::{
    credentials::{change_password, Users},
    demo,
    live_support::{expired_json, serve, signed_in_socket, timers, Browser, Ended},
    support::{expiry, routes, session_middleware, ABSOLUTE, IDLE},
};

/// Real time a connection may take to close once its end is due (the server's worker wakes,
/// writes the frame, the client reads it).
const PROMPTLY: Duration = Duration::from_secs(2);

macro_rules! cookie_server {
    ($middleware:expr) => {{
        let middleware = $middleware;
        serve!(App::new()
            .configure(routes)
            .configure(demo::live::routes)
            .wrap(middleware.clone())
            .wrap(session_middleware()))
    }};
}

#[actix_web::test]
async fn live_idle_deadline_closes_the_socket_with_4401_and_idle() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    let (_alice, mut socket) = signed_in_socket(&server, &clock, "alice").await;

    clock.advance(IDLE - Duration::from_secs(1));
    assert!(socket.still_open(Duration::from_millis(200)).await);
    clock.advance(Duration::from_secs(1));
    let (code, reason) = socket.closed_within(PROMPTLY).await;
    assert_eq!(code, SessionEnd::CLOSE_CODE);
    assert_eq!(reason, expired_json("idle"));
    assert_eq!(clock.pending_timers(), 0, "the socket's timer outlived it");
}

#[actix_web::test]
async fn live_absolute_deadline_closes_the_socket_with_absolute() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    // Ten minutes absolute, an hour idle: the absolute deadline comes first.
    let alice = Browser::login_at(&server, "/login-with/alice/3600/600").await;
    let mut socket = alice.socket(&server, "/ws").await;
    timers(&clock, 1).await;

    clock.advance(Duration::from_secs(600));
    socket.closes_with("absolute", PROMPTLY).await;
}

#[actix_web::test]
async fn live_event_stream_ends_with_a_session_expired_event() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    let alice = Browser::login(&server, "alice").await;
    let mut events = alice.events(&server, "/events").await;
    timers(&clock, 1).await;

    clock.advance(ABSOLUTE);
    let ended = events.ended_within(PROMPTLY).await;
    assert_eq!(
        ended,
        Ended {
            event: "session-expired".into(),
            data: expired_json("absolute"),
        }
    );
}

#[actix_web::test]
async fn live_log_out_in_another_tab_closes_the_sessions_socket_and_no_other() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    // Two tabs share the cookie; another device has a session of its own.
    let tab = Browser::login(&server, "alice").await;
    clock.advance(Duration::from_millis(5));
    let other_device = Browser::login(&server, "alice").await;
    let mut socket = tab.socket(&server, "/ws").await;
    let mut other_socket = other_device.socket(&server, "/ws").await;
    timers(&clock, 2).await;

    assert_eq!(tab.send(&server, "POST", "/logout").await, 204);
    socket.closes_with("logged_out", PROMPTLY).await;
    assert!(other_socket.still_open(Duration::from_millis(300)).await);
}

#[actix_web::test]
async fn live_credentials_change_closes_the_other_sessions_sockets_and_keeps_its_own() {
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let middleware = users.stamped(expiry(&clock)).build();
    let server = {
        let users = users.clone();
        serve!(App::new()
            .app_data(web::Data::new(users.clone()))
            .configure(routes)
            .configure(demo::live::routes)
            .route("/password", web::post().to(change_password))
            .wrap(middleware.clone())
            .wrap(session_middleware()))
    };
    let laptop = Browser::login(&server, "alice").await;
    clock.advance(Duration::from_millis(5));
    let phone = Browser::login(&server, "alice").await;
    let mut laptop_socket = laptop.socket(&server, "/ws").await;
    let mut phone_socket = phone.events(&server, "/events").await;
    timers(&clock, 2).await;

    assert_eq!(laptop.send(&server, "POST", "/password").await, 204);
    let ended = phone_socket.ended_within(PROMPTLY).await;
    assert_eq!(ended.data, expired_json("credentials_changed"));
    assert!(laptop_socket.still_open(Duration::from_millis(300)).await);
}

#[actix_web::test]
async fn live_messages_do_not_extend_the_idle_deadline_on_the_cookie_store() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    let (_alice, mut socket) = signed_in_socket(&server, &clock, "alice").await;
    clock.advance(IDLE / 2);
    socket.send_text("still here").await;
    clock.advance(IDLE / 2);
    socket.closes_with("idle", PROMPTLY).await;
}

#[actix_web::test]
async fn live_requests_in_another_tab_keep_the_sessions_socket_open() {
    let clock = MockClock::new();
    let server = cookie_server!(expiry(&clock).build());
    let (alice, mut socket) = signed_in_socket(&server, &clock, "alice").await;

    clock.advance(IDLE / 2);
    // The same session's request (another tab, same instance) refreshes last-seen.
    assert_eq!(alice.json(&server, "/whoami").await["user"], "alice");
    clock.advance(IDLE / 2);
    assert!(socket.still_open(Duration::from_millis(300)).await);
    clock.advance(IDLE / 2);
    socket.closes_with("idle", PROMPTLY).await;
}
