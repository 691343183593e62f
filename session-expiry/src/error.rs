//! What can go wrong when a handler uses the expiry handle.

use crate::store::session_api::SessionInsertError;
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
/// assert_eq!(ExpiryError::UserIdTooLong { len: 2048 }.status_code(), 500);
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
    /// The action needs a signed-in session and there is none: `401`
    /// `{"error":"unauthenticated"}`.
    #[error("no user is signed in")]
    NotSignedIn,
    /// A handler needs a signed-in user ([`SignedIn`](crate::SignedIn)) and there is none:
    /// `303` to the log-in path with `next` for browsers, `401` `{"error":"unauthenticated"}`
    /// for JSON clients (and without a log-in path).
    #[error("this page needs a signed-in user")]
    SignInRequired {
        /// Where to send a browser: the log-in page, with `next`.
        redirect_to: Option<String>,
    },
    /// The route needs a fresh authentication ([`FreshAuth`](crate::FreshAuth)) and the
    /// session's is older: `303` to the re-authentication path with `next` for browsers, `401`
    /// `{"error":"reauthentication_required"}` for JSON clients. The session lives on.
    #[error("this page needs the user to confirm who they are again")]
    ReauthenticationRequired {
        /// Where to send a browser: the re-authentication page, with `next`.
        redirect_to: Option<String>,
    },
    /// A log-in would exceed the user's session limit and
    /// [`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse) is set: `403`
    /// `{"error":"too_many_sessions","max_sessions":…}` (a small HTML page for a browser
    /// navigation, under the middleware), or a message of the handler's own.
    #[error("the user already has the most sessions allowed ({max})")]
    TooManySessions {
        /// The user's session limit.
        max: u32,
    },
    /// [`Expiry::credentials_changed`](crate::Expiry::credentials_changed) was called but no
    /// [`security_stamp`](crate::config::SessionExpiryBuilder::security_stamp) is configured:
    /// `500`, since the user's other sessions would silently live on.
    #[error(
        "credentials_changed() needs a security stamp: configure          SessionExpiryBuilder::security_stamp"
    )]
    NoSecurityStamp,
    /// The session ended at this request (a route's own limit); the middleware answers it.
    #[error("the session has expired")]
    Expired,
    /// A log-in named an empty user id.
    #[error("the user id must not be empty")]
    EmptyUserId,
    /// A log-in named a user id longer than a session holds (1 KiB, in UTF-8): `500`, with a
    /// log line giving its length (never the id).
    ///
    /// A server error on purpose: the id is the application's own (it signs in the user it
    /// authenticated), so the client has nothing to correct, and an operator should hear of it.
    /// Give such users a shorter id of their own (a database key) and keep the long one in the
    /// session beside it.
    #[error(
        "the user id is {len} bytes long, more than the {} a session holds: sign users in by a \
         shorter id (a database key)",
        crate::state::MAX_USER_ID_BYTES
    )]
    UserIdTooLong {
        /// The id's length in bytes.
        len: usize,
    },
    /// The session refused the state (it could not be serialised).
    #[error("could not store the expiry state in the session")]
    Session(#[from] SessionInsertError),
}

impl ResponseError for ExpiryError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired {
                redirect_to: Some(_),
            }
            | Self::ReauthenticationRequired {
                redirect_to: Some(_),
            } => StatusCode::SEE_OTHER,
            Self::NotSignedIn
            | Self::Expired
            | Self::SignInRequired { redirect_to: None }
            | Self::ReauthenticationRequired { redirect_to: None } => StatusCode::UNAUTHORIZED,
            Self::TooManySessions { .. } => StatusCode::FORBIDDEN,
            Self::MiddlewareMissing
            | Self::EmptyUserId
            | Self::UserIdTooLong { .. }
            | Self::NoSecurityStamp
            | Self::Session(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let json = |status, body: serde_json::Value| {
            HttpResponse::build(status)
                .insert_header(crate::response::NO_STORE)
                .json(body)
        };
        match self {
            Self::SignInRequired {
                redirect_to: Some(location),
            }
            | Self::ReauthenticationRequired {
                redirect_to: Some(location),
            } => crate::response::see_other(location),
            Self::NotSignedIn | Self::SignInRequired { redirect_to: None } => json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "error": "unauthenticated" }),
            ),
            Self::ReauthenticationRequired { redirect_to: None } => json(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "error": "reauthentication_required" }),
            ),
            Self::TooManySessions { max } => {
                crate::response::Refusal::TooManySessions { max: *max }.answer(None)
            }
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
