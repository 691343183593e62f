//! WebSockets end with the session across instances sharing PostgreSQL (#28): a revocation on
//! one instance closes the socket held open on the other within a second, through `NOTIFY` and
//! the one `LISTEN` connection each instance keeps.

use std::time::{Duration, Instant};

use actix_session::SessionMiddleware;
use actix_web::App;
use session_expiry::{redis::RequestScope, MockClock};

use crate::{
    demo,
    live_support::{serve, signed_in_socket},
    postgres_support::PgTarget,
    redis_support::cookie_key,
    support::{expiry, routes},
};

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

#[actix_web::test]
async fn live_a_revoke_on_another_postgres_instance_closes_the_socket_within_a_second() {
    let target = PgTarget::shared();
    let clock = MockClock::new();
    let first_middleware = expiry(&clock).build();
    let first_store = target.store_for(&first_middleware).await;
    let first = serve!(App::new()
        .configure(routes)
        .configure(demo::live::routes)
        .wrap(first_middleware.clone())
        .wrap(
            SessionMiddleware::builder(first_store.clone(), cookie_key())
                .cookie_secure(false)
                .build()
        )
        .wrap(RequestScope::new()));
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
