//! [`SignedIn`]: the extractor of handlers that need a user.

use std::future::Ready;

use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::{context::RequestContext, response::redirect_for, ExpiryError};

/// The signed-in user, for handlers that need one: extraction fails for an anonymous request,
/// with `401` `{"error":"unauthenticated"}` for JSON clients (and without a
/// [log-in path](crate::config::SessionExpiryBuilder::login_path)), or a `303` to the log-in path with
/// `next` for browsers ([`ExpiryError::SignInRequired`]).
///
/// # Examples
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::SignedIn;
///
/// #[get("/account")]
/// async fn account(who: SignedIn) -> HttpResponse {
///     HttpResponse::Ok().body(format!("hello {}", who.user()))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    user: String,
}

impl SignedIn {
    /// The signed-in user's id.
    ///
    /// # Examples
    /// ```
    /// # fn f(who: session_expiry::SignedIn) {
    /// println!("hello {}", who.user());
    /// # }
    /// ```
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The signed-in user's id, owned.
    ///
    /// # Examples
    /// ```
    /// # fn f(who: session_expiry::SignedIn) {
    /// let user: String = who.into_user();
    /// # }
    /// ```
    #[must_use]
    pub fn into_user(self) -> String {
        self.user
    }
}

impl FromRequest for SignedIn {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let signed_in = RequestContext::of(req).and_then(|context| {
            context
                .user()
                .map(|user| Self { user })
                .ok_or_else(|| ExpiryError::SignInRequired {
                    redirect_to: redirect_for(req, context.config.login_path.as_deref(), None),
                })
        });
        std::future::ready(signed_in)
    }
}
