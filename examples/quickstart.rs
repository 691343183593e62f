//! The quickstart: session timeouts on the cookie store, no external service.
//!
//! ```sh
//! IDLE_TIMEOUT_SECS=20 ABSOLUTE_TIMEOUT_SECS=60 WARN_BEFORE_SECS=10 cargo run --example quickstart
//! ```
//!
//! Sign in and open `/live`: a WebSocket at `/ws` (a clock ticking every `LIVE_TICK_SECS`, 1 by
//! default; what you send is echoed and counts as activity where the store can keep it) and an
//! event stream at `/events`, both closed by the server when the session ends (code 4401, or
//! `event: session-expired`), and the page sent to the log-in page with the reason.

use testkit::demo;

use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, web, App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    demo::init_logging();
    let settings = demo::Settings::from_env()?;
    // A new key at each start: sessions do not survive a restart of the demo.
    let key = Key::generate();
    let (host, port) = (settings.host.clone(), settings.port);
    let expiry = settings.expiry().build();
    let warning = web::Data::new(demo::Warning::from_env()?);
    let accounts = web::Data::new(settings.accounts.clone());
    tracing::info!(
        "listening on http://{host}:{port} (idle {}s, absolute {}s); sign in with \
         curl -c jar -H 'Content-Type: application/json' -d '{{\"username\":\"alice\",\"password\":\"password\"}}' http://{host}:{port}/login",
        settings.idle.as_secs(),
        settings.absolute.as_secs(),
    );
    HttpServer::new(move || {
        App::new()
            .configure(demo::routes)
            .app_data(warning.clone())
            .app_data(accounts.clone())
            .wrap(expiry.clone())
            .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
            .wrap(demo::remember_me_cookie())
    })
    .bind((host, port))?
    .run()
    .await
}
