//! Per-user policies: a role enum with `#[derive(ExpiryPolicy)]`, a resolver that looks each
//! user's role up once at log-in, and "keep me signed in" within each role's limits.
//!
//! alice is an admin (10 idle minutes, 8 hours, remember-me or not), bob a member (30 idle
//! minutes, 5 days; ticking "keep me signed in" gives him 30 days). No user's policy may exceed
//! 30 days (ceiling).
//!
//! ```sh
//! cargo run --example per_user
//! ```

use testkit::demo;
use testkit::roles;

use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, web, App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    demo::init_logging();
    let settings = demo::Settings::from_env()?;
    let expiry = roles::expiry(&settings).build();
    let warning = web::Data::new(demo::Warning::from_env()?);
    let key = Key::generate();
    tracing::info!("listening on http://{}:{}", settings.host, settings.port);
    HttpServer::new(move || {
        App::new()
            .app_data(warning.clone())
            .configure(demo::routes)
            .wrap(expiry.clone())
            .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
            .wrap(demo::remember_me_cookie())
    })
    .bind((settings.host.as_str(), settings.port))?
    .run()
    .await
}
