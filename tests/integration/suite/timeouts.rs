//! When sessions end, and when last-seen is written: on every store.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{config::ExpiredAction, MockClock};

use super::{client, suite, Backend};
use crate::support::{expiry, ABSOLUTE, IDLE, MINUTE};

suite!(
    session_survives_until_one_millisecond_before_the_idle_timeout,
    session_expires_exactly_at_the_idle_timeout,
    activity_keeps_a_session_alive_until_the_absolute_timeout_exactly,
    absolute_wins_when_both_timeouts_have_passed,
    a_per_login_policy_replaces_the_global_one_in_both_directions,
    last_seen_is_written_at_most_once_per_granularity_window,
    the_default_granularity_is_a_minute_for_a_thirty_minute_idle_timeout,
    the_granularity_error_only_ever_ends_a_session_early,
    passive_requests_do_not_count_as_activity,
    an_active_request_refreshes_where_a_passive_one_did_not,
    keepalive_records_activity_at_once,
    status_and_keepalive_refuse_an_anonymous_request,
    login_renews_the_session_id,
    continue_mode_lets_the_request_through_anonymous_with_the_reason,
    the_expiry_is_logged_and_reported_without_the_session_key,
);

const MS: Duration = Duration::from_millis(1);

pub async fn session_survives_until_one_millisecond_before_the_idle_timeout(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(IDLE - MS);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["user"], "alice");
}

pub async fn session_expires_exactly_at_the_idle_timeout(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(IDLE);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": "session_expired", "reason": "idle"})
    );
    assert!(client.cookie().is_none(), "the expired session is purged");

    let after = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        after.json()["user"],
        serde_json::Value::Null,
        "then anonymous"
    );
}

pub async fn activity_keeps_a_session_alive_until_the_absolute_timeout_exactly(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    let step = 20 * MINUTE;
    let mut elapsed = Duration::ZERO;
    while elapsed + step < ABSOLUTE {
        clock.advance(step);
        elapsed += step;
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.json()["user"], "alice", "at {elapsed:?}");
    }
    clock.advance(ABSOLUTE - elapsed - MS);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        answer.json()["user"],
        "alice",
        "1 ms before the absolute timeout"
    );

    clock.advance(MS);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["reason"], "absolute");
}

pub async fn absolute_wins_when_both_timeouts_have_passed(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(ABSOLUTE + IDLE);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["reason"], "absolute");
}

pub async fn a_per_login_policy_replaces_the_global_one_in_both_directions(backend: &impl Backend) {
    let clock = MockClock::new();
    // Remember-me: idle 1 day, absolute 30 days, longer than the global 30 min / 8 h.
    let long = client(backend, expiry(&clock)).await;
    let login = long
        .json(TestRequest::post().uri(&format!(
            "/login-with/alice/{}/{}",
            24 * 3600,
            30 * 24 * 3600
        )))
        .await;
    assert_eq!(login.status, StatusCode::OK);
    // A stricter one: idle 5 min.
    let short = client(backend, expiry(&clock)).await;
    short
        .json(TestRequest::post().uri(&format!("/login-with/bob/{}/{}", 5 * 60, 3600)))
        .await;

    clock.advance(5 * MINUTE);
    let answer = short.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["reason"], "idle", "bob's own 5 minutes apply");

    clock.advance(10 * 3600 * Duration::from_secs(1));
    let answer = long.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        answer.json()["user"],
        "alice",
        "alice outlives the global policy"
    );
}

pub async fn last_seen_is_written_at_most_once_per_granularity_window(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock).refresh_granularity(MINUTE)).await;
    client.login().await;

    // A request every 5 seconds for 10 minutes: 120 requests, 10 windows.
    let mut writes = 0;
    for _ in 0..120 {
        clock.advance(Duration::from_secs(5));
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::OK);
        writes += usize::from(answer.set_cookie);
    }
    assert!(
        (9..=10).contains(&writes),
        "{writes} writes over 10 one-minute windows"
    );
}

pub async fn the_default_granularity_is_a_minute_for_a_thirty_minute_idle_timeout(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(59 * Duration::from_secs(1));
    assert!(
        !client
            .json(TestRequest::get().uri("/whoami"))
            .await
            .set_cookie
    );
    clock.advance(Duration::from_secs(1));
    assert!(
        client
            .json(TestRequest::get().uri("/whoami"))
            .await
            .set_cookie
    );
}

