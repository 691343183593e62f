//! Long-lived connections that end with the session: WebSockets and server-sent events.
//!
//! The middleware sees only the handshake of a WebSocket or the request of an event stream;
//! what comes after would outlive the session. [`SignedIn::ended`](crate::SignedIn::ended)
//! and [`Expiry::ended`](crate::Expiry::ended) give a [`SessionEnd`]: a future that completes,
//! with the [`ExpiryReason`](crate::ExpiryReason), when the session of that request ends (its
//! deadlines, a revocation, eviction or credentials change, a log-out in another tab). Select on
//! it next to the connection's messages, then close so the browser understands:
//!
//! - a WebSocket closes with code [`SessionEnd::CLOSE_CODE`] (4401) and as reason the JSON
//!   of the HTTP `401` ([`ExpiryReason::expired_json`](crate::ExpiryReason::expired_json),
//!   `{"error":"session_expired","reason":"idle"}`, at most 123 bytes); with the `actix-ws`
//!   feature, `live::close_websocket` does it;
//! - an event stream sends `event: session-expired` with that JSON as data, then ends:
//!   [`sse_until_end`] wraps any body stream.
//!
//! In the browser, `SessionExpiry.watch(socketOrEventSource)` of the crate's script sends the
//! page to the log-in page with the reason, keeping the drafts of marked forms, as a forced
//! re-login does.
//!
//! # What it costs
//! An idle open connection costs one timer on its earliest deadline and one entry in the
//! process's table of watched sessions; no store command. Other instances' revocations arrive
//! on one subscription per process (Redis `PUBLISH` on `<prefix>sessions-ended`), not one per
//! connection.
//!
//! # Activity
//! By default a connection's messages are not activity. [`SessionActivity::touch`] makes one
//! count, at most once per refresh window and never past the absolute deadline: with the Redis
//! store it writes last-seen as a request's refresh would (one script, the session's TTL and
//! index moved with it). On the cookie store a connection cannot rewrite the cookie, so it
//! cannot extend the idle deadline: the browser script's keep-alive covers an open page. On
//! PostgreSQL it is one `UPDATE` of the session's row.
//!
//! # Examples
//! A WebSocket with actix-ws (feature `actix-ws`):
//!
//! ```
//! # #[cfg(feature = "actix-ws")]
//! # mod ws {
//! use actix_web::{get, web, HttpRequest, HttpResponse};
//! use futures_util::StreamExt as _;
//! use session_expiry::{live, SignedIn};
//!
//! #[get("/ws")]
//! async fn ws(req: HttpRequest, body: web::Payload, who: SignedIn) -> actix_web::Result<HttpResponse> {
//!     let (response, mut session, mut messages) = actix_ws::handle(&req, body)?;
//!     let mut ended = who.ended();
//!     actix_web::rt::spawn(async move {
//!         loop {
//!             tokio::select! {
//!                 reason = &mut ended => {
//!                     let _closed = live::close_websocket(session, reason).await;
//!                     return;
//!                 }
//!                 message = messages.next() => match message {
//!                     Some(Ok(actix_ws::Message::Text(text))) => {
//!                         if session.text(text).await.is_err() { return; }
//!                     }
//!                     Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => return,
//!                     Some(Ok(_)) => {}
//!                 },
//!             }
//!         }
//!     });
//!     Ok(response)
//! }
//! # }
//! ```

mod close;
mod end;
mod hub;
mod notice;
mod sse;
#[cfg(feature = "actix-ws")]
mod websocket;

#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) use self::hub::{Activity, Keeper};
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) use self::hub::{Broadcast, Probe, Probed, Watch};
#[cfg(feature = "actix-ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-ws")))]
pub use self::websocket::close_websocket;
pub use self::{
    close::MAX_CLOSE_REASON,
    end::{SessionActivity, SessionEnd},
    sse::{sse_until_end, SseUntilEnd},
};
pub(crate) use self::{
    end::Seed,
    hub::Hub,
    notice::{Notice, Target, Which},
};
