//! The server the load scripts (`scripts/bench`, `scripts/soak`) measure.
//!
//! ```sh
//! cargo run --release --example bench_server -- --mode expiry --store cookie
//! ```
//!
//! `--mode bare` (actix-session alone, the handler reads the user from the session),
//! `expiry` (+ SessionExpiry, idle + absolute) or `identity` (+ actix-identity with login and
//! visit deadlines); `--store cookie` or `redis` (`REDIS_URL`). `PORT` (8080),
//! `IDLE_TIMEOUT_SECS` (1800), `ABSOLUTE_TIMEOUT_SECS` (28800). Routes: `POST /login` signs
//! `alice` in (or `?user=<id>`, or `?user=new` for a new user each time), `GET /` answers the
//! user or 401.

use std::{
    env, io,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use actix_identity::{Identity, IdentityMiddleware};
use actix_session::{
    storage::{CookieSessionStore, SessionStore},
    Session, SessionMiddleware,
};
use actix_web::FromRequest as _;
use actix_web::{
    cookie::Key, middleware::Condition, web, App, HttpMessage as _, HttpRequest, HttpResponse,
    HttpServer,
};
use serde::Deserialize;
use session_expiry::{redis::RedisStore, Expiry, SessionExpiry};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bare,
    Expiry,
    Identity,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Store {
    Cookie,
    Redis,
}

struct Args {
    mode: Mode,
    store: Store,
}

fn args() -> io::Result<Args> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let mut args = Args {
        mode: Mode::Expiry,
        store: Store::Cookie,
    };
    let mut it = env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match (flag.as_str(), value.as_str()) {
            ("--mode", "bare") => args.mode = Mode::Bare,
            ("--mode", "expiry") => args.mode = Mode::Expiry,
            ("--mode", "identity") => args.mode = Mode::Identity,
            ("--store", "cookie") => args.store = Store::Cookie,
            ("--store", "redis") => args.store = Store::Redis,
            _ => {
                return Err(bad(format!(
                    "unknown argument {flag} {value}; expected --mode bare|expiry|identity \
                     --store cookie|redis"
                )))
            }
        }
    }
    Ok(args)
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
        Mode::Expiry => {
            let expiry = Expiry::extract(&req).await?;
            expiry.login(user.as_str())?;
        }
        Mode::Identity => {
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
        Mode::Expiry => Expiry::extract(&req).await?.user(),
        Mode::Identity => Identity::extract(&req)
            .await
            .ok()
            .and_then(|id| id.id().ok()),
    };
    Ok(match user {
        Some(user) => HttpResponse::Ok().body(user),
        None => HttpResponse::Unauthorized().finish(),
    })
}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let Args { mode, store } = args()?;
    let idle = secs("IDLE_TIMEOUT_SECS", 1800)?;
    let absolute = secs("ABSOLUTE_TIMEOUT_SECS", 28_800)?;
    let port: u16 = env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let key = Key::from(&[42; 64]);
    let expiry = SessionExpiry::builder()
        .idle_timeout(idle)
        .absolute_timeout(absolute)
        .build();
    let config = Config {
        mode,
        key,
        expiry,
        idle,
        absolute,
        port,
    };
    match store {
        Store::Cookie => serve(config, CookieSessionStore::default).await,
        Store::Redis => {
            let url = env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
            let store = RedisStore::builder(url.as_str())
                .build()
                .await
                .map_err(|e| io::Error::other(format!("cannot use Redis at {url}: {e}")))?;
            serve(config, move || store.clone()).await
        }
    }
}

#[derive(Clone)]
struct Config {
    mode: Mode,
    key: Key,
    expiry: SessionExpiry,
    idle: Duration,
    absolute: Duration,
    port: u16,
}

/// Serves the bench routes on the store `new_store` makes (one per worker).
async fn serve<S: SessionStore + 'static>(
    config: Config,
    new_store: impl Fn() -> S + Clone + Send + 'static,
) -> io::Result<()> {
    let port = config.port;
    HttpServer::new(move || {
        let Config {
            mode,
            idle,
            absolute,
            ..
        } = config;
        let identity = IdentityMiddleware::builder()
            .login_deadline(Some(absolute))
            .visit_deadline(Some(idle))
            .build();
        App::new()
            .app_data(web::Data::new(mode))
            .route("/login", web::post().to(login))
            .route("/", web::get().to(home))
            .wrap(Condition::new(mode == Mode::Expiry, config.expiry.clone()))
            .wrap(Condition::new(mode == Mode::Identity, identity))
            .wrap(
                SessionMiddleware::builder(new_store(), config.key.clone())
                    .cookie_secure(false)
                    .build(),
            )
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
