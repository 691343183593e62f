//! Rolling the crate out on a live app: what to do with sessions signed in by another
//! mechanism that carry no expiry state yet.

use std::{fmt, sync::Arc};

use actix_web::HttpRequest;

type FindIdentity = dyn Fn(&HttpRequest) -> Option<String> + Send + Sync;

/// What the middleware does with a session that has no expiry state of ours.
///
/// # Examples
/// Adopt the users that actix-identity (or any other mechanism) already signed in, so that
/// deploying this crate neither signs everyone out nor leaves them without limits:
/// ```
/// use actix_session::SessionExt as _;
/// use session_expiry::{Adoption, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .adoption(Adoption::adopt(|req| {
///         req.get_session().get::<String>("actix_identity.user_id").ok().flatten()
///     }))
///     .build();
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Adoption {
    /// Leave such sessions alone: they stay anonymous to this crate.
    #[default]
    Ignore,
    /// Start the clocks now for the user the function finds in the request (a log-in in all
    /// but the session ID, which is kept: no credentials were presented). The policy resolver,
    /// if any, is consulted as at a log-in.
    Adopt(Arc<FindIdentity>),
}

impl Adoption {
    /// Adopts the sessions for which `find_user` returns a user id.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::Adoption;
    /// let adoption = Adoption::adopt(|req| req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(String::from));
    /// ```
    #[must_use]
    pub fn adopt(
        find_user: impl Fn(&HttpRequest) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self::Adopt(Arc::new(find_user))
    }
}

impl fmt::Debug for Adoption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ignore => f.write_str("Ignore"),
            Self::Adopt(_) => f.write_str("Adopt(..)"),
        }
    }
}
