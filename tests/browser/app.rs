//! The demo app, served for real on a free port of 127.0.0.1 from a thread of its own, with a
//! log of the state-changing requests it answered and a few pages of the tests' own.

use std::{
    sync::{mpsc, Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use actix_session::storage::CookieSessionStore;
use actix_web::{
    cookie::Key, dev::ServerHandle, dev::Service as _, http::header, web, App, HttpResponse,
    HttpServer,
};
use futures_util::FutureExt as _;
use serde::Deserialize;
use session_expiry::{fresh_auth, Expiry, SessionExpiry};

use crate::demo;

/// The status endpoint, whose checks the log keeps too.
const STATUS: &str = "/session/status";

/// The timeouts of one test's app, in real time.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
    /// How long before the end the pages' script warns.
    pub warn: Duration,
}

/// A state-changing request (or a status check) the app answered.
#[derive(Debug, Clone)]
pub struct Posted {
    /// When it arrived.
    pub at: Instant,
    pub path: String,
    pub status: u16,
    /// The `X-CSRF-Token` header, if any.
    pub csrf: Option<String>,
    /// The `Sec-Fetch-Site` header, if any.
    pub fetch_site: Option<String>,
}

/// Every non-GET request of one app, and every `GET /session/status`, in the order they arrived.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Posted>>>);

impl RequestLog {
    fn push(&self, posted: Posted) {
        self.0.lock().unwrap().push(posted);
    }

    /// The requests to `path` so far.
    pub fn to(&self, path: &str) -> Vec<Posted> {
        let all = self.0.lock().unwrap();
        all.iter().filter(|p| p.path == path).cloned().collect()
    }

    /// The keep-alives so far.
    pub fn keepalives(&self) -> Vec<Posted> {
        self.to("/session/keepalive")
    }

    /// The status checks so far (the test's own included).
    pub fn statuses(&self) -> Vec<Posted> {
        self.to(STATUS)
    }
}

/// A running demo app; stopped when dropped.
pub struct TestApp {
    pub url: String,
    pub log: RequestLog,
    handle: ServerHandle,
}

impl TestApp {
    /// Serves the demo's routes (cookie store, a fresh key) plus the tests' pages.
    pub fn start(timeouts: Timeouts) -> Self {
        let (sender, receiver) = mpsc::channel();
        let log = RequestLog::default();
        let app_log = log.clone();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let key = Key::generate();
                let expiry = SessionExpiry::builder()
                    .idle_timeout(timeouts.idle)
                    .absolute_timeout(timeouts.absolute)
                    .login_path("/login")
                    .reauth_path("/confirm")
                    .build();
                let warning = web::Data::new(demo::Warning {
                    before: timeouts.warn,
                });
                let server = HttpServer::new(move || {
                    let log = app_log.clone();
                    App::new()
                        .configure(demo::routes)
                        .configure(test_pages)
                        .app_data(warning.clone())
                        .wrap(expiry.clone())
                        .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
                        .wrap_fn(move |req, srv| {
                            let logged = req.method() != actix_web::http::Method::GET
                                || req.path() == STATUS;
                            let seen = logged.then(|| {
                                let text = |name| {
                                    req.headers()
                                        .get(name)
                                        .and_then(|v: &header::HeaderValue| v.to_str().ok())
                                        .map(str::to_owned)
                                };
                                Posted {
                                    at: Instant::now(),
                                    path: req.path().to_owned(),
                                    status: 0,
                                    csrf: text("x-csrf-token"),
                                    fetch_site: text("sec-fetch-site"),
                                }
                            });
                            let log = log.clone();
                            srv.call(req).map(move |answer| {
                                if let (Some(mut seen), Ok(answer)) = (seen, &answer) {
                                    seen.status = answer.status().as_u16();
                                    log.push(seen);
                                }
                                answer
                            })
                        })
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(("127.0.0.1", 0))
                .expect("bind a free port");
                let address = server.addrs()[0];
                let server = server.run();
                sender.send((address, server.handle())).unwrap();
                server.await.expect("the demo app stopped with an error");
            });
        });
        let (address, handle) = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the demo app did not start");
        Self {
            url: format!("http://{address}"),
            log,
            handle,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing here needs to wait for it.
        drop(self.handle.stop(false));
    }
}

/// The tests' own pages, beside the demo's.
fn test_pages(config: &mut web::ServiceConfig) {
    config
        .route("/fallback", web::get().to(fallback_page))
        .route("/csrf", web::get().to(csrf_page))
        .route("/texts", web::get().to(texts_page))
        .route("/notice", web::get().to(notice_page))
        .route("/evicted", web::get().to(evicted_page))
        .route(
            "/fake-status/evicted",
            web::get().to(|| async {
                HttpResponse::Unauthorized()
                    .json(serde_json::json!({"error": "session_expired", "reason": "evicted"}))
            }),
        )
        .route("/drafts", web::get().to(drafts_page))
        .route("/bye", web::post().to(bye))
        .configure(crate::live::pages)
        .service(step_up);
}

