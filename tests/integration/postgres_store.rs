//! What the PostgreSQL store does, through real HTTP on actix-web's test service and the public
//! API, with time moved by `MockClock` and costs read from `pg_stat_statements`. The behaviour
//! it shares with the other stores (the registry's pages, revoking, the session limit, 40
//! concurrent log-ins) is the suite's (`suite/`, on its `postgres` backend).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{http::StatusCode, test::TestRequest};
use futures_util::future::join_all;
use metrics_util::debugging::DebuggingRecorder;
use session_expiry::{
    config::SessionExpiryBuilder, postgres::PostgresStore, registry::Page, Clock as _, MockClock,
    SessionEvent, SessionExpiry,
};

use crate::{
    events::values,
    postgres_support::{built, pg_app, pg_app_for, PgTarget},
    support::{expiry, Client, ABSOLUTE, IDLE, MINUTE},
};

#[actix_web::test]
async fn a_request_costs_one_select_and_no_write_until_a_refresh_is_due() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let store = target.store_for(&middleware).await;
    let client = Client::new(pg_app(store, middleware).await);
    client.login().await;
    let before = target.statements().await;
    for _ in 0..10 {
        clock.advance(Duration::from_secs(5));
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.json()["user"], "alice", "{answer:?}");
    }
    let steady = target.statements().await - before;
    assert_eq!(steady.selects, 10, "{steady:?}");
    assert_eq!(steady.writes, 0, "{steady:?}");
    assert_eq!(steady.statements, 10, "{steady:?}");
    // Past the granularity (a minute at a 30-minute idle timeout): one refresh, one row.
    clock.advance(MINUTE);
    let before = target.statements().await;
    client.json(TestRequest::get().uri("/whoami")).await;
    let refresh = target.statements().await - before;
    assert_eq!((refresh.selects, refresh.writes), (1, 1), "{refresh:?}");
    assert_eq!(refresh.rows_written, 1, "{refresh:?}");
}

#[actix_web::test]
async fn a_refresh_is_a_hot_update() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let store = target.store_for(&middleware).await;
    let client = Client::new(pg_app(store, middleware).await);
    client.login().await;
    for _ in 0..20 {
        clock.advance(MINUTE);
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    // The server's statistics reach pg_stat_user_tables when the store's connections go
    // idle: polled, in real time, for at most 15 s.
    let look = target.connect().await;
    let started = std::time::Instant::now();
    let (updates, hot) = loop {
        let row = look
            .query_one(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables \
                 WHERE schemaname = $1 AND relname = 'session_expiry'",
                &[&target.schema],
            )
            .await
            .unwrap();
        let (updates, hot): (i64, i64) = (row.get(0), row.get(1));
        if updates >= 20 || started.elapsed() > Duration::from_secs(15) {
            break (updates, hot);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(updates, 20, "one update per refresh");
    assert_eq!(hot, updates, "every refresh a HOT update");
}

#[actix_web::test]
async fn a_session_past_its_deadline_gets_its_reason_whatever_the_reaper_did() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let store = target.store_for(&middleware).await;
    let client = Client::new(pg_app(store.clone(), middleware).await);
    client.login().await;
    clock.advance(IDLE);
    // The reaper runs first: the row is kept a day past its deadline for its reason.
    let reaped = store.reap().await.unwrap();
    assert!(reaped.ran);
    assert_eq!(reaped.total(), 0);
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.json()["reason"], "idle");

    // Absolute: kept alive by activity, ended by the log-in's age.
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let store = target.store_for(&middleware).await;
    let client = Client::new(pg_app(store, middleware).await);
    client.login().await;
    let mut waited = Duration::ZERO;
    while waited < ABSOLUTE {
        clock.advance(IDLE / 2);
        waited += IDLE / 2;
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        if waited < ABSOLUTE {
            assert_eq!(answer.json()["user"], "alice", "{answer:?}");
        } else {
            assert_eq!(answer.json()["reason"], "absolute", "{answer:?}");
        }
    }
}

