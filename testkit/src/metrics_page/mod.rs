//! The redis example's `GET /metrics`: the crate's counters (feature `metrics`) in the
//! Prometheus text format, shared with the tests.

mod access;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

pub use self::access::MetricsAccess;

/// Registers `GET /metrics` for the peers `access` allows (`403` for the others); the app needs
/// `web::Data<PrometheusHandle>`, the handle of the recorder that `metrics` reports to.
pub fn routes(access: MetricsAccess) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config.service(
            web::resource("/metrics")
                .app_data(web::Data::new(access))
                .route(web::get().to(page)),
        );
    }
}

async fn page(
    req: HttpRequest,
    access: web::Data<MetricsAccess>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    // Counts of log-ins and expiries are for the operator, and for no cache on the way.
    let no_store = (header::CACHE_CONTROL, "no-store");
    if !access.allows(req.peer_addr().map(|peer| peer.ip())) {
        return HttpResponse::Forbidden().insert_header(no_store).finish();
    }
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .insert_header(no_store)
        .body(handle.render())
}
