//! The redis example's `GET /metrics`: the crate's counters (feature `metrics`) in the
//! Prometheus text format, shared with the tests.

use actix_web::{http::header, web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

/// Registers `GET /metrics`; the app needs `web::Data<PrometheusHandle>`, the handle of the
/// recorder that `metrics` reports to.
pub fn routes(config: &mut web::ServiceConfig) {
    config.route("/metrics", web::get().to(page));
}

async fn page(handle: web::Data<PrometheusHandle>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(handle.render())
}
