//! Endpoints for the browser: how long the session has left, and "stay signed in".
//!
//! Mount them with [`scope`]: `GET {prefix}/status` and `POST {prefix}/keepalive`.

use actix_web::{web, HttpResponse, Scope};

use crate::{response::NO_STORE, Expiry, ExpiryError, Passive};

/// The status and keep-alive endpoints under `prefix`.
///
/// - `GET {prefix}/status` (passive: it never counts as activity): `200` with
///   `{"user":"alice","idle_remaining_secs":1740,"absolute_remaining_secs":431940,"expires_at":"2025-01-01T00:30:00Z"}`
///   (a `null` where there is no such limit), or `401` `{"error":"unauthenticated"}`.
/// - `POST {prefix}/keepalive`: records activity now; `204`, or `401` when not signed in.
///
/// # Examples
/// ```
/// use actix_web::App;
/// let app = App::new().service(session_expiry::web::scope("/session"));
/// ```
#[must_use]
pub fn scope(prefix: &str) -> Scope {
    web::scope(prefix)
        .route("/status", web::get().to(status))
        .route("/keepalive", web::post().to(keepalive))
}

async fn status(_: Passive, expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    let status = expiry.status().ok_or(ExpiryError::NotSignedIn)?;
    let secs = |d: Option<std::time::Duration>| d.map(|d| d.as_secs());
    Ok(HttpResponse::Ok()
        .insert_header(NO_STORE)
        .json(serde_json::json!({
            "user": status.user,
            "idle_remaining_secs": secs(status.idle_remaining),
            "absolute_remaining_secs": secs(status.absolute_remaining),
            "expires_at": status
                .expires_at
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })))
}

async fn keepalive(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    expiry.touch()?;
    Ok(HttpResponse::NoContent().insert_header(NO_STORE).finish())
}
