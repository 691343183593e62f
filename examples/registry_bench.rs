//! Benchmark (not a test): what a log-in and a page of the session list cost, over HTTP, when
//! one user already holds 1, 1,000 or 100,000 sessions.
//!
//! ```sh
//! scripts/bench-registry            # starts its own redis-server, builds this in release
//! REDIS_URL=redis://127.0.0.1:6390 cargo run --release --example registry_bench -- [ROUNDS]
//! ```
//!
//! Needs a Redis of its own at `REDIS_URL` (it resets its statistics). For each size it serves
//! the redis example's app (one worker, the Redis store under a key prefix of its own, the
//! session limit raised above the size) on a free port, signs alice in once and plants the rest
//! of her sessions straight into Redis (as the store lays them out); one more app has 100,000
//! sessions and a limit of 100,000. She holds exactly that many when each log-in arrives (the
//! one signed in over HTTP lists). Then, in turns (so that a burst of load from elsewhere on
//! the machine hits every size alike), ROUNDS times (default 200):
//! - a log-in (`POST /login`) on each size, each followed by a log-out that is not measured, so
//!   the count stays put;
//! - a log-in at the limit, which evicts her least recently active session (no log-out);
//! - `GET /sessions`, the first page (20) of her sessions, on each size.
//!
//! For each: the median and 90th percentile of the HTTP round trip (this process is the
//! client), and, from `INFO commandstats` reset before each request, the Redis time of the
//! script call it made (median, µs) and how many commands Redis ran for it (inside the script
//! included). Prints a markdown table.

use testkit::demo;
use testkit::redis_plant;
use testkit::sessions;

use std::{
    io,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use actix_web::{cookie::Key, web, App, HttpServer};
use awc::cookie::Cookie;
use session_expiry::{
    redis::{RedisStore, RequestScope},
    SessionExpiry,
};

use testkit::redis_plant::PlantedUser;

/// How many unmeasured requests of each kind come first (scripts loaded, connections warm).
const WARM_UP: usize = 20;

#[actix_web::main]
async fn main() -> io::Result<()> {
    let url = std::env::var("REDIS_URL").map_err(|_| {
        io::Error::other("set REDIS_URL to a Redis of the benchmark's own (scripts/bench-registry)")
    })?;
    let rounds: usize = match std::env::args().nth(1) {
        None => 200,
        Some(raw) => raw
            .parse()
            .map_err(|_| io::Error::other(format!("ROUNDS is a whole number, not {raw:?}")))?,
    };
    let mut redis = redis::Client::open(url.as_str())
        .and_then(|client| client.get_connection())
        .map_err(io::Error::other)?;
    let version: String = redis::cmd("INFO")
        .arg("server")
        .query::<String>(&mut redis)
        .map_err(io::Error::other)?
        .lines()
        .find_map(|line| line.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .trim()
        .to_owned();
    println!("Redis {version}, {rounds} rounds each; times: median (p90)\n");
    println!(
        "| sessions of the user | request | HTTP round trip | Redis time of its script | \
         Redis commands |"
    );
    println!("| ---: | --- | ---: | ---: | ---: |");
    const SIZES: [usize; 3] = [1, 1_000, 100_000];
    // Each user's own first session lists; the others are planted.
    let (mut benches, mut listers) = (Vec::new(), Vec::new());
    for sessions in SIZES {
        let bench = Bench::start(&url, sessions, 1_000_000).await?;
        listers.push(bench.plant(&mut redis, sessions).await?);
        benches.push(bench);
    }
    let at_limit = Bench::start(&url, 100_000, 100_000).await?;
    at_limit.plant(&mut redis, 100_000).await?;
    let mut logins: Vec<_> = SIZES.iter().map(|_| Measured::new()).collect();
    let mut lists: Vec<_> = SIZES.iter().map(|_| Measured::new()).collect();
    let mut evicting = Measured::new();
    for round in 0..WARM_UP + rounds {
        let measured = round >= WARM_UP;
        for (bench, login) in benches.iter().zip(&mut logins) {
            bench
                .measure_login(&mut redis, login, measured, true)
                .await?;
        }
        at_limit
            .measure_login(&mut redis, &mut evicting, measured, false)
            .await?;
        for ((bench, list), cookie) in benches.iter().zip(&mut lists).zip(&listers) {
            bench
                .measure_list(&mut redis, list, measured, cookie)
                .await?;
        }
    }
    for ((sessions, login), list) in SIZES.iter().zip(&logins).zip(&lists) {
        row(*sessions, "log-in", login);
        row(*sessions, "`GET /sessions` (first page)", list);
    }
    row(100_000, "log-in at the limit (evicts one)", &evicting);
    Ok(())
}

/// What one kind of request cost, each round.
struct Measured {
    http: Vec<Duration>,
    redis_usec: Vec<u64>,
    commands: Vec<u64>,
}

fn row(sessions: usize, request: &str, measured: &Measured) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let (median, p90) = (
        percentile(&measured.http, 50),
        percentile(&measured.http, 90),
    );
    let usec = percentile(&measured.redis_usec, 50);
    let (fewest, most) = (
        measured.commands.iter().min().copied().unwrap_or(0),
        measured.commands.iter().max().copied().unwrap_or(0),
    );
    let commands = if fewest == most {
        fewest.to_string()
    } else {
        format!("{fewest}–{most}")
    };
    println!(
        "| {sessions} | {request} | {} ({}) | {usec} µs | {commands} |",
        ms(median),
        ms(p90)
    );
}

fn percentile<T: Copy + Ord + Default>(values: &[T], p: usize) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => T::default(),
        n => sorted[(n - 1) * p / 100],
    }
}

