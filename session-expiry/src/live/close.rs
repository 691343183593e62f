//! How a connection tells the browser its session ended: the WebSocket close frame's reason
//! and the server-sent event, both carrying the JSON the HTTP `401` sends.

use actix_web::web::Bytes;

use crate::ExpiryReason;

/// The longest reason a WebSocket close frame carries (RFC 6455: 125 bytes of payload, two of
/// them the code).
pub const MAX_CLOSE_REASON: usize = 123;

impl ExpiryReason {
    /// The JSON of the expired answer, `{"error":"session_expired","reason":"idle"}`: the body
    /// of the HTTP `401`, the reason of a WebSocket close with code
    /// [`SessionEnd::CLOSE_CODE`](crate::SessionEnd::CLOSE_CODE) (at most
    /// [`MAX_CLOSE_REASON`] bytes for every reason), and the data of a server-sent
    /// `session-expired` event.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::ExpiryReason;
    /// assert_eq!(
    ///     ExpiryReason::Idle.expired_json(),
    ///     r#"{"error":"session_expired","reason":"idle"}"#
    /// );
    /// ```
    #[must_use]
    pub const fn expired_json(&self) -> &'static str {
        match self {
            Self::Idle => r#"{"error":"session_expired","reason":"idle"}"#,
            Self::Absolute => r#"{"error":"session_expired","reason":"absolute"}"#,
            Self::Revoked => r#"{"error":"session_expired","reason":"revoked"}"#,
            Self::Evicted => r#"{"error":"session_expired","reason":"evicted"}"#,
            Self::Invalid => r#"{"error":"session_expired","reason":"invalid"}"#,
            Self::CredentialsChanged => {
                r#"{"error":"session_expired","reason":"credentials_changed"}"#
            }
            Self::LoggedOut => r#"{"error":"session_expired","reason":"logged_out"}"#,
        }
    }

    /// The server-sent event that ends a stream whose session ended:
    /// `event: session-expired`, the [`expired_json`](Self::expired_json) as its data.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::ExpiryReason;
    /// assert_eq!(
    ///     ExpiryReason::Revoked.sse_event(),
    ///     "event: session-expired\ndata: {\"error\":\"session_expired\",\"reason\":\"revoked\"}\n\n"
    /// );
    /// ```
    #[must_use]
    pub fn sse_event(&self) -> Bytes {
        Bytes::from(format!(
            "event: session-expired\ndata: {}\n\n",
            self.expired_json()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_close_reason_is_the_401_json_and_fits_a_close_frame() {
        for reason in ExpiryReason::EVERY {
            let json = reason.expired_json();
            assert!(
                json.len() <= MAX_CLOSE_REASON,
                "{reason}: {} bytes",
                json.len()
            );
            let answer = serde_json::json!({ "error": "session_expired", "reason": reason });
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(json).ok(),
                Some(answer)
            );
        }
    }
}
