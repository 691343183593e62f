//! The app fixtures of the tests, and the test client (from `testkit`).

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_http::Request;
use actix_session::{storage::CookieSessionStore, SessionExt as _, SessionMiddleware};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceResponse},
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{
    config::SessionExpiryBuilder, Expiry, MockClock, Passive, Policy, RememberMeCookie, STATE_KEY,
};

pub const MINUTE: Duration = Duration::from_secs(60);
pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const ABSOLUTE: Duration = Duration::from_secs(8 * 3600);

pub use testkit::client::{Answer, Client};

/// Log lines written while the guard lives (tracing events of this thread).
pub fn capture_logs() -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(Arc::clone(&buffer));
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || sink.clone())
        .finish();
    (tracing::subscriber::set_default(subscriber), buffer)
}

pub fn logs(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// The middleware the fixtures use: 30 min idle, 8 h absolute, the given clock.
pub fn expiry(clock: &MockClock) -> SessionExpiryBuilder {
    session_expiry::SessionExpiry::builder()
        .idle_timeout(IDLE)
        .absolute_timeout(ABSOLUTE)
        .login_path("/login")
        .clock(clock.clone())
}

pub fn session_middleware() -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), Key::from(&[7; 64]))
        .cookie_secure(false)
        .build()
}

/// Routes every fixture app has.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/login/{user}", web::post().to(login))
        .route(
            "/login-with/{user}/{idle}/{absolute}",
            web::post().to(login_with),
        )
        .route("/logout", web::post().to(logout))
        .route("/whoami", web::get().to(who_is_signed_in))
        .route("/passive", web::get().to(passive))
        .route("/state", web::get().to(state))
        .route("/plant", web::post().to(plant))
        .service(session_expiry::web::scope("/session"));
}

async fn login(expiry: Expiry, user: web::Path<String>) -> actix_web::Result<HttpResponse> {
    expiry.login(user.into_inner())?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true })))
}

async fn login_with(
    expiry: Expiry,
    path: web::Path<(String, u64, u64)>,
) -> actix_web::Result<HttpResponse> {
    let (user, idle, absolute) = path.into_inner();
    let policy = Policy::new()
        .with_idle(Duration::from_secs(idle))
        .with_absolute(Duration::from_secs(absolute));
    expiry.login_with(user, policy)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true })))
}

async fn logout(expiry: Expiry) -> HttpResponse {
    expiry.logout();
    HttpResponse::NoContent().finish()
}

async fn who_is_signed_in(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "user": expiry.user(),
        "expired_reason": expiry.expired_reason(),
    }))
}

async fn passive(_: Passive, expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "user": expiry.user() }))
}

async fn state(req: HttpRequest) -> HttpResponse {
    let raw = req.get_session().entries().get(STATE_KEY).cloned();
    HttpResponse::Ok().json(raw)
}

/// Writes arbitrary JSON into the state key, as a damaged or tampered store would hold it.
async fn plant(
    req: HttpRequest,
    value: web::Json<serde_json::Value>,
) -> actix_web::Result<HttpResponse> {
    req.get_session().insert(STATE_KEY, value.into_inner())?;
    Ok(HttpResponse::NoContent().finish())
}

/// A fixture app: the routes above under `builder`, inside the cookie-store session middleware.
pub async fn app(
    builder: SessionExpiryBuilder,
) -> Client<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    Client::new(cookie_app(builder, |_| {}).await)
}

/// The app of [`app`], as a service, with `extra` routes: for tests that put several clients
/// on one app.
pub async fn cookie_app(
    builder: SessionExpiryBuilder,
    extra: impl FnOnce(&mut web::ServiceConfig),
) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
    test::init_service(
        App::new()
            .configure(extra)
            .configure(routes)
            .wrap(builder.build())
            .wrap(session_middleware())
            .wrap(RememberMeCookie::new()),
    )
    .await
}

/// `GET /whoami`: the signed-in user and, in continue mode, why the session ended.
pub fn whoami() -> TestRequest {
    TestRequest::get().uri("/whoami")
}

/// `POST /login/{user}` from a device: its user agent and IP address (what a registry lists).
pub fn login_from(user: &str, agent: &str, ip: &str) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/login/{user}"))
        .insert_header((header::USER_AGENT, agent))
        .peer_addr(format!("{ip}:40000").parse().unwrap())
}

