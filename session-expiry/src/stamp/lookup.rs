//! [`StampLookup`]: how the middleware asks the app for a user's current security stamp.

use std::{future::Future, pin::Pin};

use actix_web::HttpRequest;

/// What a failed [`StampLookup`] says: any error the app's lookup returns.
pub type StampLookupError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`StampLookup`] returns: the user's current stamp, `None` for a user who no
/// longer exists or is disabled.
pub type StampFuture = Pin<Box<dyn Future<Output = Result<Option<Vec<u8>>, StampLookupError>>>>;

/// Finds a user's current security stamp: any bytes the app changes whenever the user's
/// credentials change (a counter, a password-changed-at time, the password hash itself).
///
/// Any `Fn(String, HttpRequest) -> impl Future<Output = Result<Option<S>, E>>` is one, where
/// `S: AsRef<[u8]>` and `E: Into<Box<dyn Error + Send + Sync>>`; give it to
/// [`security_stamp`](crate::config::SessionExpiryBuilder::security_stamp).
///
/// # Examples
/// ```
/// use actix_web::HttpRequest;
/// use session_expiry::SessionExpiry;
///
/// let middleware = SessionExpiry::builder()
///     .security_stamp(|user: String, _req: HttpRequest| async move {
///         // e.g. `SELECT password_changed_at FROM users WHERE id = $1 AND active`
///         let changed_at: Option<i64> = (user == "alice").then_some(1_700_000_000);
///         Ok::<_, std::io::Error>(changed_at.map(|at| at.to_be_bytes()))
///     })
///     .build();
/// ```
pub trait StampLookup: Send + Sync + 'static {
    /// The current stamp of `user`, for a request `req` of theirs.
    fn lookup(&self, user: String, req: HttpRequest) -> StampFuture;
}

impl<F, Fut, S, E> StampLookup for F
where
    F: Fn(String, HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<S>, E>> + 'static,
    S: AsRef<[u8]>,
    E: Into<StampLookupError>,
{
    fn lookup(&self, user: String, req: HttpRequest) -> StampFuture {
        let answer = self(user, req);
        Box::pin(async move {
            answer
                .await
                .map(|stamp| stamp.map(|stamp| stamp.as_ref().to_vec()))
                .map_err(Into::into)
        })
    }
}