pub async fn the_granularity_error_only_ever_ends_a_session_early(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    // Active 59 s after log-in (not written: under one window), then idle.
    clock.advance(Duration::from_secs(59));
    client.json(TestRequest::get().uri("/whoami")).await;
    clock.advance(IDLE - Duration::from_secs(59));
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        answer.json()["reason"],
        "idle",
        "early by less than one window"
    );
}

pub async fn passive_requests_do_not_count_as_activity(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    for _ in 0..29 {
        clock.advance(MINUTE);
        let passive = client.json(TestRequest::get().uri("/passive")).await;
        assert!(!passive.set_cookie);
        let status = client.json(TestRequest::get().uri("/session/status")).await;
        assert!(!status.set_cookie);
    }
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.json()["idle_remaining_secs"], 60);

    clock.advance(MINUTE);
    let answer = client.json(TestRequest::get().uri("/passive")).await;
    assert_eq!(answer.json()["reason"], "idle");
}

pub async fn an_active_request_refreshes_where_a_passive_one_did_not(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(10 * MINUTE);
    assert!(
        !client
            .json(TestRequest::get().uri("/passive"))
            .await
            .set_cookie
    );
    assert!(
        client
            .json(TestRequest::get().uri("/whoami"))
            .await
            .set_cookie
    );
    let state = client.stored_state().await.unwrap();
    assert_eq!(state.seen_after_login_ms(), 600_000);
}

pub async fn keepalive_records_activity_at_once(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;

    clock.advance(29 * MINUTE);
    let answer = client
        .json(TestRequest::post().uri("/session/keepalive"))
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    clock.advance(29 * MINUTE);
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.json()["idle_remaining_secs"], 60);
    assert_eq!(status.json()["absolute_remaining_secs"], (8 * 60 - 58) * 60);
    assert_eq!(status.json()["expires_at"], "2025-01-01T00:59:00Z");
    // A twentieth of the 30 idle minutes, at most a minute.
    assert_eq!(status.json()["refresh_secs"], 60);
}

pub async fn status_and_keepalive_refuse_an_anonymous_request(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    let status = client.json(TestRequest::get().uri("/session/status")).await;
    assert_eq!(status.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status.json(),
        serde_json::json!({"error": "unauthenticated"})
    );
    let keepalive = client
        .json(TestRequest::post().uri("/session/keepalive"))
        .await;
    assert_eq!(keepalive.status, StatusCode::UNAUTHORIZED);
    assert!(
        !keepalive.set_cookie,
        "anonymous requests are never written"
    );
}

pub async fn login_renews_the_session_id(backend: &impl Backend) {
    let clock = MockClock::new();
    let client = client(backend, expiry(&clock)).await;
    client.login().await;
    let first = client.cookie().unwrap();
    client.login().await;
    let second = client.cookie().unwrap();
    assert_ne!(first.value(), second.value());
}

pub async fn continue_mode_lets_the_request_through_anonymous_with_the_reason(
    backend: &impl Backend,
) {
    let clock = MockClock::new();
    let seen = Arc::new(AtomicUsize::new(0));
    let hook_seen = Arc::clone(&seen);
    let client = client(
        backend,
        expiry(&clock)
            .expired_action(ExpiredAction::Continue)
            .on_expired(move |event| {
                assert_eq!(event.user.as_deref(), Some("alice"));
                assert_eq!(event.idle_for, Some(IDLE));
                hook_seen.fetch_add(1, Ordering::SeqCst);
            }),
    )
    .await;
    client.login().await;

    clock.advance(IDLE);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        serde_json::json!({"user": null, "expired_reason": "idle"})
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    let again = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(
        again.json(),
        serde_json::json!({"user": null, "expired_reason": null})
    );
}

pub async fn the_expiry_is_logged_and_reported_without_the_session_key(backend: &impl Backend) {
    let clock = MockClock::new();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let client = client(
        backend,
        expiry(&clock).on_expired(move |e| sink.lock().unwrap().push(e.clone())),
    )
    .await;
    client.login().await;
    let key = client.cookie().unwrap().value().to_owned();

    let (_guard, buffer) = crate::support::capture_logs();
    clock.advance(ABSOLUTE);
    client.json(TestRequest::get().uri("/whoami")).await;

    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].reason, session_expiry::ExpiryReason::Absolute);
    assert_eq!(events[0].session_age, Some(ABSOLUTE));
    let logs = crate::support::logs(&buffer);
    assert!(
        logs.contains("session expired") && logs.contains("alice") && logs.contains("absolute"),
        "{logs}"
    );
    assert!(!logs.contains(&key));
}
