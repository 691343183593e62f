//! [`RememberMeCookie`]: a session cookie that outlives the browser only for "keep me signed
//! in".
//!
//! actix-session gives every session the same cookie lifetime (`SessionLifecycle`), so either
//! every signed-in user's cookie outlives the browser, or nobody's does. Django pairs
//! `SESSION_EXPIRE_AT_BROWSER_CLOSE` with a per-session `set_expiry`; this middleware does the
//! same for actix-session, from what [`SessionExpiry`](crate::SessionExpiry) knows of each
//! session.

use std::{future::Future, pin::Pin, rc::Rc};

use actix_web::{
    body::MessageBody,
    cookie::{time::Duration as CookieDuration, Cookie},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::header::{self, HeaderValue},
    HttpMessage as _,
};

use crate::{context::RequestContext, cookie_lifetime::CookieLifetime};

/// Makes the session cookie of a signed-in session end with the browser, unless the user
/// signed in with "keep me signed in" ([`Expiry::login_remembered`](crate::Expiry::login_remembered)),
/// whose cookie lasts until the session's absolute timeout. Anonymous sessions, and the
/// cookie that removes a session, are left as actix-session made them.
///
/// Register it *outside* actix-session's `SessionMiddleware` (`.wrap` it after), which in turn
/// wraps [`SessionExpiry`](crate::SessionExpiry). It works with either `SessionLifecycle`; with
/// `PersistentSession`, keep its TTL at least as long as the longest remember-me policy, since
/// server-side stores may use it.
///
/// The server ends every session on time either way: the cookie's lifetime only decides whether
/// closing the browser signs the user out too.
///
/// # Examples
/// ```no_run
/// use actix_session::{storage::CookieSessionStore, SessionMiddleware};
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session_expiry::{RememberMeCookie, SessionExpiry};
///
/// # async fn run() -> std::io::Result<()> {
/// let key = Key::generate();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionExpiry::new())
///         .wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
///         .wrap(RememberMeCookie::new())
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RememberMeCookie {
    cookie_name: Rc<str>,
}

impl RememberMeCookie {
    /// For actix-session's default cookie name, `id`.
    ///
    /// # Examples
    /// ```
    /// let middleware = session_expiry::RememberMeCookie::new();
    /// ```
    pub fn new() -> Self {
        Self {
            cookie_name: Rc::from("id"),
        }
    }

    /// The session cookie's name, as given to actix-session's `cookie_name`.
    ///
    /// Defaults to `id`, actix-session's default.
    ///
    /// # Examples
    /// ```
    /// let middleware = session_expiry::RememberMeCookie::new().cookie_name("__Host-id");
    /// ```
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = Rc::from(name.into());
        self
    }
}

impl Default for RememberMeCookie {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, B> Transform<S, ServiceRequest> for RememberMeCookie
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RememberMeCookieService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RememberMeCookieService {
            service: Rc::new(service),
            cookie_name: Rc::clone(&self.cookie_name),
        }))
    }
}

/// The service [`RememberMeCookie`] wraps around the app; not used directly.
#[doc(hidden)]
pub struct RememberMeCookieService<S> {
    service: Rc<S>,
    cookie_name: Rc<str>,
}

impl<S, B> Service<ServiceRequest> for RememberMeCookieService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let cookie_name = Rc::clone(&self.cookie_name);
        Box::pin(async move {
            let mut res = service.call(req).await?;
            if crate::stack_check::state_still_held(res.request()) {
                crate::stack_check::StackError::RememberMeInside.report_once();
            }
            if !res.headers().contains_key(header::SET_COOKIE) {
                return Ok(res);
            }
            // What the request's session is at its end, as `SessionExpiry` left it.
            let lifetime = res
                .request()
                .extensions()
                .get::<Rc<RequestContext>>()
                .and_then(|context| context.cookie_lifetime());
            if let Some(lifetime) = lifetime {
                set_lifetime(&mut res, &cookie_name, lifetime);
            }
            Ok(res)
        })
    }
}

/// Rewrites the session cookie that `res` sets, if any, to live for `lifetime`.
fn set_lifetime<B>(res: &mut ServiceResponse<B>, name: &str, lifetime: CookieLifetime) {
    let headers = res.headers_mut();
    let set_cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).cloned().collect();
    let mut changed = false;
    let rewritten: Vec<HeaderValue> = set_cookies
        .into_iter()
        .map(|value| {
            let Some(mut cookie) = value
                .to_str()
                .ok()
                .and_then(|text| Cookie::parse(text.to_owned()).ok())
                .filter(|cookie| cookie.name() == name && !cookie.value().is_empty())
            else {
                return value;
            };
            cookie.unset_expires();
            match lifetime.0 {
                None => cookie.set_max_age(None),
                Some(left) => cookie
                    .set_max_age(CookieDuration::try_from(left).unwrap_or(CookieDuration::MAX)),
            }
            changed = true;
            HeaderValue::from_str(&cookie.to_string()).unwrap_or(value)
        })
        .collect();
    if changed {
        headers.remove(header::SET_COOKIE);
        for value in rewritten {
            headers.append(header::SET_COOKIE, value);
        }
    }
}
