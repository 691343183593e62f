//! Every supported placement compiles: both orders with actix-web's route attributes,
//! generics, other extractors, doc comments and other attributes kept.

use actix_web::{get, post, route, routes, web, App, HttpResponse, Responder};
use session_expiry::{absolute_timeout, fresh_auth, idle_timeout, passive, Expiry};

/// Kept doc comment.
#[get("/a")]
#[idle_timeout(minutes = 5)]
async fn below_get() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[idle_timeout(hours = 1, minutes = 30)]
#[fresh_auth(minutes = 10)]
#[post("/b")]
async fn above_post(expiry: Expiry, body: String) -> impl Responder {
    format!("{:?} {body}", expiry.user())
}

#[route("/c", method = "GET", method = "HEAD")]
#[absolute_timeout(days = 5)]
#[idle_timeout(seconds = 90)]
#[allow(clippy::unused_async)]
async fn stacked() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[routes]
#[get("/d")]
#[get("/e")]
#[passive]
async fn multiple_routes() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[idle_timeout(minutes = 1)]
async fn generic<T: Responder + Default + 'static>(_: web::Query<()>) -> T {
    T::default()
}

#[session_expiry::absolute_timeout(hours = 8)]
async fn by_path(path: web::Path<u32>) -> String {
    path.to_string()
}

fn main() {
    let _ = App::new()
        .service(below_get)
        .service(above_post)
        .service(stacked)
        .service(multiple_routes)
        .route("/g", web::get().to(generic::<String>))
        .service(web::resource("/p/{n}").to(by_path));
}
