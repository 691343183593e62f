//! The demo on Redis: sessions shared by any number of instances, listed and revoked from any.
//!
//! ```sh
//! cargo run --example redis                      # http://127.0.0.1:8080, Redis on 127.0.0.1:6379
//! PORT=8081 cargo run --example redis            # a second instance on the same Redis
//! REDIS_CLUSTER_URLS=redis://127.0.0.1:7000,redis://127.0.0.1:7001 cargo run --example redis
//! ```
//!
//! `REDIS_URL` (default `redis://127.0.0.1:6379`) or, for a Redis Cluster, `REDIS_CLUSTER_URLS`
//! (comma-separated URLs of some of its nodes), `SESSION_SECRET` (at least 32 bytes, the same
//! on every instance), `MAX_SESSIONS` (sessions per user; the crate's default, 100, when
//! unset: a log-in beyond it ends the user's least recently active session, with reason
//! `evicted`), plus the quickstart's `HOST`, `PORT`, `IDLE_TIMEOUT_SECS` and
//! `ABSOLUTE_TIMEOUT_SECS`. Routes: the quickstart's, and `GET /sessions` (a page at a time,
//! `?cursor=`), `POST /sessions/revoke-all`, `POST /sessions/revoke-others`,
//! `DELETE /sessions/{id}`, `POST /password` (its "sign out my other devices" ends the user's
//! sessions on every instance, within a second), the quickstart's live page (`/live`, `/ws`,
//! `/events`: revoking on one instance closes the socket held open on the other, within a
//! second), and `GET /metrics`
//! (Prometheus text format), answered to peers on loopback only unless `METRICS_ALLOW` says
//! more: `any`, or a comma-separated list of addresses and networks allowed besides loopback
//! (`METRICS_ALLOW=10.0.0.0/8,192.168.1.5`); other peers get `403`.

use testkit::demo;
use testkit::metrics_page;
use testkit::sessions;

use std::{env, io};

use actix_web::{cookie::Key, web, App, HttpServer};
use metrics_exporter_prometheus::PrometheusBuilder;
use session_expiry::redis::{RedisStore, RequestScope};

/// Only for trying the demo: anyone who reads this file can forge this instance's cookies.
const DEMO_SECRET: &str = "session-expiry demo secret: set SESSION_SECRET in any real deployment";

#[actix_web::main]
async fn main() -> io::Result<()> {
    demo::init_logging();
    let mut settings = demo::Settings::from_env()?;
    let cluster = env::var("REDIS_CLUSTER_URLS").ok();
    let url = env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
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
    // The demo's accounts (passwords and security stamps) where every instance sees them, so
    // that a password change on one instance signs the user's other devices out on all. (On a
    // Redis Cluster they stay in each instance's memory: this is only a demo's user table.)
    if cluster.is_none() {
        settings.accounts = demo::Accounts::on_redis(&url, "session-expiry-demo:").await?;
    }
    let accounts = web::Data::new(settings.accounts.clone());
    let mut expiry = settings
        .expiry()
        // Sessions keep a keyed hash of their user's stamp: every instance must use one key.
        .data_owner_key(Key::derive_from(format!("{secret} data owner").as_bytes()));
    if let Some(max) = demo::max_sessions()? {
        expiry = expiry.max_sessions(max);
    }
    let expiry = expiry.build();
    let (builder, redis) = match &cluster {
        Some(urls) => (
            RedisStore::cluster_builder(urls.split(',').map(str::trim).filter(|u| !u.is_empty())),
            format!("the Redis Cluster at {urls}"),
        ),
        None => (RedisStore::builder(url.as_str()), format!("Redis at {url}")),
    };
    // The store takes the middleware's clock, state key, log settings and hooks.
    let store = builder
        .for_middleware(&expiry)
        .build()
        .await
        .map_err(|error| io::Error::other(format!("cannot use {redis}: {error}")))?;
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
        "listening on http://{host}:{port} (idle {}s, absolute {}s), sessions in {}",
        settings.idle.as_secs(),
        settings.absolute.as_secs(),
        if cluster.is_some() {
            "a Redis Cluster"
        } else {
            "Redis"
        },
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
