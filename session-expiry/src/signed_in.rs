//! [`SignedIn`]: the extractor of handlers that need a user.

use std::future::Ready;

use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::{context::RequestContext, live::Seed, response::redirect_for, ExpiryError, SessionEnd};

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
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user, and what a [`SessionEnd`] of this session is made of.
    seed: Seed,
}

impl PartialEq for SignedIn {
    fn eq(&self, other: &Self) -> bool {
        self.seed.state.user == other.seed.state.user
    }
}

impl Eq for SignedIn {}

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
        &self.seed.state.user
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
        self.seed.state.user
    }

    /// A future that completes, with the reason, when this session ends: its deadlines, a
    /// revocation or eviction, a credentials change, a log-out in another tab. For WebSocket
    /// and server-sent-event handlers, to select on next to their messages (see the
    /// [`live`](crate::live) module and [`SessionEnd`]).
    ///
    /// # Examples
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use session_expiry::{live, SignedIn};
    ///
    /// #[get("/events")]
    /// async fn events(who: SignedIn) -> HttpResponse {
    ///     let nothing = futures_util::stream::pending::<Result<_, actix_web::Error>>();
    ///     HttpResponse::Ok()
    ///         .content_type("text/event-stream")
    ///         .streaming(live::sse_until_end(nothing, who.ended()))
    /// }
    /// ```
    pub fn ended(&self) -> SessionEnd {
        SessionEnd::new(self.seed.clone())
    }
}

impl FromRequest for SignedIn {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let signed_in = RequestContext::of(req).and_then(|context| {
            context
                .live_seed(req)
                .map(|seed| Self { seed })
                .ok_or_else(|| ExpiryError::SignInRequired {
                    redirect_to: redirect_for(req, context.config.login_path.as_deref(), None),
                })
        });
        std::future::ready(signed_in)
    }
}
