//! The quickstart: session timeouts on the cookie store, no external service.
//!
//! ```sh
//! IDLE_TIMEOUT_SECS=20 ABSOLUTE_TIMEOUT_SECS=60 cargo run --example quickstart
//! ```

mod demo;

use actix_session::{config::PersistentSession, storage::CookieSessionStore, SessionMiddleware};
use actix_web::{
    cookie::{time::Duration as CookieDuration, Key},
    App, HttpServer,
};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,session_expiry=info".into()),
        )
        .init();
    let settings = demo::Settings::from_env()?;
    // A new key at each start: sessions do not survive a restart of the demo.
    let key = Key::generate();
    let (host, port) = (settings.host.clone(), settings.port);
    let expiry = settings.expiry().build();
    tracing::info!(
        "listening on http://{host}:{port} (idle {}s, absolute {}s); sign in with \
         curl -c jar -H 'Content-Type: application/json' -d '{{\"username\":\"alice\",\"password\":\"password\"}}' http://{host}:{port}/login",
        settings.idle.as_secs(),
        settings.absolute.as_secs(),
    );
    HttpServer::new(move || {
        App::new()
            .configure(demo::routes)
            .wrap(expiry.clone())
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    // Only so the demo works over plain http on localhost: a real deployment
                    // serves https and keeps the default `Secure` cookie.
                    .cookie_secure(false)
                    // A cookie that outlives the browser, for "keep me signed in"; the
                    // session's own timeouts still end it (at most 30 days for remember-me).
                    .session_lifecycle(
                        PersistentSession::default().session_ttl(CookieDuration::days(30)),
                    )
                    .build(),
            )
    })
    .bind((host, port))?
    .run()
    .await
}
