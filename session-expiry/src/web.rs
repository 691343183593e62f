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
//! <script src="/session/expiry.js" defer data-login-url="/login" data-warn-seconds="60"
//!         data-activity="input"></script>
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
//! location with `data-login-url?next=…&reason=…`.
//!
//! ## Typing is activity
//! With `data-activity="input"`, key presses, pointer and wheel in the page count as activity:
//! the script posts keep-alive at most once per refresh window (`refresh_secs` of the status
//! answer, at least a second), once for all tabs of the site together (a keep-alive one tab
//! sent holds the others back for the window), never while the tab is hidden, never while the
//! warning waits for an answer, and none once the absolute deadline comes before the idle one
//! (no keep-alive can move the end then). Scrolling done by the page's own script never
//! counts.
//!
//! ## Drafts
//! Forms marked `data-session-expiry-preserve` keep a draft in `sessionStorage` as the user
//! types (never password, file or hidden fields, nor fields inside `data-session-expiry-skip`).
//! The draft comes back after a *forced* re-login of the same user (the log-in page, where the
//! script runs too, had a `reason`), and after a password confirmation on the page named by
//! `data-reauth-url` (its `next`, and the page the user came from, get their drafts back). A
//! sign-out by choice forgets every draft: a form posting to `data-logout-url` (unless the page
//! cancels the submission), the dialog's "Sign out", or the log-in page without a `reason`.
//!
//! ## Forged requests
//! The keep-alive and sign-out calls are same-origin `fetch`es (`mode: "same-origin"`), so the
//! browser marks them `Sec-Fetch-Site: same-origin` and [`SameOrigin`] lets them through. With
//! `data-csrf-header="X-CSRF-Token"` they also carry the `content` of
//! `<meta name="csrf-token">` in that header, read at each call.
//!
//! ## Texts and languages
//! English, German and French are built in, chosen from `<html lang>` (or `data-lang`); times
//! are formatted with `Intl` in that language (`Intl.DateTimeFormat` for the time of day the
//! session ends, `Intl.RelativeTimeFormat` for "in 5 minutes"). A page in another language gets
//! the English texts, marked `lang="en"`. Any text can be replaced by a JSON block, one set for
//! the page or one per language tag:
//!
//! ```html
//! <script type="application/json" id="session-expiry-texts">
//!   {"es": {"idle.title": "¿Sigue ahí?", "idle.stay": "Seguir conectado"}}
//! </script>
//! ```
//!
//! The keys are `idle.title`, `idle.message`, `idle.stay`, `absolute.title` (with `{at}`),
//! `absolute.message` (with `{in}`), `absolute.save`, `signOut`, `countdown` (with `{time}`),
//! `restored.relogin`, `restored.reauth`, and one per expiry reason: `reason.idle`,
//! `reason.absolute`, `reason.revoked`, `reason.evicted`, `reason.invalid`,
//! `reason.credentials_changed`. An element marked
//! `data-session-expiry-reason="idle"` (a log-in page's notice) gets that reason's text.
//!
//! The other attributes: `data-status-url`, `data-keepalive-url` (default: beside the script),
//! `data-poll-seconds` (the longest wait between two checks, default 300; none while the tab is
//! hidden) and `data-css` (another style sheet, or `none`).
//!
//! Without JavaScript nothing changes: the server ends sessions on time either way.
//!
//! # Helpers for your own pages
//! [`wants_json`] tells an API client from a browser, as the expired answer does;
//! [`same_site_path`] checks a `next` parameter before a log-in page redirects to it.

use actix_web::{guard, web, HttpRequest, HttpResponse, Route, Scope};

#[cfg(any(feature = "redis", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "redis", feature = "postgres"))))]
pub use crate::registry::web::sessions;

pub use crate::response::{same_site_path, wants_json};
use crate::{asset, response::NO_STORE, same_origin::SameOrigin, Expiry, ExpiryError, Passive};

/// The status and keep-alive endpoints under `prefix`.
///
/// - `GET {prefix}/status` (passive: it never counts as activity): `200` with
///   `{"user":"alice","idle_remaining_secs":1740,"absolute_remaining_secs":431940,"expires_at":"2025-01-01T00:30:00Z","refresh_secs":60}`
///   (a `null` where there is no such limit; `refresh_secs` is the refresh granularity: activity
///   reported more often is not recorded, in whole seconds and never `0` for a window that is not;
///   `authenticated_at`, the last (re-)authentication, for routes with `#[fresh_auth]`, `null`
///   for an adopted session that has not proved it; `remembered`, whether the user ticked "keep
///   me signed in" and their role allows it), or `401` `{"error":"unauthenticated"}`.
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
            "refresh_secs": whole_secs_at_least_one(status.refresh_granularity),
            "authenticated_at": status
                .authenticated_at
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "remembered": status.remembered,
        })))
}

/// Whole seconds, never 0 for a window that is not: a client told 0 would report activity
/// on every keystroke.
fn whole_secs_at_least_one(window: std::time::Duration) -> u64 {
    if window.is_zero() {
        0
    } else {
        window.as_secs().max(1)
    }
}

async fn keepalive(expiry: Expiry) -> Result<HttpResponse, ExpiryError> {
    expiry.touch()?;
    Ok(HttpResponse::NoContent().insert_header(NO_STORE).finish())
}
