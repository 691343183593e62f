//! The server the load scripts (`scripts/bench`, `scripts/soak`) measure: one signed-in user,
//! `GET /` answering who it is, under session-expiry or one of its baselines.
//!
//! ```sh
//! cargo run --release --manifest-path bench/Cargo.toml -- --mode expiry --store redis
//! ```
//!
//! `--mode`:
//! - `bare`: actix-session alone; the handler reads the user from the session.
//! - `expiry`: session-expiry as the README wires it: `SessionExpiry` inside
//!   `SessionMiddleware`, and on the `redis` store `RequestScope` outside it.
//! - `expiry-only`: the `SessionExpiry` middleware alone, without `RequestScope`.
//! - `expiry-stamped`: `expiry` with a security stamp (a constant one: after the first request
//!   of each minute, every check is a cache hit, as in steady use).
//! - `identity-login`: actix-identity with a login deadline only (what it offers for an
//!   absolute timeout).
//! - `identity`: actix-identity with login and visit deadlines (absolute and idle).
//! - `bare-every-request`: `bare` with actix-session's TTL extended on every request
//!   (`TtlExtensionPolicy::OnEveryRequest`): a store write per request, the way Spring Session
//!   JDBC, Laravel's database driver and Django's `SESSION_SAVE_EVERY_REQUEST` work (a
//!   baseline for the PostgreSQL store, which writes only when a refresh is due).
//!
//! `--store`: `cookie` (actix-session's cookie store), `redis` (session-expiry's `RedisStore`),
//! `actix-redis` (actix-session's own `RedisSessionStore`), `REDIS_URL` says where; or
//! `postgres` (session-expiry's `PostgresStore`), `DATABASE_URL` says where. The server-side
//! stores are built `for_middleware`, and `expiry` wraps them in `RequestScope`, as documented.
//!
//! `PORT` (8080), `IDLE_TIMEOUT_SECS` (1800), `ABSOLUTE_TIMEOUT_SECS` (28800), `MAX_SESSIONS`
//! (the library's default, 100), `REAP_EVERY_SECS` (PostgreSQL: run the reaper, unset: never). Routes:
//! `POST /login` signs `alice` in (or `?user=<id>`, or `?user=new` for a new user each time),
//! `GET /` answers the user or 401, `GET /stamp-lookups` how many times the security stamp was
//! looked up (`expiry-stamped`).

#![forbid(unsafe_code)]

use std::{
    env, io,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::config::{PersistentSession, TtlExtensionPolicy};
use actix_session::{
    storage::{CookieSessionStore, RedisSessionStore, SessionStore},
    Session, SessionMiddleware,
};
use actix_web::{
    cookie::Key, web, App, FromRequest as _, HttpMessage as _, HttpRequest, HttpResponse,
    HttpServer,
};
use serde::Deserialize;
use session_expiry::{
    postgres::PostgresStore,
    redis::{RedisStore, RequestScope},
    Expiry, SessionExpiry,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bare,
    Expiry,
    ExpiryOnly,
    ExpiryStamped,
    IdentityLogin,
    Identity,
    BareEveryRequest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Cookie,
    Redis,
    ActixRedis,
    Postgres,
}

fn args() -> io::Result<(Mode, Store)> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let (mut mode, mut store) = (Mode::Expiry, Store::Cookie);
    let mut it = env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match (flag.as_str(), value.as_str()) {
            ("--mode", "bare") => mode = Mode::Bare,
            ("--mode", "expiry") => mode = Mode::Expiry,
            ("--mode", "expiry-only") => mode = Mode::ExpiryOnly,
            ("--mode", "expiry-stamped") => mode = Mode::ExpiryStamped,
            ("--mode", "identity-login") => mode = Mode::IdentityLogin,
            ("--mode", "identity") => mode = Mode::Identity,
            ("--mode", "bare-every-request") => mode = Mode::BareEveryRequest,
            ("--store", "cookie") => store = Store::Cookie,
            ("--store", "redis") => store = Store::Redis,
            ("--store", "actix-redis") => store = Store::ActixRedis,
            ("--store", "postgres") => store = Store::Postgres,
            _ => {
                return Err(bad(format!(
                    "unknown argument {flag} {value}; expected --mode \
                     bare|expiry|expiry-only|expiry-stamped|identity-login|identity|\
                     bare-every-request --store cookie|redis|actix-redis|postgres"
                )))
            }
        }
    }
    Ok((mode, store))
}

