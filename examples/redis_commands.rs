//! Benchmark (not a test): Redis commands per request in steady use, from `INFO commandstats`.
//!
//! ```sh
//! cargo run --release --example redis_commands -- [REQUESTS] [SECONDS_BETWEEN_REQUESTS]
//! ```
//!
//! Starts its own `redis-server` (so nothing else counts), signs one user in to the demo app
//! (idle 30 min, absolute 8 h, Redis store) and sends REQUESTS (default 1000) requests on that
//! session, one every SECONDS_BETWEEN_REQUESTS of simulated time (default 10). It counts every
//! command Redis ran meanwhile, inside scripts too, split into reads and writes by the
//! command's own flags (`COMMAND INFO`), and the round trips (commands sent by the app).

#[allow(dead_code)] // the benchmark uses the routes only
mod demo;
#[path = "../tests/integration/redis_server.rs"]
#[allow(dead_code)] // the benchmark only starts it
mod redis_server;

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
    let mut args = std::env::args().skip(1);
    let requests: u64 = parse(args.next(), 1000)?;
    let step = Duration::from_secs(parse(args.next(), 10)?);
    let server = redis_server::RedisServer::start();
    let clock = MockClock::new();
    let store = RedisStore::builder(server.url())
        .clock(clock.clone())
        .build()
        .await
        .map_err(io::Error::other)?;
    let expiry = SessionExpiry::builder()
        .idle_timeout(Duration::from_secs(30 * 60))
        .absolute_timeout(Duration::from_secs(8 * 3600))
        .clock(clock.clone())
        .build();
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

    let client = redis::Client::open(server.url()).map_err(io::Error::other)?;
    let mut redis = client
        .get_multiplexed_async_connection()
        .await
        .map_err(io::Error::other)?;
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(&mut redis)
        .await
        .map_err(io::Error::other)?;
    for n in 0..requests {
        clock.advance(step);
        let res = test::call_service(&app, send(&cookie)).await;
        if !res.status().is_success() {
            return Err(io::Error::other(format!("request {n}: {}", res.status())));
        }
    }
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut redis)
        .await
        .map_err(io::Error::other)?;

    let mut calls = BTreeMap::new();
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
        calls.insert(name.to_owned(), count);
    }
    let (mut reads, mut writes, mut scripts) = (0, 0, 0);
    println!(
        "{requests} requests, one every {}s, idle 30 min:",
        step.as_secs()
    );
    println!(
        "{:<12} {:>8} {:>12}  kind",
        "command", "calls", "per request"
    );
    for (name, count) in &calls {
        let kind = kind(&mut redis, name).await;
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
