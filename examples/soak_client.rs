//! The soak client `scripts/soak` drives: many concurrent clients over thousands of sessions,
//! counting false expiries (an active session refused) and missed expiries (an idle session
//! still accepted after its timeout). Exits non-zero on any.
//!
//! ```sh
//! cargo run --release --example soak_client -- --url http://127.0.0.1:8080 --idle-secs 5 \
//!     --seconds 60 --clients 256 --active 2000 --idle 1000 [--outage FROM TO]
//! ```
//!
//! With `--outage FROM TO` (seconds since the run started), 5xx answers are expected only in
//! that window (plus a short recovery margin); anywhere else they count as errors too.

use std::{
    cell::RefCell,
    env,
    rc::Rc,
    time::{Duration, Instant},
};

use actix_web::{cookie::Cookie, http::StatusCode};
use awc::Client;
use futures_util::future::join_all;

struct Options {
    url: String,
    idle: Duration,
    seconds: u64,
    clients: usize,
    active: usize,
    idle_sessions: usize,
    outage: Option<(f64, f64)>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        url: "http://127.0.0.1:8080".into(),
        idle: Duration::from_secs(5),
        seconds: 60,
        clients: 256,
        active: 2000,
        idle_sessions: 1000,
        outage: None,
    };
    let args: Vec<String> = env::args().skip(1).collect();
    let mut i = 0;
    let number = |i: usize| -> Result<f64, String> {
        args.get(i)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{} needs a number", args[i - 1]))
    };
    while i < args.len() {
        match args[i].as_str() {
            "--url" => o.url = args.get(i + 1).cloned().ok_or("--url needs a value")?,
            "--idle-secs" => o.idle = Duration::from_secs_f64(number(i + 1)?),
            "--seconds" => o.seconds = number(i + 1)? as u64,
            "--clients" => o.clients = number(i + 1)? as usize,
            "--active" => o.active = number(i + 1)? as usize,
            "--idle" => o.idle_sessions = number(i + 1)? as usize,
            "--outage" => {
                o.outage = Some((number(i + 1)?, number(i + 2)?));
                i += 1;
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    Ok(o)
}

#[derive(Default, Debug)]
struct Counts {
    requests: u64,
    ok: u64,
    false_expiries: u64,
    missed_expiries: u64,
    expected_5xx: u64,
    unexpected_5xx: u64,
    other: u64,
}

impl Counts {
    /// Counts the answer to an active session's request.
    fn record(&mut self, status: Option<StatusCode>, in_outage: bool) {
        self.requests += 1;
        match status {
            Some(s) if s.is_success() => self.ok += 1,
            Some(StatusCode::UNAUTHORIZED) => self.false_expiries += 1,
            Some(s) if s.is_server_error() && in_outage => self.expected_5xx += 1,
            None if in_outage => self.expected_5xx += 1,
            Some(s) if s.is_server_error() => self.unexpected_5xx += 1,
            None => self.unexpected_5xx += 1,
            Some(_) => self.other += 1,
        }
    }
}

struct Session {
    cookie: Cookie<'static>,
}

async fn login(client: &Client, url: &str, user: String) -> Result<Session, String> {
    let res = client
        .post(format!("{url}/login?user={user}"))
        .send()
        .await
        .map_err(|e| format!("log-in of {user} failed: {e}"))?;
    if res.status() != StatusCode::OK {
        return Err(format!("log-in of {user}: {}", res.status()));
    }
    let cookie = res
        .cookies()
        .map_err(|e| e.to_string())?
        .iter()
        .find(|c| c.name() == "id")
        .cloned()
        .ok_or("log-in set no cookie")?
        .into_owned();
    Ok(Session { cookie })
}

/// One request on `session`, keeping any new cookie; the status, or `None` on a transport error.
async fn visit(client: &Client, url: &str, session: &RefCell<Session>) -> Option<StatusCode> {
    let cookie = session.borrow().cookie.clone();
    let res = client
        .get(format!("{url}/"))
        .cookie(cookie)
        .send()
        .await
        .ok()?;
    if let Ok(cookies) = res.cookies() {
        if let Some(new) = cookies
            .iter()
            .find(|c| c.name() == "id" && !c.value().is_empty())
        {
            session.borrow_mut().cookie = new.clone().into_owned();
        }
    }
    Some(res.status())
}

#[actix_web::main]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak_client: {e}");
            std::process::exit(2);
        }
    };
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .connector(awc::Connector::new().limit(o.clients))
        .finish();
    let counts = Rc::new(RefCell::new(Counts::default()));

    // Log every session in, a batch of `clients` at a time.
    let mut sessions = Vec::new();
    for batch in (0..o.active + o.idle_sessions)
        .collect::<Vec<_>>()
        .chunks(o.clients)
    {
        let logins = batch
            .iter()
            .map(|i| login(&client, &o.url, format!("user{i}")));
        for result in join_all(logins).await {
            match result {
                Ok(session) => sessions.push(Rc::new(RefCell::new(session))),
                Err(e) => {
                    eprintln!("soak_client: {e}");
                    std::process::exit(2);
                }
            }
        }
    }
    let idle_sessions = sessions.split_off(o.active);
    let active = Rc::new(sessions);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    eprintln!(
        "soak: {} active and {} idle sessions, {} clients, {} s",
        active.len(),
        idle_sessions.len(),
        o.clients,
        o.seconds
    );

    // Each client walks its share of the active sessions, each about once a second.
    let workers = (0..o.clients).map(|worker| {
        let (client, active, counts, url) = (
            &client,
            Rc::clone(&active),
            Rc::clone(&counts),
            o.url.clone(),
        );
        let outage = o.outage;
        async move {
            let mine: Vec<_> = active
                .iter()
                .skip(worker)
                .step_by(o.clients)
                .cloned()
                .collect();
            if mine.is_empty() {
                return;
            }
            let pause = Duration::from_secs(1) / u32::try_from(mine.len()).unwrap_or(1);
            while Instant::now() < deadline {
                for session in &mine {
                    let status = visit(client, &url, session).await;
                    let at = started.elapsed().as_secs_f64();
                    let in_outage =
                        outage.is_some_and(|(from, to)| at >= from - 0.5 && at <= to + 3.0);
                    counts.borrow_mut().record(status, in_outage);
                    actix_web::rt::time::sleep(pause).await;
                }
            }
        }
    });
    join_all(workers).await;

    // By now every idle session is past its timeout: each must be refused.
    let idle_checks = idle_sessions
        .iter()
        .map(|session| visit(&client, &o.url, session));
    for status in join_all(idle_checks).await {
        let mut c = counts.borrow_mut();
        c.requests += 1;
        match status {
            Some(StatusCode::UNAUTHORIZED) => c.ok += 1,
            Some(s) if s.is_success() => c.missed_expiries += 1,
            _ => c.other += 1,
        }
    }

    let c = counts.borrow();
    println!(
        "requests {} ok {} false_expiries {} missed_expiries {} expected_5xx {} unexpected_5xx {} other {}",
        c.requests, c.ok, c.false_expiries, c.missed_expiries, c.expected_5xx, c.unexpected_5xx, c.other
    );
    let idle_checked_after = started.elapsed() >= o.idle;
    if c.false_expiries + c.missed_expiries + c.unexpected_5xx + c.other > 0 || !idle_checked_after
    {
        std::process::exit(1);
    }
}
