//! The ready-made registry endpoints: [`sessions`], a scope of the signed-in user's sessions,
//! on whichever server-side store hands out the [`SessionRegistry`].

use actix_web::{web, HttpResponse, Scope};

use super::{Page, PageCursor, SessionId, SessionRegistry};
use crate::{same_origin::SameOrigin, Expiry, ExpiryError};

/// Sessions per page of `GET /sessions`.
const PAGE_SIZE: usize = 20;

/// The signed-in user's sessions under `prefix`, for either server-side store: `GET` a page
/// (JSON; `?cursor=` for the next), `POST {prefix}/revoke-others`, `POST {prefix}/revoke-all`
/// and `DELETE {prefix}/{id}`. Every route answers `401` `{"error":"unauthenticated"}` when
/// nobody is signed in (as [`SignedIn`](crate::SignedIn) does), and the state-changing ones
/// are same-origin checked ([`SameOrigin`]: `403` `{"error":"cross_site_request"}`). The app
/// needs `web::Data<SessionRegistry>`, from
/// `RedisStore::registry` or
/// `PostgresStore::registry`.
///
/// - `GET {prefix}`: `{"sessions":[{"id":…,"device":"Firefox 128 on Linux","logged_in_at":…,
///   "last_seen":…,"expires_at":…,"user_agent":…,"ip":…,"current":true}, …],"next":"<cursor>"}`,
///   most recently active first, 20 a page; `next` is `null` on the last page (`400`
///   `{"error":"invalid_cursor"}` for a cursor it did not give).
/// - `POST {prefix}/revoke-all`, `POST {prefix}/revoke-others`: `{"revoked":n}`.
/// - `DELETE {prefix}/{id}`: `204`, or `404` `{"error":"no_such_session"}`.
///
/// # Examples
/// ```no_run
/// use actix_web::{web, App};
/// # fn app(registry: session_expiry::registry::SessionRegistry) {
/// let app = App::new()
///     .app_data(web::Data::new(registry))
///     .service(session_expiry::web::sessions("/sessions"));
/// # }
/// ```
#[must_use]
pub fn sessions(prefix: &str) -> Scope {
    // Revoking is state-changing: only this site's pages may ask for it.
    let checked = |path: &str, route: actix_web::Route| {
        web::resource(path).wrap(SameOrigin::new()).route(route)
    };
    web::scope(prefix)
        .route("", web::get().to(list))
        .service(checked("/revoke-all", web::post().to(revoke_all)))
        .service(checked("/revoke-others", web::post().to(revoke_others)))
        .service(checked("/{id}", web::delete().to(revoke)))
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
