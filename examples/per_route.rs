//! Per-route limits: `/admin` tolerates 5 idle minutes and `/reports` needs a log-in from the
//! last hour, under the global 30 minutes idle / 5 days absolute.
//!
//! ```sh
//! cargo run --example per_route
//! curl -c jar -H 'Content-Type: application/json' \
//!      -d '{"username":"alice","password":"password"}' http://127.0.0.1:8080/login
//! curl -b jar -c jar -H 'Accept: application/json' http://127.0.0.1:8080/admin
//! ```

use testkit::demo;

use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, get, web, App, HttpResponse, HttpServer};
use session_expiry::{absolute_timeout, idle_timeout, Expiry};

/// The admin area: five idle minutes end the session here, wherever else it was used.
#[get("/admin")]
#[idle_timeout(minutes = 5)]
async fn admin(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "area": "admin", "user": expiry.user() }))
}

/// Reports: only for a log-in less than an hour old.
#[get("/reports")]
#[absolute_timeout(hours = 1)]
async fn reports(expiry: Expiry) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "area": "reports", "user": expiry.user() }))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    demo::init_logging();
    let settings = demo::Settings::from_env()?;
    let expiry = settings.expiry().build();
    let warning = web::Data::new(demo::Warning::from_env()?);
    let key = Key::generate();
    tracing::info!("listening on http://{}:{}", settings.host, settings.port);
    HttpServer::new(move || {
        App::new()
            .app_data(warning.clone())
            .configure(demo::routes)
            .service(admin)
            .service(reports)
            .wrap(expiry.clone())
            .wrap(demo::sessions(CookieSessionStore::default(), key.clone()))
            .wrap(demo::remember_me_cookie())
    })
    .bind((settings.host.as_str(), settings.port))?
    .run()
    .await
}
