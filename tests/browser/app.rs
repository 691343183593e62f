//! The demo app, served for real on a free port of 127.0.0.1 from a thread of its own.

use std::{sync::mpsc, thread, time::Duration};

use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, dev::ServerHandle, web, App, HttpResponse, HttpServer};
use session_expiry::SessionExpiry;

use crate::demo;

/// The timeouts of one test's app, in real time.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
    /// How long before the end the pages' script warns.
    pub warn: Duration,
}

/// A running demo app; stopped when dropped.
pub struct TestApp {
    pub url: String,
    handle: ServerHandle,
}

impl TestApp {
    /// Serves the demo's routes (cookie store, a fresh key) plus [`fallback_page`].
    pub fn start(timeouts: Timeouts) -> Self {
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let key = Key::generate();
                let expiry = SessionExpiry::builder()
                    .idle_timeout(timeouts.idle)
                    .absolute_timeout(timeouts.absolute)
                    .login_path("/login")
                    .build();
                let warning = web::Data::new(demo::Warning {
                    before: timeouts.warn,
                });
                let server = HttpServer::new(move || {
                    App::new()
                        .configure(demo::routes)
                        .route("/fallback", web::get().to(fallback_page))
                        .app_data(warning.clone())
                        .wrap(expiry.clone())
                        .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
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

/// A page whose browser has no `BroadcastChannel`, so the script falls back to `localStorage`
/// events to keep tabs in step. It reads the warning lead time the demo's pages use.
async fn fallback_page(warning: web::Data<demo::Warning>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>fallback</title>\
         <script>delete window.BroadcastChannel;</script></head><body><h1>No BroadcastChannel</h1>\
         <script src=\"/session/expiry.js\" defer data-login-url=\"/login\" \
         data-warn-seconds=\"{}\"></script></body></html>",
        warning.before.as_secs()
    ))
}
