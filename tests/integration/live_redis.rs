//! WebSockets end with the session across instances sharing Redis (#28): a revocation or a
//! log-out on one instance closes the socket held open on the other within a second, through
//! the one subscription each instance keeps; and an idle open socket costs Redis nothing.

use std::time::{Duration, Instant};

use actix_web::App;
use session_expiry::{
    redis::RequestScope,
    registry::{Page, SessionRegistry},
    MockClock,
};

use crate::{
    demo,
    live_support::{serve, sessions_on, signed_in_socket, timers, Browser, Server},
    redis_server::RedisServer,
    redis_support::Target,
    support::{expiry, MINUTE},
};

/// One app instance on `target`: its own middleware (its own hub of watched sessions), store
/// and server; and its registry.
macro_rules! instance {
    ($target:expr, $clock:expr) => {
        instance!($target, $clock, expiry($clock))
    };
    ($target:expr, $clock:expr, $builder:expr) => {{
        let middleware = $builder.build();
        let store = $target.store_for(&middleware).await;
        let registry = store.registry();
        (
            crate::live_support::live_instance!(middleware, store),
            registry,
        )
    }};
}

/// Waits until `count` subscriptions listen for ended sessions on the target's server; how
/// many do.
async fn listening(target: &Target, count: usize) -> usize {
    let mut redis = target.inspect().await;
    redis.wait_for_subscribers("*sessions-ended", count).await
}

/// The registry id of `user`'s only session.
async fn only_session(
    registry: &SessionRegistry,
    user: &str,
) -> session_expiry::registry::SessionId {
    let page = registry.list(user, Page::default()).await.unwrap();
    assert_eq!(page.sessions.len(), 1, "{page:?}");
    page.sessions[0].id.clone()
}

#[actix_web::test]
async fn live_a_revoke_on_another_instance_closes_the_socket_within_a_second() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    // The other instance: only its registry (its store, its hub) is used.
    let (_second, registry) = instance!(target, &clock);
    let alice = Browser::login(&first, "alice").await;
    let bob = Browser::login(&first, "bob").await;
    let mut socket = alice.socket(&first, "/ws").await;
    let mut bobs = bob.socket(&first, "/ws").await;
    timers(&clock, 2).await;
    listening(&target, 2).await;

    let id = only_session(&registry, "alice").await;
    let revoked = Instant::now();
    assert!(registry.revoke("alice", &id).await.unwrap());
    socket.closes_with("revoked", Duration::from_secs(1)).await;
    assert!(revoked.elapsed() < Duration::from_secs(1));
    assert!(bobs.still_open(Duration::from_millis(200)).await);
}

#[actix_web::test]
async fn live_log_out_everywhere_and_a_log_out_on_another_instance_close_sockets_within_a_second() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let (second, registry) = instance!(target, &clock);
    let tab = Browser::login(&first, "alice").await;
    clock.advance(Duration::from_millis(5));
    let phone = Browser::login(&first, "alice").await;
    let mut tab_socket = tab.socket(&first, "/ws").await;
    let mut phone_socket = phone.socket(&first, "/ws").await;
    timers(&clock, 2).await;
    listening(&target, 2).await;

    // The same session signs out through the other instance (a tab behind the other one).
    assert_eq!(tab.send(&second, "POST", "/logout").await, 204);
    tab_socket
        .closes_with("logged_out", Duration::from_secs(1))
        .await;
    assert!(phone_socket.still_open(Duration::from_millis(100)).await);

    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    phone_socket
        .closes_with("revoked", Duration::from_secs(1))
        .await;
}

#[actix_web::test]
async fn live_an_eviction_on_another_instance_closes_the_evicted_sessions_socket() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock, expiry(&clock).max_sessions(1));
    let (second, _) = instance!(target, &clock, expiry(&clock).max_sessions(1));
    let (_laptop, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    listening(&target, 2).await;

    clock.advance(Duration::from_millis(5));
    let evicting = Instant::now();
    let _phone = Browser::login(&second, "alice").await;
    socket.closes_with("evicted", Duration::from_secs(1)).await;
    assert!(evicting.elapsed() < Duration::from_secs(1));
}

