//! Per-user policies looked up at log-in: [`PolicyResolver`].

use std::{future::Future, pin::Pin};

use actix_web::HttpRequest;

use crate::Policy;

/// The future a [`PolicyResolver`] returns.
pub type ResolveFuture = Pin<Box<dyn Future<Output = Option<Policy>>>>;

/// Finds a user's own policy (by role, tier, tenant...) when they log in.
///
/// It is consulted once per log-in through [`Expiry::login`](crate::Expiry::login), after the
/// handler returns; its answer is stored in the session as the user's policy snapshot, so no
/// request after the log-in looks it up again. `None` means the global default.
/// [`Expiry::login_with`](crate::Expiry::login_with) bypasses it.
///
/// A snapshot holds until the session ends: to force a new policy on a signed-in user, end
/// their sessions (log them out, or revoke them with the Redis store's registry) so that the
/// next log-in resolves again.
///
/// Any `Fn(String, HttpRequest) -> impl Future<Output = Option<Policy>>` is a resolver.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use actix_web::HttpRequest;
/// use session_expiry::{Policy, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .policy_resolver(|user: String, _req: HttpRequest| async move {
///         // e.g. look the user's role up in the database
///         (user == "root").then(|| Policy::new().with_idle(Duration::from_secs(300)))
///     })
///     .build();
/// ```
pub trait PolicyResolver: Send + Sync + 'static {
    /// The policy of `user`, who is logging in with `req`.
    fn resolve(&self, user: String, req: HttpRequest) -> ResolveFuture;
}

impl<F, Fut> PolicyResolver for F
where
    F: Fn(String, HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Policy>> + 'static,
{
    fn resolve(&self, user: String, req: HttpRequest) -> ResolveFuture {
        Box::pin(self(user, req))
    }
}
