//! The demo's long-lived connections: a page at `/live` that follows a WebSocket at `/ws` (a
//! clock that ticks every second and echoes what it is sent) and a server-sent-event stream at
//! `/events` (the same clock), both closed by the server when the session ends, and sent to the
//! log-in page by the browser script's `SessionExpiry.watch`.

use std::{convert::Infallible, time::Duration};

use actix_web::{get, web, web::Bytes, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use session_expiry::{live, SignedIn};

use super::{signed_in_page, Lang};

/// How often the clock ticks: `LIVE_TICK_SECS` (1; 0: never, for measuring idle sockets).
fn tick() -> Option<Duration> {
    static TICK: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *TICK.get_or_init(|| {
        let secs = std::env::var("LIVE_TICK_SECS")
            .ok()
            .and_then(|raw| raw.trim().parse().ok())
            .unwrap_or(1);
        (secs > 0).then(|| Duration::from_secs(secs))
    })
}

/// The next tick, or never.
async fn next_tick(ticks: &mut Option<actix_web::rt::time::Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Registers `/live`, `/ws` and `/events`.
pub fn routes(config: &mut web::ServiceConfig) {
    config.service(page).service(socket).service(events);
}

#[get("/live")]
async fn page(req: HttpRequest, _: SignedIn) -> HttpResponse {
    signed_in_page(
        &req,
        Lang::En,
        "<h1>Live</h1>\
         <p>A WebSocket and an event stream, both closed by the server when your session ends; \
         this page then goes to the log-in page and says why.</p>\
         <p>WebSocket: <output id=\"ws\">connecting…</output></p>\
         <p>Events: <output id=\"sse\">connecting…</output></p>\
         <script>\
         addEventListener('DOMContentLoaded', function () {\
           var ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');\
           ws.onmessage = function (e) { document.getElementById('ws').textContent = e.data; };\
           ws.onclose = function (e) {\
             document.getElementById('ws').textContent = 'closed ' + e.code + ' ' + e.reason;\
           };\
           SessionExpiry.watch(ws);\
           var sse = new EventSource('/events');\
           sse.onmessage = function (e) { document.getElementById('sse').textContent = e.data; };\
           SessionExpiry.watch(sse);\
         });\
         </script>"
            .to_owned(),
    )
}

/// The clock as the socket and the stream say it: seconds since the Unix epoch.
fn tick_text() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("tick {}", since.as_secs())
}

/// A WebSocket that ends with the session: code 4401 and the expired JSON as reason. Text
/// messages are echoed and count as activity (at most once per refresh window).
#[get("/ws")]
async fn socket(
    req: HttpRequest,
    body: web::Payload,
    who: SignedIn,
) -> actix_web::Result<HttpResponse> {
    let (response, mut session, mut messages) = actix_ws::handle(&req, body)?;
    let mut ended = who.ended();
    let activity = ended.activity();
    actix_web::rt::spawn(async move {
        let mut ticks = tick().map(actix_web::rt::time::interval);
        loop {
            tokio::select! {
                reason = &mut ended => {
                    // Nothing left to do if the client went first.
                    let _closed = live::close_websocket(session, reason).await;
                    return;
                }
                () = next_tick(&mut ticks) => {
                    if session.text(tick_text()).await.is_err() {
                        return;
                    }
                }
                message = messages.next() => match message {
                    Some(Ok(actix_ws::Message::Text(text))) => {
                        activity.touch();
                        if session.text(text).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::Message::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::Message::Close(_))) | Some(Err(_)) | None => {
                        let _closed = session.close(None).await;
                        return;
                    }
                    Some(Ok(_)) => {}
                },
            }
        }
    });
    Ok(response)
}

/// An event stream that ends with the session: `event: session-expired` and the expired JSON.
#[get("/events")]
async fn events(who: SignedIn) -> HttpResponse {
    let ticks = tick().map(actix_web::rt::time::interval);
    let ticks = futures_util::stream::unfold(ticks, |mut ticks| async {
        next_tick(&mut ticks).await;
        let event = Bytes::from(format!("data: {}\n\n", tick_text()));
        Some((Ok::<_, Infallible>(event), ticks))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .streaming(live::sse_until_end(ticks, who.ended()))
}
