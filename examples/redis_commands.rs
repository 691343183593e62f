//! Benchmark (not a test): Redis commands per request in steady use, from `INFO commandstats`.
//!
//! ```sh
//! cargo run --release --example redis_commands -- [REQUESTS] [SECONDS_BETWEEN_REQUESTS] [--cluster]
//! ```
//!
//! Starts its own `redis-server` (so nothing else counts), signs one user in to the demo app
//! (idle 30 min, absolute 8 h, Redis store) and sends REQUESTS (default 1000) requests on that
//! session, one every SECONDS_BETWEEN_REQUESTS of simulated time (default 10). It counts every
//! command Redis ran meanwhile, inside scripts too, split into reads and writes by the
//! command's own flags (`COMMAND INFO`), and the round trips (commands sent by the app).
//! With `--cluster`, the same on a Redis Cluster of three masters of its own, the counts summed
//! over the masters.

use testkit::demo;
use testkit::redis_cluster;
use testkit::redis_server;

use std::{collections::BTreeMap, io, time::Duration};

use actix_session::SessionMiddleware;
use actix_web::{
    cookie::Key,
    http::header,
    test::{self, TestRequest},
    App,
};
use session_expiry::{redis::RedisStore, MockClock, SessionExpiry};

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (flags, mut args): (Vec<_>, Vec<_>) = std::env::args()
        .skip(1)
        .partition(|arg| arg.starts_with("--"));
    args.reverse();
    let requests: u64 = parse(args.pop(), 1000)?;
    let step = Duration::from_secs(parse(args.pop(), 10)?);
    let deployment = match flags.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => Deployment::Single(redis_server::RedisServer::start()),
        ["--cluster"] => Deployment::Cluster(redis_cluster::RedisCluster::start()),
        _ => return Err(io::Error::other(format!("unknown options: {flags:?}"))),
    };
    let clock = MockClock::new();
    let builder = match &deployment {
        Deployment::Single(server) => RedisStore::builder(server.url()),
        Deployment::Cluster(cluster) => RedisStore::cluster_builder(cluster.urls()),
    };
    let expiry = SessionExpiry::builder()
        .idle_timeout(Duration::from_secs(30 * 60))
        .absolute_timeout(Duration::from_secs(8 * 3600))
        .clock(clock.clone())
        .build();
    let store = builder
        .for_middleware(&expiry)
        .build()
        .await
        .map_err(io::Error::other)?;
    let app = test::init_service(
        App::new()
            .configure(demo::routes)
            .wrap(expiry)
            .wrap(SessionMiddleware::new(store, Key::generate())),
    )
    .await;

    let login = TestRequest::post()
        .uri("/login")
        .set_json(serde_json::json!({"username": "alice", "password": "password"}))
        .to_request();
    let res = test::call_service(&app, login).await;
    let cookie = res
        .response()
        .cookies()
        .find(|c| c.name() == "id")
        .ok_or_else(|| io::Error::other("the log-in set no cookie"))?
        .into_owned();

    // Warm up: one refresh, so the scripts are loaded before counting starts.
    let send = |cookie: &actix_web::cookie::Cookie<'static>| {
        TestRequest::get()
            .uri("/")
            .insert_header((header::ACCEPT, "application/json"))
            .cookie(cookie.clone())
            .to_request()
    };
    clock.advance(Duration::from_secs(61));
    let res = test::call_service(&app, send(&cookie)).await;
    if !res.status().is_success() {
        return Err(io::Error::other(format!("warm-up: {}", res.status())));
    }

    // A connection to each master: the stats are per server.
    let mut masters = Vec::new();
    for url in deployment.urls() {
        let client = redis::Client::open(url).map_err(io::Error::other)?;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(io::Error::other)?;
        masters.push(connection);
    }
    for redis in &mut masters {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(redis)
            .await
            .map_err(io::Error::other)?;
    }
    for n in 0..requests {
        clock.advance(step);
        let res = test::call_service(&app, send(&cookie)).await;
        if !res.status().is_success() {
            return Err(io::Error::other(format!("request {n}: {}", res.status())));
        }
    }
    let mut calls = BTreeMap::new();
    for redis in &mut masters {
        let stats: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(redis)
            .await
            .map_err(io::Error::other)?;
        for (name, count) in command_calls(&stats) {
            *calls.entry(name).or_insert(0) += count;
        }
    }
    let redis = masters
        .first_mut()
        .ok_or_else(|| io::Error::other("no Redis to ask about commands"))?;
    let (mut reads, mut writes, mut scripts) = (0, 0, 0);
    println!(
        "{requests} requests, one every {}s, idle 30 min, on {}:",
        step.as_secs(),
        deployment.name()
    );
    println!(
        "{:<12} {:>8} {:>12}  kind",
        "command", "calls", "per request"
    );
    for (name, count) in &calls {
        let kind = kind(redis, name).await;
        match kind {
            "write" => writes += count,
            "read" => reads += count,
            _ => scripts += count,
        }
        let per = *count as f64 / requests as f64;
        println!("{name:<12} {count:>8} {per:>12.3}  {kind}");
    }
    let per = |n: u64| n as f64 / requests as f64;
    println!(
        "per request: {:.3} reads, {:.3} writes (commands run inside scripts included), \
         {:.3} script calls",
        per(reads),
        per(writes),
        per(scripts)
    );
    Ok(())
}

/// Where the benchmark runs.
enum Deployment {
    Single(redis_server::RedisServer),
    Cluster(redis_cluster::RedisCluster),
}

impl Deployment {
    /// The URL of each master.
    fn urls(&self) -> Vec<String> {
        match self {
            Self::Single(server) => vec![server.url()],
            Self::Cluster(cluster) => cluster.urls(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Single(_) => "one Redis",
            Self::Cluster(_) => "a Redis Cluster of 3 masters",
        }
    }
}

/// The calls of each command in an `INFO commandstats` answer, but the benchmark's own.
fn command_calls(stats: &str) -> Vec<(String, u64)> {
    let mut calls = Vec::new();
    for line in stats.lines() {
        let Some((name, rest)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        if ["info", "config", "command"]
            .iter()
            .any(|own| name.starts_with(own))
        {
            continue; // the benchmark's own
        }
        let count = rest
            .split(',')
            .find_map(|field| field.strip_prefix("calls="))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        calls.push((name.to_owned(), count));
    }
    calls
}

/// `write` or `read` by the command's flags, `script` for script calls.
async fn kind(redis: &mut redis::aio::MultiplexedConnection, name: &str) -> &'static str {
    if name.starts_with("eval") || name.starts_with("evalsha") || name == "script" {
        return "script";
    }
    let info: redis::Value = redis::cmd("COMMAND")
        .arg("INFO")
        .arg(name)
        .query_async(redis)
        .await
        .unwrap_or(redis::Value::Nil);
    if format!("{info:?}").contains("write") {
        "write"
    } else {
        "read"
    }
}

fn parse<T: std::str::FromStr>(arg: Option<String>, default: T) -> io::Result<T> {
    match arg {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|_| io::Error::other(format!("not a whole number: {raw}"))),
    }
}
