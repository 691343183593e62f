//! Lifecycle events and metrics: what the hook gets, in order; the counters, read back through
//! `metrics-util`'s debugging recorder; the redis example's `/metrics` page.

use std::sync::{Arc, Mutex};

use actix_session::SessionMiddleware;
use actix_web::{
    http::StatusCode,
    test::{self, TestRequest},
    web, App,
};
use metrics_exporter_prometheus::PrometheusBuilder;
use metrics_util::{
    debugging::{DebugValue, DebuggingRecorder, Snapshotter},
    CompositeKey, MetricKind,
};
use session_expiry::{
    config::Adoption, config::UserIdLogging, redis::RequestScope, ExpiryEvent, ExpiryReason,
    MockClock, SessionEvent,
};

use crate::{
    demo, metrics_page,
    redis_server::RedisServer,
    redis_support::{cookie_key, redis_app, Target},
    sessions,
    support::{app, capture_logs, expiry, logs, Client, IDLE, MINUTE},
};

/// A builder whose hook collects every event.
fn collecting(
    clock: &MockClock,
) -> (
    session_expiry::config::SessionExpiryBuilder,
    Arc<Mutex<Vec<SessionEvent>>>,
) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let builder = expiry(clock).on_event(move |event| sink.lock().unwrap().push(event.clone()));
    (builder, events)
}

#[actix_web::test]
async fn the_hook_sees_log_in_log_out_log_in_and_an_idle_expiry_in_order() {
    let clock = MockClock::new();
    let (builder, events) = collecting(&clock);
    let expired = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&expired);
    let client =
        app(builder.on_expired(move |event| sink.lock().unwrap().push(event.reason))).await;
    let (_guard, buffer) = capture_logs();

    client.login().await;
    clock.advance(MINUTE);
    client.json(TestRequest::post().uri("/logout")).await;
    client.login().await;
    clock.advance(IDLE);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let events = events.lock().unwrap().clone();
    let names: Vec<_> = events.iter().map(SessionEvent::name).collect();
    assert_eq!(names, ["logged_in", "logged_out", "logged_in", "expired"]);
    assert!(events.iter().all(|event| event.user() == Some("alice")));
    match &events[0] {
        SessionEvent::LoggedIn {
            policy, remembered, ..
        } => {
            assert_eq!(policy.idle(), Some(IDLE));
            assert!(!remembered);
        }
        other => panic!("{other:?}"),
    }
    match &events[1] {
        SessionEvent::LoggedOut { session_age, .. } => assert_eq!(*session_age, MINUTE),
        other => panic!("{other:?}"),
    }
    match &events[3] {
        SessionEvent::Expired(ExpiryEvent {
            reason,
            session_age,
            idle_for,
            ..
        }) => {
            assert_eq!(*reason, ExpiryReason::Idle);
            assert_eq!((*session_age, *idle_for), (Some(IDLE), Some(IDLE)));
        }
        other => panic!("{other:?}"),
    }
    // The old hook is a thin alias.
    assert_eq!(*expired.lock().unwrap(), [ExpiryReason::Idle]);
    // Every event is a log line with stable field names.
    let lines = logs(&buffer);
    for name in ["logged_in", "logged_out", "expired"] {
        assert!(
            lines.contains(&format!("event=\"{name}\" user=\"alice\"")),
            "{lines}"
        );
    }
    assert!(
        lines.contains("reason=idle session_age_secs=1800 idle_for_secs=1800"),
        "{lines}"
    );
}

#[actix_web::test]
async fn reauthentication_and_adoption_are_events_too() {
    let clock = MockClock::new();
    let (builder, events) = collecting(&clock);
    let builder = builder.adoption(Adoption::adopt(|req| {
        req.headers()
            .get("x-legacy-user")
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }));
    let client = app(builder).await;
    client
        .json(
            TestRequest::get()
                .uri("/whoami")
                .insert_header(("x-legacy-user", "carol")),
        )
        .await;
    let names: Vec<_> = events
        .lock()
        .unwrap()
        .iter()
        .map(SessionEvent::name)
        .collect();
    assert_eq!(names, ["adopted"]);
    assert_eq!(events.lock().unwrap()[0].user(), Some("carol"));
}

/// The counters (and the number of samples of each histogram) a snapshot holds; taking it
/// drains the recorder.
pub fn values(snapshotter: &Snapshotter) -> impl Fn(&str, &[(&str, &str)]) -> u64 {
    let snapshot = snapshotter.snapshot().into_vec();
    move |name, labels| {
        snapshot
            .iter()
            .find(|(key, ..)| matches(key, name, labels))
            .map_or(0, |(.., value)| match value {
                DebugValue::Counter(n) => *n,
                DebugValue::Histogram(samples) => u64::try_from(samples.len()).unwrap(),
                DebugValue::Gauge(_) => panic!("{name} is a gauge"),
            })
    }
}

fn matches(key: &CompositeKey, name: &str, labels: &[(&str, &str)]) -> bool {
    key.key().name() == name
        && labels.iter().all(|(k, v)| {
            key.key()
                .labels()
                .any(|label| label.key() == *k && label.value() == *v)
        })
        && matches!(key.kind(), MetricKind::Counter | MetricKind::Histogram)
}