/// The redis example's app on one size of user, served on a free port.
struct Bench {
    url: String,
    /// Alice's sessions, once planted.
    sessions: usize,
    base: String,
    prefix: String,
    client: awc::Client,
    handle: actix_web::dev::ServerHandle,
}

impl Bench {
    async fn start(url: &str, sessions: usize, max_sessions: u32) -> io::Result<Self> {
        let prefix = format!("bench-registry:{sessions}:{max_sessions}:");
        let key = Key::generate();
        let expiry = SessionExpiry::builder()
            .idle_timeout(Duration::from_secs(30 * 60))
            .absolute_timeout(Duration::from_secs(8 * 3600))
            .max_sessions(max_sessions)
            .login_path("/login");
        let expiry = expiry.build();
        let store = RedisStore::builder(url)
            .key_prefix(prefix.as_str())
            .for_middleware(&expiry)
            .build()
            .await
            .map_err(io::Error::other)?;
        let registry = web::Data::new(store.registry());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(registry.clone())
                .configure(demo::routes)
                .configure(sessions::routes)
                .wrap(expiry.clone())
                .wrap(demo::sessions(store.clone(), key.clone()))
                .wrap(RequestScope::new())
        })
        .workers(1)
        .bind(("127.0.0.1", 0))?;
        let port = server
            .addrs()
            .first()
            .map(|addr| addr.port())
            .ok_or_else(|| io::Error::other("the server is bound nowhere"))?;
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(Self {
            url: url.to_owned(),
            sessions,
            base: format!("http://127.0.0.1:{port}"),
            prefix,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
            handle,
        })
    }

    /// Signs alice in; her session cookie.
    async fn login(&self) -> io::Result<Cookie<'static>> {
        let credentials = serde_json::json!({"username": "alice", "password": "password"});
        let res = self
            .client
            .post(format!("{}/login", self.base))
            .insert_header(("User-Agent", redis_plant::USER_AGENT))
            .send_json(&credentials)
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        if !res.status().is_success() {
            return Err(io::Error::other(format!("log-in: {}", res.status())));
        }
        res.cookie("id")
            .ok_or_else(|| io::Error::other("the log-in set no cookie"))
    }

    async fn logout(&self, cookie: &Cookie<'static>) -> io::Result<()> {
        let res = self
            .client
            .post(format!("{}/logout", self.base))
            .insert_header(("Accept", "application/json"))
            .cookie(cookie.clone())
            .send()
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        if res.status().is_client_error() || res.status().is_server_error() {
            return Err(io::Error::other(format!("log-out: {}", res.status())));
        }
        Ok(())
    }

    /// Signs alice in once, then plants her other sessions, so that she holds `sessions`; the
    /// cookie of the one signed in.
    async fn plant(
        &self,
        redis: &mut redis::Connection,
        sessions: usize,
    ) -> io::Result<Cookie<'static>> {
        let cookie = self.login().await?;
        let pattern = format!("{}{{*}}:i", self.prefix);
        let indexes: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query(redis)
            .map_err(io::Error::other)?;
        let [index] = indexes.as_slice() else {
            return Err(io::Error::other(format!("one index expected: {indexes:?}")));
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(io::Error::other)?;
        let now = u64::try_from(now.as_millis()).map_err(io::Error::other)?;
        let deadline = now + 3_600_000;
        let client = redis::Client::open(self.url.as_str()).map_err(io::Error::other)?;
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .map_err(io::Error::other)?;
        PlantedUser::of_index(index)
            .plant(&mut connection, 0, sessions - 1, now, deadline)
            .await
            .map_err(io::Error::other)?;
        Ok(cookie)
    }

    /// One log-in, recorded in `into` if `measured`, followed by an unmeasured log-out when
    /// `log_out`.
    async fn measure_login(
        &self,
        redis: &mut redis::Connection,
        into: &mut Measured,
        measured: bool,
        log_out: bool,
    ) -> io::Result<()> {
        reset(redis)?;
        let started = Instant::now();
        let cookie = self.login().await?;
        let took = started.elapsed();
        let (usec, commands) = script_cost(redis)?;
        if measured {
            into.push(took, usec, commands);
        }
        if log_out {
            self.logout(&cookie).await?;
        }
        Ok(())
    }

    /// The first page of the list, by the session `cookie` of alice's, recorded in `into` if
    /// `measured`.
    async fn measure_list(
        &self,
        redis: &mut redis::Connection,
        into: &mut Measured,
        measured: bool,
        cookie: &Cookie<'static>,
    ) -> io::Result<()> {
        reset(redis)?;
        let started = Instant::now();
        let mut res = self
            .client
            .get(format!("{}/sessions", self.base))
            .cookie(cookie.clone())
            .send()
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        let body = res
            .body()
            .limit(1 << 20)
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        let took = started.elapsed();
        if !res.status().is_success() {
            return Err(io::Error::other(format!("list: {}", res.status())));
        }
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        let listed = page["sessions"].as_array().map_or(0, Vec::len);
        if listed != self.sessions.min(20) {
            return Err(io::Error::other(format!("a page of {listed}: {page}")));
        }
        let (usec, commands) = script_cost(redis)?;
        if measured {
            into.push(took, usec, commands);
        }
        Ok(())
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        // Stops accepting at once; the worker ends with the process.
        drop(self.handle.stop(false));
    }
}

