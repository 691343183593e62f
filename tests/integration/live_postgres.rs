//! WebSockets end with the session across instances sharing PostgreSQL (#28): a revocation or
//! an eviction on one instance closes the socket held open on the other within a second,
//! through `NOTIFY` and the one `LISTEN` connection each instance keeps; another instance's
//! requests keep it open.

use std::time::{Duration, Instant};

use session_expiry::MockClock;

use crate::{live_support::signed_in_socket, postgres_support::PgTarget, support::expiry};

/// Waits until `count` connections listen on the target's server (`pg_stat_activity`).
async fn listening(target: &PgTarget, count: i64) {
    let client = target.connect().await;
    let channel =
        session_expiry::__private::postgres_ended_channel(&target.schema, "session_expiry");
    let started = Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query = $1",
                &[&format!("LISTEN {channel}")],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) >= count {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "nobody listens");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One app instance on `target`: its own middleware (its hub), store and server.
macro_rules! instance {
    ($target:expr, $builder:expr) => {{
        let middleware = $builder.build();
        let store = $target.store_for(&middleware).await;
        crate::live_support::live_instance!(middleware, store)
    }};
}

#[actix_web::test]
async fn live_an_eviction_or_requests_on_another_postgres_instance_reach_the_socket() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let first = instance!(target, expiry(&clock).max_sessions(1));
    let second = instance!(target, expiry(&clock).max_sessions(1));
    let (laptop, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    listening(&target, 2).await;

    // A busy tab on the other instance: at the idle deadline the store says it was seen since.
    let idle = crate::support::IDLE;
    clock.advance(idle / 2);
    assert_eq!(laptop.json(&second, "/whoami").await["user"], "alice");
    clock.advance(idle / 2);
    assert!(socket.still_open(Duration::from_millis(300)).await);

    // A log-in on the other instance beyond the limit evicts this session.
    let evicting = Instant::now();
    let _phone = crate::live_support::Browser::login(&second, "alice").await;
    socket.closes_with("evicted", Duration::from_secs(1)).await;
    assert!(evicting.elapsed() < Duration::from_secs(1));
}

#[actix_web::test]
async fn live_a_revoke_on_another_postgres_instance_closes_the_socket_within_a_second() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let first = instance!(target, expiry(&clock));
    // The other instance: its own middleware (hub) and store; only its registry is used.
    let second_middleware = expiry(&clock).build();
    let registry = target.store_for(&second_middleware).await.registry();
    let (_alice, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    listening(&target, 2).await;

    let revoked = Instant::now();
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    socket.closes_with("revoked", Duration::from_secs(1)).await;
    assert!(revoked.elapsed() < Duration::from_secs(1));
}

#[actix_web::test]
async fn live_messages_count_as_activity_on_postgres_and_the_store_keeps_it() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let first = instance!(target, expiry(&clock));
    let (alice, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    let client = target.connect().await;
    let seen = || async {
        let row = client
            .query_one(
                &format!(
                    "SELECT max(seen_ms) FROM \"{}\".session_expiry",
                    target.schema
                ),
                &[],
            )
            .await
            .unwrap();
        row.get::<_, Option<i64>>(0)
    };
    let idle = crate::support::IDLE;
    let before = seen().await;

    clock.advance(idle / 2);
    socket.send_text("still here").await;
    let started = Instant::now();
    while seen().await == before {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the activity was not written"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    // Past the idle deadline of the log-in, not of the message: the socket and the session live.
    clock.advance(idle / 2 + crate::support::MINUTE);
    assert!(socket.still_open(Duration::from_millis(200)).await);
    assert_eq!(alice.json(&first, "/whoami").await["user"], "alice");
}