fn secs(name: &str, default: u64) -> io::Result<Duration> {
    match env::var(name) {
        Err(_) => Ok(Duration::from_secs(default)),
        Ok(raw) => raw.parse().map(Duration::from_secs).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} must be whole seconds"),
            )
        }),
    }
}

static NEXT_USER: AtomicU64 = AtomicU64::new(0);

#[derive(Deserialize)]
struct Who {
    user: Option<String>,
}

async fn login(
    req: HttpRequest,
    mode: web::Data<Mode>,
    who: web::Query<Who>,
    session: Session,
) -> actix_web::Result<HttpResponse> {
    let user = match who.into_inner().user.as_deref() {
        None => "alice".to_owned(),
        // A new user each time: load scripts sign in many users, as real traffic does.
        Some("new") => format!("user{}", NEXT_USER.fetch_add(1, Ordering::Relaxed)),
        Some(user) => user.to_owned(),
    };
    match **mode {
        Mode::Bare | Mode::BareEveryRequest => {
            session.renew();
            session.insert("user", &user)?;
        }
        Mode::Expiry | Mode::ExpiryOnly | Mode::ExpiryStamped => {
            Expiry::extract(&req).await?.login(user.as_str())?
        }
        Mode::IdentityLogin | Mode::Identity => {
            Identity::login(&req.extensions(), user.clone())?;
        }
    }
    Ok(HttpResponse::Ok().body(user))
}

async fn home(
    req: HttpRequest,
    mode: web::Data<Mode>,
    session: Session,
) -> actix_web::Result<HttpResponse> {
    let user = match **mode {
        Mode::Bare | Mode::BareEveryRequest => session.get::<String>("user")?,
        Mode::Expiry | Mode::ExpiryOnly | Mode::ExpiryStamped => {
            Expiry::extract(&req).await?.user()
        }
        Mode::IdentityLogin | Mode::Identity => Identity::extract(&req)
            .await
            .ok()
            .and_then(|id| id.id().ok()),
    };
    Ok(match user {
        Some(user) => HttpResponse::Ok().body(user),
        None => HttpResponse::Unauthorized().finish(),
    })
}

#[derive(Clone)]
struct Config {
    mode: Mode,
    key: Key,
    expiry: SessionExpiry,
    idle: Duration,
    absolute: Duration,
    port: u16,
    /// `RequestScope` outside `SessionMiddleware`: the documented Redis stack.
    scoped: bool,
}

/// How many times the security stamp was looked up (`expiry-stamped`).
static STAMP_LOOKUPS: AtomicU64 = AtomicU64::new(0);