#[actix_web::test]
async fn the_counters_count_log_ins_log_outs_expiries_refreshes_and_durations() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let clock = MockClock::new();
    let client = app(expiry(&clock)).await;

    client.login().await;
    clock.advance(5 * MINUTE);
    client.json(TestRequest::get().uri("/whoami")).await; // a refresh
    client.json(TestRequest::post().uri("/logout")).await;
    client.login().await;
    clock.advance(IDLE);
    client.json(TestRequest::get().uri("/whoami")).await;

    let count = values(&snapshotter);
    assert_eq!(count("session_expiry_logins_total", &[]), 2);
    assert_eq!(count("session_expiry_logouts_total", &[]), 1);
    assert_eq!(
        count("session_expiry_expired_total", &[("reason", "idle")]),
        1
    );
    assert_eq!(count("session_expiry_refreshes_total", &[]), 1);
    let durations = "session_expiry_session_duration_seconds";
    assert_eq!(count(durations, &[("reason", "logout")]), 1);
    assert_eq!(count(durations, &[("reason", "idle")]), 1);
    assert_eq!(count("session_expiry_store_errors_total", &[]), 0);
}

#[actix_web::test]
async fn store_errors_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let mut target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let client = Client::new(&app);
    client.login().await;
    target.server().stop();
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        values(&snapshotter)("session_expiry_store_errors_total", &[]),
        1
    );
}

#[actix_web::test]
async fn the_redis_example_serves_its_counters_to_prometheus() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let target = Target::single();
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(store.registry()))
            .app_data(web::Data::new(handle))
            .configure(demo::routes)
            .configure(sessions::routes)
            .configure(metrics_page::routes(metrics_page::MetricsAccess::default()))
            .wrap(expiry(&clock).build())
            .wrap(
                SessionMiddleware::builder(store, cookie_key())
                    .cookie_secure(false)
                    .build(),
            )
            .wrap(RequestScope::new()),
    )
    .await;
    let client = Client::new(&app);
    let credentials = serde_json::json!({"username": "alice", "password": "password"});
    client
        .json(TestRequest::post().uri("/login").set_json(credentials))
        .await;
    clock.advance(IDLE);
    client.json(TestRequest::get().uri("/")).await;

    let page = client
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr(([127, 0, 0, 1], 9100).into()),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    for line in [
        "session_expiry_logins_total 1",
        "session_expiry_expired_total{reason=\"idle\"} 1",
        "session_expiry_session_duration_seconds_count{reason=\"idle\"} 1",
    ] {
        assert!(
            page.body.lines().any(|l| l == line),
            "{line} in\n{}",
            page.body
        );
    }
}

#[actix_web::test]
async fn the_store_reports_evictions_and_revocations_to_the_same_hook() {
    let target = Target::single();
    let clock = MockClock::new();
    let events = Arc::new(Mutex::new(Vec::new()));
    let hook = |events: &Arc<Mutex<Vec<SessionEvent>>>| {
        let sink = Arc::clone(events);
        move |event: &SessionEvent| sink.lock().unwrap().push(event.clone())
    };
    // One hook, given once: the store takes it from the middleware it serves.
    let middleware = || expiry(&clock).max_sessions(2).on_event(hook(&events));
    let store = target.store_for(&middleware().build()).await;
    let registry = store.registry();
    let app = redis_app(store, middleware()).await;
    let devices: Vec<_> = (0..3).map(|_| Client::new(&app)).collect();
    for device in &devices {
        clock.advance(MINUTE);
        device.login().await;
    }
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 2);

    let events = events.lock().unwrap().clone();
    let names: Vec<_> = events.iter().map(SessionEvent::name).collect();
    // The third log-in is reported by the middleware, then its save evicts the first session.
    assert_eq!(
        names,
        ["logged_in", "logged_in", "logged_in", "evicted", "revoked"]
    );
    assert!(matches!(
        &events[3],
        SessionEvent::Evicted { user, sessions: 1, .. } if user == "alice"
    ));
    assert!(matches!(
        &events[4],
        SessionEvent::Revoked { user, sessions: 2, .. } if user == "alice"
    ));
}

#[actix_web::test]
async fn the_stores_log_lines_name_users_as_the_middleware_does() {
    let target = Target::single();
    let clock = MockClock::new();
    let middleware = || hashing_user_ids(&clock);
    let store = target.store_for(&middleware().build()).await;
    let registry = store.registry();
    let app = redis_app(store, middleware()).await;
    Client::new(&app).login().await;
    let (_guard, buffer) = capture_logs();
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    let lines = logs(&buffer);
    // The registry's own line, with the pseudonym the middleware's lines use.
    assert!(lines.contains("revoked"), "{lines}");
    assert!(lines.contains("user="), "{lines}");
    assert!(!lines.contains("alice"), "{lines}");
}

#[actix_web::test]
async fn with_a_hashed_user_id_key_the_redis_key_names_are_keyed_too() {
    let target = Target::single();
    let clock = MockClock::new();
    let keyed = || hashing_user_ids(&clock);
    let plain_app = redis_app(target.store(&clock).await, expiry(&clock)).await;
    let keyed_store = target.store_for(&keyed().build()).await;
    let keyed_registry = keyed_store.registry();
    let keyed_app = redis_app(keyed_store, keyed()).await;
    Client::new(&plain_app).login().await;
    let mut redis = target.inspect().await;
    let unkeyed = redis.index_keys().await;
    assert_eq!(unkeyed.len(), 1);
    Client::new(&keyed_app).login().await;
    // The same user, under a tag only the key can compute: a second index of its own.
    let both = redis.index_keys().await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(keyed_registry.count("alice").await.unwrap(), 1);
}

/// A middleware that names users in its log lines by a keyed hash.
fn hashing_user_ids(clock: &MockClock) -> session_expiry::config::SessionExpiryBuilder {
    expiry(clock)
        .log_user_ids(UserIdLogging::hashed("a secret key of 32 bytes or more").expect("32 bytes"))
}
