//! The session-management routes of the Redis example, shared with the tests: the signed-in
//! user's sessions, and revoking them.
//!
//! - `GET /sessions`: `[{"id":…,"logged_in_at":…,"last_seen":…,"expires_at":…,
//!   "user_agent":…,"ip":…,"current":true}, …]`, most recently active first.
//! - `POST /sessions/revoke-all`: every session of the user, this one included: `{"revoked":n}`.
//! - `POST /sessions/revoke-others`: all but this one: `{"revoked":n}`.
//! - `DELETE /sessions/{id}`: `204`, or `404` when there is no such live session.
//!
//! Each answers `401` `{"error":"unauthenticated"}` when nobody is signed in, and the
//! state-changing ones `403` `{"error":"cross_site_request"}` when another origin sent them.

use actix_web::{web, HttpResponse};
use session_expiry::{
    redis::{SessionId, SessionRegistry},
    Expiry, ExpiryError, SameOrigin,
};

/// Registers the routes; the app needs `web::Data<SessionRegistry>`.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/sessions")
            // Revoking is state-changing: only this site's pages may ask for it.
            .wrap(SameOrigin::new())
            .route("", web::get().to(list))
            .route("/revoke-all", web::post().to(revoke_all))
            .route("/revoke-others", web::post().to(revoke_others))
            .route("/{id}", web::delete().to(revoke)),
    );
}

async fn list(
    expiry: Expiry,
    current: Option<SessionId>,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    let sessions = registry.list(&user).await?;
    let listed = sessions
        .into_iter()
        .map(|session| {
            let is_current = current.as_ref() == Some(&session.id);
            let mut entry = serde_json::to_value(session)?;
            entry["current"] = is_current.into();
            Ok(entry)
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    Ok(HttpResponse::Ok().json(listed))
}

async fn revoke_all(
    expiry: Expiry,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    let revoked = registry.revoke_all(&user).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))
}

async fn revoke_others(
    expiry: Expiry,
    current: SessionId,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    let revoked = registry.revoke_others(&user, &current).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revoked": revoked })))
}

async fn revoke(
    expiry: Expiry,
    id: web::Path<String>,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    let revoked = match id.parse::<SessionId>() {
        Ok(id) => registry.revoke(&user, &id).await?,
        Err(_) => false,
    };
    Ok(if revoked {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NotFound().json(serde_json::json!({ "error": "no_such_session" }))
    })
}