#[actix_web::test]
async fn the_statements_of_a_log_in_and_a_page_do_not_grow_with_the_users_sessions() {
    let mut per_count = Vec::new();
    for planted in [10_i64, 10_000] {
        let target = PgTarget::shared();
        let clock = MockClock::new();
        let middleware = built(expiry(&clock).max_sessions(20_000));
        let store = target.store_for(&middleware).await;
        let registry = store.registry();
        let client = Client::new(pg_app(store, middleware).await);
        client.login().await;
        // Plant `planted` more sessions of alice, as the store files them (same user tag).
        let look = target.connect().await;
        look.execute(
            &format!(
                "INSERT INTO \"{}\".session_expiry (id, user_tag, login_ms, seen_ms, \
                 expires_ms, login, state, entries) \
                 SELECT decode(md5(g::text), 'hex'), user_tag, login_ms, seen_ms - g, \
                 expires_ms, login, state, entries \
                 FROM \"{}\".session_expiry, generate_series(1, $1::bigint) g",
                target.schema, target.schema
            ),
            &[&planted],
        )
        .await
        .unwrap();
        assert_eq!(
            registry.count("alice").await.unwrap(),
            usize::try_from(planted + 1).unwrap()
        );
        let before = target.statements().await;
        let other = Client::new(pg_app_again(&target, &clock).await);
        other.login().await;
        registry.list("alice", Page::new(20)).await.unwrap();
        registry.count("alice").await.unwrap();
        per_count.push(target.statements().await - before);
    }
    // One log-in (a fresh app: its migration check too), a page and a count.
    eprintln!("statements at 10 and 10,000 sessions: {per_count:?}");
    assert_eq!(
        per_count[0].statements, per_count[1].statements,
        "{per_count:?}"
    );
}

async fn pg_app_again(
    target: &PgTarget,
    clock: &MockClock,
) -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    let middleware = built(expiry(clock).max_sessions(20_000));
    let store = target.store_for(&middleware).await;
    pg_app(store, middleware).await
}

#[actix_web::test]
async fn an_outage_is_a_503_with_retry_after_and_the_store_recovers_without_a_restart() {
    let mut target = PgTarget::own();
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let store = target.store_for(&middleware).await;
    let client = Client::new(pg_app(store, middleware).await);
    client.login().await;
    target.server().stop();
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.header("retry-after"), Some("2"));
    assert_eq!(answer.json()["error"], "session_store_unavailable");
    target.server().run();
    let answer = client.json(TestRequest::get().uri("/whoami")).await;
    assert_eq!(answer.json()["user"], "alice", "{answer:?}");
}

#[actix_web::test]
async fn migrations_are_idempotent_and_safe_from_instances_starting_at_once() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let middleware = built(expiry(&clock));
    let stores: Vec<PostgresStore> = join_all((0..6).map(|_| target.store_for(&middleware))).await;
    for store in &stores {
        assert_eq!(store.migrate().await.unwrap(), 2);
    }
    let look = target.connect().await;
    let versions: i64 = look
        .query_one(
            &format!(
                "SELECT count(*) FROM \"{}\".session_expiry_schema",
                target.schema
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(versions, 2, "versions 1 and 2 applied once each");
}

/// The middleware's hook, collecting every [`SessionEvent::Reaped`].
fn reaped_events(builder: SessionExpiryBuilder) -> (SessionExpiry, Arc<Mutex<Vec<SessionEvent>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let middleware = builder
        .on_event(move |event: &SessionEvent| {
            if matches!(event, SessionEvent::Reaped { .. }) {
                seen.lock().unwrap().push(event.clone());
            }
        })
        .build();
    (middleware, events)
}

#[actix_web::test]
async fn the_reaper_runs_in_bounded_batches_and_reports_each_reason_in_one_event_and_a_counter() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let (middleware, events) = reaped_events(expiry(&clock).max_sessions(1));
    let store = target.store_for(&middleware).await;
    let registry = store.registry();
    let app = pg_app_for(store.clone(), middleware, |_| {}).await;
    // One evicted (by alice's second log-in), one revoked (bob), two ending by their idle
    // timeout (alice's second, carol), one by its own absolute timeout (dave: 10 minutes,
    // idle an hour), one by the global absolute timeout though active (erin).
    for user in ["alice", "alice", "bob", "carol"] {
        Client::new(&app)
            .json(TestRequest::post().uri(&format!("/login/{user}")))
            .await;
        clock.advance(Duration::from_secs(1));
    }
    Client::new(&app)
        .json(TestRequest::post().uri("/login-with/dave/3600/600"))
        .await;
    let erin = Client::new(&app);
    erin.json(TestRequest::post().uri("/login/erin")).await;
    assert_eq!(registry.revoke_all("bob").await.unwrap(), 1);
    // Active every 20 minutes until her last request before the 8 hours: her deadline is the
    // absolute one, before her idle one (8 h 10 min).
    let mut active = Duration::ZERO;
    while active + 20 * MINUTE < ABSOLUTE {
        clock.advance(20 * MINUTE);
        active += 20 * MINUTE;
        let answer = erin.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.json()["user"], "erin", "{answer:?}");
    }
    // Nothing is a day past its end yet: a run deletes nothing, and says so.
    let early = store.reap().await.unwrap();
    assert!(early.ran);
    assert_eq!(early.total(), 0, "{early:?}");
    let look = target.connect().await;
    clock.advance(Duration::from_secs(25 * 3600));
    let reaped = store.reap().await.unwrap();
    assert!(reaped.ran);
    assert_eq!(
        (
            reaped.idle,
            reaped.absolute,
            reaped.revoked,
            reaped.evicted,
            reaped.anonymous
        ),
        (2, 2, 1, 1, 0),
        "{reaped:?}"
    );
    assert!(reaped.batches >= 1);
    let left: i64 = look
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".session_expiry", target.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // One event per run, with the run's sums.
    let events = events.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(
        events[1],
        SessionEvent::Reaped {
            idle: 2,
            absolute: 2,
            revoked: 1,
            evicted: 1,
            anonymous: 0,
            ..
        }
    ));
    assert_eq!(events[1].name(), "reaped");
    assert_eq!(events[1].user(), None);
    let count = values(&snapshotter);
    for (reason, rows) in [("idle", 2), ("absolute", 2), ("revoked", 1), ("evicted", 1)] {
        assert_eq!(
            count("session_expiry_reaped_total", &[("reason", reason)]),
            rows,
            "{reason}"
        );
    }
}

