//! Per-user policies: a role enum with `#[derive(ExpiryPolicy)]`, a resolver that looks each
//! user's role up once at log-in, and "keep me signed in" as one more tier.
//!
//! alice is an admin (10 idle minutes, 8 hours), bob a member (30 idle minutes, 5 days);
//! ticking "keep me signed in" gives 30 days. No user's policy may exceed 30 days (ceiling).
//!
//! ```sh
//! cargo run --example per_user
//! ```

mod demo;

use std::time::Duration;

use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, web, App, HttpRequest, HttpServer};
use session_expiry::{ExpiryPolicy, Policy, ToPolicy};

/// Session policy by role.
#[derive(ExpiryPolicy, Clone, Copy, Debug)]
enum Tier {
    #[expiry(idle(minutes = 10), absolute(hours = 8))]
    Admin,
    #[expiry(idle(minutes = 30), absolute(days = 5))]
    Member,
    #[expiry(absolute(days = 30))]
    RememberMe,
}

/// Stands in for a database lookup of the user's role.
async fn role_of(user: &str) -> Option<Tier> {
    match user {
        "alice" => Some(Tier::Admin),
        "bob" => Some(Tier::Member),
        _ => None,
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    demo::init_logging();
    let settings = demo::Settings::from_env()?;
    let expiry = settings
        .expiry()
        // Consulted once per log-in; the answer is kept in the session.
        .policy_resolver(|user: String, _req: HttpRequest| async move {
            role_of(&user).await.map(|tier| tier.to_policy())
        })
        .max_policy(Policy::new().with_absolute(Duration::from_secs(30 * 24 * 3600)))
        .build();
    let warning = web::Data::new(demo::Warning::from_env()?);
    let key = Key::generate();
    tracing::info!("listening on http://{}:{}", settings.host, settings.port);
    HttpServer::new(move || {
        App::new()
            .app_data(warning.clone())
            .app_data(web::Data::new(demo::RememberMe(
                Tier::RememberMe.to_policy(),
            )))
            .configure(demo::routes)
            .wrap(expiry.clone())
            .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
    })
    .bind((settings.host.as_str(), settings.port))?
    .run()
    .await
}
