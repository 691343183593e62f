//! What the Redis index does with many sessions per user: a session saved before the index kept
//! sorted sets, ended sessions leaving it a few at a time, a bound on the records it keeps, and
//! revoking all of 200,000 records in steps. Bodies taking a [`Target`], run on every
//! deployment by `suite!(redis: …)`. The registry's behaviour on every store (pages, revoking,
//! the session limit) is the suite's (`suite/registry.rs`).

use actix_web::{
    http::{header, StatusCode},
    test::TestRequest,
};
use session_expiry::{redis::Page, Clock as _, MockClock};

use crate::{
    redis_support::{redis_app, Target},
    suite::suite,
    support::{assert_user, expiry, whoami, Client, IDLE, MINUTE},
};

suite!(redis:
    a_session_saved_before_the_index_kept_sorted_sets_joins_them_at_its_first_refresh,
    ended_sessions_leave_the_index_a_few_at_a_time_and_their_records_a_day_later,
    an_index_keeps_the_records_of_at_most_256_ended_sessions,
);

fn login(user: &str, agent: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/login/{user}"))
        .insert_header((header::USER_AGENT, agent))
}

/// The user agents of the sessions on `page`, in order.
fn agents(page: &[session_expiry::redis::SessionInfo]) -> Vec<String> {
    page.iter()
        .map(|s| s.user_agent.clone().unwrap_or_default())
        .collect()
}

pub async fn a_session_saved_before_the_index_kept_sorted_sets_joins_them_at_its_first_refresh(
    target: &Target,
) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let client = Client::new(&app);
    client.json(login("alice", "old")).await;
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await[0].clone();
    let id = redis.session_keys().await[0]
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    // What the previous release left: the data key and the log-in record only.
    let stem = index.trim_end_matches('i');
    for set in ["a", "d"] {
        let removed: i64 = redis
            .command(redis::cmd("ZREM").arg(format!("{stem}{set}")).arg(&id))
            .await;
        assert_eq!(removed, 1);
    }
    assert_eq!(registry.count("alice").await.unwrap(), 0);

    clock.advance(2 * MINUTE);
    assert_user(&client.json(whoami()).await, "alice");
    assert_eq!(registry.count("alice").await.unwrap(), 1);
    let page = registry.list("alice", Page::default()).await.unwrap();
    assert_eq!(agents(&page.sessions), ["old"]);
    let seen = page.sessions[0].last_seen;
    assert_eq!(seen, clock.now(), "its last activity");
}

pub async fn ended_sessions_leave_the_index_a_few_at_a_time_and_their_records_a_day_later(
    target: &Target,
) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let mut redis = target.inspect().await;
    // 20 sessions that will end by their idle deadline, more than one call clears (16).
    let ended: Vec<_> = (0..20).map(|_| Client::new(&app)).collect();
    for (n, client) in ended.iter().enumerate() {
        client.json(login("alice", &format!("old {n}"))).await;
    }
    let index = redis.index_keys().await[0].clone();
    let stem = index.trim_end_matches('i').to_owned();
    let zcard = |set: &str| redis::cmd("ZCARD").arg(format!("{stem}{set}")).clone();
    clock.advance(IDLE);
    assert_eq!(registry.count("alice").await.unwrap(), 0, "all ended");

    // A new log-in clears 16 of them from the live sets; their log-in records stay.
    let fresh = Client::new(&app);
    fresh.json(login("alice", "new")).await;
    let live: usize = redis.command(&mut zcard("a")).await;
    assert_eq!(live, 20 - 16 + 1);
    let ending: usize = redis.command(&mut zcard("g")).await;
    assert_eq!(ending, 16);
    let records: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert_eq!(records, 21);
    // A listing clears the rest, and lists only the live one.
    let page = registry.list("alice", Page::default()).await.unwrap();
    assert_eq!(agents(&page.sessions), ["new"]);
    let live: usize = redis.command(&mut zcard("a")).await;
    assert_eq!(live, 1);
    // Their requests still learn why they ended.
    let answer = ended[0].json(whoami()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.json()["reason"], "idle");

    // A day later their records go too, 16 a call; the session signed in since has ended
    // meanwhile (its absolute limit), and its record stays its own day.
    clock.advance(super::GRACE);
    Client::new(&app).json(login("alice", "newer")).await;
    let records: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert_eq!(records, 19 - 16 + 2, "ended[0] was purged at its request");
    registry.list("alice", Page::default()).await.unwrap();
    let records: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert_eq!(records, 2, "the records of the new sessions");
    let ending: usize = redis.command(&mut zcard("g")).await;
    assert_eq!(ending, 1, "the one signed in a day ago");
    assert_eq!(fresh.json(whoami()).await.json()["reason"], "absolute");
    let answer = ended[1].json(whoami()).await;
    assert_eq!(answer.json()["user"], serde_json::Value::Null, "{answer:?}");
    assert_eq!(answer.json()["expired_reason"], serde_json::Value::Null);
}

