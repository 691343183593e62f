//! [`SameOrigin`]: refuses state-changing requests that another site made the browser send
//! (cross-site request forgery), by the browser's own account of where a request comes from.
//!
//! `SameSite=Lax` cookies are not enough: a page on a sibling subdomain is *same-site*, and its
//! forms post with the cookie. Fetch Metadata (`Sec-Fetch-Site`), which every current browser
//! sends, tells same-*origin* apart; `Origin` covers older browsers.

use std::{future::Future, pin::Pin, rc::Rc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::{header, Method, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};

use crate::context::RequestContext;

/// A request refused by [`SameOrigin`] or [`check_same_origin`]: `403` with
/// `{"error":"cross_site_request"}`, or a small HTML page for a browser navigation (under the
/// [`SessionExpiry`](crate::SessionExpiry) middleware, which sees the request).
///
/// # Examples
/// ```
/// use actix_web::ResponseError as _;
/// use session_expiry::same_origin::CrossSiteRequest;
/// assert_eq!(CrossSiteRequest.status_code(), 403);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("refused a state-changing request sent from another origin")]
pub struct CrossSiteRequest;

impl ResponseError for CrossSiteRequest {
    fn status_code(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn error_response(&self) -> HttpResponse {
        // JSON here (no request to look at); the middleware's way out gives a browser a page.
        crate::response::Refusal::CrossSite.answer(None)
    }
}

/// Whether `req` may change state: refuses a `Sec-Fetch-Site` other than `same-origin` or
/// `none` (typed in the address bar, a bookmark); without that header, refuses an `Origin` that
/// is not the request's own (scheme and host as [`ConnectionInfo`] sees them); a request with
/// neither header passes (it comes from a non-browser client, which sends no ambient cookie on
/// another site's behalf). The method is not looked at: see [`SameOrigin`] for that.
///
/// For a handler that checks by itself rather than through the middleware.
///
/// # Errors
/// [`CrossSiteRequest`] when the request comes from another origin.
///
/// # Examples
/// ```
/// use actix_web::test::TestRequest;
/// use session_expiry::same_origin::check_same_origin;
///
/// let form_on_evil_site = TestRequest::post()
///     .insert_header(("Sec-Fetch-Site", "same-site"))
///     .to_http_request();
/// assert!(check_same_origin(&form_on_evil_site).is_err());
/// let curl = TestRequest::post().to_http_request();
/// assert!(check_same_origin(&curl).is_ok());
/// ```
///
/// [`ConnectionInfo`]: actix_web::dev::ConnectionInfo
pub fn check_same_origin(req: &HttpRequest) -> Result<(), CrossSiteRequest> {
    let headers = req.headers();
    if let Some(site) = crate::fetch_metadata::site(headers) {
        return match site {
            b"same-origin" | b"none" => Ok(()),
            _ => Err(CrossSiteRequest),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    if origin.as_bytes().eq_ignore_ascii_case(own.as_bytes()) {
        Ok(())
    } else {
        Err(CrossSiteRequest)
    }
}

/// A middleware that refuses cross-site requests with a state-changing method (anything but
/// `GET`, `HEAD`, `OPTIONS` and `TRACE`): `403` with `{"error":"cross_site_request"}` (a small
/// HTML page for a browser navigation, `Sec-Fetch-Mode: navigate` or `Accept: text/html`), the
/// handler never run, and the request not counted as activity. See [`check_same_origin`] for
/// the rule.
///
/// Put it on every route that changes state: log-in (so that another site cannot sign a victim
/// in as the attacker), log-out, "stay signed in", revocation, and your own forms. The crate's
/// keep-alive endpoint ([`web::scope`](crate::web::scope)) has it already.
///
/// It is the check of where a request comes from, not a CSRF token: together with a `Secure`
/// session cookie under a `__Host-` name (which no subdomain can set or overwrite) it closes
/// the usual gaps of `SameSite=Lax`.
///
/// # Examples
/// On one handler, with actix-web's `wrap` argument:
/// ```
/// use actix_web::{post, HttpResponse};
/// use session_expiry::Expiry;
///
/// #[post("/logout", wrap = "session_expiry::same_origin::SameOrigin::new()")]
/// async fn logout(expiry: Expiry) -> HttpResponse {
///     expiry.logout();
///     HttpResponse::NoContent().finish()
/// }
/// ```
/// On a whole scope:
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use session_expiry::same_origin::SameOrigin;
///
/// let app = App::new().service(
///     web::scope("/account")
///         .wrap(SameOrigin::new())
///         .route("/email", web::post().to(|| async { HttpResponse::Ok().finish() })),
/// );
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct SameOrigin {
    _private: (),
}

impl SameOrigin {
    /// The middleware.
    ///
    /// # Examples
    /// ```
    /// let same_origin = session_expiry::same_origin::SameOrigin::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SameOrigin
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SameOriginService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SameOriginService {
            service: Rc::new(service),
        }))
    }
}

/// The service [`SameOrigin`] wraps around a route; not used directly.
#[doc(hidden)]
pub struct SameOriginService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for SameOriginService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let safe = matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        if !safe && check_same_origin(req.request()).is_err() {
            tracing::warn!(
                target: "session_expiry",
                path = req.path(),
                "refused a cross-site request"
            );
            // Another site's request is not the user's activity.
            if let Ok(context) = RequestContext::of(req.request()) {
                context.mark_passive();
            }
            let answer = crate::response::Refusal::CrossSite.answer(Some(req.request()));
            return Box::pin(std::future::ready(Ok(req
                .into_response(answer)
                .map_into_right_body())));
        }
        let service = Rc::clone(&self.service);
        Box::pin(async move { Ok(service.call(req).await?.map_into_left_body()) })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn check(headers: &[(&str, &str)]) -> bool {
        let mut req = TestRequest::post().uri("http://app.example/logout");
        for &(name, value) in headers {
            req = req.insert_header((name, value));
        }
        check_same_origin(&req.to_http_request()).is_ok()
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(check(&[("Sec-Fetch-Site", "same-origin")]));
        assert!(check(&[("Sec-Fetch-Site", "none")]));
        assert!(!check(&[("Sec-Fetch-Site", "same-site")]));
        assert!(!check(&[("Sec-Fetch-Site", "cross-site")]));
        assert!(!check(&[("Sec-Fetch-Site", "something-new")]));
        // Fetch Metadata wins over a matching Origin.
        assert!(!check(&[
            ("Sec-Fetch-Site", "same-site"),
            ("Origin", "http://app.example"),
        ]));
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_the_requests_own() {
        let own = |origin| check(&[("Host", "app.example"), ("Origin", origin)]);
        assert!(own("http://app.example"));
        assert!(!own("http://evil.app.example"));
        assert!(
            !own("https://app.example"),
            "another scheme is another origin"
        );
        assert!(!own("http://app.example:8080"));
        assert!(!own("null"));
    }

    #[test]
    fn a_request_without_either_header_passes() {
        assert!(check(&[]));
    }
}
