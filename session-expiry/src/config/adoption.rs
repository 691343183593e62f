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
/// use session_expiry::{config::Adoption, SessionExpiry};
///
/// let middleware = SessionExpiry::builder()
///     .adoption(Adoption::adopt(|req| {
///         req.get_session().get::<String>("actix_identity.user_id").ok().flatten()
///     }))
///     .build();
/// ```
#[derive(Clone, Default)]
pub struct Adoption {
    /// `None`: such sessions are left alone.
    find_user: Option<Arc<FindIdentity>>,
}

impl Adoption {
    /// Leaves such sessions alone: they stay anonymous to this crate (the default).
    ///
    /// # Examples
    /// ```
    /// let adoption = session_expiry::config::Adoption::ignore();
    /// assert_eq!(format!("{adoption:?}"), "Ignore");
    /// ```
    #[must_use]
    pub const fn ignore() -> Self {
        Self { find_user: None }
    }

    /// Whether sessions are adopted at all.
    pub(crate) fn adopts(&self) -> bool {
        self.find_user.is_some()
    }

    /// The user to adopt in `req`, if sessions are adopted and the function finds one.
    pub(crate) fn find_user(&self, req: &HttpRequest) -> Option<String> {
        self.find_user.as_ref().and_then(|find_user| find_user(req))
    }

    /// Adopts the sessions for which `find_user` returns a user id: starts the clocks now for
    /// that user (a log-in in all but the session ID, which is kept: no credentials were
    /// presented). The policy resolver, if any, is consulted as at a log-in.
    ///
    /// # Examples
    /// ```
    /// use session_expiry::config::Adoption;
    /// let adoption = Adoption::adopt(|req| req.headers().get("x-user").and_then(|v| v.to_str().ok()).map(String::from));
    /// ```
    #[must_use]
    pub fn adopt(
        find_user: impl Fn(&HttpRequest) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            find_user: Some(Arc::new(find_user)),
        }
    }
}

impl fmt::Debug for Adoption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.find_user {
            None => f.write_str("Ignore"),
            Some(_) => f.write_str("Adopt(..)"),
        }
    }
}