/// Index records of ended sessions planted for one user (the index keeps them a day).
const PLANTED_RECORDS: usize = 200_000;

#[actix_web::test]
async fn revoking_all_of_a_user_with_200_000_index_records_goes_in_steps_while_others_are_served() {
    let target = Target::single();
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    let registry = store.registry();
    let app = redis_app(store, expiry(&clock)).await;
    let (phone, laptop, bob) = (Client::new(&app), Client::new(&app), Client::new(&app));
    phone.json(login("alice", "phone")).await;
    let mut redis = target.inspect().await;
    let index = redis.index_keys().await.pop().expect("alice's index");
    laptop.json(login("alice", "laptop")).await;
    bob.json(login("bob", "bob")).await;
    for batch in 0..PLANTED_RECORDS / 1000 {
        let mut hset = redis::cmd("HSET");
        hset.arg(&index);
        for n in 0..1000 {
            let id = format!("{:032x}", 0xdead_0000_0000_u64 + (batch * 1000 + n) as u64);
            hset.arg(id).arg(r#"{"l":0,"u":"alice"}"#);
        }
        let _: usize = redis.command(&mut hset).await;
    }
    let records: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert_eq!(records, PLANTED_RECORDS + 2);
    // Any command over 25 ms is logged: a batch takes about 1 ms on a quiet machine and a few on
    // a loaded one (two cores shared with builds); the one script of earlier releases took
    // seconds.
    let _: () = redis
        .command(
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("slowlog-log-slower-than")
                .arg(25_000),
        )
        .await;
    let _: () = redis.command(redis::cmd("SLOWLOG").arg("RESET")).await;

    let revoking = actix_web::rt::spawn({
        let registry = registry.clone();
        async move { registry.revoke_all("alice").await }
    });
    for _ in 0..5 {
        assert_user(&bob.json(whoami()).await, "bob");
    }
    assert!(
        !revoking.is_finished(),
        "bob was served while alice's index was walked"
    );
    assert_eq!(revoking.await.unwrap().unwrap(), 2);

    for device in [&phone, &laptop] {
        let answer = device.json(whoami()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
        assert_eq!(answer.json()["reason"], "revoked");
    }
    assert_user(&bob.json(whoami()).await, "bob");
    let slow: Vec<redis::Value> = redis
        .command(redis::cmd("SLOWLOG").arg("GET").arg(10))
        .await;
    assert!(slow.is_empty(), "commands over 25 ms: {slow:?}");
    let left: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert_eq!(
        left, 0,
        "the walk revoked the live ones and dropped the rest"
    );
}

pub async fn an_index_keeps_the_records_of_at_most_256_ended_sessions(target: &Target) {
    let clock = MockClock::new();
    let store = target.store(&clock).await;
    // The security review's case: a 40-second idle timeout, so 400 sessions end well within the
    // day their records would otherwise be kept.
    let idle = std::time::Duration::from_secs(40);
    let app = redis_app(store, expiry(&clock).idle_timeout(idle)).await;
    let mut redis = target.inspect().await;
    // An account signing in over and over, each session left to end by its idle deadline.
    let mut last = None;
    for n in 0..400 {
        let device = Client::new(&app);
        device.json(login("alice", &format!("bot {n}"))).await;
        clock.advance(idle);
        last = Some(device);
    }
    let index = redis.index_keys().await.pop().expect("alice's index");
    let records: usize = redis.command(redis::cmd("HLEN").arg(&index)).await;
    assert!(records <= 256 + 16, "{records} records");
    // The latest to end still learns why.
    let answer = last.expect("a device").json(whoami()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.json()["reason"], "idle");
}