/// `GET /sessions`: the signed-in user's sessions (the registry's page, `testkit::sessions`).
pub fn sessions() -> TestRequest {
    TestRequest::get().uri("/sessions")
}

/// The expired answer to a JSON client: `401` with the reason.
#[track_caller]
pub fn assert_expired(answer: &Answer, reason: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(
        answer.json(),
        serde_json::json!({"error": "session_expired", "reason": reason})
    );
}

/// A `/whoami` answer for `user`.
#[track_caller]
pub fn assert_user(answer: &Answer, user: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["user"], user, "{answer:?}");
}

/// The quickstart's app (`testkit::demo`'s routes) under `builder`, on the cookie store.
pub async fn demo_app(
    builder: SessionExpiryBuilder,
) -> Client<
    impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error>,
> {
    Client::new(
        test::init_service(
            App::new()
                .configure(crate::demo::routes)
                .wrap(builder.build())
                .wrap(session_middleware()),
        )
        .await,
    )
}

/// An instant the app answered with (RFC 3339).
pub fn instant(value: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// `elapsed` after `start`.
pub fn after(
    start: chrono::DateTime<chrono::Utc>,
    elapsed: Duration,
) -> chrono::DateTime<chrono::Utc> {
    start + chrono::Duration::from_std(elapsed).unwrap()
}

/// One instance of an example's app (`testkit::demo`'s routes) on a server-side `target`: the
/// demo's `accounts` (where every instance sees them), one `data_owner_key` for every instance,
/// the middleware of `adjust(settings.expiry())` on `clock`, the store serving it.
macro_rules! demo_instance {
    ($target:expr, $accounts:expr, $clock:expr, $adjust:expr) => {{
        let mut settings = $crate::demo::Settings::from_env().unwrap();
        settings.accounts = $accounts;
        let middleware = ($adjust)(
            settings
                .expiry()
                .clock($clock.clone())
                .data_owner_key($crate::redis_support::cookie_key()),
        )
        .build();
        let store = $target.store_for(&middleware).await;
        $crate::support::Client::new(
            actix_web::test::init_service(
                actix_web::App::new()
                    .app_data(actix_web::web::Data::new(settings.accounts.clone()))
                    .configure($crate::demo::routes)
                    .wrap(middleware)
                    .wrap(
                        actix_session::SessionMiddleware::builder(
                            store,
                            $crate::redis_support::cookie_key(),
                        )
                        .cookie_secure(false)
                        .build(),
                    )
                    .wrap(session_expiry::redis::RequestScope::new()),
            )
            .await,
        )
    }};
}
pub(crate) use demo_instance;

/// The demo's log-in of alice with `password`, as JSON.
pub fn demo_log_in(password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/login")
        .set_json(serde_json::json!({ "username": "alice", "password": password }))
}

/// alice changes her password to "correct horse" on `first` (the demo's `POST /password`,
/// signing out her other devices).
pub async fn demo_change_password<S, B>(first: &Client<S>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let changed = first
        .json(
            TestRequest::post()
                .uri("/password")
                .set_json(serde_json::json!({ "password": "correct horse" })),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
}

/// After [`demo_change_password`] on `first` (whose session was `moved` before it): the new
/// password holds on `second`, the old one no longer, and the session that changed it lives on
/// there under its new ID.
pub async fn the_new_password_holds_on_the_other_instance<S, B, T, C>(
    first: &Client<S>,
    second: &Client<T>,
    moved: Option<actix_web::cookie::Cookie<'static>>,
) where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
    T: Service<Request, Response = ServiceResponse<C>, Error = actix_web::Error>,
    C: MessageBody + 'static,
{
    assert_eq!(
        second.json(demo_log_in("password")).await.status,
        StatusCode::UNAUTHORIZED
    );
    second.set_cookie(first.cookie());
    assert_ne!(first.cookie(), moved, "the changing session got a new ID");
    assert_eq!(
        second.json(TestRequest::get().uri("/")).await.json()["user"],
        "alice"
    );
    second.set_cookie(None);
    assert_eq!(
        second.json(demo_log_in("correct horse")).await.status,
        StatusCode::OK
    );
}
