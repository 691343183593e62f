//! What can go wrong when a handler uses the expiry handle.

use actix_session::SessionInsertError;
use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// An error from [`Expiry`](crate::Expiry) or the other extractors of this crate.
///
/// Bodies stay opaque: a `500` says nothing of its cause, which is logged instead.
///
/// # Examples
/// ```
/// use actix_web::ResponseError as _;
/// use session_expiry::ExpiryError;
/// assert_eq!(ExpiryError::NotSignedIn.status_code(), 401);
/// assert_eq!(ExpiryError::MiddlewareMissing.status_code(), 500);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpiryError {
    /// The request reached an extractor of this crate without passing through the
    /// [`SessionExpiry`](crate::SessionExpiry) middleware.
    #[error(
        "the SessionExpiry middleware is not registered for this route: add \
         `.wrap(SessionExpiry::..)` to the App or scope, before `.wrap(SessionMiddleware::..)` so \
         that it runs inside it"
    )]
    MiddlewareMissing,
    /// The action needs a signed-in session and there is none.
    #[error("no user is signed in")]
    NotSignedIn,
    /// The session ended at this request (a route's own limit); the middleware answers it.
    #[error("the session has expired")]
    Expired,
    /// A log-in named an empty user id.
    #[error("the user id must not be empty")]
    EmptyUserId,
    /// The session refused the state (it could not be serialised).
    #[error("could not store the expiry state in the session")]
    Session(#[from] SessionInsertError),
}

impl ResponseError for ExpiryError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotSignedIn | Self::Expired => StatusCode::UNAUTHORIZED,
            Self::MiddlewareMissing | Self::EmptyUserId | Self::Session(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::NotSignedIn => HttpResponse::Unauthorized()
                .insert_header(crate::response::NO_STORE)
                .json(serde_json::json!({ "error": "unauthenticated" })),
            Self::Expired => HttpResponse::Unauthorized()
                .insert_header(crate::response::NO_STORE)
                .json(serde_json::json!({ "error": "session_expired" })),
            _ => {
                tracing::error!(target: "session_expiry", "{self}");
                HttpResponse::new(self.status_code())
            }
        }
    }
}
