//! [`CookieLifetime`]: how long a signed-in session's cookie may outlive the browser, as the
//! context decides it and [`RememberMeCookie`](crate::RememberMeCookie) writes it.

use std::time::Duration;

/// How long the cookie of a signed-in session may outlive the browser, `None` for not at all;
/// [`RequestContext::cookie_lifetime`](crate::context::RequestContext::cookie_lifetime) says it at the end of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieLifetime(pub(crate) Option<Duration>);

/// The longest lifetime a browser keeps a cookie for (Chrome caps at 400 days): what a
/// remembered session without an absolute timeout gets.
const LONGEST: Duration = Duration::from_secs(400 * 24 * 3600);

impl CookieLifetime {
    /// For a session remembered or not, with `absolute_left` before its absolute timeout.
    pub(crate) fn of(remembered: bool, absolute_left: Option<Duration>) -> Self {
        Self(remembered.then(|| absolute_left.unwrap_or(LONGEST).max(Duration::from_secs(1))))
    }
}
