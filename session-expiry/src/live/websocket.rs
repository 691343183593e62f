//! [`close_websocket`]: an actix-ws session closed so the browser script understands.

use crate::{ExpiryReason, SessionEnd};

/// Closes an actix-ws `session` whose session ended: code [`SessionEnd::CLOSE_CODE`] (4401),
/// the reason's [`expired_json`](ExpiryReason::expired_json) as the close reason.
///
/// # Errors
/// `actix_ws::Closed` if the connection was already closed.
///
/// # Examples
/// ```
/// use session_expiry::{live, ExpiryReason};
///
/// async fn on_end(session: actix_ws::Session, reason: ExpiryReason) {
///     // Nothing left to do if the client went first.
///     let _closed = live::close_websocket(session, reason).await;
/// }
/// ```
pub async fn close_websocket(
    session: actix_ws::Session,
    reason: ExpiryReason,
) -> Result<(), actix_ws::Closed> {
    session
        .close(Some(actix_ws::CloseReason {
            code: actix_ws::CloseCode::Other(SessionEnd::CLOSE_CODE),
            description: Some(reason.expired_json().to_owned()),
        }))
        .await
}
