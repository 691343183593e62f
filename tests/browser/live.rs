//! Pages whose WebSocket or event stream the server ends with the session (#28):
//! `SessionExpiry.watch` sends them to the log-in page with the reason, keeping the drafts as a
//! forced re-login does.

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use session_expiry::{live, ExpiryReason, SignedIn};

use crate::{app::Timeouts, browser::in_browser};

/// Long enough that the script's own status checks play no part.
const TIMEOUTS: Timeouts = Timeouts {
    idle: Duration::from_secs(600),
    absolute: Duration::from_secs(3600),
    warn: Duration::from_secs(60),
};

/// The tests' live pages: `/live-ws` and `/live-sse`, each following a connection that its
/// server ends half a second after it opens, as it does when the session ends (revoked on
/// another device, credentials changed); a long form whose draft is kept.
pub fn pages(config: &mut web::ServiceConfig) {
    config
        .route(
            "/live-ws",
            web::get().to(|_: SignedIn| async {
                page("new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws-revoked')")
            }),
        )
        .route(
            "/live-sse",
            web::get()
                .to(|_: SignedIn| async { page("new EventSource('/events-credentials-changed')") }),
        )
        .route("/ws-revoked", web::get().to(ws_revoked))
        .route(
            "/events-credentials-changed",
            web::get().to(events_credentials_changed),
        );
}

fn page(connection: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>live</title>\
             </head><body><main><form data-session-expiry-preserve id=\"note\">\
             <textarea name=\"note\"></textarea></form></main>\
             <script src=\"/session/expiry.js\" defer data-login-url=\"/login\"></script>\
             <script>addEventListener('load', function () {{\
               window.opened = SessionExpiry.watch({connection});\
             }});</script></body></html>"
        ))
}

/// A socket its server closes as a revoked session's: 4401 and the expired JSON.
async fn ws_revoked(req: HttpRequest, body: web::Payload) -> actix_web::Result<HttpResponse> {
    let (response, session, _messages) = actix_ws::handle(&req, body)?;
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(Duration::from_millis(3000)).await;
        let _closed = live::close_websocket(session, ExpiryReason::Revoked).await;
    });
    Ok(response)
}

/// A stream its server ends as a session whose credentials changed.
async fn events_credentials_changed() -> HttpResponse {
    let ended = async {
        actix_web::rt::time::sleep(Duration::from_millis(3000)).await;
        Ok::<_, actix_web::Error>(ExpiryReason::CredentialsChanged.sse_event())
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(futures_util::stream::once(ended))
}

#[tokio::test]
async fn a_page_whose_socket_closes_with_4401_goes_to_the_login_page_with_the_reason_and_keeps_its_draft(
) {
    in_browser(TIMEOUTS, |page| async move {
        page.sign_in_to("alice", "/live-ws").await;
        page.type_into("note", "half a thought").await;
        let login = page
            .wait_for_location("/login", Duration::from_secs(10))
            .await;
        assert_eq!(login, "/login?next=%2Flive-ws&reason=revoked");
        let text = page.text().await;
        assert!(
            text.contains("Your session was ended, possibly from another device."),
            "{text}"
        );
        let drafts = page.drafts().await;
        assert!(
            drafts
                .iter()
                .any(|(_, draft)| draft.contains("half a thought")),
            "{drafts:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_page_whose_event_stream_ends_with_the_session_goes_to_the_login_page_with_the_reason() {
    in_browser(TIMEOUTS, |page| async move {
        page.sign_in_to("alice", "/live-sse").await;
        let login = page
            .wait_for_location("/login", Duration::from_secs(10))
            .await;
        assert_eq!(login, "/login?next=%2Flive-sse&reason=credentials_changed");
        let text = page.text().await;
        assert!(
            text.contains("Your password was changed. Please sign in again."),
            "{text}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_demos_live_page_leaves_when_its_session_signs_out_elsewhere() {
    in_browser(TIMEOUTS, |page| async move {
        page.sign_in_to("alice", "/live").await;
        page.wait_for(
            "the socket's first tick",
            Duration::from_secs(10),
            "return document.getElementById('ws').textContent.startsWith('tick');",
        )
        .await;
        // The same session signs out from a request the page's script does not see (another
        // tab): only the server closing the socket can tell the page.
        page.js(
            "fetch('/logout', {method: 'POST', headers: {'X-Requested-With': 'XMLHttpRequest'}});",
        )
        .await;
        let login = page
            .wait_for_location("/login", Duration::from_secs(10))
            .await;
        assert_eq!(
            login, "/login",
            "a sign-out by choice: no reason, no draft kept"
        );
    })
    .await;
}