async fn stamp_lookups() -> HttpResponse {
    HttpResponse::Ok().body(STAMP_LOOKUPS.load(Ordering::Relaxed).to_string())
}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (mode, store) = args()?;
    let idle = secs("IDLE_TIMEOUT_SECS", 1800)?;
    let absolute = secs("ABSOLUTE_TIMEOUT_SECS", 28_800)?;
    let port: u16 = env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let config = Config {
        mode,
        key: Key::from(&[42; 64]),
        expiry: {
            let builder = SessionExpiry::builder()
                .idle_timeout(idle)
                .absolute_timeout(absolute);
            let builder = match env::var("MAX_SESSIONS") {
                Ok(max) => builder.max_sessions(max.parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "MAX_SESSIONS must be a count")
                })?),
                Err(_) => builder,
            };
            if mode == Mode::ExpiryStamped {
                builder
                    .security_stamp(|_user: String, _req: actix_web::HttpRequest| async {
                        STAMP_LOOKUPS.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, io::Error>(Some(*b"stamp-1"))
                    })
                    .build()
            } else {
                builder.build()
            }
        },
        idle,
        absolute,
        port,
        scoped: mode == Mode::Expiry && matches!(store, Store::Redis | Store::Postgres),
    };
    let url = env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let unreachable = |e: &dyn std::fmt::Display| io::Error::other(format!("Redis at {url}: {e}"));
    match store {
        Store::Cookie => serve(config, CookieSessionStore::default).await,
        Store::Redis => {
            let store = RedisStore::builder(url.as_str())
                .for_middleware(&config.expiry)
                .build()
                .await
                .map_err(|e| unreachable(&e))?;
            serve(config, move || store.clone()).await
        }
        Store::Postgres => {
            let url = env::var("DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let store = PostgresStore::builder(url.as_str())
                .for_middleware(&config.expiry)
                .build()
                .await
                .map_err(|e| io::Error::other(format!("PostgreSQL at {url}: {e}")))?;
            if env::var("REAP_EVERY_SECS").is_ok() {
                let every = secs("REAP_EVERY_SECS", 60)?;
                drop(store.spawn_reaper(every));
            }
            serve(config, move || store.clone()).await
        }
        Store::ActixRedis => {
            let store = RedisSessionStore::new(url.as_str())
                .await
                .map_err(|e| unreachable(&e))?;
            serve(config, move || store.clone()).await
        }
    }
}

/// actix-session on `store`; in `bare-every-request` mode, extending the TTL on every request.
fn session_middleware<S: SessionStore + 'static>(
    mode: Mode,
    store: S,
    key: Key,
) -> SessionMiddleware<S> {
    let builder = SessionMiddleware::builder(store, key).cookie_secure(false);
    if mode == Mode::BareEveryRequest {
        builder
            .session_lifecycle(
                PersistentSession::default()
                    .session_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build()
    } else {
        builder.build()
    }
}

/// Serves the bench routes on the store `new_store` makes (one per worker), with exactly the
/// middleware of the mode: no `Condition` wrappers, which would tax every mode a little.
async fn serve<S: SessionStore + 'static>(
    config: Config,
    new_store: impl Fn() -> S + Clone + Send + 'static,
) -> io::Result<()> {
    let address = ("127.0.0.1", config.port);
    let Config {
        mode,
        key,
        expiry,
        idle,
        absolute,
        scoped,
        ..
    } = config;
    // The routes and the session middleware every mode has; the mode's own middleware is
    // wrapped inside the latter.
    macro_rules! app {
        ($($inner:expr),*) => {{
            let (key, new_store) = (key.clone(), new_store.clone());
            App::new()
                .app_data(web::Data::new(mode))
                .route("/login", web::post().to(login))
                .route("/", web::get().to(home))
                .route("/stamp-lookups", web::get().to(stamp_lookups))
                $(.wrap($inner))*
                .wrap(session_middleware(mode, new_store(), key))
        }};
    }
    let identity = move || {
        IdentityMiddleware::builder()
            .login_deadline(Some(absolute))
            .visit_deadline((mode == Mode::Identity).then_some(idle))
            .build()
    };
    match mode {
        Mode::Bare | Mode::BareEveryRequest => {
            HttpServer::new(move || app!()).bind(address)?.run().await
        }
        Mode::Expiry if scoped => {
            HttpServer::new(move || app!(expiry.clone()).wrap(RequestScope::new()))
                .bind(address)?
                .run()
                .await
        }
        Mode::Expiry | Mode::ExpiryOnly | Mode::ExpiryStamped => {
            HttpServer::new(move || app!(expiry.clone()))
                .bind(address)?
                .run()
                .await
        }
        Mode::IdentityLogin | Mode::Identity => {
            HttpServer::new(move || app!(identity()))
                .bind(address)?
                .run()
                .await
        }
    }
}