#[actix_web::test]
async fn live_a_revoke_published_while_the_subscription_was_lost_is_found_when_it_returns() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let (_second, registry) = instance!(target, &clock);
    let (_alice, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    listening(&target, 2).await;

    let mut redis = target.inspect().await;
    redis.kill_subscribers().await;
    // Published to nobody: the subscribers are gone (they come back after a pause).
    assert_eq!(registry.revoke_all("alice").await.unwrap(), 1);
    socket.closes_with("revoked", Duration::from_secs(2)).await;
}

/// Every command Redis has run, by name (`INFO commandstats`).
async fn commands(target: &Target) -> std::collections::BTreeMap<String, u64> {
    let mut redis = target.inspect().await;
    let info: String = redis.command(redis::cmd("INFO").arg("commandstats")).await;
    info.lines()
        .filter_map(|line| line.strip_prefix("cmdstat_"))
        .filter_map(|line| {
            let (name, stats) = line.split_once(':')?;
            let calls = stats.split(',').find_map(|s| s.strip_prefix("calls="))?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .filter(|(name, _)| name != "info" && name != "hello" && name != "client|setinfo")
        .collect()
}

#[actix_web::test]
async fn live_idle_open_sockets_cost_no_store_command_and_share_one_subscription() {
    const SOCKETS: usize = 20;
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let mut sockets = Vec::new();
    for n in 0..SOCKETS {
        let browser = Browser::login(&first, &format!("user{n}")).await;
        sockets.push(browser.socket(&first, "/ws").await);
    }
    timers(&clock, SOCKETS).await;
    assert_eq!(
        listening(&target, 1).await,
        1,
        "one subscription per instance"
    );

    let before = commands(&target).await;
    // Ten minutes of an idle session (the idle timeout is 30), a minute at a time.
    for _ in 0..10 {
        clock.advance(MINUTE);
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let after = commands(&target).await;
    assert_eq!(
        before, after,
        "store commands while {SOCKETS} sockets sat idle"
    );
    for socket in &mut sockets {
        assert!(socket.still_open(Duration::from_millis(1)).await);
    }
    assert_eq!(clock.pending_timers(), SOCKETS, "one timer per socket");
    drop::<Server>(first);
}

#[actix_web::test]
async fn live_messages_count_as_activity_on_redis_once_per_window_and_the_store_keeps_it() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let (alice, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    let idle = crate::support::IDLE;

    // Scripts run: `EVALSHA`s, less those that only found the script not loaded yet.
    let scripts = |commands: &std::collections::BTreeMap<String, u64>| {
        let count = |name: &str| commands.get(name).copied().unwrap_or(0);
        count("evalsha") - count("script|load")
    };
    let before = scripts(&commands(&target).await);
    clock.advance(idle / 2);
    socket.send_text("still here").await;
    socket.send_text("and here").await; // within the same window: not written again
    let started = Instant::now();
    while scripts(&commands(&target).await) == before {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the activity was not written"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    let written = commands(&target).await;
    assert_eq!(
        scripts(&written),
        before + 1,
        "one script for two messages in one window: {written:?}"
    );

    // Past the idle deadline of the log-in, not of the message: the socket and the session live.
    clock.advance(idle / 2 + MINUTE);
    assert!(socket.still_open(Duration::from_millis(200)).await);
    assert_eq!(alice.send(&first, "GET", "/whoami").await, 200);
    let answer = alice.json(&first, "/whoami").await;
    assert_eq!(answer["user"], "alice", "{answer}");

    // Those requests were activity too: the idle timeout counts from them.
    clock.advance(idle - MINUTE);
    assert!(socket.still_open(Duration::from_millis(200)).await);
    clock.advance(MINUTE);
    socket.closes_with("idle", Duration::from_secs(2)).await;
}

#[actix_web::test]
async fn live_requests_on_another_instance_keep_the_sessions_socket_open() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let (second, _) = instance!(target, &clock);
    let (alice, mut socket) = signed_in_socket(&first, &clock, "alice").await;
    let idle = crate::support::IDLE;

    // Another tab, served by the other instance, is busy.
    clock.advance(idle / 2);
    assert_eq!(alice.json(&second, "/whoami").await["user"], "alice");
    // At the idle deadline of the log-in, the store says the session was seen since.
    clock.advance(idle / 2);
    assert!(socket.still_open(Duration::from_millis(300)).await);
    clock.advance(idle / 2);
    socket.closes_with("idle", Duration::from_secs(2)).await;
}

#[actix_web::test]
async fn live_the_redis_examples_revoke_all_on_one_instance_closes_the_socket_on_the_other() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    // Two instances of the redis example's app: the demo's routes and its `/sessions`.
    let example = || async {
        let middleware = expiry(&clock).build();
        let store = target.store_for(&middleware).await;
        serve!(App::new()
            .app_data(actix_web::web::Data::new(store.registry()))
            .configure(demo::routes)
            .configure(crate::sessions::routes)
            .wrap(middleware.clone())
            .wrap(sessions_on(store.clone()))
            .wrap(RequestScope::new()))
    };
    let (first, second) = (example().await, example().await);
    let credentials = serde_json::json!({"username": "alice", "password": "password"});
    let alice = Browser::login_with(&first, "/login", Some(credentials)).await;
    let mut socket = alice.socket(&first, "/ws").await;
    let mut events = alice.events(&first, "/events").await;
    timers(&clock, 2).await;
    listening(&target, 2).await;

    let revoked = Instant::now();
    assert_eq!(
        alice.send(&second, "POST", "/sessions/revoke-all").await,
        200
    );
    socket.closes_with("revoked", Duration::from_secs(1)).await;
    let ended = events.ended_within(Duration::from_secs(1)).await;
    assert!(revoked.elapsed() < Duration::from_secs(1));
    assert_eq!(ended.event, "session-expired");
}

#[actix_web::test]
async fn live_sign_out_everyone_on_another_instance_closes_the_sockets_signed_in_before() {
    use session_expiry::Clock as _;

    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let (first, _) = instance!(target, &clock);
    let (_second, registry) = instance!(target, &clock);
    let (_alice, mut before) = signed_in_socket(&first, &clock, "alice").await;
    clock.advance(Duration::from_millis(5));
    let cutoff = clock.now();
    clock.advance(Duration::from_millis(5));
    let (_bob, mut after) = signed_in_socket(&first, &clock, "bob").await;
    listening(&target, 2).await;

    let signed_out = Instant::now();
    registry.set_sessions_valid_from(cutoff).await.unwrap();
    before.closes_with("revoked", Duration::from_secs(1)).await;
    assert!(signed_out.elapsed() < Duration::from_secs(1));
    assert!(after.still_open(Duration::from_millis(200)).await);
}

#[actix_web::test]
async fn live_the_socket_of_the_session_that_changed_the_password_stays_open_when_looked_up() {
    use crate::credentials::{change_password, Users};

    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let users = Users::with(&["alice"]);
    let middleware = users.stamped(expiry(&clock)).build();
    let store = target.store_for(&middleware).await;
    let first = {
        let users = users.clone();
        serve!(App::new()
            .app_data(actix_web::web::Data::new(users.clone()))
            .configure(crate::support::routes)
            .configure(demo::live::routes)
            .route("/password", actix_web::web::post().to(change_password))
            .wrap(middleware.clone())
            .wrap(sessions_on(store.clone()))
            .wrap(RequestScope::new()))
    };
    let (laptop, mut own) = signed_in_socket(&first, &clock, "alice").await;
    clock.advance(Duration::from_millis(5));
    let (_phone, mut other) = signed_in_socket(&first, &clock, "alice").await;
    listening(&target, 1).await;

    assert_eq!(laptop.send(&first, "POST", "/password").await, 204);
    other
        .closes_with("credentials_changed", Duration::from_secs(1))
        .await;
    // The subscription is cut and comes back: every watched session is looked up; the
    // laptop's, renewed under a new ID, is not taken for signed out.
    let mut redis = target.inspect().await;
    redis.kill_subscribers().await;
    listening(&target, 1).await;
    assert!(own.still_open(Duration::from_millis(500)).await);
}
