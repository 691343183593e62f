//! [`ExpiredAction`]: what the middleware does with a request whose session just expired.

/// What the middleware does with a request whose session has just expired.
///
/// # Examples
/// ```
/// use session_expiry::{config::ExpiredAction, SessionExpiry};
/// let middleware = SessionExpiry::builder()
///     .expired_action(ExpiredAction::Continue)
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpiredAction {
    /// Answer at once: `401` JSON for API clients, `303` to the log-in path for browsers.
    #[default]
    Respond,
    /// Let the request through as anonymous; the handler reads the reason with
    /// [`Expiry::expired_reason`](crate::Expiry::expired_reason).
    Continue,
}
