//! [`RequestScope`]: lets the store see which request it is saving for.
//!
//! actix-session calls a store with the session's state only. Some things need the request too:
//! the registry records the client's user agent and IP at log-in, a failed save should be a
//! `503` rather than actix-session's opaque `500` (a save refused by the session limit, a
//! `403`), and a renewal (delete the old key, save the state under a new one) must not bring
//! back a session revoked meanwhile. This middleware,
//! registered outside `SessionMiddleware`, runs the request in a task-local scope that carries
//! the client's details in, and what the store met along the way from one call to the next.

use std::{
    cell::Cell,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    HttpRequest,
};

/// The longest user agent kept in the registry, in bytes.
const MAX_USER_AGENT: usize = 256;

use crate::response::Refusal;
use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    static REQUEST: RequestInfo;
}

/// What the store may want of the request (public only as part of the middleware's future
/// type). Kept as it came (a header value is a reference-counted buffer, an address is
/// copied): only a log-in turns them into text, not every request.
#[derive(Debug)]
#[doc(hidden)]
pub struct RequestInfo {
    user_agent: Option<HeaderValue>,
    client: Client,
    /// Set by the store when its server was unavailable during this request.
    outage: Cell<Option<Duration>>,
    /// Set by the store when the user's session limit refused this request's log-in.
    refused: Cell<Option<u32>>,
    /// The log-in instant (Unix ms) of the signed-in session this request loaded.
    loaded_login: Cell<Option<u64>>,
    /// The store found this request's session gone or revoked when it came to delete it.
    ended: Cell<bool>,
}

/// Where the request comes from.
#[derive(Debug)]
enum Client {
    /// The peer address of the connection.
    Peer(Option<SocketAddr>),
    /// What `Forwarded` / `X-Forwarded-For` said, behind a proxy of one's own.
    Forwarded(Option<String>),
}

impl RequestInfo {
    fn of(req: &HttpRequest, trust_forwarded: bool) -> Self {
        let client = if trust_forwarded {
            Client::Forwarded(
                req.connection_info()
                    .realip_remote_addr()
                    .map(str::to_owned),
            )
        } else {
            Client::Peer(req.peer_addr())
        };
        Self {
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            client,
            outage: Cell::new(None),
            refused: Cell::new(None),
            loaded_login: Cell::new(None),
            ended: Cell::new(false),
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The client's user agent and IP, when the store runs inside a [`RequestScope`].
pub(crate) fn client() -> (Option<String>, Option<String>) {
    REQUEST
        .try_with(|info| {
            let user_agent = info
                .user_agent
                .as_ref()
                .map(|v| truncate(&String::from_utf8_lossy(v.as_bytes()), MAX_USER_AGENT));
            let ip = match &info.client {
                Client::Peer(peer) => peer.map(|addr| addr.ip().to_string()),
                Client::Forwarded(ip) => ip.clone(),
            };
            (user_agent, ip)
        })
        .unwrap_or_default()
}

/// Tells the enclosing [`RequestScope`], if any, that the store's server was unavailable.
pub(crate) fn report_outage(retry_after: Duration) {
    let _outside_any_scope = REQUEST.try_with(|info| info.outage.set(Some(retry_after)));
}

/// Tells the enclosing [`RequestScope`], if any, that the session limit `max` refused to save
/// the request's log-in.
pub(crate) fn refused(max: u32) {
    let _outside_any_scope = REQUEST.try_with(|info| info.refused.set(Some(max)));
}

/// Remembers the log-in instant of the signed-in session the request loaded.
pub(crate) fn loaded(login_ms: u64) {
    let _outside_any_scope = REQUEST.try_with(|info| info.loaded_login.set(Some(login_ms)));
}

/// Remembers that the request's session ended while the request ran (revoked or deleted).
pub(crate) fn ended_meanwhile() {
    let _outside_any_scope = REQUEST.try_with(|info| info.ended.set(true));
}

/// Whether a state about to be saved under a new key is the request's own session, carried over
/// by a renewal, though that session ended while the request ran: saving it would bring it
/// back. A fresh log-in has a log-in instant of its own, so it is never mistaken for one.
pub(crate) fn renews_an_ended_session(login_ms: Option<u64>) -> bool {
    REQUEST
        .try_with(|info| {
            info.ended.get() && login_ms.is_some() && info.loaded_login.get() == login_ms
        })
        .unwrap_or(false)
}

/// Gives a server-side store (the Redis store) the request it works for: it records the client's
/// user agent and IP in the [registry](crate::registry::SessionRegistry) at log-in, turns a save that
/// failed because the store's server was
/// unavailable into `503` with `Retry-After` (instead of actix-session's empty `500`), a log-in
/// the user's session limit refused ([`OnMaxSessions::Refuse`](crate::config::OnMaxSessions::Refuse))
/// into `403` `{"error":"too_many_sessions","max_sessions":n}`, and keeps a session that was
/// revoked while a request renewing its ID ran from being saved again under the new ID.
///
/// Register it *outside* `SessionMiddleware`, that is, `.wrap` it *after*. Without it the store
/// still works; the registry then shows no user agent or IP, a failed or refused save is a
/// `500`, and only renewals done by [`Expiry::login`](crate::Expiry::login) are safe against a
/// concurrent revocation (a log-in starts a new session anyway).
///
/// # Examples
/// ```no_run
/// use actix_session::SessionMiddleware;
/// use actix_web::{cookie::Key, App, HttpServer};
/// use session_expiry::{redis::{RedisStore, RequestScope}, SessionExpiry};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379").build().await?;
/// let key = Key::generate();
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionExpiry::new())
///         .wrap(SessionMiddleware::new(store.clone(), key.clone()))
///         .wrap(RequestScope::new())
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
#[must_use]
pub struct RequestScope {
    trust_forwarded: bool,
}

impl RequestScope {
    /// Records the peer address of the connection as the client IP.
    ///
    /// # Examples
    /// ```
    /// let scope = session_expiry::redis::RequestScope::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the client IP from `Forwarded` / `X-Forwarded-For` instead (as actix-web's
    /// `ConnectionInfo::realip_remote_addr` reads them). Only behind a proxy of your own that
    /// sets them: a client can write any address there.
    ///
    /// Defaults to off: the peer address.
    ///
    /// # Examples
    /// ```
    /// let scope = session_expiry::redis::RequestScope::new().trust_forwarded_headers();
    /// ```
    pub fn trust_forwarded_headers(mut self) -> Self {
        self.trust_forwarded = true;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestScope
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RequestScopeService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RequestScopeService {
            service: Rc::new(service),
            trust_forwarded: self.trust_forwarded,
        }))
    }
}

