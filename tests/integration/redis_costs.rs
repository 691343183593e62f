//! What a log-in costs Redis does not grow with the user's sessions: counted in commands
//! (`INFO commandstats`, commands run inside scripts included), not in time. On a server of the
//! test's own, so that no other test's commands count.

use std::collections::BTreeMap;

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{Clock as _, MockClock};

use crate::{
    redis_plant::PlantedUser,
    redis_server::RedisServer,
    redis_support::{redis_app, Target},
    support::{expiry, Client, IDLE},
};

/// Every command Redis ran since the last `CONFIG RESETSTAT`, by name, with its call count.
async fn commands(connection: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(connection)
        .await
        .unwrap();
    info.lines()
        .filter_map(|line| line.strip_prefix("cmdstat_"))
        .filter_map(|line| {
            let (name, stats) = line.split_once(':')?;
            let calls = stats
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

#[actix_web::test]
async fn a_log_in_runs_the_same_redis_commands_with_10_or_10_000_sessions_of_the_user() {
    let server = RedisServer::start();
    let url = server.url();
    let target = Target::own(server);
    let clock = MockClock::new();
    // The limit raised above what the test plants: no eviction, only the count and the save.
    let middleware = expiry(&clock).max_sessions(20_000);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let login = || TestRequest::post().uri("/login/alice");
    assert_eq!(Client::new(&app).json(login()).await.status, StatusCode::OK);
    let mut redis = target.inspect().await;
    let user = PlantedUser::of_index(&redis.index_keys().await[0]);
    let now = u64::try_from(clock.now().timestamp_millis()).unwrap();
    let deadline = now + u64::try_from(IDLE.as_millis()).unwrap();
    let mut stats = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();

    let mut per_login = Vec::new();
    for (from, planted) in [(0, 8), (8, 9_988)] {
        redis.plant(&user, from, planted, now, deadline).await;
        assert_eq!(
            Client::new(&app).json(login()).await.status,
            StatusCode::OK,
            "warm-up"
        );
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(&mut stats)
            .await
            .unwrap();
        assert_eq!(Client::new(&app).json(login()).await.status, StatusCode::OK);
        let mut counted = commands(&mut stats).await;
        // The two commands that read the statistics themselves.
        counted.remove("info");
        counted.remove("config|resetstat");
        per_login.push(counted);
    }
    let sessions: u64 = redis::cmd("ZCARD")
        .arg(format!(
            "{}a",
            redis.index_keys().await[0].trim_end_matches('i')
        ))
        .query_async(&mut stats)
        .await
        .unwrap();
    assert_eq!(
        sessions, 10_001,
        "measured at 10 and at 10,000, then one more"
    );
    let [with_10, with_10_000] = &per_login[..] else {
        unreachable!()
    };
    let total: u64 = with_10.values().sum();
    assert!(
        (5..=30).contains(&total),
        "one script and its commands: {with_10:?}"
    );
    assert_eq!(
        with_10.get("evalsha"),
        Some(&1),
        "one round trip: {with_10:?}"
    );
    assert_eq!(
        with_10_000, with_10,
        "a log-in with 10,000 sessions costs what one with 10 does"
    );
}
