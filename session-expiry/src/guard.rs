//! Route guards: per-route limits that can only tighten the session's policy, and step-up
//! re-authentication.
//!
//! `#[idle_timeout(..)]`, `#[absolute_timeout(..)]` and `#[fresh_auth(..)]` expand to these
//! extractors; a handler may also take them by hand. A route with a shorter idle limit also
//! gets a proportionally shorter refresh granularity (a twentieth of its limit), so its
//! early-expiry error stays small.

use std::{future::Ready, time::Duration};

use crate::store::session_api::SessionExt as _;
use actix_web::{dev::Payload, FromRequest, HttpRequest};

use crate::{context::RequestContext, response::redirect_for, ExpiryError, Policy};

/// Ends the session if it has been idle for `SECS` seconds or more when it reaches this route,
/// even if the global or the user's policy allows longer.
///
/// # Examples
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::IdleWithin;
///
/// /// The admin area tolerates five idle minutes.
/// #[get("/admin")]
/// async fn admin(_: IdleWithin<300>) -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct IdleWithin<const SECS: u64>;

/// Ends the session if it was signed in `SECS` seconds ago or more when it reaches this route.
///
/// # Examples
/// ```
/// use actix_web::{get, HttpResponse};
/// use session_expiry::AbsoluteWithin;
///
/// /// Reports need a log-in from the last hour.
/// #[get("/reports")]
/// async fn reports(_: AbsoluteWithin<3600>) -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct AbsoluteWithin<const SECS: u64>;

/// Lets the request through only if the user proved who they are (signed in, or confirmed their
/// password through [`Expiry::reauthenticated`](crate::Expiry::reauthenticated)) less than
/// `SECS` seconds ago: GitHub's "sudo mode", Laravel's `password.confirm`. Otherwise the
/// session is kept and the answer is
/// [`ExpiryError::ReauthenticationRequired`]: `401`
/// `{"error":"reauthentication_required"}` for JSON clients, a `303` to the
/// [re-authentication path](crate::config::SessionExpiryBuilder::reauth_path) with `next` for browsers.
/// Without a signed-in user, the answer is that of [`SignedIn`](crate::SignedIn).
///
/// # Examples
/// ```
/// use actix_web::{post, HttpResponse};
/// use session_expiry::FreshAuth;
///
/// /// Changing the e-mail address needs a password confirmed in the last 10 minutes.
/// #[post("/settings/email")]
/// async fn change_email(_: FreshAuth<600>) -> HttpResponse {
///     HttpResponse::Ok().finish()
/// }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FreshAuth<const SECS: u64>;

impl<const SECS: u64> FromRequest for FreshAuth<SECS> {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(fresh(req, Duration::from_secs(SECS)).map(|()| Self))
    }
}

/// Whether the request's session (as it arrived) authenticated within `window`.
fn fresh(req: &HttpRequest, window: Duration) -> Result<(), ExpiryError> {
    let context = RequestContext::of(req)?;
    let config = &context.config;
    if context.expired().is_some() {
        return Err(ExpiryError::Expired);
    }
    let Some(snapshot) = &context.snapshot else {
        return Err(ExpiryError::SignInRequired {
            redirect_to: redirect_for(req, config.login_path.as_deref(), None),
        });
    };
    let authenticated = snapshot.state.authenticated;
    if authenticated.is_some_and(|at| context.arrived.since(at) < window) {
        return Ok(());
    }
    let reauth_path = config
        .reauth_path
        .as_deref()
        .or(config.login_path.as_deref());
    Err(ExpiryError::ReauthenticationRequired {
        redirect_to: redirect_for(req, reauth_path, None),
    })
}

impl<const SECS: u64> FromRequest for IdleWithin<SECS> {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let limit = Policy::new().with_idle(Duration::from_secs(SECS));
        std::future::ready(enforce(req, limit).map(|()| Self))
    }
}

impl<const SECS: u64> FromRequest for AbsoluteWithin<SECS> {
    type Error = ExpiryError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let limit = Policy::new().with_absolute(Duration::from_secs(SECS));
        std::future::ready(enforce(req, limit).map(|()| Self))
    }
}

/// Judges the request's session (as it arrived) by its policy tightened with `limit`; a
/// session past it ends exactly as on a global expiry.
fn enforce(req: &HttpRequest, limit: Policy) -> Result<(), ExpiryError> {
    let context = RequestContext::of(req)?;
    let Some(snapshot) = &context.snapshot else {
        return Ok(());
    };
    if context.expired().is_some() {
        // Another guard on this route already ended it.
        return Err(ExpiryError::Expired);
    }
    let policy = snapshot.policy.stricter(limit);
    match policy.reached(snapshot.state.login, snapshot.state.seen, context.arrived) {
        None => {
            context.add_route_limit(limit);
            Ok(())
        }
        Some(reason) => {
            context.end_by_route(&req.get_session(), reason);
            if context.answer_expired().is_some() {
                // The middleware replaces this error's response with the expired answer.
                Err(ExpiryError::Expired)
            } else {
                Ok(())
            }
        }
    }
}