impl Measured {
    fn new() -> Self {
        Self {
            http: Vec::new(),
            redis_usec: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn push(&mut self, http: Duration, redis_usec: u64, commands: u64) {
        self.http.push(http);
        self.redis_usec.push(redis_usec);
        self.commands.push(commands);
    }
}

fn reset(redis: &mut redis::Connection) -> io::Result<()> {
    redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query::<()>(redis)
        .map_err(io::Error::other)
}

/// Since the last reset: the time Redis spent in script calls (µs) and how many commands it ran
/// (inside scripts included), the statistics' own aside.
fn script_cost(redis: &mut redis::Connection) -> io::Result<(u64, u64)> {
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(redis)
        .map_err(io::Error::other)?;
    let (mut usec, mut commands) = (0, 0);
    for line in stats.lines() {
        let Some((name, rest)) = line
            .strip_prefix("cmdstat_")
            .and_then(|line| line.split_once(':'))
        else {
            continue;
        };
        if name.starts_with("info") || name.starts_with("config") {
            continue;
        }
        let field = |key: &str| {
            rest.split(',')
                .find_map(|field| field.strip_prefix(key))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        commands += field("calls=");
        if name.starts_with("eval") {
            usec += field("usec=");
        }
    }
    Ok((usec, commands))
}
