//! The session-management routes of the Redis example, shared with the tests: the signed-in
//! user's sessions, and revoking them.
//!
//! - `GET /sessions`: the first page of the user's sessions, most recently active first:
//!   `{"sessions":[{"id":…,"device":"Firefox 128 on Linux","logged_in_at":…,"last_seen":…,
//!   "expires_at":…,"user_agent":…,"ip":…,"current":true}, …],"next":"<cursor>"}`; `next` is
//!   `null` on the last page, else `GET /sessions?cursor=<cursor>` gives the page after
//!   (`400` `{"error":"invalid_cursor"}` for a cursor it did not give).
//! - `POST /sessions/revoke-all`: every session of the user, this one included: `{"revoked":n}`.
//! - `POST /sessions/revoke-others`: all but this one: `{"revoked":n}`.
//! - `DELETE /sessions/{id}`: `204`, or `404` when there is no such live session.
//!
//! Each answers `401` `{"error":"unauthenticated"}` when nobody is signed in, and the
//! state-changing ones `403` `{"error":"cross_site_request"}` when another origin sent them.

use actix_web::{web, HttpResponse};
use session_expiry::{
    redis::{Page, PageCursor, SessionId, SessionRegistry},
    same_origin::SameOrigin,
    Expiry, ExpiryError,
};

/// Sessions per page of `GET /sessions`.
const PAGE_SIZE: usize = 20;

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

#[derive(serde::Deserialize)]
struct ListQuery {
    cursor: Option<String>,
}

async fn list(
    expiry: Expiry,
    current: Option<SessionId>,
    query: web::Query<ListQuery>,
    registry: web::Data<SessionRegistry>,
) -> actix_web::Result<HttpResponse> {
    let user = expiry.user().ok_or(ExpiryError::NotSignedIn)?;
    let after = match query.cursor.as_deref().map(str::parse::<PageCursor>) {
        None => None,
        Some(Ok(cursor)) => Some(cursor),
        Some(Err(_)) => {
            return Ok(HttpResponse::BadRequest().json(serde_json::json!({
                "error": "invalid_cursor"
            })))
        }
    };
    let page = Page::new(PAGE_SIZE).after(after).current(current);
    Ok(HttpResponse::Ok().json(registry.list(&user, page).await?))
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
