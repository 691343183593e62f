//! What a request costs Redis, counted in commands, not in time: a log-in does not grow with the
//! user's sessions (`INFO commandstats`, commands run inside scripts included), and a request
//! reads once, plus one script when its refresh is due (the slow log, which shows each round
//! trip). On a server of the test's own, so that no other test's commands count.

use std::collections::BTreeMap;

use actix_web::{http::StatusCode, test::TestRequest};
use session_expiry::{Clock as _, MockClock};

use crate::{
    redis_plant::PlantedUser,
    redis_server::RedisServer,
    redis_support::{redis_app, Inspector, Target},
    support::{expiry, Client, IDLE, MINUTE},
};

/// Every command Redis ran since the last `CONFIG RESETSTAT`, by name, with its call count.
async fn commands(redis: &mut Inspector) -> BTreeMap<String, u64> {
    let info: String = redis.command(redis::cmd("INFO").arg("commandstats")).await;
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
    let target = Target::own(RedisServer::start());
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

    let mut per_login = Vec::new();
    for (from, planted) in [(0, 8), (8, 9_988)] {
        redis.plant(&user, from, planted, now, deadline).await;
        assert_eq!(
            Client::new(&app).json(login()).await.status,
            StatusCode::OK,
            "warm-up"
        );
        let () = redis.command(redis::cmd("CONFIG").arg("RESETSTAT")).await;
        assert_eq!(Client::new(&app).json(login()).await.status, StatusCode::OK);
        let mut counted = commands(&mut redis).await;
        // The two commands that read the statistics themselves.
        counted.remove("info");
        counted.remove("config|resetstat");
        per_login.push(counted);
    }
    let index = redis.index_keys().await.remove(0);
    let sessions = redis.index_len(&index).await;
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

/// The commands clients sent since the last `SLOWLOG RESET` (the slow log set to keep every
/// command), oldest first: each is a round trip. The slow log also keeps the commands a script
/// runs, under a client without an address (`?:0`): those are left out.
async fn sent(redis: &mut Inspector) -> Vec<String> {
    let entries: Vec<redis::Value> = redis
        .command(redis::cmd("SLOWLOG").arg("GET").arg(-1))
        .await;
    let text = |value: &redis::Value| match value {
        redis::Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).to_lowercase()),
        redis::Value::SimpleString(text) => Some(text.to_lowercase()),
        _ => None,
    };
    let mut names: Vec<String> = entries
        .iter()
        .filter_map(|entry| {
            let redis::Value::Array(fields) = entry else {
                return None;
            };
            let redis::Value::Array(args) = fields.get(3)? else {
                return None;
            };
            let client = text(fields.get(4)?)?;
            (client != "?:0").then(|| text(args.first()?))?
        })
        .filter(|name| name != "slowlog")
        .collect();
    names.reverse();
    names
}

#[actix_web::test]
async fn a_request_reads_once_and_a_due_refresh_adds_one_round_trip() {
    let target = Target::own(RedisServer::start());
    let clock = MockClock::new();
    let middleware = expiry(&clock).refresh_granularity(MINUTE);
    let app = redis_app(target.store(&clock).await, middleware).await;
    let client = Client::new(&app);
    client.login().await;
    let mut log = target.inspect().await;
    let () = log
        .command(
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("slowlog-log-slower-than")
                .arg(0),
        )
        .await;
    let mut request = async |advance| {
        clock.advance(advance);
        let () = log.command(redis::cmd("SLOWLOG").arg("RESET")).await;
        let answer = client.json(TestRequest::get().uri("/whoami")).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        sent(&mut log).await
    };

    assert_eq!(request(MINUTE / 2).await, ["hget"], "not due: one read");
    // The first refresh of this process loads the script into Redis.
    request(MINUTE).await;
    assert_eq!(
        request(MINUTE).await,
        ["hget", "evalsha"],
        "due: the read, then one script"
    );
}
