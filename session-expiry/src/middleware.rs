//! The [`SessionExpiry`] middleware: checks every signed-in request against its deadlines.

use std::{
    future::Future,
    pin::Pin,
    rc::Rc,
    sync::Arc,
    task::{Context, Poll},
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
};

use crate::{
    config::{configuration::Configuration, SessionExpiryBuilder},
    context::RequestContext,
    flow::{admit, finish, resolve_then_finish, Admitted, Outcome},
    stamp::check::look_up_then_call,
    store::session_api::Session,
};

/// Ends sessions after an idle timeout, an absolute timeout, or both.
///
/// Register it *inside* actix-session's `SessionMiddleware`, which in actix-web means wrapping
/// it *before* (`App::wrap` runs the last-registered middleware first):
///
/// ```no_run
/// use actix_session::{storage::CookieSessionStore, SessionMiddleware};
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session_expiry::SessionExpiry;
///
/// # async fn run() -> std::io::Result<()> {
/// let key = Key::generate();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionExpiry::builder().login_path("/login").build())
///         .wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
///
/// For each request: no expiry state means an anonymous request, passed through untouched.
/// Otherwise the absolute timeout is checked, then the idle timeout; a session is expired once
/// the elapsed time equals the timeout. An expired session is purged and reported (see
/// [`ExpiryEvent`](crate::ExpiryEvent)), then answered per [`ExpiredAction`](crate::config::ExpiredAction). A live one is
/// passed on, and on the way out last-seen is refreshed if it is older than the refresh
/// granularity, unless the request was [`Passive`](crate::Passive).
///
/// A server-side store can say more than the state: with the Redis store (feature `redis`), a
/// revoked session ends with reason `revoked`, a session whose data the store already dropped at
/// its deadline ends with reason `absolute` (if its absolute limit, under the policy that applies
/// to it now, has passed) or else `idle`, and a session the store cannot load because it is
/// unreachable is answered `503` with `Retry-After`, its handler never run.
///
/// # How did we choose defaults?
/// 30 minutes idle and 5 days absolute follow common practice for ordinary web applications
/// (OWASP's session management guidance suggests 15–30 minutes idle for low-risk
/// applications); sensitive ones should go lower. Refreshing last-seen at most every
/// twentieth of the idle timeout (and at most every minute) makes a session end at most 5%
/// early, in exchange for one store write per window instead of one per request.
#[derive(Debug, Clone)]
pub struct SessionExpiry {
    configuration: Arc<Configuration>,
}

impl SessionExpiry {
    /// The middleware with every default: see [`SessionExpiryBuilder`].
    ///
    /// # Examples
    /// ```
    /// let middleware = session_expiry::SessionExpiry::new();
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Starts configuring the middleware.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let middleware = session_expiry::SessionExpiry::builder()
    ///     .idle_timeout(Duration::from_secs(900))
    ///     .build();
    /// ```
    pub fn builder() -> SessionExpiryBuilder {
        SessionExpiryBuilder::new()
    }

    pub(crate) fn from_configuration(configuration: Configuration) -> Self {
        Self {
            configuration: Arc::new(configuration),
        }
    }

    /// What this middleware was built with, for a store that must agree with it.
    #[cfg(any(feature = "redis", feature = "postgres"))]
    pub(crate) fn configuration(&self) -> &Configuration {
        &self.configuration
    }
}

impl Default for SessionExpiry {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionExpiry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = SessionExpiryService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(SessionExpiryService {
            service: Rc::new(service),
            // A copy per worker (what it shares, such as hooks and the signed-out registry,
            // stays shared behind its own `Arc`): every request clones this `Arc`, and one
            // reference count bumped by every worker's thread would bounce between their cores.
            configuration: Arc::new(Configuration::clone(&self.configuration)),
        }))
    }
}

/// The service [`SessionExpiry`] wraps around the app; not used directly.
#[doc(hidden)]
pub struct SessionExpiryService<S> {
    service: Rc<S>,
    configuration: Arc<Configuration>,
}

impl<S, B> Service<ServiceRequest> for SessionExpiryService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = SessionExpiryFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        match admit(req, &self.configuration) {
            Ok(Admitted::Answered(answer)) => SessionExpiryFuture::ready(Ok(answer)),
            Ok(Admitted::Passed(req, session, context)) => {
                SessionExpiryFuture::inner(self.service.call(req), session, context)
            }
            Ok(Admitted::LookUp(req, check)) => {
                let (service, config) = (Rc::clone(&self.service), Arc::clone(&self.configuration));
                SessionExpiryFuture::boxed(Box::pin(look_up_then_call(service, req, config, check)))
            }
            Err(error) => SessionExpiryFuture::ready(Err(error)),
        }
    }
}

/// The rare ways that await: a resolver, a security stamp's lookup.
type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

pin_project_lite::pin_project! {
    /// The future of [`SessionExpiryService`]: the app's own, then the way out. Not boxed: a
    /// request costs no allocation of it, except a log-in whose policy is still to resolve.
    #[doc(hidden)]
    pub struct SessionExpiryFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        /// Answered already (or done).
        Ready { outcome: Option<Outcome<B>> },
        /// The app runs.
        App {
            #[pin]
            app: F,
            session: Session,
            context: Rc<RequestContext>,
        },
        /// A log-in's policy is being resolved.
        Resolving { resolving: LocalBoxFuture<Outcome<B>> },
    }
}

impl<F, B> SessionExpiryFuture<F, B> {
    fn boxed(resolving: LocalBoxFuture<Outcome<B>>) -> Self {
        Self {
            state: State::Resolving { resolving },
        }
    }

    fn ready(outcome: Outcome<B>) -> Self {
        Self {
            state: State::Ready {
                outcome: Some(outcome),
            },
        }
    }

    fn inner(app: F, session: Session, context: Rc<RequestContext>) -> Self {
        Self {
            state: State::App {
                app,
                session,
                context,
            },
        }
    }
}

impl<F, B> Future for SessionExpiryFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
    B: MessageBody + 'static,
{
    type Output = Outcome<B>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        match state.as_mut().project() {
            StateProjection::Ready { outcome } => {
                Poll::Ready(outcome.take().unwrap_or_else(|| {
                    Err(actix_web::error::ErrorInternalServerError(
                        "the session-expiry future was polled after it completed",
                    ))
                }))
            }
            StateProjection::App {
                app,
                session,
                context,
            } => {
                let res = match app.poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(res) => res?,
                };
                if !context.awaits_on_the_way_out() {
                    return Poll::Ready(finish(res, session, context));
                }
                let (session, context) = (session.clone(), Rc::clone(context));
                let mut resolving: LocalBoxFuture<Outcome<B>> =
                    Box::pin(resolve_then_finish(res, session, context));
                let poll = resolving.as_mut().poll(cx);
                state.set(State::Resolving { resolving });
                poll
            }
            StateProjection::Resolving { resolving } => resolving.as_mut().poll(cx),
        }
    }
}
