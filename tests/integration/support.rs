//! A test client that keeps the session cookie between requests, and app fixtures.

use std::{
    cell::RefCell,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_http::Request;
use actix_session::{storage::CookieSessionStore, SessionExt as _, SessionMiddleware};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_expiry::{config::SessionExpiryBuilder, Expiry, MockClock, Passive, Policy, STATE_KEY};

pub const MINUTE: Duration = Duration::from_secs(60);
pub const IDLE: Duration = Duration::from_secs(30 * 60);
pub const ABSOLUTE: Duration = Duration::from_secs(8 * 3600);

/// What a request got back, with its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: String,
    /// Whether the response set (or removed) the session cookie.
    pub set_cookie: bool,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The fields of a stored state record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState(pub Vec<String>);

impl StoredState {
    fn number(&self, field: usize) -> u64 {
        u64::from_str_radix(&self.0[field], 36).unwrap()
    }

    /// Last seen, ms after log-in.
    pub fn seen_after_login_ms(&self) -> u64 {
        self.number(3)
    }

    /// The last authentication, ms after log-in.
    pub fn authenticated_after_login_ms(&self) -> u64 {
        self.number(7)
    }
}

/// A browser-like client: remembers the session cookie the app sets.
pub struct Client<S> {
    app: S,
    jar: RefCell<Option<Cookie<'static>>>,
}

impl<S, B> Client<S>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    pub fn new(app: S) -> Self {
        Self {
            app,
            jar: RefCell::new(None),
        }
    }

    pub fn cookie(&self) -> Option<Cookie<'static>> {
        self.jar.borrow().clone()
    }

    pub fn set_cookie(&self, cookie: Option<Cookie<'static>>) {
        *self.jar.borrow_mut() = cookie;
    }

    /// Sends `req` with the current cookie, as a JSON client.
    pub async fn json(&self, req: TestRequest) -> Answer {
        self.send(req.insert_header((header::ACCEPT, "application/json")))
            .await
    }

    /// Sends `req` with the current cookie, as it is.
    pub async fn send(&self, req: TestRequest) -> Answer {
        let cookie = self.cookie();
        let req = match cookie {
            Some(cookie) => req.cookie(cookie),
            None => req,
        };
        let res = match self.app.call(req.to_request()).await {
            Ok(res) => res.map_into_boxed_body(),
            Err(error) => {
                let res = error.error_response();
                ServiceResponse::new(TestRequest::default().to_http_request(), res)
            }
        };
        let status = res.status();
        let headers = res.headers().clone();
        let mut set_cookie = false;
        for value in headers.get_all(header::SET_COOKIE) {
            let cookie = Cookie::parse_encoded(value.to_str().unwrap().to_owned()).unwrap();
            if cookie.name() == "id" {
                set_cookie = true;
                let removed = cookie.value().is_empty();
                *self.jar.borrow_mut() = (!removed).then_some(cookie.into_owned());
            }
        }
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        Answer {
            status,
            headers,
            body,
            set_cookie,
        }
    }

    pub async fn login(&self) {
        let answer = self.json(TestRequest::post().uri("/login/alice")).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }

    /// The state the session holds, as the documented record (`2.user.login.seen...`, see
    /// the `state` module of the crate), split into its fields.
    pub async fn stored_state(&self) -> Option<StoredState> {
        let answer = self.json(TestRequest::get().uri("/state")).await;
        serde_json::from_str::<Option<String>>(&answer.body)
            .unwrap()
            .map(|raw| {
                let record: String = serde_json::from_str(&raw).unwrap();
                StoredState(record.split('.').map(str::to_owned).collect())
            })
    }
}

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
        .route("/whoami", web::get().to(whoami))
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

async fn whoami(expiry: Expiry) -> HttpResponse {
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
    Client::new(
        test::init_service(
            App::new()
                .configure(routes)
                .wrap(builder.build())
                .wrap(session_middleware()),
        )
        .await,
    )
}
