//! Holds many WebSockets open on a running demo (the quickstart or the redis example), for
//! measuring what an idle open socket costs the server (BENCHMARKS.md, "Live connections").
//!
//! ```sh
//! LIVE_TICK_SECS=0 cargo run --example quickstart &
//! cargo run --example live_sockets -- --url http://127.0.0.1:8080 --sockets 10000 --hold-secs 60
//! ```
//!
//! It signs in once as the demo's `alice`, opens `--sockets` connections to `/ws` with that
//! session's cookie, `--batch` at a time, prints how many are open, holds them for
//! `--hold-secs`, then closes them.

use std::{env, time::Duration};

use actix_web::http::header;
use futures_util::future::join_all;

struct Options {
    url: String,
    sockets: usize,
    batch: usize,
    hold: Duration,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        url: "http://127.0.0.1:8080".into(),
        sockets: 10_000,
        batch: 200,
        hold: Duration::from_secs(60),
    };
    let mut args = env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: not a number"))
        };
        match flag.as_str() {
            "--url" => options.url = value.clone(),
            "--sockets" => {
                options.sockets = usize::try_from(number()?).map_err(|e| e.to_string())?
            }
            "--batch" => options.batch = usize::try_from(number()?).map_err(|e| e.to_string())?,
            "--hold-secs" => options.hold = Duration::from_secs(number()?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

#[actix_web::main]
async fn main() -> Result<(), String> {
    let options = options()?;
    let client = awc::Client::builder()
        // Every socket keeps its connection: no pool limit (awc's default is 100).
        .connector(awc::Connector::new().limit(0))
        .timeout(Duration::from_secs(30))
        .finish();
    let login = client
        .post(format!("{}/login", options.url))
        .send_json(&serde_json::json!({ "username": "alice", "password": "password" }))
        .await
        .map_err(|e| format!("log-in: {e}"))?;
    let cookie = login
        .cookies()
        .map_err(|e| format!("log-in cookies: {e}"))?
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    if cookie.is_empty() {
        return Err(format!(
            "log-in answered {} without a cookie",
            login.status()
        ));
    }
    let ws = options.url.replacen("http", "ws", 1) + "/ws";
    let mut open = Vec::with_capacity(options.sockets);
    while open.len() < options.sockets {
        let batch = options.batch.min(options.sockets - open.len());
        let connecting = (0..batch).map(|_| {
            client
                .ws(ws.as_str())
                .set_header(header::COOKIE, cookie.as_str())
                .connect()
        });
        for connected in join_all(connecting).await {
            let (_, frames) = connected.map_err(|e| format!("after {}: {e}", open.len()))?;
            open.push(frames);
        }
    }
    println!(
        "{} sockets open; holding them {:?}",
        open.len(),
        options.hold
    );
    actix_web::rt::time::sleep(options.hold).await;
    drop(open);
    Ok(())
}