/// A whole page: `lang`, extra `head`, `body` and the script with `attributes` (besides the
/// log-in URL and the demo's warning lead).
fn html(
    warning: &demo::Warning,
    lang: &str,
    head: &str,
    body: &str,
    attributes: &str,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <title>test page</title>{head}</head><body><main>{body}</main>\
             <script src=\"/session/expiry.js\" defer data-login-url=\"/login\" \
             data-warn-seconds=\"{warn}\" {attributes}></script></body></html>",
            warn = warning.before.as_secs(),
        ))
}

/// A page whose browser has no `BroadcastChannel`, so the script falls back to `localStorage`
/// events to keep tabs in step. It does not opt in to input as activity.
async fn fallback_page(warning: web::Data<demo::Warning>) -> HttpResponse {
    html(
        &warning,
        "en",
        "<script>delete window.BroadcastChannel;</script>",
        "<h1>No BroadcastChannel</h1><label>Notes <textarea name=\"notes\"></textarea></label>",
        "",
    )
}

/// A page with a CSRF token in a meta tag that the script sends with its requests.
async fn csrf_page(warning: web::Data<demo::Warning>) -> HttpResponse {
    html(
        &warning,
        "en",
        "<meta name=\"csrf-token\" content=\"token-1\">",
        "<h1>CSRF</h1><label>Notes <textarea name=\"notes\"></textarea></label>",
        "data-csrf-header=\"X-CSRF-Token\" data-activity=\"input\"",
    )
}

#[derive(Deserialize)]
struct TextsQuery {
    lang: Option<String>,
    /// Which texts block: `per-language` (default) or `flat`.
    block: Option<String>,
}

/// A page with its own texts: one block per language (French is the page's), or one flat set.
async fn texts_page(
    warning: web::Data<demo::Warning>,
    query: web::Query<TextsQuery>,
) -> HttpResponse {
    let block = if query.block.as_deref() == Some("flat") {
        r#"{"idle.title": "Still with us?", "signOut": "Leave"}"#
    } else {
        r#"{"fr": {"idle.title": "Encore là ?"}, "de": {"idle.title": "nicht diese"}}"#
    };
    html(
        &warning,
        query.lang.as_deref().unwrap_or("fr"),
        &format!("<script type=\"application/json\" id=\"session-expiry-texts\">{block}</script>"),
        "<h1>Texts</h1>",
        "",
    )
}

#[derive(Deserialize)]
struct NoticeQuery {
    lang: String,
    reason: String,
}

/// A log-in notice for `reason` in a page of `lang`, with the server's placeholder text.
async fn notice_page(
    warning: web::Data<demo::Warning>,
    query: web::Query<NoticeQuery>,
) -> HttpResponse {
    let lang = escape_attribute(&query.lang);
    let reason = escape_attribute(&query.reason);
    html(
        &warning,
        &lang,
        "",
        &format!("<p data-session-expiry-reason=\"{reason}\">server text</p>"),
        "",
    )
}

/// A signed-in page whose status endpoint says the session was evicted.
async fn evicted_page(warning: web::Data<demo::Warning>) -> HttpResponse {
    html(
        &warning,
        "en",
        "",
        "<h1>Soon evicted</h1>",
        "data-status-url=\"/fake-status/evicted\"",
    )
}

/// A form with a draft and a sign-out form posting to `/bye`, whose answer has no script.
async fn drafts_page(warning: web::Data<demo::Warning>) -> HttpResponse {
    html(
        &warning,
        "en",
        "",
        "<h1>Drafts</h1>\
         <form id=\"note\" method=\"post\" action=\"/report\" data-session-expiry-preserve>\
         <label>Note <textarea name=\"note\"></textarea></label><button>Send</button></form>\
         <form id=\"bye\" method=\"post\" action=\"/bye\"><button>Sign out</button></form>",
        "data-logout-url=\"/bye\"",
    )
}

/// Signs out and answers a page without the session-expiry script.
async fn bye(expiry: Expiry) -> HttpResponse {
    expiry.logout();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<!doctype html><html lang=\"en\"><title>bye</title><h1>Signed out</h1></html>")
}

/// A route that wants a password confirmed in the last second (so, after any sign-in a test
/// made, a fresh one): a stale request goes to the demo's `/confirm` first, the session
/// staying alive; a fresh one goes on to the report form.
#[actix_web::route("/stepup", method = "GET", method = "POST")]
#[fresh_auth(seconds = 1)]
async fn step_up() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/report"))
        .finish()
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}
