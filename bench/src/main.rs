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
//!
//! `--store`: `cookie` (actix-session's cookie store), `redis` (session-expiry's `RedisStore`)
//! or `actix-redis` (actix-session's own `RedisSessionStore`); `REDIS_URL` says where.
//! `postgres` (session-expiry's `PostgresStore`, with `RequestScope`: the documented stack) or
//! `postgres-every-write` (a bench-only store on one table that writes every request's access
//! time, as Spring Session JDBC, Laravel's database driver and Django's
//! `SESSION_SAVE_EVERY_REQUEST` do); `DATABASE_URL` says where. With `postgres`,
//! `MAX_SESSIONS` sets the session limit and `REAP_AFTER_SECS` runs the reaper once that many
//! seconds after start, printing what it did and how long it took.
//!
//! `PORT` (8080), `IDLE_TIMEOUT_SECS` (1800), `ABSOLUTE_TIMEOUT_SECS` (28800). Routes:
//! `POST /login` signs `alice` in (or `?user=<id>`, or `?user=new` for a new user each time),
//! `GET /` answers the user or 401.

#![forbid(unsafe_code)]

use std::{
    env, io,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use actix_identity::{Identity, IdentityMiddleware};
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    Cookie,
    Redis,
    ActixRedis,
    Postgres,
    PostgresEveryWrite,
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
            ("--store", "cookie") => store = Store::Cookie,
            ("--store", "redis") => store = Store::Redis,
            ("--store", "actix-redis") => store = Store::ActixRedis,
            ("--store", "postgres") => store = Store::Postgres,
            ("--store", "postgres-every-write") => store = Store::PostgresEveryWrite,
            _ => {
                return Err(bad(format!(
                    "unknown argument {flag} {value}; expected --mode \
                     bare|expiry|expiry-only|expiry-stamped|identity-login|identity \
                     --store cookie|redis|actix-redis|postgres|postgres-every-write"
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
        Mode::Bare => {
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
        Mode::Bare => session.get::<String>("user")?,
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

#[actix_web::main]
async fn main() -> io::Result<()> {
    let (mode, store) = args()?;
    let idle = secs("IDLE_TIMEOUT_SECS", 1800)?;
    let absolute = secs("ABSOLUTE_TIMEOUT_SECS", 28_800)?;
    let port: u16 = env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let max_sessions: Option<u32> = env::var("MAX_SESSIONS").ok().and_then(|n| n.parse().ok());
    let config = Config {
        mode,
        key: Key::from(&[42; 64]),
        expiry: {
            let mut builder = SessionExpiry::builder()
                .idle_timeout(idle)
                .absolute_timeout(absolute);
            if let Some(max) = max_sessions {
                builder = builder.max_sessions(max);
            }
            if mode == Mode::ExpiryStamped {
                builder
                    .security_stamp(|_user: String, _req: actix_web::HttpRequest| async {
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
                .build()
                .await
                .map_err(|e| unreachable(&e))?;
            serve(config, move || store.clone()).await
        }
        Store::ActixRedis => {
            let store = RedisSessionStore::new(url.as_str())
                .await
                .map_err(|e| unreachable(&e))?;
            serve(config, move || store.clone()).await
        }
        Store::Postgres => {
            let database = database_url();
            let store = PostgresStore::builder(database.as_str())
                .for_middleware(&config.expiry)
                .build()
                .await
                .map_err(|e| io::Error::other(format!("PostgreSQL at {database}: {e}")))?;
            if let Ok(after) = secs("REAP_AFTER_SECS", 0) {
                if !after.is_zero() {
                    let store = store.clone();
                    actix_web::rt::spawn(async move {
                        actix_web::rt::time::sleep(after).await;
                        let started = std::time::Instant::now();
                        let reaped = store.reap().await;
                        eprintln!("reaped in {:?}: {reaped:?}", started.elapsed());
                    });
                }
            }
            serve(config, move || store.clone()).await
        }
        Store::PostgresEveryWrite => {
            let store = every_write::EveryWrite::connect(&database_url()).await?;
            serve(config, move || store.clone()).await
        }
    }
}

fn database_url() -> String {
    env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The baseline of the PostgreSQL stores: one table, a read and a write of the access time on
/// every request, as Spring Session JDBC (`SELECT`, then `UPDATE ... LAST_ACCESS_TIME` at the
/// end of each request) and Laravel's database driver do. Bench-only: its keys are not
/// unguessable.
mod every_write {
    use std::{
        io,
        sync::atomic::{AtomicU64, Ordering},
        time::{SystemTime, UNIX_EPOCH},
    };

    use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
    use actix_web::cookie::time::Duration;
    use deadpool_postgres::{Manager, Pool};

    type State = std::collections::HashMap<String, String>;

    #[derive(Clone)]
    pub struct EveryWrite {
        pool: Pool,
    }

    fn now_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    fn ttl_ms(ttl: &Duration) -> i64 {
        i64::try_from(ttl.whole_milliseconds()).unwrap_or(i64::MAX)
    }

    fn new_key() -> Result<SessionKey, anyhow::Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let key = format!(
            "{:032x}{:016x}",
            now_ms(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        SessionKey::try_from(key).map_err(anyhow::Error::from)
    }

    impl EveryWrite {
        pub async fn connect(url: &str) -> io::Result<Self> {
            let config: tokio_postgres::Config = url.parse().map_err(io::Error::other)?;
            let pool = Pool::builder(Manager::new(config, tokio_postgres::NoTls))
                .max_size(16)
                .build()
                .map_err(io::Error::other)?;
            let client = pool.get().await.map_err(io::Error::other)?;
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS bench_every_write (id text PRIMARY KEY, \
                     state text NOT NULL, last_access bigint NOT NULL, expires bigint NOT NULL)",
                )
                .await
                .map_err(io::Error::other)?;
            Ok(Self { pool })
        }
    }

    impl SessionStore for EveryWrite {
        async fn load(&self, key: &SessionKey) -> Result<Option<State>, LoadError> {
            let client = self
                .pool
                .get()
                .await
                .map_err(|e| LoadError::Other(e.into()))?;
            let now = now_ms();
            let row = client
                .query_opt(
                    "SELECT state FROM bench_every_write WHERE id = $1 AND expires > $2",
                    &[&key.as_ref(), &now],
                )
                .await
                .map_err(|e| LoadError::Other(e.into()))?;
            let Some(row) = row else { return Ok(None) };
            // The write of every request: the access time.
            client
                .execute(
                    "UPDATE bench_every_write SET last_access = $2 WHERE id = $1",
                    &[&key.as_ref(), &now],
                )
                .await
                .map_err(|e| LoadError::Other(e.into()))?;
            let state: String = row.get(0);
            serde_json::from_str(&state)
                .map(Some)
                .map_err(|e| LoadError::Deserialization(e.into()))
        }

        async fn save(&self, state: State, ttl: &Duration) -> Result<SessionKey, SaveError> {
            let key = new_key().map_err(SaveError::Other)?;
            let text =
                serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
            let client = self
                .pool
                .get()
                .await
                .map_err(|e| SaveError::Other(e.into()))?;
            let now = now_ms();
            client
                .execute(
                    "INSERT INTO bench_every_write (id, state, last_access, expires) \
                     VALUES ($1, $2, $3, $4)",
                    &[&key.as_ref(), &text, &now, &(now + ttl_ms(ttl))],
                )
                .await
                .map_err(|e| SaveError::Other(e.into()))?;
            Ok(key)
        }

        async fn update(
            &self,
            key: SessionKey,
            state: State,
            ttl: &Duration,
        ) -> Result<SessionKey, UpdateError> {
            let text =
                serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
            let client = self
                .pool
                .get()
                .await
                .map_err(|e| UpdateError::Other(e.into()))?;
            let now = now_ms();
            client
                .execute(
                    "UPDATE bench_every_write SET state = $2, last_access = $3, expires = $4 \
                     WHERE id = $1",
                    &[&key.as_ref(), &text, &now, &(now + ttl_ms(ttl))],
                )
                .await
                .map_err(|e| UpdateError::Other(e.into()))?;
            Ok(key)
        }

        async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
            let client = self.pool.get().await?;
            let now = now_ms();
            client
                .execute(
                    "UPDATE bench_every_write SET expires = $2 WHERE id = $1",
                    &[&key.as_ref(), &(now + ttl_ms(ttl))],
                )
                .await?;
            Ok(())
        }

        async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
            let client = self.pool.get().await?;
            client
                .execute(
                    "DELETE FROM bench_every_write WHERE id = $1",
                    &[&key.as_ref()],
                )
                .await?;
            Ok(())
        }
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
                $(.wrap($inner))*
                .wrap(SessionMiddleware::builder(new_store(), key).cookie_secure(false).build())
        }};
    }
    let identity = move || {
        IdentityMiddleware::builder()
            .login_deadline(Some(absolute))
            .visit_deadline((mode == Mode::Identity).then_some(idle))
            .build()
    };
    match mode {
        Mode::Bare => HttpServer::new(move || app!()).bind(address)?.run().await,
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