/// The service [`RequestScope`] wraps around the app; not used directly.
#[doc(hidden)]
pub struct RequestScopeService<S> {
    service: Rc<S>,
    trust_forwarded: bool,
}

impl<S, B> Service<ServiceRequest> for RequestScopeService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = TaskLocalFuture<RequestInfo, Scoped<S::Future>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Not a clone of the request: actix-web needs it unshared while it routes.
        let info = RequestInfo::of(req.request(), self.trust_forwarded);
        // Read now, as the request is gone if the save fails: one header lookup, so that a
        // browser's navigation still gets a page then.
        let navigation = crate::fetch_metadata::is_navigation(req.headers());
        REQUEST.scope(
            info,
            Scoped {
                app: self.service.call(req),
                navigation,
            },
        )
    }
}

pin_project_lite::pin_project! {
    /// The app's future, then what the store met turned into an answer; polled inside the
    /// request's scope. Not boxed: a request costs no allocation of it.
    #[doc(hidden)]
    pub struct Scoped<F> {
        #[pin]
        app: F,
        navigation: bool,
    }
}

impl<F, B> Future for Scoped<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.app.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => Poll::Ready(answer(result, *this.navigation)),
        }
    }
}

/// The app's answer, or the one a failed save deserves: `403` for a log-in the session limit
/// refused, `503` for a store that was unavailable (actix-session makes both an opaque `500`).
fn answer<B>(
    result: Result<ServiceResponse<B>, actix_web::Error>,
    navigation: bool,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let (outage, refused) = REQUEST
        .try_with(|info| (info.outage.get(), info.refused.get()))
        .unwrap_or_default();
    if outage.is_none() && refused.is_none() {
        return result.map(ServiceResponse::map_into_left_body);
    }
    let failed = match &result {
        Err(_) => true,
        Ok(res) => res.status() == StatusCode::INTERNAL_SERVER_ERROR,
    };
    if let (Some(max), true) = (refused, failed) {
        // actix-session turned the refused save into an opaque 500: say why instead.
        let refusal = crate::ExpiryError::TooManySessions { max };
        return match result {
            Ok(res) => {
                let answer = Refusal::TooManySessions { max }.answer(Some(res.request()));
                Ok(res.into_response(answer).map_into_right_body())
            }
            Err(_) if navigation => Err(Refused(Refusal::TooManySessions { max }).into()),
            Err(_) => Err(refusal.into()),
        };
    }
    let (Some(retry_after), true) = (outage, failed) else {
        return result.map(ServiceResponse::map_into_left_body);
    };
    tracing::error!(
        target: "session_expiry",
        path = result.as_ref().ok().map(|res| res.request().path()),
        "the session store is unavailable, so this request's session could not be saved: \
         answering 503"
    );
    match result {
        Ok(res) => {
            let answer = crate::response::unavailable(res.request(), retry_after);
            Ok(res.into_response(answer).map_into_right_body())
        }
        Err(_) if navigation => Err(Refused(Refusal::Unavailable(retry_after)).into()),
        Err(_) => Err(StoreOutage(retry_after).into()),
    }
}

/// The error that answers a request whose session could not be saved.
#[derive(Debug, thiserror::Error)]
#[error("the session store is unavailable")]
struct StoreOutage(Duration);

impl actix_web::ResponseError for StoreOutage {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        Refusal::Unavailable(self.0).answer(None)
    }
}

/// The same answers as a page, for a browser's navigation whose request is gone.
#[derive(Debug, thiserror::Error)]
#[error("the session could not be saved: {0:?}")]
struct Refused(Refusal);

impl actix_web::ResponseError for Refused {
    fn status_code(&self) -> StatusCode {
        self.0.page().status()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        self.0.page()
    }
}
