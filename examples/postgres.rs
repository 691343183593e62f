//! The demo on PostgreSQL: sessions shared by any number of instances, listed and revoked from
//! any, the table created by the first instance, one reaper at a time among them.
//!
//! ```sh
//! DATABASE_URL=postgres://app@localhost/app cargo run --example postgres   # http://127.0.0.1:8080
//! DATABASE_URL=postgres://app@localhost/app PORT=8081 cargo run --example postgres
//! ```
//!
//! `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), `DATABASE_SCHEMA`
//! (the session table's schema, created if missing; default `public`), `SESSION_SECRET` (at least 32 bytes, the same
//! on every instance), `MAX_SESSIONS` (sessions per user; the crate's default, 100, when
//! unset: a log-in beyond it ends the user's least recently active session, with reason
//! `evicted`), plus the quickstart's `HOST`, `PORT`, `IDLE_TIMEOUT_SECS` and
//! `ABSOLUTE_TIMEOUT_SECS`. Routes: the quickstart's, and `GET /sessions` (a page at a time,
//! `?cursor=`), `POST /sessions/revoke-all`, `POST /sessions/revoke-others`,
//! `DELETE /sessions/{id}`, and `GET /metrics`
//! (Prometheus text format), answered to peers on loopback only unless `METRICS_ALLOW` says
//! more: `any`, or a comma-separated list of addresses and networks allowed besides loopback
//! (`METRICS_ALLOW=10.0.0.0/8,192.168.1.5`); other peers get `403`.

use testkit::{demo, metrics_page, sessions};

use std::{env, io};

use actix_web::{cookie::Key, web, App, HttpServer};
use metrics_exporter_prometheus::PrometheusBuilder;
use session_expiry::postgres::{PostgresStore, RequestScope};

/// Only for trying the demo: anyone who reads this file can forge this instance's cookies.
const DEMO_SECRET: &str = "session-expiry demo secret: set SESSION_SECRET in any real deployment";

#[actix_web::main]
async fn main() -> io::Result<()> {
    demo::init_logging();
    let mut settings = demo::Settings::from_env()?;
    let url = env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let secret = env::var("SESSION_SECRET").unwrap_or_else(|_| {
        tracing::warn!("SESSION_SECRET is not set: using the demo's public secret");
        DEMO_SECRET.into()
    });
    if secret.len() < 32 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "SESSION_SECRET must be at least 32 bytes",
        ));
    }
    // Every instance derives the same key, so each reads the others' cookies.
    let key = Key::derive_from(secret.as_bytes());
    let schema = env::var("DATABASE_SCHEMA").unwrap_or_else(|_| "public".into());
    // The demo's accounts (passwords and security stamps) in the same database, where every
    // instance sees them: a password change on one signs the user's other devices out on all.
    settings.accounts = demo::Accounts::on_postgres(&url, &schema).await?;
    let accounts = web::Data::new(settings.accounts.clone());
    let mut expiry = settings
        .expiry()
        // Sessions keep a keyed hash of their user's stamp: every instance must use one key.
        .data_owner_key(Key::derive_from(format!("{secret} data owner").as_bytes()))
        // Another instance learns of a password change at its next look at the user's stamp
        // (PostgreSQL publishes nothing, unlike Redis): at most a second later here, at one
        // lookup per signed-in user per second.
        .stamp_check_interval(std::time::Duration::from_secs(1));
    if let Some(max) = demo::max_sessions()? {
        expiry = expiry.max_sessions(max);
    }
    let expiry = expiry.build();
    // The store takes the middleware's clock, state key, log settings and hooks, and creates
    // or upgrades its table.
    let store = PostgresStore::builder(url.as_str())
        .schema(schema.as_str())
        .for_middleware(&expiry)
        .build()
        .await
        .map_err(|error| io::Error::other(format!("cannot use PostgreSQL: {}", causes(&error))))?;
    // Every instance starts one; one at a time runs, about every five minutes.
    let _reaper = store.spawn_reaper(std::time::Duration::from_secs(300));
    let registry = web::Data::new(store.registry());
    let metrics_access =
        metrics_page::MetricsAccess::parse(&env::var("METRICS_ALLOW").unwrap_or_default())
            .map_err(|error| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("METRICS_ALLOW: {error}"),
                )
            })?;
    // The crate's counters (feature `metrics`), served at GET /metrics.
    let metrics = web::Data::new(
        PrometheusBuilder::new()
            .install_recorder()
            .map_err(|error| {
                io::Error::other(format!("cannot install the metrics recorder: {error}"))
            })?,
    );
    let warning = web::Data::new(demo::Warning::from_env()?);
    let (host, port) = (settings.host.clone(), settings.port);
    tracing::info!(
        "listening on http://{host}:{port} (idle {}s, absolute {}s), sessions in PostgreSQL",
        settings.idle.as_secs(),
        settings.absolute.as_secs(),
    );
    tracing::info!(
        "at most {} sessions per user",
        demo::max_sessions()?.unwrap_or(session_expiry::DEFAULT_MAX_SESSIONS)
    );
    HttpServer::new(move || {
        App::new()
            .app_data(registry.clone())
            .app_data(metrics.clone())
            .app_data(warning.clone())
            .app_data(accounts.clone())
            .configure(demo::routes)
            .configure(sessions::routes)
            .configure(metrics_page::routes(metrics_access.clone()))
            .wrap(expiry.clone())
            .wrap(demo::sessions(store.clone(), key.clone()))
            .wrap(demo::remember_me_cookie())
            .wrap(RequestScope::new())
    })
    .bind((host, port))?
    .run()
    .await
}

/// `error` and every error under it, on one line: what PostgreSQL said, not only that it
/// refused.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