/// Rows planted for the reaper: sessions without a user, ended two days ago.
const PLANTED_ENDED: i64 = 20_000;

#[actix_web::test]
async fn a_second_instance_skips_its_run_while_the_first_reaps_and_requests_are_served_meanwhile() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let (middleware, events) = reaped_events(expiry(&clock));
    // The first instance waits as long as the test holds one of its rows.
    let first = target
        .builder_for(&middleware)
        .timeout(Duration::from_secs(30))
        .build()
        .await
        .unwrap();
    let second = target.store_for(&middleware).await;
    let app = pg_app(second.clone(), middleware).await;
    let alice = Client::new(&app);
    alice.login().await;
    let table = format!("\"{}\".\"session_expiry\"", target.schema);
    let look = target.connect().await;
    let ended = clock.now().timestamp_millis() - 2 * 24 * 3600 * 1000;
    look.execute(
        &format!(
            "INSERT INTO {table} (id, seen_ms, expires_ms, entries) \
             SELECT decode(md5('ended' || g), 'hex'), $1, $1, '{{}}' \
             FROM generate_series(1, $2::bigint) g"
        ),
        &[&ended, &PLANTED_ENDED],
    )
    .await
    .unwrap();
    // The test holds the last planted row, so the first instance's run stops at its batch,
    // holding the reaper's lock, until the test lets go.
    let mut holder = target.connect().await;
    let hold = holder.transaction().await.unwrap();
    hold.query(
        &format!("SELECT 1 FROM {table} ORDER BY ctid DESC LIMIT 1 FOR UPDATE"),
        &[],
    )
    .await
    .unwrap();
    let reaping = actix_web::rt::spawn({
        let first = first.clone();
        async move { first.reap().await }
    });
    let waiting = format!("%DELETE FROM {table} %");
    let started = std::time::Instant::now();
    loop {
        let blocked: i64 = look
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE query LIKE $1 AND wait_event_type = 'Lock'",
                &[&waiting],
            )
            .await
            .unwrap()
            .get(0);
        if blocked == 1 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first run never reached the held row"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    // The second instance's run is skipped: the first holds the lock.
    let skipped = second.reap().await.unwrap();
    assert!(!skipped.ran, "{skipped:?}");
    assert_eq!(skipped.total(), 0);
    // Requests are served meanwhile: reads, a refresh, a log-in.
    for _ in 0..5 {
        clock.advance(MINUTE);
        let answer = alice.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.json()["user"], "alice", "{answer:?}");
    }
    let bob = Client::new(&app);
    let answer = bob.json(TestRequest::post().uri("/login/bob")).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert!(!reaping.is_finished(), "the first run is still under way");

    hold.commit().await.unwrap();
    let reaped = reaping.await.unwrap().unwrap();
    assert!(reaped.ran);
    assert_eq!(
        reaped.anonymous,
        usize::try_from(PLANTED_ENDED).unwrap(),
        "{reaped:?}"
    );
    assert_eq!(reaped.total(), reaped.anonymous, "{reaped:?}");
    assert!(reaped.batches > 1, "{reaped:?}");
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events.len(),
        1,
        "one run reported, the skipped one not: {events:?}"
    );
    // The lock is free again: the second instance runs next time.
    assert!(second.reap().await.unwrap().ran);
    assert_eq!(
        alice.json(TestRequest::get().uri("/whoami")).await.json()["user"],
        "alice"
    );
}
