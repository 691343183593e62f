//! Endpoints for the browser: how long the session has left, "stay signed in", and the script
//! that warns before a session ends.
//!
//! Mount them with [`scope`]: `GET {prefix}/status`, `POST {prefix}/keepalive`, and the script
//! `GET {prefix}/expiry.js` with its style sheet `GET {prefix}/expiry.css`.
//!
//! # The browser script
//! One tag opts a page in:
//!
//! ```html
//! <script src="/session/expiry.js" defer data-login-url="/login" data-warn-seconds="60"></script>
//! ```
//!
//! A configurable time before the session ends (`data-warn-seconds`, default 60; before an idle
//! timeout, at most half of it) it shows an accessible dialog (`role="alertdialog"`) with a live
//! countdown and "Stay signed in" (which posts keep-alive) or "Sign out" (which posts
//! `data-logout-url`, default `/logout`); when the absolute timeout is the near one, it says when
//! the session ends and offers to save instead (it then fires `session-expiry:save` on the
//! document for pages that save to the server).
//! It keeps every tab of the site in step (`BroadcastChannel`, or `localStorage` events where
//! that is missing), re-checks the server before acting on an expiry, and then replaces the
//! location with `data-login-url?next=…&reason=…`. Forms marked `data-session-expiry-preserve`
//! keep a draft in `sessionStorage` as the user types (never password, file or hidden fields,
//! nor fields inside `data-session-expiry-skip`), restored after the same user signs in again.
//! The other attributes: `data-status-url`, `data-keepalive-url` (default: beside the script),
//! `data-poll-seconds` (the longest wait between two checks, default 300; none while the tab is
//! hidden) and `data-css` (another style sheet, or `none`).
//!
//! Without JavaScript nothing changes: the server ends sessions on time either way.

use actix_web::{guard, web, HttpRequest, HttpResponse, Route, Scope};

use crate::{asset, response::NO_STORE, Expiry, ExpiryError, Passive, SameOrigin};

/// The status and keep-alive endpoints under `prefix`.
///
/// - `GET {prefix}/status` (passive: it never counts as activity): `200` with
///   `{"user":"alice","idle_remaining_secs":1740,"absolute_remaining_secs":431940,"expires_at":"2025-01-01T00:30:00Z","refresh_secs":60}`
///   (a `null` where there is no such limit; `refresh_secs` is the refresh granularity: activity
///   reported more often is not recorded; `authenticated_at`, the last (re-)authentication, for
///   routes with `#[fresh_auth]`), or `401` `{"error":"unauthenticated"}`.
/// - `POST {prefix}/keepalive`: records activity now; `204`, or `401` when not signed in, or
///   `403` `{"error":"cross_site_request"}` when another origin sent it (see [`SameOrigin`]).
/// - `GET {prefix}/expiry.js` and `GET {prefix}/expiry.css`: the browser script (see the
///   [module docs](self)) and its style sheet, with an `ETag` and `Cache-Control: public,
///   no-cache` (browsers keep them and revalidate with a body-less `304`). Passive too: loading
///   them is not activity, and they work for anonymous pages.
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
        .service(
            web::resource("/keepalive")
                .wrap(SameOrigin::new())
                .route(web::post().to(keepalive)),
        )
        .route("/expiry.js", get_or_head().to(script))
        .route("/expiry.css", get_or_head().to(style))
}

fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

// `Option`: the files are served even where the middleware is missing.
async fn script(_: Option<Passive>, req: HttpRequest) -> HttpResponse {
    asset::SCRIPT.respond(&req)
}

async fn style(_: Option<Passive>, req: HttpRequest) -> HttpResponse {
    asset::STYLE.respond(&req)
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
            "refresh_secs": status.refresh_granularity.as_secs(),
            "authenticated_at": status
                .authenticated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })))
}

async fn keepalive(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    expiry.touch()?;
    Ok(HttpResponse::NoContent().insert_header(NO_STORE).finish())
}
